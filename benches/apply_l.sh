#!/usr/bin/env bash
# Apply of SPEC §10 scale "L" from empty (64,001 writes) against a fresh local sandbox at
# --parallelism 32, then a plan that must show no changes. Prints wall time and peak RSS.
# Usage: benches/apply_l.sh [PARALLELISM]
set -euo pipefail
cd "$(dirname "$0")/.."
p=${1:-32}
cargo build --release --quiet --bin partnerctl --example gen-config
bin=./target/release/partnerctl
work=target/bench-apply-l
rm -rf "$work"
mkdir -p "$work"
./target/release/examples/gen-config "$work/config" 2>/dev/null
token=$($bin sandbox partner add --name "Scale Partners" --db "$work/sandbox.db")
$bin sandbox serve --listen 127.0.0.1:0 --db "$work/sandbox.db" >"$work/serve.out" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
export PARTNERCTL_ENDPOINT=$(sed -n 's/^listening on //p' "$work/serve.out") PARTNERCTL_TOKEN=$token
/usr/bin/time -f "apply L from empty, parallelism $p: %e s wall, peak RSS %M KiB (client)" \
  $bin apply "$work/config" --auto-approve --parallelism "$p" -q | tail -2
$bin plan "$work/config" -q | tail -1

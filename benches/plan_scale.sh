#!/usr/bin/env bash
# Wall time and peak memory of `partnerctl plan` of SPEC §10 scale "L" in sync (no changes)
# against a local sandbox: generates the config, seeds a sandbox database with it, serves it on
# a loopback port, and times the release binary RUNS times (median).
# Usage: benches/plan_scale.sh [CUSTOMERS]   (RUNS=11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-10000}
runs=${RUNS:-11}
cargo build --release --quiet --bin partnerctl --example gen-config --example seed-sandbox
work=target/bench-plan-$customers
rm -rf "$work"
mkdir -p "$work"
./target/release/examples/gen-config "$work/config" "$customers"
token=$(./target/release/examples/seed-sandbox "$work/sandbox.db" "$work/config")
./target/release/partnerctl sandbox serve --listen 127.0.0.1:0 --db "$work/sandbox.db" \
  >"$work/serve.out" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
export PARTNERCTL_ENDPOINT=$url PARTNERCTL_TOKEN=$token
./target/release/partnerctl plan "$work/config" | tail -1
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  ./target/release/partnerctl plan "$work/config" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
done | sort -n | awk -v n="$customers" '{ t[NR] = $1 } END {
  printf "plan in sync, %d customers: median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n",
    n, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, t[NR] / 1000, NR }'
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "plan in sync, $customers customers: peak RSS %M KiB (client)" \
    ./target/release/partnerctl plan "$work/config" >/dev/null
fi

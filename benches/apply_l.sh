#!/usr/bin/env bash
# Apply of scale "L" (BENCHMARKS.md) from empty (64,001 writes) against a fresh local sandbox at
# --parallelism 32, then a plan that must show no changes. Prints wall time and peak RSS.
# Usage: benches/apply_l.sh [PARALLELISM]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
p=${1:-32}
cargo build --release --quiet --bin partnerctl --example gen-config
bin=./target/release/partnerctl
work=target/bench-apply-l
rm -rf "$work"
mkdir -p "$work"
./target/release/examples/gen-config "$work/config" 2>/dev/null
token=$($bin sandbox partner add --name "Scale Partners" --db "$work/sandbox.db")
start_sandbox "$work/sandbox.db"
trap stop_sandbox EXIT
export PARTNERCTL_ENDPOINT=$SANDBOX_URL PARTNERCTL_TOKEN=$token
/usr/bin/time -f "apply L from empty, parallelism $p: %e s wall, peak RSS %M KiB (client)" \
  $bin apply "$work/config" --auto-approve --parallelism "$p" -q | tail -2
$bin plan "$work/config" -q | tail -1

#!/usr/bin/env bash
# Apply from empty of a generated configuration (default 2,000 customers, 200 networks × 3
# sub-accounts, 2 users and 2 services per customer) against a fresh sandbox, at parallelism
# 1, 8 and 32, without and with --latency-ms 20; prints a markdown table with the ideal time
# (writes × latency / parallelism) for comparison.
# Usage: benches/apply_scale.sh [CUSTOMERS] [PARALLELISMS] [LATENCIES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
customers=${1:-2000}
parallelisms=${2:-"1 8 32"}
latencies=${3:-"0 20"}
cargo build --release --quiet --bin partnerctl
bin=./target/release/partnerctl
work=target/bench-apply-$customers
rm -rf "$work"
mkdir -p "$work/config"
cargo run --release --quiet --example gen-config -- "$work/config" "$customers" 2 2>/dev/null
writes=$(cd "$work" && ../release/partnerctl plan config --endpoint local --format json -q |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["writes"])')
echo "writes per apply: $writes"
echo
echo "| latency | parallelism | wall | ideal | wall / ideal | writes/s |"
echo "|---:|---:|---:|---:|---:|---:|"
for latency in $latencies; do
  for p in $parallelisms; do
    db="$work/sandbox-$latency-$p.db"
    rm -f "$db"*
    token=$($bin sandbox partner add --name "Scale Partners" --db "$db")
    start_sandbox "$db" --latency-ms "$latency"
    url=$SANDBOX_URL
    start=$(date +%s%N)
    PARTNERCTL_ENDPOINT=$url PARTNERCTL_TOKEN=$token $bin apply "$work/config" \
      --auto-approve --parallelism "$p" -q >"$work/apply-$latency-$p.out"
    end=$(date +%s%N)
    stop_sandbox
    python3 - "$latency" "$p" "$writes" "$start" "$end" <<'PY'
import sys
latency, p, writes, start, end = map(int, sys.argv[1:])
wall = (end - start) / 1e9
ideal = writes * latency / 1000 / p
ratio = f"{wall / ideal:.2f}" if ideal > 0 else "–"
ideal_s = f"{ideal:.1f} s" if ideal > 0 else "–"
print(f"| {latency} ms | {p} | {wall:.1f} s | {ideal_s} | {ratio} | {writes / wall:.0f} |")
PY
  done
done

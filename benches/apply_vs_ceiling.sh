#!/usr/bin/env bash
# Apply throughput as a share of the sandbox's own write ceiling at the same
# concurrency, with the same write mix (complete customer creates, as `benches/sandbox_load.rs`
# sends them). Runs the load tool, then `partnerctl apply` of CREATES customers at parallelism
# 1, 8 and 32 against a fresh sandbox each, in one session; prints a markdown table.
# Usage: benches/apply_vs_ceiling.sh [CREATES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
creates=${1:-3000}
cargo build --release --quiet --bin partnerctl
bin=./target/release/partnerctl
work=target/bench-ceiling
rm -rf "$work"
mkdir -p "$work/config"
python3 - "$work/config" "$creates" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
with open(f"{out}/partner.yaml", "w") as f:
    f.write("version: 1\npartner: { name: Bench Partners }\n"
            "defaults: { country: GB, timezone: Europe/London }\n")
with open(f"{out}/customers.yaml", "w") as f:
    f.write("customers:\n")
    for i in range(n):
        f.write(f"  - {{ key: c{i:05}, name: Customer {i}, "
                f"contact: {{ name: C {i}, email: c{i}@x.example }} }}\n")
PY
SANDBOX_BENCH_RUNS=3 SANDBOX_BENCH_CREATES=$creates SANDBOX_BENCH_ACCOUNTS=1000 \
  cargo bench --quiet --bench sandbox_load 2>/dev/null | grep '^| creates/s' >"$work/ceiling.txt"
echo "| parallelism | sandbox ceiling (creates/s, median of 3) | apply (writes/s, median of 3) | share |"
echo "|---:|---:|---:|---:|"
for p in 1 8 32; do
  ceiling=$(awk -F'|' -v p="$p" '$3 + 0 == p { gsub(/ /, "", $4); print $4 }' "$work/ceiling.txt")
  rates=()
  for run in 1 2 3; do
    db="$work/s-$p-$run.db"
    token=$($bin sandbox partner add --name "Bench Partners" --db "$db")
    start_sandbox "$db"
    url=$SANDBOX_URL
    # The report's rate covers the execution phase only (not process start or planning).
    rate=$(PARTNERCTL_ENDPOINT=$url PARTNERCTL_TOKEN=$token $bin apply "$work/config" \
      --auto-approve --parallelism "$p" -q | sed -n 's/.*s (\([0-9.]*\) ops\/s).*/\1/p')
    stop_sandbox
    rates+=("$rate")
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
  python3 -c "import sys; c, a = float(sys.argv[2]), float(sys.argv[3]); print(f'| {sys.argv[1]} | {c:.0f} | {a:.0f} | {a / c:.0%} |')" \
    "$p" "$ceiling" "$median"
done

#!/usr/bin/env bash
# Peak memory and wall time of reading a generated customer table (BENCHMARKS.md, "Large
# sheets"), for each table size given (rows; 250,000 and 1,000,000 by default): builds release,
# generates the CSV beside the acme partner file with the gen-sheets example (every row valid:
# key, contact, admin user, two services, a label), then runs once each under /usr/bin/time -v
# and prints peak RSS, wall time and CPU time (user + system) of:
#   - `partnerctl validate DIR` (rows read from the file a buffer at a time, checked and
#     counted, not kept);
#   - the load-config example (the configuration loaded as `plan` loads it before reading the
#     live state: every customer kept, defaults merged).
# With BEFORE=DIR, DIR/partnerctl and DIR/load-config (built from an earlier commit) run too,
# each right before the current one on the same file. The table is read once before anything
# is measured (the first reader of a file just written pays for it: seconds of system time). The load average is printed before and
# after.
# Usage: [BEFORE=DIR] benches/sheet_memory.sh [ROWS...]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(250000 1000000)
cargo build --release --quiet --bin partnerctl --example gen-sheets --example load-config
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure() {
  local dir=$1 name=$2
  shift 2
  /usr/bin/time -v "$@" >"$dir/$name.out" 2>"$dir/$name.time"
  local rss wall user sys
  rss=$(grep "Maximum resident set size" "$dir/$name.time" | awk '{print $NF}')
  wall=$(grep "Elapsed (wall clock)" "$dir/$name.time" | awk '{print $NF}')
  user=$(grep "User time" "$dir/$name.time" | awk '{print $NF}')
  sys=$(grep "System time" "$dir/$name.time" | awk '{print $NF}')
  printf '  %-18s peak RSS %9s KiB  wall %8s  user %6s s  sys %6s s  | %s\n' \
    "$name" "$rss" "$wall" "$user" "$sys" "$(head -c 100 "$dir/$name.out" | tr '\n' ' ')"
}
for rows in "${sizes[@]}"; do
  dir=target/generated/sheet-$rows
  rm -rf "$dir"
  mkdir -p "$dir/config"
  cp examples/acme/partner.yaml "$dir/config/"
  ./target/release/examples/gen-sheets csv "$rows" "$dir/config/customers.csv"
  echo "table: $rows rows, $(stat -c %s "$dir/config/customers.csv") bytes"
  # Read once, so that the first program measured does not pay for a file just written.
  cat "$dir/config/customers.csv" >/dev/null
  if [ -n "${BEFORE:-}" ]; then
    measure "$dir" "validate (before)" "$BEFORE/partnerctl" validate "$dir/config"
  fi
  measure "$dir" validate ./target/release/partnerctl validate "$dir/config"
  if [ -n "${BEFORE:-}" ]; then
    measure "$dir" "load (before)" "$BEFORE/load-config" "$dir/config"
  fi
  measure "$dir" load ./target/release/examples/load-config "$dir/config"
  rm -f "$dir/config/customers.csv"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

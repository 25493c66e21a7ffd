#!/usr/bin/env bash
# Peak memory and wall time of reading a generated customer table of ROWS rows (1,000,000 by
# default; BENCHMARKS.md, "Large sheets"): builds release, generates the CSV beside the acme
# partner file with the gen-sheets example (every row valid: key, contact, admin user, two
# services, a label), then runs once each under /usr/bin/time -v and prints peak RSS and wall
# time of:
#   - `partnerctl validate DIR` (rows checked and counted, not kept);
#   - the load-config example (the configuration loaded as `plan` loads it before reading the
#     live state: every customer kept, defaults merged).
# Usage: benches/sheet_memory.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
cargo build --release --quiet --bin partnerctl --example gen-sheets --example load-config
dir=target/generated/sheet-$rows
rm -rf "$dir"
mkdir -p "$dir/config"
cp examples/acme/partner.yaml "$dir/config/"
./target/release/examples/gen-sheets csv "$rows" "$dir/config/customers.csv"
echo "table: $rows rows, $(stat -c %s "$dir/config/customers.csv") bytes"
measure() {
  local name=$1
  shift
  /usr/bin/time -v "$@" >"$dir/$name.out" 2>"$dir/$name.time"
  echo "$name: $(head -c 120 "$dir/$name.out")"
  grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$dir/$name.time" | sed 's/^\s*/  /'
}
measure validate ./target/release/partnerctl validate "$dir/config"
measure load ./target/release/examples/load-config "$dir/config"

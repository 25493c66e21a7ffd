#!/usr/bin/env bash
# Wall time of `partnerctl validate` on a generated 10,000-customer configuration (SPEC §10
# scale "L"): builds release, generates the config, runs it RUNS times, prints the median.
# Usage: benches/validate.sh [CUSTOMERS]   (RUNS=11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-10000}
runs=${RUNS:-11}
cargo build --release --quiet --bin partnerctl --example gen-config
dir=target/generated/validate-$customers
rm -rf "$dir"
./target/release/examples/gen-config "$dir" "$customers"
./target/release/partnerctl validate "$dir"
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  ./target/release/partnerctl validate "$dir" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
done | sort -n | awk -v n="$customers" '{ t[NR] = $1 } END {
  printf "validate, %d customers: median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n",
    n, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, t[NR] / 1000, NR }'
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "validate, $customers customers: peak RSS %M KiB" \
    ./target/release/partnerctl validate "$dir" >/dev/null
fi

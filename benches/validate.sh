#!/usr/bin/env bash
# Wall time of `partnerctl validate` on a generated 10,000-customer configuration (BENCHMARKS.md,
# scale "L"): builds release, generates the config, runs it RUNS times, prints the median.
# Usage: benches/validate.sh [CUSTOMERS]   (RUNS=11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
customers=${1:-10000}
runs=${RUNS:-11}
cargo build --release --quiet --bin partnerctl --example gen-config
dir=target/generated/validate-$customers
rm -rf "$dir"
./target/release/examples/gen-config "$dir" "$customers"
./target/release/partnerctl validate "$dir"
time_median "validate, $customers customers" "$runs" ./target/release/partnerctl validate "$dir"

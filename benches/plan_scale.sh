#!/usr/bin/env bash
# Wall time and peak memory of `partnerctl plan` of scale "L" in sync (no changes) against a
# local sandbox, and of `partnerctl export` of the same estate, in one run: generates the config,
# seeds a sandbox database with it, serves it on a loopback port, and times the release binary
# RUNS times each (median), and the access report of the same estate from the configuration and
# from the live state. The export is checked to plan to no changes.
# Usage: benches/plan_scale.sh [CUSTOMERS]   (RUNS=11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
customers=${1:-10000}
runs=${RUNS:-11}
cargo build --release --quiet --bin partnerctl --example gen-config --example seed-sandbox
work=target/bench-plan-$customers
rm -rf "$work"
mkdir -p "$work"
./target/release/examples/gen-config "$work/config" "$customers"
token=$(./target/release/examples/seed-sandbox "$work/sandbox.db" "$work/config")
bin=./target/release/partnerctl
start_sandbox "$work/sandbox.db"
trap stop_sandbox EXIT
export PARTNERCTL_ENDPOINT=$SANDBOX_URL PARTNERCTL_TOKEN=$token
"$bin" plan "$work/config" | tail -1
time_median "plan in sync, $customers customers (client)" "$runs" "$bin" plan "$work/config"
"$bin" -q export --force -o "$work/export"
"$bin" plan "$work/export" | tail -1
time_median "export, $customers customers, per-customer files (client)" "$runs" \
  "$bin" -q export --force -o "$work/export"
time_median "export, $customers customers, one file to stdout (client)" "$runs" "$bin" -q export
"$bin" access "$work/config" | tail -1
time_median "access report, $customers customers, from the configuration (CSV)" "$runs" \
  "$bin" access "$work/config" --format csv
time_median "access report, $customers customers, live (CSV)" "$runs" \
  "$bin" access "$work/config" --live --format csv

#!/usr/bin/env bash
# Wall time and peak memory of `partnerctl validate` and of `partnerctl plan` in sync (no
# changes) against a local sandbox, at scales "L" (10,000 customers) and "XL" (100,000
# customers), in one run: for each size, generates the configuration with the `gen-config`
# example, seeds a sandbox database with exactly that state (`seed-sandbox` example), serves it
# on a loopback port, then times the release binary RUNS times each (median, min, max) and
# measures the peak RSS of one more run. validate checks services against the sandbox's catalog.
# Usage: benches/scale_xl.sh [SIZES...]   (default: 10000 100000; RUNS=7 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
runs=${RUNS:-7}
cargo build --release --quiet --bin partnerctl --example gen-config --example seed-sandbox
bin=./target/release/partnerctl
echo "commit $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for customers in "${sizes[@]}"; do
  work=target/bench-scale-$customers
  rm -rf "$work"
  mkdir -p "$work"
  ./target/release/examples/gen-config "$work/config" "$customers"
  echo "$customers customers: $(du -sm "$work/config" | cut -f1) MB of configuration"
  # Services checked against the sandbox's catalog, named (not whatever a last plan cached).
  catalog=(--catalog src/sandbox/catalog.json)
  "$bin" validate "${catalog[@]}" "$work/config"
  time_median "validate, $customers customers" "$runs" "$bin" validate "${catalog[@]}" "$work/config"
  token=$(./target/release/examples/seed-sandbox "$work/sandbox.db" "$work/config")
  start_sandbox "$work/sandbox.db"
  trap stop_sandbox EXIT
  export PARTNERCTL_ENDPOINT=$SANDBOX_URL PARTNERCTL_TOKEN=$token
  "$bin" plan "$work/config" | tail -1
  time_median "plan in sync, $customers customers (client)" "$runs" "$bin" plan "$work/config"
  stop_sandbox
  trap - EXIT
  rm -rf "$work"
done

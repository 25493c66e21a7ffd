#!/usr/bin/env bash
# What the example policies (examples/policies: partner_admins, customer_admins, change_limit,
# free_mail) add to `partnerctl plan` of scale "L": wall time and peak memory of the plan with
# and without `--policy`, in alternating runs (RUNS pairs, medians), on two plans:
# - in sync (no changes): the reference plan of BENCHMARKS.md, 64,001 live objects; the
#   policies judge the configuration (10,000 customers, 30,001 users) and an empty plan;
# - from an empty partner: 64,001 operations for the policies to go through (change_limit
#   denies it, 10,000 customers changed, so that plan exits 1 after evaluating everything).
# partner_admins is set to the generated partner's domain (scale.example), as a user copying
# it would, so that the plan in sync is allowed.
# Usage: benches/policy_scale.sh [CUSTOMERS]   (RUNS=11 by default)
# BIN=PATH and POLICIES=DIR measure another build and its policies (the same plans; a build of
# an earlier commit and its examples/policies, for a before-and-after comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
customers=${1:-10000}
runs=${RUNS:-11}
cargo build --release --quiet --bin partnerctl --example gen-config --example seed-sandbox
work=target/bench-policy-$customers
rm -rf "$work"
mkdir -p "$work/policies"
./target/release/examples/gen-config "$work/config" "$customers"
for f in "${POLICIES:-examples/policies}"/*.rego; do
  case "$f" in *_test.rego) continue ;; esac
  sed 's/partner_domains := {"acme.example"}/partner_domains := {"scale.example"}/' "$f" \
    >"$work/policies/$(basename "$f")"
done
bin=${BIN:-./target/release/partnerctl}
# The policies' own tests still pass (the domain aside, they are the examples').
"$bin" policy test "${POLICIES:-examples/policies}" | tail -1

# one COMMAND...: runs COMMAND (stdout and stderr discarded, any exit code); prints its wall
# time and its CPU time (user + system, from the shell's `times`), in microseconds.
one() {
  (
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    # `times`' second line: the children's user and system time, as 0m0.123s 0m0.045s (to a
    # file: in a pipeline or `$(...)`, `times` would speak of a subshell without children).
    times >"$work/times"
    cpu=$(sed -n 2p "$work/times" | awk '{
      split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000000 }')
    echo "$(((end - start) / 1000)) $cpu"
  )
}

# pair LABEL RUNS COMMAND...: runs COMMAND alternately without and with
# `--policy $work/policies` RUNS times each, and prints the medians of both (wall and CPU time),
# the differences and the share the policies add; then the peak RSS of one more run of each.
pair() {
  local label=$1 runs=$2
  shift 2
  : >"$work/plain" && : >"$work/judged"
  for _ in $(seq "$runs"); do
    one "$@" >>"$work/plain"
    one "$@" --policy "$work/policies" >>"$work/judged"
  done
  median() { sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'; }
  local wa wb ca cb
  wa=$(cut -d' ' -f1 "$work/plain" | median)
  wb=$(cut -d' ' -f1 "$work/judged" | median)
  ca=$(cut -d' ' -f2 "$work/plain" | median)
  cb=$(cut -d' ' -f2 "$work/judged" | median)
  awk -v l="$label" -v wa="$wa" -v wb="$wb" -v ca="$ca" -v cb="$cb" -v n="$runs" 'BEGIN {
    printf "%s (%d runs each, alternating):\n", l, n
    printf "  wall: without policies median %.1f ms, with the four policies %.1f ms: +%.1f ms, +%.1f%%\n",
      wa / 1000, wb / 1000, (wb - wa) / 1000, (wb - wa) * 100 / wa
    printf "  CPU (user+system): without %.1f ms, with %.1f ms: +%.1f ms, +%.1f%%\n",
      ca / 1000, cb / 1000, (cb - ca) / 1000, (cb - ca) * 100 / ca }'
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$work/rss" -f "  peak RSS without policies: %M KiB" "$@" >/dev/null 2>&1 || true
    grep "peak RSS" "$work/rss"
    /usr/bin/time -o "$work/rss" -f "  peak RSS with the four policies: %M KiB" "$@" \
      --policy "$work/policies" >/dev/null 2>&1 || true
    grep "peak RSS" "$work/rss"
  fi
}

# In sync.
token=$(./target/release/examples/seed-sandbox "$work/sandbox.db" "$work/config")
start_sandbox "$work/sandbox.db"
trap stop_sandbox EXIT
export PARTNERCTL_ENDPOINT=$SANDBOX_URL PARTNERCTL_TOKEN=$token
"$bin" plan "$work/config" --policy "$work/policies" | tail -1
pair "plan in sync, $customers customers" "$runs" "$bin" plan "$work/config"
stop_sandbox

# From an empty partner.
"$bin" sandbox partner add --name 'Scale Partners' --db "$work/empty.db" >"$work/empty.token"
start_sandbox "$work/empty.db"
export PARTNERCTL_ENDPOINT=$SANDBOX_URL PARTNERCTL_TOKEN=$(cat "$work/empty.token")
"$bin" plan "$work/config" --policy "$work/policies" 2>&1 | grep -E '^(Plan:|error:)' || true
pair "plan from empty, $customers customers" "$runs" "$bin" plan "$work/config"

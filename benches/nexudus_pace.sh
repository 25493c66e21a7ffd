#!/usr/bin/env bash
# Pacing under the Nexudus limits: an apply of N invitations (N write calls, new logins) against
# the sandbox's Nexudus dialect with time sped up SCALE times (a minute lasts 60/SCALE s), so the
# write limit of 60 a minute is 60 x SCALE a minute. Prints, per run: the wall time of the apply
# phase (from its JSON report), N / limit, the plan's least time (a minute per full minute's
# worth of writes after the first), and the throttled answers the client met (the goal: 0).
# Usage: benches/nexudus_pace.sh [N] [SCALE]   (RUNS=3 by default; release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
n=${1:-600}
scale=${2:-60}
runs=${RUNS:-3}
cargo build --release --quiet --bin partnerctl
bin=./target/release/partnerctl
work=target/bench-nexudus-pace
for run in $(seq "$runs"); do
  rm -rf "$work"
  mkdir -p "$work"
  start_sandbox "$work/sandbox.db" --dialect nexudus --time-scale "$scale"
  "$bin" sandbox partner add --name "Acme Partners" --login ops@acme.example \
    --password bench-password --db "$work/sandbox.db" >/dev/null
  {
    printf 'version: 1\npartner:\n  name: Acme Partners\n  users:\n'
    for i in $(seq "$n"); do
      printf '    - { email: u%s@acme.example, name: User %s }\n' "$i" "$i"
    done
  } >"$work/partner.yaml"
  env -i PATH="$PATH" PARTNERCTL_PROVIDER=nexudus PARTNERCTL_ENDPOINT="$SANDBOX_URL" \
    NEXUDUS_USERNAME=ops@acme.example NEXUDUS_PASSWORD=bench-password \
    PARTNERCTL_NEXUDUS_TIME_SCALE="$scale" \
    "$bin" apply "$work/partner.yaml" --auto-approve --format json >"$work/report.json" 2>/dev/null
  stop_sandbox
  python3 - "$work/report.json" "$n" "$scale" "$run" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
n, scale, run = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = report["summary"]
per_second = 60 * scale / 60
ideal = n / per_second
least = ((n - 1) // 60) * 60 / scale
print(f"run {run}: {s['done']} writes in {s['elapsed_seconds']:.2f} s; "
      f"N/limit {ideal:.2f} s (ratio {s['elapsed_seconds'] / ideal:.3f}); "
      f"least time {least:.2f} s (ratio {s['elapsed_seconds'] / least:.3f}); "
      f"throttled {s['throttled']}, retries {s['retries']}")
PY
done

# Shared by the benchmark scripts (sourced, not run).

# start_sandbox DB [SERVE_ARGS...]: runs `partnerctl sandbox serve` on a loopback port in the
# background; sets SANDBOX_URL and SANDBOX_PID. Needs $bin and $work.
start_sandbox() {
  local db=$1
  shift
  "$bin" sandbox serve --listen 127.0.0.1:0 --db "$db" "$@" >"$work/serve.out" 2>/dev/null &
  SANDBOX_PID=$!
  for _ in $(seq 100); do
    grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  SANDBOX_URL=$(sed -n 's/^listening on //p' "$work/serve.out")
}

# stop_sandbox: stops the server start_sandbox started.
stop_sandbox() {
  kill "$SANDBOX_PID" 2>/dev/null || true
  wait "$SANDBOX_PID" 2>/dev/null || true
}

# time_median LABEL RUNS COMMAND...: runs COMMAND RUNS times (stdout discarded) and prints the
# median, min and max wall time, then the peak RSS of one more run (if /usr/bin/time exists).
time_median() {
  local label=$1 runs=$2
  shift 2
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
  done | sort -n | awk -v label="$label" '{ t[NR] = $1 } END {
    printf "%s: median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n",
      label, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, t[NR] / 1000, NR }'
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "$label: peak RSS %M KiB" "$@" >/dev/null
  fi
}

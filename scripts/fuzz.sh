#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build over its seed corpus (tests/fuzz/corpus/NAME plus
# the tree's own files of that format) and fails on any crash, leak, sanitizer report or
# timeout (30 s for one input). Targets run FUZZ_JOBS at a time (default: every core). New inputs go to BUILD/fuzz-corpus/NAME, never into the tree; a crashing input is
# left in BUILD/fuzz-crashes.
#   scripts/fuzz.sh BUILD --seconds 20      each target for 20 s (CI's smoke pass)
#   scripts/fuzz.sh BUILD --runs 1000000    each target for 10^6 executions (bench/RESULTS.md)
set -uo pipefail
build=$1
mode=${2:---seconds}
amount=${3:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$mode" in
  --seconds) limit="-max_total_time=$amount" ;;
  --runs) limit="-runs=$amount" ;;
  *) echo "usage: scripts/fuzz.sh BUILD [--seconds S | --runs N]" >&2; exit 2 ;;
esac
declare -A extra=(
  [spec]="$root/lang/zoo $root/examples/languages"
  [config]="$root/examples/configs"
  [circuit]="$root/examples/circuits"
  [grid]="$root/examples/sweeps"
)
mkdir -p "$build/fuzz-crashes"
jobs=${FUZZ_JOBS:-$(nproc)}  # targets fuzzed at once (each one process, one core)
targets=(regex count_expr spec config jsonl safetensors circuit words points flare grid)

# One target; its table row goes to BUILD/fuzz-crashes/TARGET.row, its status to TARGET.status.
fuzz_one() {
  local target=$1 binary="$build/fuzz/fuzz_$1" corpus="$build/fuzz-corpus/$1"
  local log="$build/fuzz-crashes/$1.log" start status seconds runs speed result
  mkdir -p "$corpus"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$binary" $limit -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-crashes/$target-" "$corpus" "$root/tests/fuzz/corpus/$target" \
    ${extra[$target]:-} > "$log" 2>&1
  status=$?
  seconds=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  result=ok
  [ $status -ne 0 ] && result="FAILED (exit $status; see $log)"
  printf '%-12s %12s %10s %8s  %s\n' "$target" "${runs:-?}" "${speed:-?}" "$seconds" "$result" \
    > "$build/fuzz-crashes/$target.row"
  echo "$status" > "$build/fuzz-crashes/$target.status"
}

rm -f "$build"/fuzz-crashes/*.row "$build"/fuzz-crashes/*.status
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait
failed=0
printf '%-12s %12s %10s %8s  %s\n' target executions exec/s seconds result
for target in "${targets[@]}"; do
  cat "$build/fuzz-crashes/$target.row" 2>/dev/null || echo "$target: no result (the script failed)"
  [ "$(cat "$build/fuzz-crashes/$target.status" 2>/dev/null)" = 0 ] || failed=1
done
exit $failed

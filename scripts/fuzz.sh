#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build over its seed corpus (tests/fuzz/corpus/NAME plus
# the tree's own files of that format) and fails on any crash, leak, sanitizer report or
# timeout (30 s for one input). New inputs go to BUILD/fuzz-corpus/NAME, never into the tree; a crashing input is
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
failed=0
printf '%-12s %12s %10s %8s  %s\n' target executions exec/s seconds result
for target in regex count_expr spec config jsonl safetensors circuit words points flare grid; do
  binary="$build/fuzz/fuzz_$target"
  corpus="$build/fuzz-corpus/$target"
  mkdir -p "$corpus"
  log="$build/fuzz-crashes/$target.log"
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
  if [ $status -ne 0 ]; then
    result="FAILED (exit $status; see $log)"
    failed=1
  fi
  printf '%-12s %12s %10s %8s  %s\n' "$target" "${runs:-?}" "${speed:-?}" "$seconds" "$result"
done
exit $failed

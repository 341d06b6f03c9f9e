#!/usr/bin/env bash
# A shared machine (issue 23, §4): the demo's training recipe (examples/configs/majority.toml)
# with saturn's default threads against `--threads 1`, while a CPU-bound process (`yes`) keeps
# one core busy, and again on an idle machine, where the default is also compared with 2
# threads that spin while they wait (OMP_WAIT_POLICY=active: how saturn ran before passive
# waiting became its default) and, given BASELINE=path/to/an/older/saturn, with that binary's
# default. Runs alternate (default, the others, default, ...) so that drift of the machine's
# speed touches every column alike; each cell is the median wall time of RUNS runs.
# Goal: with one core busy the default is never more than 1.5x slower than the better of the
# two; idle, it is as fast as the 2-thread spinning default within the run-to-run spread.
# Usage: bench/contention.sh [path/to/saturn]   (RUNS=5 STEPS=400 by default; a quiet machine)
set -euo pipefail
saturn=$(readlink -f "${1:-build/saturn}")
runs=${RUNS:-5}
steps=${STEPS:-400}
cd "$(dirname "$0")/.."
config=examples/configs/majority.toml
tmp=$(mktemp -d)
busy_pid=""
cleanup() {
  [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

seconds_of() {  # label binary environment-assignments extra-flags -> appends seconds to $tmp/label
  local label=$1 binary=$2 assignments=$3 flags=$4 start end
  rm -rf "$tmp/run"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # the assignments and flags are words on purpose
  env $assignments "$binary" train --lang majority --config "$config" --set "steps=$steps" \
    --out "$tmp/run" -q $flags > /dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }' >> "$tmp/$label"
}

median() {  # file of numbers -> their median
  sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
                                           else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

measure() {  # condition -> one table row
  local condition=$1
  rm -f "$tmp"/default "$tmp"/one "$tmp"/spin "$tmp"/baseline
  for _ in $(seq "$runs"); do
    seconds_of default "$saturn" "" ""
    seconds_of one "$saturn" "" "--threads 1"
    if [ "$condition" = idle ]; then
      seconds_of spin "$saturn" OMP_WAIT_POLICY=active "--threads 2"
      if [ -n "${BASELINE:-}" ]; then seconds_of baseline "$BASELINE" "" ""; fi
    fi
  done
  local d o best
  d=$(median "$tmp/default")
  o=$(median "$tmp/one")
  best=$(awk -v a="$d" -v b="$o" 'BEGIN { print (a < b ? a : b) }')
  local spin="-" baseline="-"
  [ -f "$tmp/spin" ] && spin=$(median "$tmp/spin")
  [ -f "$tmp/baseline" ] && baseline=$(median "$tmp/baseline")
  local vs_spin="-"
  [ "$spin" != "-" ] && vs_spin=$(ratio "$d" "$spin")
  echo "| $condition | $d | $o | $spin | $baseline | $(ratio "$d" "$best") | $vs_spin |"
}

echo "majority.toml, $steps steps, median of $runs runs each, $(nproc) cores; wall seconds"
echo
echo "| machine | default | --threads 1 | --threads 2, spinning | BASELINE default | default / best of default and 1 | default / spinning |"
echo "|---|---|---|---|---|---|---|"
measure idle
yes > /dev/null &
busy_pid=$!
measure "one core busy"

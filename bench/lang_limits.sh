#!/usr/bin/env bash
# The longest length each built-in reaches within the default budgets (the memory budget, half
# the physical memory, and --table-limit's 20 million entries): `saturn lang count L --length
# n` for n = 1000, 2000, 5000, 10^4, 2*10^4, 5*10^4, 10^5 until one fails, with its time; and
# one uniform sample at that length (lang sample --per-length 1). Prints a Markdown table.
# Usage: bench/lang_limits.sh [path/to/saturn]
set -uo pipefail
saturn=${1:-build/saturn}
export SATURN_PROGRESS_SECONDS=0  # the table quotes the one-line refusals
seconds() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }
echo "| language | class | longest n counted | count s | sample s | first failure |"
echo "|---|---|---|---|---|---|"
"$saturn" lang list | tail -n +2 | while read -r name _ ; do
  class=$("$saturn" lang show "$name" | sed -n 's/^class: *\([a-z-]*\).*/\1/p')
  best=- best_t=- sample_t=- failure="none up to 10^5"
  for n in 1000 2000 5000 10000 20000 50000 100000; do
    start=$(date +%s.%N)
    if ! err=$("$saturn" lang count "$name" --length "$n" 2>&1 >/dev/null); then
      failure="n = $n: $(echo "$err" | sed 's/^saturn: //' | cut -c1-60)..."
      break
    fi
    best=$n best_t=$(seconds "$start" "$(date +%s.%N)")
  done
  if [ "$best" != - ]; then
    start=$(date +%s.%N)
    if "$saturn" lang sample "$name" --lengths "$best:$best" --per-length 1 > /dev/null 2>&1; then
      sample_t=$(seconds "$start" "$(date +%s.%N)")
    else
      sample_t="fails"
    fi
  fi
  echo "| $name | $class | $best | $best_t | $sample_t | $failure |"
done

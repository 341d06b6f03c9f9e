#!/usr/bin/env bash
# verify --method auto against each single method: for every construction of
# examples/circuits and a few N, the seconds enumerate, smt, counts (where it applies) and auto
# take to prove lengths 0..N
# (each capped at LIMIT seconds, default 120; ">" when a method hit the cap), and auto's ratio
# to the fastest. Goal: auto within 2x of the fastest on every case.
# Usage: bench/verify_auto.sh [path/to/saturn]
set -uo pipefail
saturn=${1:-build/saturn}
limit=${LIMIT:-120}
time_of() {  # circuit language N method -> seconds, or ">LIMIT"
  local start end out
  start=$(date +%s.%N)
  out=$("$saturn" verify "examples/circuits/$1.json" --against "$2" --max-length "$3" \
        --method "$4" --timeout "$limit" 2>/dev/null)
  end=$(date +%s.%N)
  if [[ $out == equivalent* ]]; then awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
  elif [[ $4 == counts ]] && ! "$saturn" verify "examples/circuits/$1.json" --against "$2" \
        --max-length 0 --method counts > /dev/null 2>&1; then echo "n/a"
  else echo ">$limit"; fi
}
echo "| circuit | N | enumerate s | smt s | counts s | auto s | auto / fastest |"
echo "|---|---|---|---|---|---|---|"
for spec in "majority majority 16" "majority majority 20" "dyck1 dyck-1 14" "dyck1 dyck-1 18" \
            "anbn anbn 16" "anbn anbn 20" "first first 20" "first first 24"; do
  read -r c lang n <<< "$spec"
  e=$(time_of "$c" "$lang" "$n" enumerate)
  s=$(time_of "$c" "$lang" "$n" smt)
  k=$(time_of "$c" "$lang" "$n" counts)
  a=$(time_of "$c" "$lang" "$n" auto)
  ratio=$(awk -v e="$e" -v s="$s" -v k="$k" -v a="$a" 'BEGIN {
    if (a ~ />/) { print "-"; exit }
    best = 1e9
    if (e ~ /^[0-9.]+$/ && e + 0 < best) best = e + 0
    if (s ~ /^[0-9.]+$/ && s + 0 < best) best = s + 0
    if (k ~ /^[0-9.]+$/ && k + 0 < best) best = k + 0
    printf "%.2f", a / (best > 0.05 ? best : 0.05) }')
  echo "| $c | $n | $e | $s | $k | $a | $ratio |"
done

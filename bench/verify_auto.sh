#!/usr/bin/env bash
# verify --method auto against each single method: the seconds enumerate, smt, counts (where it
# applies) and auto take to decide lengths 0..N (equivalent or a counterexample; each capped at
# LIMIT seconds, default 120; ">" when a method hit the cap), and auto's ratio to the fastest.
# Cases: the constructions of examples/circuits at two N each, and circuits extracted from
# short trainings of the recipes in examples/extract/ (STEPS steps, default 600; TRAINED=0
# skips them; ONLY=REGEX keeps the cases whose name matches). Goal (issue 23 §2): auto within
# 2x of the fastest on every case.
# Usage: bench/verify_auto.sh [path/to/saturn]
set -uo pipefail
saturn=${1:-build/saturn}
limit=${LIMIT:-120}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
time_of() {  # circuit-file language N method -> seconds, ">LIMIT", or "n/a"
  local start end out
  start=$(date +%s.%N)
  out=$("$saturn" verify "$1" --against "$2" --max-length "$3" --method "$4" \
        --timeout "$limit" 2>/dev/null)
  end=$(date +%s.%N)
  printf '%s\n' "$out" > "$tmp/out-$4"
  if [[ $out == equivalent* || $out == counterexample* ]]; then
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'
  elif [[ $4 == counts ]] && ! "$saturn" verify "$1" --against "$2" \
        --max-length 0 --method counts > /dev/null 2>&1; then echo "n/a"
  else echo ">$limit"; fi
}
cases=()
for spec in "majority majority 16" "majority majority 20" "dyck1 dyck-1 14" "dyck1 dyck-1 18" \
            "anbn anbn 16" "anbn anbn 20" "first first 20" "first first 24"; do
  read -r c lang n <<< "$spec"
  cases+=("$here/examples/circuits/$c.json $lang $n $c")
done
if [ "${TRAINED:-1}" != 0 ]; then
  # A trained run per recipe (seed 1, STEPS steps), its most faithful circuit written by extract
  # (whose own verification is skipped: --max-length 0).
  for spec in "majority 16" "anbn 16" "dyck-1 16" "first 20" "tomita-1 16"; do
    read -r lang n <<< "$spec"
    [[ -n ${ONLY:-} && ! trained-$lang =~ $ONLY ]] && continue
    run="$tmp/$lang"
    if "$saturn" train --lang "$lang" --config "$here/examples/extract/$lang.toml" \
         --set steps="${STEPS:-600}" --set seed=1 --out "$run" -q > /dev/null 2>&1 &&
       "$saturn" extract "$run" --against "$lang" --max-length 0 --min-length 0 \
         --out "$tmp/$lang.json" > /dev/null 2>&1 || [ -f "$tmp/$lang.json" ]; then
      cases+=("$tmp/$lang.json $lang $n trained-$lang")
    else
      echo "note: training or extracting $lang failed; its case is skipped" >&2
    fi
  done
fi
echo "| circuit | N | auto's verdict | enumerate s | smt s | counts s | auto s | auto / fastest |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "${cases[@]}"; do
  read -r file lang n name <<< "$spec"
  [[ -n ${ONLY:-} && ! $name =~ $ONLY ]] && continue
  e=$(time_of "$file" "$lang" "$n" enumerate)
  s=$(time_of "$file" "$lang" "$n" smt)
  k=$(time_of "$file" "$lang" "$n" counts)
  a=$(time_of "$file" "$lang" "$n" auto)
  ratio=$(awk -v e="$e" -v s="$s" -v k="$k" -v a="$a" 'BEGIN {
    if (a ~ />/) { print "-"; exit }
    best = 1e9
    if (e ~ /^[0-9.]+$/ && e + 0 < best) best = e + 0
    if (s ~ /^[0-9.]+$/ && s + 0 < best) best = s + 0
    if (k ~ /^[0-9.]+$/ && k + 0 < best) best = k + 0
    printf "%.2f", a / (best > 0.05 ? best : 0.05) }')
  echo "| $name | $n | $(cut -d: -f1 "$tmp/out-auto" | cut -d' ' -f1) | $e | $s | $k | $a | $ratio |"
done

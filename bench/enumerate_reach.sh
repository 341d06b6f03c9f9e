#!/usr/bin/env bash
# Enumeration's reach (issue 24, §3): `saturn verify --method enumerate` over every word of
# lengths 0..N (N = 24 by default: 2^25 - 1 words on two symbols) for the dyck1 construction
# and for trained two-layer circuits (RECIPES, default "tomita-2-hard:32 dyck-1-hard:16":
# recipe:d_model, seed SEED (default 1); tomita-2-hard has learned positions, dyck-1-hard
# none), wall time on T threads (default 2). With a second binary (OLD), both run
# alternating, median of REPEAT runs (default 3). WORK keeps the trained runs between calls.
# Usage: bench/enumerate_reach.sh [saturn] [old saturn]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
new=${1:-$here/build/saturn}
old=${2:-}
n=${N:-24}
threads=${T:-2}
repeat=${REPEAT:-3}
work=${WORK:-$(mktemp -d)}
circuits=("$work/dyck1.json dyck-1 0")  # circuit language shortest-length
"$new" construct dyck1 -o "$work/dyck1.json" > /dev/null
for item in ${RECIPES:-tomita-2-hard:32 dyck-1-hard:16}; do
  recipe=${item%:*} d=${item#*:}
  lang=${recipe%-hard}
  run="$work/$recipe-d$d-seed${SEED:-1}"
  if [ ! -f "$run/circuit.json" ]; then
    "$new" train --lang "$lang" --config "$here/examples/extract/$recipe.toml" --set d_model="$d" \
      --set seed="${SEED:-1}" --out "$run" -q > /dev/null
    "$new" extract "$run" --against "$lang" --max-length 8 --exhaustive-max 256 > /dev/null || true
  fi
  circuits+=("$run/circuit.json $lang 1")  # trained from length 1: the empty word is untrained
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_one() {  # binary circuit language shortest -> "seconds verdict"
  local start end out
  start=$(date +%s.%N)
  out=$("$1" verify "$2" --against "$3" --min-length "$4" --max-length "$n" --method enumerate \
        --threads "$threads" \
        2>/dev/null | head -1 || true)
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) ${out%% (*}"
}
echo "| circuit | lengths | threads | saturn s | verdict |${old:+ old s |}"
echo "|---|---|---|---|---|${old:+---|}"
for entry in "${circuits[@]}"; do
  read -r circuit lang shortest <<< "$entry"
  new_t=() old_t=() verdict=
  for ((r = 0; r < repeat; ++r)); do
    read -r t v <<< "$(time_one "$new" "$circuit" "$lang" "$shortest")"; new_t+=("$t"); verdict=$v
    if [ -n "$old" ]; then read -r t _ <<< "$(time_one "$old" "$circuit" "$lang" "$shortest")"; old_t+=("$t"); fi
  done
  name=$(basename "$(dirname "$circuit")")/$(basename "$circuit")
  row="| $name | $shortest..$n | $threads | $(printf '%s\n' "${new_t[@]}" | median) | $verdict |"
  [ -n "$old" ] && row+=" $(printf '%s\n' "${old_t[@]}" | median) |"
  echo "$row"
done

#!/usr/bin/env bash
# verify/ speed (issue "verify/", §6): for each construction and method, the largest N proved
# within 60 s on this machine (N = 10, 12, 14, ... until a run exceeds 60 s or is not
# `equivalent`), and majority by counts at N = 10^4.
# Usage: bench/verify_bench.sh [path/to/saturn]
set -uo pipefail
saturn=${1:-build/saturn}
limit=${LIMIT:-60}
for c in majority dyck1 anbn first; do
  lang=$c; [[ $c == dyck1 ]] && lang=dyck-1
  for method in enumerate smt; do
    best=none; best_t=
    for n in $(seq 10 2 ${MAX_N:-40}); do
      start=$(date +%s.%N)
      out=$(timeout $((limit + 5)) "$saturn" verify "examples/circuits/$c.json" --against "$lang" \
            --max-length "$n" --method "$method" --timeout "$limit" 2>/dev/null)
      t=$(echo "$(date +%s.%N) - $start" | bc)
      [[ $out == equivalent* ]] || break
      best=$n; best_t=$t
      (( $(echo "$t > $limit / 4" | bc) )) && break  # the next N would likely exceed the limit
    done
    printf '%-9s %-10s largest N within %ss: %s (%.1f s)\n' "$c" "$method" "$limit" "$best" "${best_t:-0}"
  done
done
"$saturn" verify examples/circuits/majority.json --against majority --max-length 10000 --method counts

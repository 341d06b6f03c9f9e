#!/usr/bin/env bash
# The extraction loop on every recipe in examples/extract/ and several seeds: train (default
# build, OMP_NUM_THREADS threads), then `saturn extract --json`; one table row per run with the
# training time, faithfulness in and out of range, the verdict, the method, the length proved
# and the time. Usage: bench/extract_recipes.sh [build dir] [recipe...]
#   SEEDS (default "1 2 3"), MAX_LENGTH (default: each recipe's "# verify-max-length: N"
#   line), TIMEOUT (default 60 s), EXHAUSTIVE_MAX (extract's --exhaustive-max, default 4096:
#   every word to length 12 on two symbols). Recipes are LANG.toml or LANG-REGIME.toml; a recipe's
#   "# extract-bits: B" line passes `--bits B` to extract (weights rounded to 2^-B).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
shift || true
recipes=("$@")
[ ${#recipes[@]} -gt 0 ] || recipes=($(ls "$here"/examples/extract/*.toml | xargs -n1 basename | sed 's/\.toml$//'))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| language | seed | train s | faithfulness in | faithfulness out | heads | verdict | method | proved up to | verify s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for recipe in "${recipes[@]}"; do
  # LANG.toml or LANG-REGIME.toml: the language is the longest prefix that names one.
  lang=$recipe
  while ! "$build/saturn" lang show "$lang" > /dev/null 2>&1 && [[ $lang == *-* ]]; do
    lang=${lang%-*}
  done
  for seed in ${SEEDS:-1 2 3}; do
    run="$tmp/$recipe-$seed"
    start=$(date +%s.%N)
    "$build/saturn" train --lang "$lang" --config "$here/examples/extract/$recipe.toml" \
      --set seed="$seed" --out "$run" -q > /dev/null
    train_s=$(echo "$(date +%s.%N) - $start" | bc)
    # The length to verify: the recipe's "# verify-max-length: N" line (MAX_LENGTH overrides).
    n=${MAX_LENGTH:-$(sed -n 's/^# verify-max-length: *\([0-9]*\).*/\1/p' "$here/examples/extract/$recipe.toml")}
    n=${n:-20}
    bits=$(sed -n 's/^# extract-bits: *\([0-9]*\).*/\1/p' "$here/examples/extract/$recipe.toml")
    rc=0
    "$build/saturn" extract "$run" --against "$lang" --max-length "$n" --timeout "${TIMEOUT:-60}" \
      --exhaustive-max "${EXHAUSTIVE_MAX:-4096}" ${bits:+--bits "$bits"} --json > "$tmp/x.json" \
      2> /dev/null || rc=$?
    python3 - "$tmp/x.json" "$recipe" "$seed" "$train_s" "$rc" <<'PY'
import json, sys
path, lang, seed, train_s, rc = sys.argv[1:]
try:
    j = json.load(open(path))
except Exception:
    print(f"| {lang} | {seed} | {float(train_s):.1f} | - | - | - | error (exit {rc}) | - | - | - |")
    sys.exit(0)
f = lambda x: "-" if x is None else f"{x:.4f}"
heads = ", ".join(h["setting"].split(" (")[0] for h in j["heads"])
verdict = j["verdict"] + (f" `{j['word']}`" if j["verdict"] == "counterexample" else "")
print(f"| {lang} | {seed} | {float(train_s):.1f} | {f(j['faithfulness_in'])} | "
      f"{f(j['faithfulness_out'])} | {heads} | {verdict} | {j['method']} | "
      f"{j['proved_up_to']} / {j['max_length']} | {j['seconds']:.2f} |")
PY
  done
done

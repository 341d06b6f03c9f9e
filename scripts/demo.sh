#!/usr/bin/env bash
# The end-to-end demo (`make demo`): what saturn does today, stage by stage.
# Usage: scripts/demo.sh path/to/saturn
set -euo pipefail
saturn=${1:-build/saturn}
out=${DEMO_OUT:-demo-out}
mkdir -p "$out"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== lang/: languages, reference machines, exact counts and samples"
step "$saturn" lang list
step "$saturn" lang show dyck-2
step "$saturn" lang count dyck-2 --length 500
step "$saturn" lang check examples/languages/anbn.toml aabb abab '""'
step "$saturn" lang sample dyck-1 --lengths 2:6 --per-length 2 --negatives mixed --seed 1
step "$saturn" lang sample majority --lengths 1:40 --per-length 100 --negatives uniform -o "$out/majority.jsonl"
echo "wrote $(wc -l < "$out/majority.jsonl") examples to $out/majority.jsonl"
step "$saturn" lang equiv examples/languages/tomita3.toml tomita-3
step "$saturn" lang equiv count-eq anbn
"$saturn" lang dot tomita-3 > "$out/tomita-3.dot"
if command -v dot >/dev/null; then
  dot -Tsvg "$out/tomita-3.dot" -o "$out/tomita-3.svg"
  echo "rendered the minimal DFA of tomita-3 to $out/tomita-3.svg"
fi

echo
echo "== nets/: train a transformer on majority, test it on longer words"
rm -rf "$out/majority-run"
step "$saturn" train --lang majority --config examples/configs/majority.toml --out "$out/majority-run"
step "$saturn" eval "$out/majority-run" --lengths 1:12 --exhaustive
step "$saturn" eval "$out/majority-run" --lengths 95:100 --per-length 200

echo
echo "== saturate/: norm growth, saturation as the norm grows, head roles, the saturated circuit"
run="$out/majority-run"
step "$saturn" norms "$run"
step "$saturn" saturate "$run" --checkpoint all --per-length 13
step "$saturn" heads "$run" --lengths 1:12 --plot
step "$saturn" circuit "$run" --out "$run/circuit.json" --dot "$run/circuit.dot" --lengths 1:12
if command -v dot >/dev/null; then
  dot -Tsvg "$run/circuit.dot" -o "$run/circuit.svg"
  echo "rendered the circuit to $run/circuit.svg"
fi
step "$saturn" circuit run "$run/circuit.json" aab abb '""'

echo
echo "== verify/: the hand-built constructions, then the trained model's saturated circuit"
step "$saturn" construct majority -o "$out/majority-construction.json"
step "$saturn" verify "$out/majority-construction.json" --against majority --max-length 10000
step "$saturn" verify examples/circuits/dyck1.json --against dyck-1 --max-length 14 --method smt
step "$saturn" construct anbn --broken -o "$out/anbn-broken.json"
step "$saturn" verify "$out/anbn-broken.json" --against anbn --max-length 12 || true
step "$saturn" verify "$run/circuit.json" --against majority --max-length 12 || true

echo
echo "== the loop on a counting language: train, extract the most faithful saturated circuit, prove it"
rm -rf "$out/majority-extract"
step "$saturn" train --lang majority --config examples/extract/majority.toml --out "$out/majority-extract"
step "$saturn" extract "$out/majority-extract" --against majority --max-length 200 --exhaustive-max 65536

echo
echo "== the loop on count-eq (#a = #b): trained with hard attention (the uniform set), proved to 100"
rm -rf "$out/count-eq-extract"
step "$saturn" train --lang count-eq --config examples/extract/count-eq-hard.toml --out "$out/count-eq-extract"
step "$saturn" extract "$out/count-eq-extract" --against count-eq --max-length 100 --exhaustive-max 4096

echo
echo "== theory/: a paper's claims as numbers that can fail (Xiong et al. 2020, quick scale)"
step "$saturn" inspect "$out/majority-extract" aab abb
step "$saturn" theory --suite xiong --scale quick --out "$out/theory" || true

echo
echo "== exact un-selectable keys (Brody et al. 2023): a square's corners, centre and edge points"
step "$saturn" keys --points examples/keys/square.json

echo
echo "demo done; outputs in $out/"

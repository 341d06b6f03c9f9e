#!/usr/bin/env bash
# kill -9 during a sweep with an [extract] table (training, the all-words pass or verification),
# then --resume, equals an uninterrupted sweep: results.jsonl identical but for each row's
# seconds and extract_seconds, no temporary file left. Usage: sweep_extract_kill_resume.sh SATURN
set -euo pipefail
saturn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/grid.toml" <<'GRID'
languages = ["first", "majority"]
seeds = 2
per_length = 4
steps = 300
checkpoint_every = 100
eval_every = 300
train_lengths = "1:8"
test_lengths = "9:16"
max_length = 16
d_model = 16
n_heads = 1
n_layers = 1
d_ff = 32
norm_position = "none"
positional = "learned"
readout = "bos"
lr = 0.003
[extract]
max_length = 14
method = "enumerate"
exhaustive_max = 32768
GRID
args=(sweep "$work/grid.toml" --jobs 2 --threads 1 -q)

start=$(date +%s.%N)
"$saturn" "${args[@]}" --out "$work/reference" > /dev/null
duration=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
grep -q '"verdict"' "$work/reference/results.jsonl" || { echo "FAIL: no verdict in the rows"; exit 1; }

rows() { sed -E 's/,"(extract_)?seconds":[^,}]*//g' "$1/results.jsonl"; }
for fraction in 0.4 0.8; do
  out="$work/sweep-$fraction"
  "$saturn" "${args[@]}" --out "$out" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { print d * f }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$saturn" "${args[@]}" --out "$out" --resume > /dev/null
  diff <(rows "$work/reference") <(rows "$out") > /dev/null ||
    { echo "FAIL: results.jsonl after a kill at $fraction differs from the uninterrupted sweep's"; exit 1; }
  if find "$out" -name '*.tmp.*' | grep -q .; then echo "FAIL: temporary files left in $out"; exit 1; fi
done
echo "ok: 2 kills during a ${duration}s sweep with [extract], each resumed to the same results"

#!/usr/bin/env bash
# Training throughput, saturn vs the PyTorch reference (../shared/bench/torch_ref.py), in the
# same invocation, alternating: d_model 64, 4 heads, 2 layers, d_ff 256, batch 32, Adam,
# pre-LN, softmax, learned positions, BOS readout, Dyck-2 words at one fixed length.
# saturn's figure is the median over timed steps of its per-step tokens/s (data sampling
# included); torch_ref's is its own report (data pre-generated outside the timed region).
# Peak RSS of each process from /usr/bin/time.
# Usage: bench/train_vs_torch.sh [build dir] [steps]   (needs scripts/install-deps.sh --interop)
set -euo pipefail
build=${1:-build}
steps=${2:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
torch_ref=${TORCH_REF:-$here/../shared/bench/torch_ref.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

saturn_run() {  # threads length -> "tokens/s rss_kb"
  local threads=$1 len=$2 dir="$tmp/run-$1-$2"
  rm -rf "$dir"
  OMP_NUM_THREADS=$threads /usr/bin/time -f "%M" -o "$tmp/rss" "$build/saturn" train --lang dyck-2 -q \
    --set d_model=64 --set n_heads=4 --set n_layers=2 --set d_ff=256 --set batch_size=32 \
    --set norm_position=pre --set attention=softmax --set positional=learned --set readout=bos \
    --set optimizer=adam --set lr=0.001 --set max_length=$((len)) \
    --set train_lengths=$((len - 2)):$((len - 2)) --set test_lengths=$((len - 2)):$((len - 2)) \
    --set eval_every=0 --set checkpoint_every=0 --set eval_per_length=1 --set negatives=near-miss \
    --set steps=$((steps + 20)) --out "$dir" > /dev/null
  python3 - "$dir/metrics.jsonl" <<'PY'
import json, statistics, sys
rates = [json.loads(l)["tokens_per_s"] for l in open(sys.argv[1]) if '"step"' in l][20:]
print(f"{statistics.median(rates):.0f}", end=" ")
PY
  cat "$tmp/rss"
}

torch_run() {  # threads length -> "tokens/s rss_kb"
  local threads=$1 len=$2
  /usr/bin/time -f "%M" -o "$tmp/rss" /usr/bin/python3 "$torch_ref" --threads "$threads" --seq-len "$len" \
    --steps "$steps" > "$tmp/torch.out" 2>&1
  local rate
  rate=$(grep -oE 'tokens/s [0-9.]+' "$tmp/torch.out" | grep -oE '[0-9.]+$' | head -1)
  [ -n "$rate" ] || { echo "torch_ref.py failed:" >&2; cat "$tmp/torch.out" >&2; exit 1; }
  echo "$rate $(cat "$tmp/rss")"
}

printf "| threads | length | saturn tok/s | torch tok/s | ratio | saturn RSS MB | torch RSS MB | RSS ratio |\n"
printf "|---|---|---|---|---|---|---|---|\n"
for threads in 1 2; do
  for len in 64 256; do
    read -r s_rate s_rss < <(saturn_run "$threads" "$len")
    read -r t_rate t_rss < <(torch_run "$threads" "$len")
    python3 - "$threads" "$len" "$s_rate" "$t_rate" "$s_rss" "$t_rss" <<'PY'
import sys
th, ln, s, t, sr, tr = sys.argv[1:]
s, t, sr, tr = float(s), float(t), float(sr) / 1024, float(tr) / 1024
print(f"| {th} | {ln} | {s:.0f} | {t:.0f} | {s / t:.2f} | {sr:.0f} | {tr:.0f} | {tr / sr:.1f}x smaller |")
PY
  done
done

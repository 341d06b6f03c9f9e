#!/usr/bin/env bash
# Training throughput, saturn vs the PyTorch reference (../shared/bench/torch_ref.py), in the
# same invocation, alternating, medians of RUNS runs (default 3): d_model 64, 4 heads, 2
# layers, d_ff 256, batch 32, Adam, pre-LN, softmax, learned positions, BOS readout, Dyck-2
# words at one fixed length.
#   saturn per step: the median over timed steps of its per-step tokens/s (data sampling
#     included), after 20 warm-up steps;
#   saturn whole process: all steps' tokens over the process's wall time (start-up, tables,
#     initialisation and checkpoint 0 included) — what a stopwatch says;
#   torch: torch_ref.py's own report (data pre-generated outside the timed region), at its best
#     split of N cores between OpenMP and OpenBLAS threads: (N, 1) and (1, N) are both run and
#     the faster is reported (never (N, N), which oversubscribes N cores).
# Peak RSS of each process from /usr/bin/time.
# Usage: [THREADS="1 2"] [LENGTHS="64 256"] bench/train_vs_torch.sh [build dir] [steps]
#   (needs scripts/install-deps.sh --interop)
set -euo pipefail
build=${1:-build}
steps=${2:-200}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
torch_ref=${TORCH_REF:-$here/../shared/bench/torch_ref.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

saturn_run() {  # threads length -> "step_tokens/s process_tokens/s rss_kb"
  local threads=$1 len=$2 dir="$tmp/run-$1-$2"
  rm -rf "$dir"
  OMP_NUM_THREADS=$threads /usr/bin/time -f "%e %M" -o "$tmp/time" "$build/saturn" train \
    --lang dyck-2 -q \
    --set d_model=64 --set n_heads=4 --set n_layers=2 --set d_ff=256 --set batch_size=32 \
    --set norm_position=pre --set attention=softmax --set positional=learned --set readout=bos \
    --set optimizer=adam --set lr=0.001 --set max_length=$((len)) \
    --set train_lengths=$((len - 2)):$((len - 2)) --set test_lengths=$((len - 2)):$((len - 2)) \
    --set eval_every=0 --set checkpoint_every=0 --set eval_per_length=1 --set negatives=near-miss \
    --set steps=$((steps + 20)) --out "$dir" > /dev/null
  python3 - "$dir/metrics.jsonl" "$tmp/time" "$((steps + 20))" "$len" <<'PY'
import json, statistics, sys
rates = [json.loads(l)["tokens_per_s"] for l in open(sys.argv[1]) if '"step"' in l][20:]
wall, rss = open(sys.argv[2]).read().split()
total_tokens = int(sys.argv[3]) * 32 * int(sys.argv[4])
print(f"{statistics.median(rates):.0f} {total_tokens / float(wall):.0f} {rss}")
PY
}

torch_run() {  # omp_threads blas_threads length -> "tokens/s rss_kb"
  /usr/bin/time -f "%M" -o "$tmp/rss" /usr/bin/python3 "$torch_ref" --threads "$1" \
    --blas-threads "$2" --seq-len "$3" --steps "$steps" > "$tmp/torch.out" 2>&1
  local rate
  rate=$(grep -oE 'tokens/s [0-9.]+' "$tmp/torch.out" | grep -oE '[0-9.]+$' | head -1)
  [ -n "$rate" ] || { echo "torch_ref.py failed:" >&2; cat "$tmp/torch.out" >&2; exit 1; }
  echo "$rate $(cat "$tmp/rss")"
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores;" \
  "saturn build: $(grep -q -- '-march=native' "$build/compile_commands.json" 2>/dev/null && echo native || echo portable);" \
  "$runs alternating runs, medians"
echo
printf "| threads | length | saturn tok/s (per step) | saturn tok/s (whole process) | torch tok/s (best split) | ratio per step | ratio whole process | saturn RSS MB | torch RSS MB | RSS ratio |\n"
printf "|---|---|---|---|---|---|---|---|---|---|\n"
for threads in ${THREADS:-1 2}; do
  for len in ${LENGTHS:-64 256}; do
    : > "$tmp/rows"
    for _ in $(seq 1 "$runs"); do
      read -r s_step s_process s_rss < <(saturn_run "$threads" "$len")
      read -r t_rate_a t_rss_a < <(torch_run "$threads" 1 "$len")
      split_a="$threads,1"
      if [ "$threads" -gt 1 ]; then
        read -r t_rate_b t_rss_b < <(torch_run 1 "$threads" "$len")
      else
        t_rate_b=0 t_rss_b=0
      fi
      echo "$s_step $s_process $s_rss $t_rate_a $t_rss_a $t_rate_b $t_rss_b" >> "$tmp/rows"
    done
    python3 - "$threads" "$len" "$tmp/rows" <<'PY'
import statistics as st, sys
th, ln, path = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [list(map(float, l.split())) for l in open(path)]
med = lambda i: st.median(r[i] for r in rows)
s_step, s_proc, s_rss = med(0), med(1), med(2) / 1024
a, b = med(3), med(5)
best, split, t_rss = (a, f"{th},1", med(4)) if a >= b else (b, f"1,{th}", med(6))
t_rss /= 1024
other = f"; other split {min(a, b):.0f}" if th != "1" else ""
print(f"| {th} | {ln} | {s_step:.0f} | {s_proc:.0f} | {best:.0f} (OpenMP,BLAS = {split}{other}) | "
      f"{s_step / best:.2f} | {s_proc / best:.2f} | {s_rss:.0f} | {t_rss:.0f} | "
      f"{t_rss / s_rss:.1f}x smaller |")
PY
  done
done

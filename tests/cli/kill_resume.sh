#!/usr/bin/env bash
# kill -9 during training, then --resume, equals an uninterrupted run: every checkpoint
# byte-identical, metrics.jsonl identical but for the wall-clock field tokens_per_s, and no
# temporary file left. Kills land at several points, including while a checkpoint's temporary
# file exists. Usage: kill_resume.sh SATURN
set -euo pipefail
saturn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=2
args=(--lang dyck-1 --set steps=1500 --set checkpoint_every=50 --set eval_every=100
      --set d_model=16 --set d_ff=32 --set batch_size=16 --set train_lengths=2:16
      --set test_lengths=17:24 --set eval_per_length=4 -q)

start=$(date +%s.%N)
"$saturn" train "${args[@]}" --out "$work/reference" > "$work/reference.out"
duration=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')

strip() { sed -E 's/"tokens_per_s":[^,}]*//' "$1"; }
compare() {  # run directory against the reference
  local run=$1
  for f in "$work"/reference/ckpt-*.safetensors; do
    cmp -s "$f" "$run/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs in $run"; exit 1; }
  done
  [ "$(ls "$run"/ckpt-*.safetensors | wc -l)" = "$(ls "$work"/reference/ckpt-*.safetensors | wc -l)" ] ||
    { echo "FAIL: $run has other checkpoints than the reference"; exit 1; }
  diff <(strip "$work/reference/metrics.jsonl") <(strip "$run/metrics.jsonl") > /dev/null ||
    { echo "FAIL: metrics.jsonl of $run differs from the uninterrupted run's"; exit 1; }
  if ls "$run" | grep -q '\.tmp\.'; then echo "FAIL: temporary files left in $run"; exit 1; fi
  [ -f "$run/summary.json" ] || { echo "FAIL: no summary.json in $run"; exit 1; }
}

# Kills at fractions of the reference's duration, and the moment a checkpoint's temporary file
# appears.
trial=0
midway=0  # kills that left a partial run (some checkpoints, no summary)
for fraction in 0.05 0.2 0.35 0.5 0.65 0.8 0.95 tmp tmp tmp; do
  trial=$((trial + 1))
  run="$work/run-$trial"
  "$saturn" train "${args[@]}" --out "$run" > /dev/null 2>&1 &
  pid=$!
  if [ "$fraction" = tmp ]; then
    # Past checkpoint 0, at a later checkpoint's temporary file.
    # (Until the run ends: a run that finished first is compared as it is, not polled for.)
    for _ in $(seq 1 20000); do
      if ls "$run" 2>/dev/null | grep -q 'ckpt-[1-9][0-9]*\.safetensors\.tmp\.'; then break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.0005
    done
  else
    sleep "$(awk -v d="$duration" -v f="$fraction" 'BEGIN { print d * f }')"
  fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ ! -f "$run/summary.json" ] && ls "$run" 2>/dev/null | grep -q '^ckpt-'; then
    midway=$((midway + 1))
  fi
  # Resume until done (a resume is not killed). A directory without config.toml resumes what
  # was asked: the same --set keys.
  if [ -d "$run" ]; then
    "$saturn" train "${args[@]}" --out "$run" --resume > /dev/null
  else
    "$saturn" train "${args[@]}" --out "$run" --overwrite > /dev/null
  fi
  compare "$run"
done
# Killed between the last checkpoint and summary.json (the checkpoint of the final step is on
# disk, the summary's temporary file half written): the resumed summary is the uninterrupted
# run's, timing fields aside, and so is what train prints.
dead_pid=$(sh -c 'echo $$')
timing='"(wall_seconds|process_seconds|steps_per_s|process_steps_per_s|tokens_per_s|peak_rss_kb)"'
figures() { grep -Ev "$timing" "$1"; }
cp -r "$work/reference" "$work/no-summary"
rm "$work/no-summary/summary.json"
printf '{\n  "language": "dyc' > "$work/no-summary/summary.json.tmp.$dead_pid"
"$saturn" train "${args[@]}" --out "$work/no-summary" --resume > "$work/no-summary.out"
diff <(figures "$work/reference/summary.json") <(figures "$work/no-summary/summary.json") ||
  { echo "FAIL: summary.json rebuilt on resume differs from the uninterrupted run's"; exit 1; }
[ "$(head -1 "$work/reference.out")" = "$(head -1 "$work/no-summary.out")" ] ||
  { echo "FAIL: resume after the last checkpoint printed: $(head -1 "$work/no-summary.out")"; exit 1; }
compare "$work/no-summary"
# Without its metrics line for the final step the summary cannot be rebuilt: refused.
cp -r "$work/reference" "$work/no-metrics"
rm "$work/no-metrics/summary.json"
grep -v '"step":1500,' "$work/reference/metrics.jsonl" > "$work/no-metrics/metrics.jsonl"
set +e
err=$("$saturn" train "${args[@]}" --out "$work/no-metrics" --resume 2>&1 >/dev/null)
code=$?
set -e
[ "$code" = 2 ] && [[ "$err" == *"no training line for the final step 1500"* ]] ||
  { echo "FAIL: a summary without its final metrics line: exit $code: $err"; exit 1; }

# Killed while config.toml was being written (only its temporary file is left), and a directory
# that holds nothing: --resume without --config/--set is refused naming config.toml (never the
# default configuration); with them, the run asked for starts and equals the uninterrupted one.
for case in partial-config empty; do
  run="$work/$case"
  mkdir "$run"
  [ "$case" = partial-config ] && printf '# model\nd_mo' > "$run/config.toml.tmp.$dead_pid"
  set +e
  err=$("$saturn" train --lang dyck-1 --out "$run" --resume -q 2>&1 >/dev/null)
  code=$?
  set -e
  [ "$code" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
    [[ "$err" == "saturn: --resume: $run holds no config.toml"* ]] ||
    { echo "FAIL: --resume of $case without a configuration: exit $code: $err"; exit 1; }
  [ ! -e "$run/config.toml" ] || { echo "FAIL: a refused --resume wrote config.toml"; exit 1; }
  "$saturn" train "${args[@]}" --out "$run" --resume > /dev/null
  compare "$run"
done
# A directory of someone else's files is not a run to resume into.
mkdir "$work/foreign" && echo notes > "$work/foreign/notes.txt"
set +e
err=$("$saturn" train "${args[@]}" --out "$work/foreign" --resume 2>&1 >/dev/null)
code=$?
set -e
[ "$code" = 2 ] && [[ "$err" == *"holds no saturn run but other files (notes.txt)"* ]] ||
  { echo "FAIL: --resume into a foreign directory: exit $code: $err"; exit 1; }

# Resuming a finished run changes nothing.
before=$(md5sum "$work/reference/metrics.jsonl" "$work/reference/summary.json")
out=$("$saturn" train "${args[@]}" --out "$work/reference" --resume)
[[ "$out" == *"already finished"* ]] || { echo "FAIL: resume of a finished run said: $out"; exit 1; }
[ "$before" = "$(md5sum "$work/reference/metrics.jsonl" "$work/reference/summary.json")" ] ||
  { echo "FAIL: resume of a finished run changed it"; exit 1; }
[ "$midway" -ge 5 ] || { echo "FAIL: only $midway of $trial kills landed mid-run"; exit 1; }
echo "kill -9 + resume equals an uninterrupted run ($trial trials, $midway killed mid-run)"

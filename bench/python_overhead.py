#!/usr/bin/python3
"""The Python package's overhead over the C++ it calls (issue 27's goals), on a quiet machine:

  (a) Model.forward on one short word vs the kernels alone (nets::forward_in_batches over the
      parsed word, timed in C++ by saturn._saturn.kernel_seconds): goal <= 50 us beyond them;
  (b) sampling 10^5 words into numpy (Language.sample, then Language.encode to token ids) vs
      `saturn lang sample` with the same arguments writing its JSONL file: goal within 1.5x.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--saturn build/saturn]
       [--quick]   (--quick: few repeats, for checking that the script runs; figures meaningless)
Timings are medians of several rounds at one thread. Figures go to bench/RESULTS.md.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import saturn
from saturn import _saturn


def median_seconds(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def forward_overhead(binary, work, rounds, calls):
    """(a): the per-call time of Model.forward([word]) and of the kernels alone, in seconds."""
    run = work / "run"
    subprocess.run([binary, "train", "--lang", "majority", "--out", run, "-q", "--threads", "1",
                    "--set", "steps=1", "--set", "checkpoint_every=1", "--set", "eval_every=0"],
                   check=True, capture_output=True)
    model = saturn.load(run)
    rows = []
    for word in ["ab", "aabba"]:
        def python_calls():
            for _ in range(calls):
                model.forward([word])
        python_calls()  # warm: buffers sized, threads started
        py = median_seconds(python_calls, rounds) / calls
        kernel = statistics.median(_saturn.kernel_seconds(model._h, [word], calls)
                                   for _ in range(rounds))
        rows.append((word, py, kernel))
    return model.config["d_model"], rows


def sampling_ratio(binary, work, rounds, lengths, per_length):
    """(b): seconds of Language.sample (+ encode) and of `saturn lang sample -o FILE`."""
    lang = saturn.Language("majority")
    out = work / "sample.jsonl"
    cli = [binary, "lang", "sample", "majority", "--lengths", lengths, "--per-length",
           str(per_length), "--negatives", "uniform", "--seed", "1", "-o", str(out)]
    words_holder = {}

    def python_sample():
        words, labels = lang.sample(lengths, per_length, negatives="uniform", seed=1)
        words_holder["words"] = words

    def python_sample_encode():
        words, labels = lang.sample(lengths, per_length, negatives="uniform", seed=1)
        tokens, token_lengths = lang.encode(words)

    python_sample()  # warm: the count tables are built once per Language in both cases
    n = len(words_holder["words"])
    sample = median_seconds(python_sample, rounds)
    sample_encode = median_seconds(python_sample_encode, rounds)
    cli_seconds = median_seconds(lambda: subprocess.run(cli, check=True, capture_output=True),
                                 rounds)
    lines = sum(1 for _ in out.open())
    if lines != n:
        sys.exit(f"the CLI wrote {lines} words, the package sampled {n}")
    return n, sample, sample_encode, cli_seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--saturn", default="build/saturn", help="the saturn binary")
    ap.add_argument("--quick", action="store_true", help="few repeats (a correctness run)")
    a = ap.parse_args()
    binary = os.path.abspath(a.saturn)
    saturn.set_threads(1)
    rounds, calls = (3, 200) if a.quick else (9, 5000)
    per_length = 250 if a.quick else 2500  # x 20 lengths x 2 classes: 10^4 / 10^5 words
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        d_model, rows = forward_overhead(binary, work, rounds, calls)
        print(f"(a) Model.forward on one word (majority, d_model {d_model}, default model keys), "
              f"median of {rounds} x {calls} calls, 1 thread; goal: <= 50 us beyond the kernels")
        print(f"    {'word':<8} {'forward us':>11} {'kernels us':>11} {'overhead us':>12}")
        for word, py, kernel in rows:
            print(f"    {word:<8} {py * 1e6:>11.1f} {kernel * 1e6:>11.1f} "
                  f"{(py - kernel) * 1e6:>12.1f}")
        n, sample, sample_encode, cli_seconds = sampling_ratio(binary, work, rounds, "1:20",
                                                               per_length)
        print(f"(b) {n} majority words, lengths 1:20, negatives uniform, median of {rounds}; "
              f"goal: within 1.5x of the CLI")
        print(f"    saturn lang sample -o FILE      {cli_seconds:8.3f} s")
        print(f"    Language.sample                 {sample:8.3f} s  ({sample / cli_seconds:.2f}x)")
        print(f"    Language.sample + .encode       {sample_encode:8.3f} s  "
              f"({sample_encode / cli_seconds:.2f}x)")
    if a.quick:
        print("(--quick: figures from few repeats on a possibly busy machine; not a measurement)")


if __name__ == "__main__":
    main()

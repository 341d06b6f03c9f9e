"""Fixtures of the pytest suite of the Python package: the saturn binary (SATURN_BINARY, set by
ctest) to compare with, and two tiny models trained once per session through the CLI."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import saturn

THREADS = 2  # the CLI and the package at the same thread count (logits are bit-for-bit then)

TINY = ["d_model=16", "d_ff=32", "lr=0.003", "batch_size=32", "seed=1"]
# A recognizer of majority (the extract example's shape, 300 steps) and a 2-layer, 2-head pre-LN
# next-symbol model of dyck-1 (100 steps).
MODELS = {
    "majority": ["n_heads=1", "n_layers=1", "norm_position=none", "positional=none",
                 "readout=bos", "max_length=24", "steps=300", "checkpoint_every=300",
                 "eval_every=300", "train_lengths=1:12", "test_lengths=13:24",
                 "negatives=mixed"],
    "dyck-1": ["n_heads=2", "n_layers=2", "max_length=16", "steps=100", "checkpoint_every=100",
               "eval_every=100", "train_lengths=2:8", "test_lengths=9:16",
               "objective=next-symbol"],
}


@pytest.fixture(scope="session")
def cli():
    binary = os.environ.get("SATURN_BINARY")
    if not binary:
        pytest.fail("SATURN_BINARY: the saturn binary to compare with (ctest sets it)")

    def run(*args, check=True):
        """saturn ARGS: (exit code, stdout, stderr)."""
        p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"saturn {' '.join(map(str, args))}: exit {p.returncode}\n"
                                 f"{p.stderr}")
        return p.returncode, p.stdout, p.stderr

    saturn.set_threads(THREADS)
    return run


@pytest.fixture(scope="session")
def runs(cli, tmp_path_factory):
    """Run directories by language, trained by `saturn train`."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for lang, sets in MODELS.items():
        out[lang] = base / lang
        args = ["train", "--lang", lang, "--out", out[lang], "-q", "--threads", THREADS]
        for s in TINY + sets:
            args += ["--set", s]
        cli(*args)
    return out


def cli_error(cli, *args):
    """The CLI's one-line message for bad input, without "saturn: " (exit code 2 checked)."""
    code, _, err = cli(*args, check=False)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("saturn: "), err
    return lines[0][len("saturn: "):]


def read_jsonl(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def interrupt_seconds(work, setup="", delay=2.0):
    """Runs `work` (a Python statement calling saturn) in a fresh interpreter, sends SIGINT
    `delay` seconds in, and returns how long after the signal its KeyboardInterrupt came
    (the call must not finish first)."""
    script = textwrap.dedent("""
        import sys, time, saturn
        {setup}
        print("ready", flush=True)
        try:
            {work}
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
            sys.exit(7)
        print("finished", flush=True)
    """).format(setup=setup, work=work)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert p.stdout.readline().strip() == "ready"
    time.sleep(delay)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 7, out + err
    line = out.strip().splitlines()[-1].split()
    assert line[0] == "interrupted"
    return float(line[1]) - sent

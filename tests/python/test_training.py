"""saturn.train / Run against `saturn train` and `saturn eval --json`, and Ctrl-C inside a call."""
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

import saturn
from conftest import THREADS, TINY, MODELS, cli_error, interrupt_seconds

CONFIG = dict(s.split("=", 1) for s in TINY + MODELS["majority"])


def test_train_writes_the_cli_run_byte_for_byte(cli, tmp_path):
    """The same language and keys give the same checkpoints and metrics as the CLI's run
    (wall-clock fields aside), at the same thread count."""
    cli_args = ["train", "--lang", "majority", "--out", tmp_path / "cli", "-q", "--threads",
                THREADS]
    for k, v in CONFIG.items():
        cli_args += ["--set", f"{k}={v}"]
    cli(*cli_args)
    # Typed values as a user writes them: ints, floats, text.
    config = {k: (int(v) if v.isdigit() else float(v) if v.replace(".", "").isdigit() else v)
              for k, v in CONFIG.items()}
    assert isinstance(config["lr"], float) and isinstance(config["steps"], int)
    run = saturn.train("majority", config, out=tmp_path / "py")
    assert isinstance(run, saturn.Run)
    ckpts = run.checkpoints
    assert [pathlib.Path(p).name for p in ckpts] == sorted(
        (p.name for p in (tmp_path / "cli").glob("ckpt-*.safetensors")),
        key=lambda n: int(n[5:-12]))
    assert pathlib.Path(ckpts[-1]).name == "ckpt-300.safetensors"
    for p in ckpts:
        assert pathlib.Path(p).read_bytes() == (tmp_path / "cli" / pathlib.Path(p).name).read_bytes()
    assert (tmp_path / "py" / "config.toml").read_text() == \
        (tmp_path / "cli" / "config.toml").read_text()
    def strip(row):  # tokens_per_s is wall-clock
        return {k: v for k, v in row.items() if k != "tokens_per_s"}
    metrics = run.metrics
    if hasattr(metrics, "to_dict"):  # pandas installed
        metrics = [json.loads(line) for line in
                   (tmp_path / "py" / "metrics.jsonl").read_text().splitlines()]
    cli_rows = [json.loads(line) for line in
                (tmp_path / "cli" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == len(cli_rows) == 301  # 300 steps and one evaluation
    assert [strip(r) for r in metrics] == [strip(r) for r in cli_rows]
    assert run.summary["final_loss"] == json.loads(
        (tmp_path / "cli" / "summary.json").read_text())["final_loss"]
    assert run.config["steps"] == 300 and run.config["lr"] == 0.003


def test_evaluate_equals_cli_eval_json(cli, runs):
    _, out, _ = cli("eval", runs["majority"], "--lengths", "1:16", "--per-length", 20, "--seed",
                    4, "--json", "--threads", THREADS)
    got = saturn.Run(runs["majority"]).evaluate("1:16", per_length=20, seed=4)
    assert got == json.loads(out)
    assert set(got) == {"language", "step", "accuracy", "per_length"}


def test_resume_and_refusals(cli, tmp_path):
    run = saturn.train("majority", {"steps": 20, "d_model": 8, "train_lengths": "1:6"},
                       out=tmp_path / "r")
    assert run.summary["steps"] == 20
    # A second train into a used directory is refused as the CLI refuses it.
    with pytest.raises(saturn.InputError) as e:
        saturn.train("majority", {"steps": 20}, out=tmp_path / "r")
    expected = cli_error(cli, "train", "--lang", "majority", "--set", "steps=20", "--out",
                         tmp_path / "r")
    assert str(e.value) == expected
    # Resuming a finished run does nothing; resume and overwrite exclude each other.
    assert saturn.train("majority", out=tmp_path / "r", resume=True).dir == str(tmp_path / "r")
    with pytest.raises(saturn.InputError, match="exclude each other"):
        saturn.train("majority", out=tmp_path / "r", resume=True, overwrite=True)
    with pytest.raises(saturn.InputError) as e:
        saturn.train("majority", {"no_such_key": 1}, out=tmp_path / "x")
    assert str(e.value) == cli_error(cli, "train", "--lang", "majority", "--set",
                                     "no_such_key=1", "--out", tmp_path / "x")
    with pytest.raises(saturn.InputError):
        saturn.train("majority", {"steps": [1, 2, 3]}, out=tmp_path / "y")
    with pytest.raises(saturn.InputError):
        saturn.Run(tmp_path / "missing")


def test_ctrl_c_stops_a_long_call_within_a_second(tmp_path):
    """SIGINT during training raises KeyboardInterrupt in the calling program within a second,
    and the run resumes afterwards."""
    work = ('saturn.train("majority", {"steps": 10**7, "checkpoint_every": 10**6, '
            f'"eval_every": 10**6}}, out={str(tmp_path / "run")!r})')
    assert interrupt_seconds(work, setup="saturn.set_threads(1)") < 1.0  # 2 s in: training
    # Python's own handler is back: a SIGINT now is Python's KeyboardInterrupt, not saturn's.
    after = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import os, signal, saturn
        saturn.Language("dyck-1").count(4)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            import time; time.sleep(1)
        except KeyboardInterrupt:
            print("python")
    """)], capture_output=True, text=True, timeout=30)
    assert after.stdout.strip() == "python", after.stderr

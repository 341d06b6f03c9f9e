"""saturn.extract / saturn.verify against the CLI's --json; the GIL is released in long calls."""
import json
import threading
import time

import pytest

import saturn
from conftest import THREADS, cli_error

VARYING = {"seconds"}  # the only field that may differ between two runs


def same_fields(a, b):
    return {k: v for k, v in a.items() if k not in VARYING} == \
        {k: v for k, v in b.items() if k not in VARYING}


def test_extract_json_equals_the_clis(cli, runs, tmp_path):
    flags = dict(max_length=14, method="enumerate", exhaustive_max=4096, per_length=20, seed=3)
    args = ["extract", runs["majority"], "--against", "majority", "--json", "--threads", THREADS]
    for k, v in flags.items():
        args += [f"--{k.replace('_', '-')}", v]
    _, out, _ = cli(*args, "--out", tmp_path / "cli.json")
    expected = json.loads(out)
    got = saturn.extract(runs["majority"], against="majority", out=tmp_path / "py.json", **flags)
    assert list(got) == list(expected)  # the same fields in the same order
    expected["circuit"] = str(tmp_path / "py.json")
    assert same_fields(got, expected)
    assert got["verdict"] == "equivalent" and got["proved_up_to"] == 14
    assert (tmp_path / "py.json").read_text() == (tmp_path / "cli.json").read_text()


@pytest.mark.parametrize("broken", [False, True])
def test_verify_json_equals_the_clis(cli, tmp_path, broken):
    circuit = tmp_path / "majority.json"
    cli("construct", "majority", "-o", circuit, *(["--broken"] if broken else []))
    code, out, _ = cli("verify", circuit, "--against", "majority", "--max-length", 12,
                       "--method", "enumerate", "--json", check=False)
    assert code == (1 if broken else 0)
    expected = json.loads(out)
    got = saturn.verify(circuit, against="majority", max_length=12, method="enumerate")
    assert list(got) == list(expected) and same_fields(got, expected)
    assert got["verdict"] == ("counterexample" if broken else "equivalent")
    if broken:
        assert saturn.Language("majority").accepts(got["word"]) == got["reference_accepts"]


def test_loop_errors_are_the_clis(cli, runs, tmp_path):
    circuit = tmp_path / "m.json"
    cli("construct", "majority", "-o", circuit)
    with pytest.raises(saturn.InputError) as e:
        saturn.verify(circuit, against="majority", max_length=5, method="fast")
    assert str(e.value) == cli_error(cli, "verify", circuit, "--against", "majority",
                                     "--max-length", "5", "--method", "fast")
    with pytest.raises(ValueError) as e:
        saturn.verify(circuit, against="majority", max_length=5, timeout=-1)
    assert str(e.value) == cli_error(cli, "verify", circuit, "--against", "majority",
                                     "--max-length", "5", "--timeout", "-1")
    with pytest.raises(ValueError) as e:
        saturn.extract(runs["majority"], against="majority", max_length=8, tie="middle")
    assert str(e.value) == cli_error(cli, "extract", runs["majority"], "--against", "majority",
                                     "--max-length", "8", "--tie", "middle")
    with pytest.raises(ValueError) as e:
        saturn.extract(runs["majority"], against="dyck-1", max_length=8)
    assert str(e.value) == cli_error(cli, "extract", runs["majority"], "--against", "dyck-1",
                                     "--max-length", "8")


def test_long_calls_release_the_gil(runs):
    """While one thread runs a model on many words (C++ for a good fraction of a second), Python
    code keeps running in another: the call does not hold the GIL."""
    model = saturn.load(runs["majority"])
    words = ["ab" * 10, "a" * 20, "b" * 19] * 1000
    alone = 0
    while alone < 0.3 and len(words) < 10**6:  # long enough to see, on any machine
        words = words * 2
        started = time.perf_counter()
        model.forward(words)
        alone = time.perf_counter() - started
    ticks = 0
    worker = threading.Thread(target=lambda: model.forward(words))
    worker.start()
    deadline = time.perf_counter() + 0.5 * alone
    while time.perf_counter() < deadline and worker.is_alive():
        ticks += 1
    worker.join()
    assert ticks > 10000  # holding the GIL, this loop would not run until the call returned


def test_circuit_run_equals_the_clis(cli, runs, tmp_path):
    """Circuit.load(...).run(words): the verdicts and logit bounds `saturn circuit run` prints,
    as exact Fractions; a construction's logits are exact points."""
    from fractions import Fraction
    words = ["aab", "abb", "", "ba", "abab", "bbbaa"]
    cli("circuit", runs["majority"], "--out", tmp_path / "c.json", "--threads", THREADS)
    _, out, _ = cli("circuit", "run", tmp_path / "c.json", *[w or '""' for w in words])
    circuit = saturn.Circuit.load(tmp_path / "c.json")
    assert circuit.alphabet == ["a", "b"]
    got = circuit.run(words)
    assert [r["word"] for r in got] == words
    for r, line in zip(got, out.strip().splitlines()):
        fields = line.split()
        assert r["verdict"] == fields[1]
        if "in" in fields:  # logit in [lo, hi]
            lo, hi = float(fields[4].strip("[,")), float(fields[5].strip("]"))
            assert r["logit"] is None
            assert float(r["logit_interval"][0]) == pytest.approx(lo, rel=1e-15, abs=1e-300)
            assert float(r["logit_interval"][1]) == pytest.approx(hi, rel=1e-15, abs=1e-300)
            assert r["logit_interval"][0] <= r["logit_interval"][1]
        else:  # logit p/q = x
            assert r["logit"] == Fraction(fields[3])
        assert (r["verdict"] == "accept") == (r["logit_interval"][0] > 0)
    # The dyck1 construction: "()"'s logit is the exact point 1/8 (`logit 1/8 = 0.125`).
    cli("construct", "dyck1", "--out", tmp_path / "d.json")
    exact = saturn.Circuit.load(tmp_path / "d.json").run(["()", ")("])
    assert [r["verdict"] for r in exact] == ["accept", "reject"]
    assert exact[0]["logit"] == Fraction(1, 8)
    assert exact[0]["logit_interval"] == (Fraction(1, 8), Fraction(1, 8))
    with pytest.raises(saturn.InputError) as e:
        circuit.run(["abc"])
    assert str(e.value).startswith("WORD 1:")
    with pytest.raises(saturn.InputError):
        saturn.Circuit.load(tmp_path / "missing.json")


def test_keys_equals_the_clis_json(cli, tmp_path):
    """saturn.keys on a point file and on rows: `saturn keys --points F --json`'s dict; floats
    are taken at their exact binary value, strings and Fractions as written."""
    from fractions import Fraction
    import numpy as np
    square = [[0, 0], [1, 0], [0, 1], [1, 1], ["1/2", "1/2"], [Fraction(1, 2), 0]]
    path = tmp_path / "square.json"
    path.write_text(json.dumps({"points": [[str(x) for x in row] for row in square]}))
    _, out, _ = cli("keys", "--points", path, "--json", "--threads", THREADS)
    expected = json.loads(out)
    assert saturn.keys(path) == expected
    assert saturn.keys(square) == expected
    assert expected["unselectable"] == [4, 5] and expected["num_selectable"] == 4
    # A float array: 0.5 is exact, so the centre is un-selectable as before.
    got = saturn.keys(np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]]))
    assert got["unselectable"] == [4]
    with pytest.raises(saturn.InputError, match=r"points\[1\]\[0\]"):
        saturn.keys([[0, 0], [float("nan"), 1]])
    with pytest.raises(saturn.InputError) as e:
        saturn.keys([[0, 0], [1]])
    # The CLI's message, naming the rows "points" rather than a file.
    bad = _write(tmp_path, [[0, 0], [1]])
    assert str(e.value) == cli_error(cli, "keys", "--points", bad).replace(str(bad), "points")


def _write(tmp_path, rows):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"points": rows}))
    return path

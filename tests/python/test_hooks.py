"""The activation cache's embedding terms, attention scores and saturated pattern (against
`saturn inspect --json`, the softmax of the scores, the model's set rule and the extracted
circuit), train(progress=...), and no leak over 10^4 cheap calls."""
import json
import math
import os
import signal

import numpy as np
import pytest

import saturn
from conftest import THREADS

# A recognizer of majority with hard attention over each row's tolerance set (attention_set =
# "tolerance"), causal, so that rows attend different sets and the mask shows in the scores.
HARD = {"d_model": 16, "d_ff": 32, "n_heads": 2, "n_layers": 1, "norm_position": "none",
        "positional": "learned", "readout": "eos", "causal": True, "attention": "hard",
        "attention_set": "tolerance", "attention_tolerance": 0.5, "max_length": 12,
        "steps": 60, "checkpoint_every": 60, "eval_every": 60, "train_lengths": "1:8",
        "test_lengths": "9:12", "lr": 0.003, "batch_size": 32, "seed": 1}


@pytest.fixture(scope="module")
def hard_run(tmp_path_factory):
    saturn.set_threads(THREADS)
    return saturn.train("majority", HARD, out=tmp_path_factory.mktemp("hard") / "run")


def inspect_lines(cli, run, words):
    _, out, _ = cli("inspect", run, "--json", "--threads", THREADS, *words)
    return [json.loads(line) for line in out.splitlines()]


def scores_of(rows):
    """inspect's attention.scores: JSON null stands for -inf (a masked key)."""
    return np.array([[[-math.inf if x is None else x for x in r] for r in h] for h in rows])


def test_embedding_and_scores_equal_inspect_json(cli, runs):
    words = ["(())()", "()", '""']
    model = saturn.load(runs["dyck-1"])
    _, cache = model.forward(words, cache=True)
    layers = model.config["n_layers"]
    assert {"hook_embed", "hook_pos_embed"} | {
        f"blocks.{l}.attn.hook_attn_scores" for l in range(layers)} <= set(cache)
    C, H = model.config["d_model"], model.config["n_heads"]
    assert cache["hook_embed"].shape == cache["hook_pos_embed"].shape == (3, 8, C)
    assert cache["blocks.0.attn.hook_attn_scores"].shape == (3, H, 8, 8)
    for i, j in enumerate(inspect_lines(cli, runs["dyck-1"], words)):
        T = len(j["tokens"])
        assert np.array_equal(cache["hook_embed"][i, :T], np.array(j["embed"]))
        assert np.array_equal(cache["hook_pos_embed"][i, :T], np.array(j["pos_embed"]))
        assert np.isnan(cache["hook_embed"][i, T:]).all()
        # TransformerLens: resid_pre of block 0 = hook_embed + hook_pos_embed (bit for bit).
        assert np.array_equal(cache["hook_embed"][i, :T] + cache["hook_pos_embed"][i, :T],
                              cache["blocks.0.hook_resid_pre"][i, :T])
        # The token term is the embedding matrix's row of each token.
        wte = model.params["embed.wte"].astype(np.float64)
        assert np.array_equal(cache["hook_embed"][i, :T], wte[j["tokens"]])
        for l, L in enumerate(j["layers"]):
            s = cache[f"blocks.{l}.attn.hook_attn_scores"][i, :, :T, :T]
            assert np.array_equal(s, scores_of(L["attention"]["scores"]))
            assert np.isfinite(s).all()  # not causal: every key of the word is visible
            # Softmax attention: the pattern is the row-wise softmax of the scores.
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            assert np.allclose(cache[f"blocks.{l}.attn.hook_pattern"][i, :, :T, :T],
                               e / e.sum(axis=-1, keepdims=True), rtol=0, atol=1e-12)


def round_scores(row, bits=16):
    """nets/attention.cpp's round_scores: multiples of 2^(e - bits), 2^e > the largest |s|."""
    largest = np.abs(row).max()
    if largest == 0:
        return row
    _, e = math.frexp(largest)
    quantum = math.ldexp(1.0, e - bits)
    return np.round(row / quantum) * quantum  # ties to even, as nearbyint


def test_saturated_pattern_is_the_model_set_rule_and_the_circuit(cli, hard_run, tmp_path):
    model = hard_run.model()
    tolerance = HARD["attention_tolerance"]
    words = ["abba", "aab", "bbbbaaaa", "a", '""', "ababab"]
    logits, cache = model.forward(words, cache=True)
    x = saturn.extract(hard_run.dir, against="majority", max_length=8, method="enumerate",
                       out=tmp_path / "circuit.json")
    # Extraction keeps the model's own set rule for every head: that is the circuit's selection.
    assert [h["setting"] for h in x["heads"]] == [f"tolerance {tolerance:.3g} (the model's own)"] * 2
    assert all(h["tolerance"] == tolerance for h in x["heads"])
    circuit = saturn.Circuit.load(x["circuit"])
    verdicts = [r["verdict"] for r in circuit.run(words)]
    assert verdicts == ["accept" if z > 0 else "reject" for z in logits]
    sat = cache["blocks.0.attn.hook_pattern_saturated"]
    scores = cache["blocks.0.attn.hook_attn_scores"]
    wider = 0
    for i, w in enumerate(words):
        T = len(w.strip('"')) + 2
        # Rows sum to 1; a hard-trained model attends exactly its saturated pattern.
        assert np.allclose(sat[i, :, :T, :T].sum(axis=-1), 1.0, rtol=0, atol=1e-15)
        assert np.array_equal(sat[i, :, :T, :T], cache["blocks.0.attn.hook_pattern"][i, :, :T, :T])
        for h in range(HARD["n_heads"]):
            for q in range(T):
                s = scores[i, h, q, :T]
                visible = q + 1  # causal
                assert np.isneginf(s[visible:]).all() and np.isfinite(s[:visible]).all()
                r = round_scores(s[:visible])
                chosen = r >= r.max() - tolerance  # the set: within tolerance of the maximum
                expected = np.zeros(T)
                expected[:visible][chosen] = 1.0 / chosen.sum()
                assert np.array_equal(sat[i, h, q, :T], expected), (w, h, q)
                wider += chosen.sum() > (r == r.max()).sum()
    assert wider > 0  # some row attends more than its argmax: the rule is not argmax's


def test_saturated_pattern_of_a_softmax_model_is_the_argmax_limit(cli, runs):
    """attention_set = argmax (a softmax model): the saturated network `inspect` shows."""
    words = ["(())", "()()"]
    _, cache = saturn.load(runs["dyck-1"]).forward(words, cache=True)
    for i, j in enumerate(inspect_lines(cli, runs["dyck-1"], words)):
        T = len(j["tokens"])
        for l, L in enumerate(j["layers"]):
            sat = cache[f"blocks.{l}.attn.hook_pattern_saturated"][i, :, :T, :T]
            assert np.array_equal(sat, np.array(L["attention"]["saturated"]))
            assert np.allclose(sat.sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def test_progress_is_called_with_every_metrics_row(tmp_path):
    rows = []
    run = saturn.train("majority", {"steps": 12, "d_model": 8, "train_lengths": "1:6",
                                    "eval_every": 5, "checkpoint_every": 5},
                       out=tmp_path / "run", progress=rows.append)
    recorded = [json.loads(line) for line in
                (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows == recorded
    steps = [r["step"] for r in rows if "step" in r]
    assert steps == list(range(1, 13))
    assert [r["eval_step"] for r in rows if "eval_step" in r] == [5, 10, 12]
    assert {"loss", "train_acc", "lr", "param_norm", "grad_norm"} <= set(rows[0])
    assert run.summary["steps"] == 12
    with pytest.raises(TypeError):
        saturn.train("majority", {"steps": 2}, out=tmp_path / "bad", progress=3)


def test_an_exception_in_progress_stops_training_and_propagates(tmp_path):
    class Stop(Exception):
        pass

    seen = []

    def stop_at_4(row):
        seen.append(row.get("step"))
        if row.get("step") == 4:
            raise Stop("enough")

    config = {"steps": 50, "d_model": 8, "train_lengths": "1:6", "checkpoint_every": 2}
    with pytest.raises(Stop, match="enough"):
        saturn.train("majority", config, out=tmp_path / "run", progress=stop_at_4)
    assert seen == [1, 2, 3, 4]
    # The run stopped there (its last checkpoint is step 2) and resumes to the end.
    assert saturn.Run(tmp_path / "run").summary is None
    assert saturn.Run(tmp_path / "run").checkpoints[-1].endswith("ckpt-2.safetensors")
    after = []
    run = saturn.train("majority", out=tmp_path / "run", resume=True, progress=after.append)
    assert after[0]["step"] == 3 and run.summary["steps"] == 50


def test_ctrl_c_in_progress_still_stops_training(tmp_path):
    """SIGINT while the callback runs: saturn's flag is set, the next step raises."""
    seen = []

    def interrupt_at_3(row):
        seen.append(row["step"])
        if row["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        saturn.train("majority", {"steps": 10**6, "d_model": 8, "train_lengths": "1:6",
                                  "checkpoint_every": 10**5, "eval_every": 10**5},
                     out=tmp_path / "run", progress=interrupt_at_3)
    assert seen == [1, 2, 3]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_leak_over_ten_thousand_calls(hard_run, tmp_path):
    """10^4 rounds of cheap calls grow the resident set by at most 10 MB."""
    model = hard_run.model()
    lang = saturn.Language("majority")
    x = saturn.extract(hard_run.dir, against="majority", max_length=6, method="enumerate",
                       out=tmp_path / "circuit.json")
    circuit = saturn.Circuit.load(x["circuit"])

    def calls(i):
        model.forward(["abba"])
        lang.accepts(["ab", "aab"])
        lang.sample("1:3", 2, negatives="uniform", seed=i)
        circuit.run(["aab"])
        if i % 10 == 0:
            model.forward(["ab"], cache=True)

    for i in range(500):  # warm up: thread-local buffers, allocator arenas, caches
        calls(i)
    before = rss_bytes()
    for i in range(10**4):
        calls(i)
    grown = rss_bytes() - before
    assert grown <= 10 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB"

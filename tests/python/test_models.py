"""saturn.load / Model against `saturn eval --logits` and `saturn inspect --json`."""
import json
import pathlib
import struct

import numpy as np
import pytest

import saturn
from conftest import THREADS, cli_error, read_jsonl


def sample_file(cli, tmp_path, lang, lengths, per_length, negatives):
    path = tmp_path / f"{lang}.jsonl"
    cli("lang", "sample", lang, "--lengths", lengths, "--per-length", per_length,
        "--negatives", negatives, "--seed", 5, "-o", path, *(["--next"] if negatives == "none"
                                                                else []))
    return path, [r["word"] for r in read_jsonl(path)]


@pytest.mark.parametrize("lang,lengths,per_length,negatives", [
    ("majority", "0:20", 4, "mixed"),  # 168 words: three batches of 64, the last one partial
    ("dyck-1", "0:12", 10, "none")])   # next-symbol: a row per prefix
def test_logits_bit_for_bit_eval(cli, runs, tmp_path, lang, lengths, per_length, negatives):
    data, words = sample_file(cli, tmp_path, lang, lengths, per_length, negatives)
    cli("eval", runs[lang], "--data", data, "--logits", tmp_path / "z.json", "--threads", THREADS)
    expected = json.loads((tmp_path / "z.json").read_text())
    assert expected["words"] == words
    model = saturn.load(runs[lang])
    z = model.forward(words)
    assert z.dtype == np.float32 and len(z) == len(words)
    if model.config["objective"] == "recognize":
        assert z.shape == (len(words),)
        assert np.array_equal(z.astype(np.float64), np.array(expected["logits"]))
        return
    k = len(model.language.alphabet)
    assert z.shape == (len(words), max(len(w) for w in words) + 1, k + 1)
    for i, rows in enumerate(expected["logits"]):
        n = len(rows)  # the word's length + 1 prefixes
        assert np.array_equal(z[i, :n].astype(np.float64), np.array(rows))
        assert np.isnan(z[i, n:]).all()


def test_cache_equals_inspect_json(cli, runs):
    words = ["(())()", "()", '""']
    model = saturn.load(runs["dyck-1"])
    z, cache = model.forward(words, cache=True)
    assert np.array_equal(z, model.forward(words), equal_nan=True)
    layers = model.config["n_layers"]
    names = {"hook_embed", "hook_pos_embed", "hook_final"} | {
        f"blocks.{l}.{h}" for l in range(layers) for h in (
            "hook_resid_pre", "attn.hook_attn_scores", "attn.hook_pattern",
            "attn.hook_pattern_saturated", "hook_resid_mid", "mlp.hook_post", "hook_resid_post")}
    assert set(cache) == names
    _, out, _ = cli("inspect", runs["dyck-1"], "--json", "--threads", THREADS, *words)
    for i, line in enumerate(out.splitlines()):
        j = json.loads(line)
        T = len(j["tokens"])
        for l, L in enumerate(j["layers"]):
            b = f"blocks.{l}."
            for hook, key in (("hook_resid_pre", "input"), ("hook_resid_mid", "after_attention"),
                              ("mlp.hook_post", "ffn_hidden"), ("hook_resid_post", "output")):
                assert np.array_equal(cache[b + hook][i, :T], np.array(L[key])), (hook, i)
                assert np.isnan(cache[b + hook][i, T:]).all()
            assert np.array_equal(cache[b + "attn.hook_pattern"][i, :, :T, :T],
                                  np.array(L["attention"]["soft"]))
            assert np.array_equal(cache[b + "attn.hook_pattern_saturated"][i, :, :T, :T],
                                  np.array(L["attention"]["saturated"]))
        assert np.array_equal(cache["hook_final"][i, :T], np.array(j["final"]))
    assert cache["blocks.1.attn.hook_pattern"].shape == (3, 2, 8, 8)


def read_safetensors(path):
    """An independent reader: the 8-byte header length, the JSON header, float32 tensors."""
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    return {name: np.frombuffer(raw[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]],
                                dtype="<f4").reshape(t["shape"]) for name, t in header.items()}


def test_params_are_read_only_views_of_the_checkpoint(runs):
    model = saturn.load(runs["dyck-1"])
    assert model.step == 100 and model.checkpoint.endswith("ckpt-100.safetensors")
    stored = {k: v for k, v in read_safetensors(model.checkpoint).items()
              if not k.startswith("optimizer.")}
    params = model.params
    assert set(params) == set(stored)
    for name, a in params.items():
        assert a.dtype == np.float32 and np.array_equal(a, stored[name]), name
        assert not a.flags.writeable and not a.flags.owndata
    with pytest.raises(ValueError):
        next(iter(params.values()))[...] = 0
    del model  # the arrays keep the model alive
    assert all(np.array_equal(a, stored[name]) for name, a in params.items())


def test_writable_params_change_forward_cache_and_torch_but_not_the_file(runs):
    model = saturn.load(runs["majority"])
    words = ["aab", "abb", "ab", ""]
    before, cache_before = model.forward(words, cache=True)
    params = model.params_writable()
    assert all(a.flags.writeable and not a.flags.owndata for a in params.values())
    params["head.b"][...] += 1.5  # in place: the model's own arena
    params["embed.wte"][...] *= 2
    after, cache = model.forward(words, cache=True)
    assert not np.allclose(after, before, atol=1e-3)
    # The cache (double precision) reads the edited arena as well.
    assert np.allclose(cache["hook_embed"], 2 * cache_before["hook_embed"], equal_nan=True)
    # The read-only views see the edit too (one arena), and a fresh load does not (the file).
    assert np.array_equal(model.params["head.b"], params["head.b"])
    assert np.array_equal(saturn.load(runs["majority"]).forward(words), before)


def test_config_is_the_runs(runs):
    config = saturn.load(runs["majority"]).config
    assert config["d_model"] == 16 and config["n_layers"] == 1 and config["steps"] == 300
    assert config["train_lengths"] == "1:12" and config["objective"] == "recognize"


def test_model_errors_are_the_clis(cli, runs, tmp_path):
    missing = tmp_path / "no-such-run"
    with pytest.raises(saturn.InputError) as e:
        saturn.load(missing)
    assert str(e.value) == cli_error(cli, "eval", missing, "--lengths", "1:2")
    with pytest.raises(saturn.InputError) as e:
        saturn.set_threads(0)
    assert str(e.value) == cli_error(cli, "eval", runs["dyck-1"], "--lengths", "1:2",
                                     "--threads", "0")
    model = saturn.load(runs["dyck-1"])
    with pytest.raises(ValueError) as e:
        model.forward(["()", "(" * 17])
    assert str(e.value) == cli_error(cli, "inspect", runs["dyck-1"], "(" * 17)
    with pytest.raises(ValueError) as e:
        model.forward(["()", "(a)"])
    assert str(e.value) == cli_error(cli, "inspect", runs["dyck-1"], "()", "(a)")

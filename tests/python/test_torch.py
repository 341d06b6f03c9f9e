"""saturn.torch (Model.to_torch, saturn.from_torch) against saturn's own forward pass: a grid of
configurations covering every model knob, each a tiny model trained 3 steps by saturn.train (so
biases and gains are not their initial 0 and 1), its logits compared with the PyTorch module's
on words of lengths 0..10: float32 within 1e-5 (of the largest logit), float64 against saturn's
double-precision pass within 1e-10; hard attention's sets and logits on the words whose scores
are not within 1e-5 of a set boundary; the round trip through a checkpoint; what the module
refuses."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import saturn

torch = pytest.importorskip(
    "torch", reason="PyTorch is absent (Debian's python3-torch, scripts/install-deps.sh "
                    "--interop): Model.to_torch and saturn.from_torch are not tested")
import saturn.torch as st  # noqa: E402

# Tiny models: large enough weights (init_std) that every knob moves the logits and hard
# attention's scores are spread far beyond 1e-5; 3 Adam steps move biases and gains.
BASE = {"d_model": 8, "n_heads": 2, "n_layers": 2, "d_ff": 16, "init_std": 0.5, "lr": 0.01,
        "steps": 3, "batch_size": 8, "eval_every": 3, "checkpoint_every": 3, "eval_per_length": 1,
        "train_lengths": "1:6", "test_lengths": "7:8", "max_length": 12, "seed": 3}
# Every value of every knob nets/ has (one change from the base: pre-LN layernorm, softmax,
# learned positions, BOS readout, relu FFN, biases, a recognizer), and some combinations.
GRID = {
    "base": {},
    "norm=projection": {"norm": "projection"},
    "norm=scale": {"norm": "scale", "norm_eps": 0.1},
    "norm=rms": {"norm": "rms", "norm_eps": 0.1},
    "norm=none": {"norm": "none"},
    "post-layernorm": {"norm_position": "post", "norm_eps": 0.1},
    "post-projection": {"norm_position": "post", "norm": "projection"},
    "post-scale": {"norm_position": "post", "norm": "scale"},
    "post-rms": {"norm_position": "post", "norm": "rms", "norm_affine": False},
    "norm_position=none": {"norm_position": "none"},
    "norm_affine=false": {"norm_affine": False},
    "norm_eps=0": {"norm_eps": 0.0},
    "qk_norm": {"qk_norm": True, "norm_eps": 0.01},
    "qk_norm-no-affine-post": {"qk_norm": True, "norm_affine": False, "norm_position": "post"},
    "qk_norm-norm=none": {"qk_norm": True, "norm": "none"},
    "attention=relu": {"attention": "relu"},
    "attention=relu2-alpha=0.5": {"attention": "relu2", "attention_alpha": 0.5},
    "attention=gelu-alpha=2": {"attention": "gelu", "attention_alpha": 2.0},
    "attention=softplus": {"attention": "softplus"},
    "attention=identity-alpha=-1": {"attention": "identity", "attention_alpha": -1.0},
    "attention=relu6": {"attention": "relu6", "attention_scale": 8.0},
    "attention=sigmoid-causal": {"attention": "sigmoid", "causal": True, "readout": "eos"},
    "attention=sparsemax": {"attention": "sparsemax", "attention_scale": 4.0},
    "sparsemax-causal": {"attention": "sparsemax", "causal": True, "attention_scale": 4.0,
                         "readout": "eos"},
    "attention_scale=3": {"attention_scale": 3.0},
    "scale-schedule": {"attention_scale": 1.0, "attention_scale_end": 5.0,
                       "attention_scale_schedule": "geometric"},
    "attention_margin": {"attention_margin": 0.5},
    "attention_gate": {"attention_gate": True},
    "gate-no-bias": {"attention_gate": True, "bias": False},
    "positional=none": {"positional": "none"},
    "positional=sinusoidal": {"positional": "sinusoidal"},
    "positional=fraction": {"positional": "fraction"},
    "causal": {"causal": True, "readout": "eos"},  # (under causal, BOS sees only itself)
    "bias=false": {"bias": False},
    "readout=eos": {"readout": "eos"},
    "readout=mean": {"readout": "mean", "causal": True},
    "ffn_activation=gelu": {"ffn_activation": "gelu"},
    "n_layers=1-n_heads=4": {"n_layers": 1, "n_heads": 4},
    "next-symbol": {"objective": "next-symbol", "causal": True},
    "next-symbol-post-fraction": {"objective": "next-symbol", "norm_position": "post",
                                  "positional": "fraction", "attention": "relu"},
}
# Average-hard attention under each set rule, at the model's final scale.
HARD = {
    "argmax": {},
    "argmax-positional=none": {"positional": "none"},  # equal keys: exact ties, sets of several
    "tolerance": {"attention_set": "tolerance", "attention_tolerance": 1.0},
    "tolerance-causal-post": {"attention_set": "tolerance", "attention_tolerance": 2.0,
                              "causal": True, "norm_position": "post", "readout": "eos"},
    "uniform": {"attention_set": "uniform"},
    "argmax-scale=3-qk_norm": {"attention_scale": 3.0, "qk_norm": True},
    "next-symbol-tolerance": {"objective": "next-symbol", "causal": True,
                              "attention_set": "tolerance", "attention_tolerance": 0.5},
}
_rng = np.random.default_rng(0)
WORDS = [""] + ["".join(_rng.choice(["a", "b"], size=n)) for n in range(1, 11) for _ in range(4)]


def assert_close(got, want, scale=1e-5, err_msg=""):
    """Equal within `scale` times the largest |logit| (at least 1): float32 rounds each
    implementation's sums differently, and a logit that cancels (-20 + 20.6) keeps the absolute
    error of its terms."""
    bound = scale * max(1.0, float(np.nanmax(np.abs(want)))) if np.size(want) else scale
    np.testing.assert_allclose(got, want, rtol=0, atol=bound, err_msg=err_msg)


def saturn_double_logits(model, words):
    """saturn's forward pass in double precision (the one `saturn inspect` and the activation
    cache use): its final states, read out and through the head here."""
    _, cache = model.forward(words, cache=True)
    final = cache["hook_final"]
    c, p = model.config, {k: v.astype(np.float64) for k, v in model.params.items()}
    _, lengths = model.language.encode(words)
    bias = p.get("head.b", 0.0)
    if c["objective"] == "next-symbol":
        out = final[:, :-1] @ p["head.w"].T + bias
        rows = np.arange(out.shape[1])[None, :] < (lengths - 1)[:, None]  # BOS..last symbol
        return np.where(rows[..., None], out, np.nan)
    rows = np.arange(len(words))
    r = {"bos": lambda: final[:, 0], "eos": lambda: final[rows, lengths - 1],
         "mean": lambda: np.stack([final[i, :n].mean(0) for i, n in enumerate(lengths)])}
    return (r[c["readout"]]() @ p["head.w"].T + bias)[:, 0]


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A model of majority trained by saturn.train with BASE and the overrides (once each)."""
    base = tmp_path_factory.mktemp("torch")
    memo = {}
    saturn.set_threads(2)

    def get(overrides):
        key = repr(sorted(overrides.items()))
        if key not in memo:
            out = base / f"run{len(memo)}"
            memo[key] = saturn.train("majority", {**BASE, **overrides}, out=out).model()
        return memo[key]
    return get


def torch_logits(module, words):
    with torch.no_grad():
        return module(words).numpy()


@pytest.mark.parametrize("overrides", GRID.values(), ids=GRID.keys())
def test_to_torch_logits_equal_saturns(trained, overrides):
    model = trained(overrides)
    module = model.to_torch()
    assert module.dtype == torch.float32
    assert all(module.config[k] == v for k, v in overrides.items() if k in st.FORWARD_KEYS
               and k != "attention_scale")
    want = model.forward(WORDS)
    got = torch_logits(module, WORDS)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.isnan(got).sum() == np.isnan(want).sum()  # next-symbol: past a word's end only
    assert_close(got, want)
    # In double precision both are exact up to rounding (measured: 1e-14 and below).
    got64 = torch_logits(model.to_torch(dtype=torch.float64), WORDS)
    assert_close(got64, saturn_double_logits(model, WORDS), 1e-10)


@pytest.mark.parametrize("name", ["base", "norm_eps=0", "attention=sparsemax", "qk_norm-norm=none",
                                  "next-symbol-post-fraction"])
def test_the_module_trains(trained, name):
    """Every parameter gets a finite gradient, not all zero (hard attention: straight-through)."""
    module = trained(GRID[name]).to_torch()
    tokens, lengths = module.language.encode(WORDS)
    module(torch.from_numpy(tokens), torch.from_numpy(lengths)).sum().backward()
    for p_name, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), p_name
    assert sum(float(p.grad.abs().sum()) for p in module.parameters()) > 0


def test_hard_attention_trains_straight_through(trained):
    module = trained({"attention": "hard"}).to_torch()
    tokens, lengths = module.language.encode(WORDS)
    module(torch.from_numpy(tokens), torch.from_numpy(lengths)).sum().backward()
    assert float(module.layers[0].attn.wqkv.grad[:8].abs().sum()) > 0  # queries: softmax's


def test_the_final_attention_scale_is_the_checkpoints(trained):
    model = trained(GRID["scale-schedule"])
    # Geometric from 1 to 5 over 3 steps: the checkpoint at step 3 has scale 5.
    assert model.step == 3 and model.config["attention_scale"] == 5.0
    assert model.to_torch().config["attention_scale"] == 5.0


# A knob the module got wrong is caught: the logits of the same parameters under a changed knob
# differ from saturn's by far more than the tolerance.
WRONG = [("base", "norm_eps", 0.1), ("norm=scale", "norm", "rms"),
         ("post-layernorm", "norm_eps", 1e-5),
         ("attention=relu2-alpha=0.5", "attention_alpha", 0.6),
         ("attention_scale=3", "attention_scale", 3.5), ("causal", "causal", False),
         ("readout=mean", "readout", "eos"), ("positional=sinusoidal", "positional", "none"),
         ("attention=sparsemax", "attention", "softmax"), ("qk_norm", "norm_eps", 0.1)]


@pytest.mark.parametrize("grid,key,value", WRONG, ids=[f"{g}:{k}={v}" for g, k, v in WRONG])
def test_a_wrong_knob_is_caught(trained, grid, key, value):
    model = trained(GRID[grid])
    module = model.to_torch()
    changed = {**module.config, key: value}
    if key == "attention_scale":
        changed["attention_scale_end"] = value  # a constant scale
    wrong = st.Transformer(changed, module.language)
    wrong.load_state_dict(module.state_dict())
    with pytest.raises(AssertionError):
        assert_close(torch_logits(wrong, WORDS), model.forward(WORDS))


def hard_set(scores, tolerance):
    """nets/attention.cpp's set of one row (visible keys' scaled scores), in float64."""
    if math.isinf(tolerance):
        return np.ones(len(scores), bool)
    largest = np.abs(scores).max()
    if largest > 0:
        _, e = np.frexp(largest)
        quantum = np.ldexp(1.0, int(e) - st.TIE_BITS)
        scores = np.round(scores / quantum) * quantum
    return scores >= scores.max() - tolerance


def near_boundary(scores, tolerance, eps=1e-5):
    """Whether moving a row's scores by eps could change its set: some key (keys of equal score
    moved together) leaves or joins it when pushed eps out and the others eps the other way, or
    the largest |score| is within eps of a power of two (the tie grid changes there)."""
    if math.isinf(tolerance):
        return False
    base = hard_set(scores, tolerance)
    for value in np.unique(scores):
        group = scores == value
        inside = base[group][0]
        push = eps if inside else -eps
        if hard_set(np.where(group, scores - push, scores + push), tolerance)[group][0] != inside:
            return True
    largest = np.abs(scores).max()
    return largest > 0 and abs(largest - 2.0 ** np.round(np.log2(largest))) < eps


@pytest.mark.parametrize("overrides", HARD.values(), ids=HARD.keys())
def test_hard_attention_sets_and_logits_equal_saturns(trained, overrides):
    model = trained({"attention": "hard", **overrides})
    c = model.config
    tolerance = {"argmax": 0.0, "tolerance": c["attention_tolerance"],
                 "uniform": math.inf}[c["attention_set"]]
    tokens, lengths = model.language.encode(WORDS)
    module64 = model.to_torch(dtype=torch.float64)
    with torch.no_grad():
        _, cache = module64(tokens, lengths, cache=True)
    got64, want64 = torch_logits(module64, WORDS), saturn_double_logits(model, WORDS)
    got = torch_logits(model.to_torch(), WORDS)
    want, saturn_cache = model.forward(WORDS, cache=True)
    checked = several = 0
    for i, word in enumerate(WORDS):
        n = int(lengths[i])
        rows = [(l, h, q) for l in range(c["n_layers"]) for h in range(c["n_heads"])
                for q in range(n)]
        scores = [cache[f"blocks.{l}.attn.hook_attn_scores"][i, h, q, :n].numpy()
                  for l, h, q in rows]
        if any(near_boundary(s[np.isfinite(s)], tolerance) for s in scores):
            continue
        for l in range(c["n_layers"]):
            ours = cache[f"blocks.{l}.attn.hook_pattern"][i, :, :n, :n].numpy() > 0
            theirs = saturn_cache[f"blocks.{l}.attn.hook_pattern"][i, :, :n, :n] > 0
            assert np.array_equal(ours, theirs), (word, l)
            several += int((ours.sum(-1) > 1).sum())
        assert_close(got[i], want[i], err_msg=repr(word))
        assert_close(got64[i], want64[i], 1e-10, err_msg=repr(word))
        checked += 1
    assert checked >= 0.8 * len(WORDS), f"only {checked} of {len(WORDS)} words off the boundaries"
    if c["attention_set"] != "argmax" or c["positional"] == "none":
        assert several > 0  # sets of more than one key were compared


def test_near_boundary_finds_scores_near_a_set_boundary():
    assert near_boundary(np.array([0.9, 0.9 - 3e-6, 0.2]), 0.0)  # a near tie
    assert not near_boundary(np.array([0.9, 0.9, 0.2]), 0.0)  # an exact tie (equal keys)
    assert not near_boundary(np.array([0.9, 0.8, 0.2]), 0.0)
    assert near_boundary(np.array([0.9, 0.400004, 0.2]), 0.5)  # at max - tolerance
    assert not near_boundary(np.array([0.9, 0.6, 0.2]), 0.5)
    assert near_boundary(np.array([0.5 - 2e-6, 0.1]), 0.0)  # the tie grid changes at 0.5
    assert not near_boundary(np.array([0.9, 0.9 - 3e-6]), math.inf)


@pytest.mark.parametrize("gap,logit", [(1e-6, 0.0), (1e-3, 5.0)])
def test_hard_attention_ties_within_the_tie_precision(tmp_path, gap, logit):
    """A hand-set one-layer model whose BOS query scores keys 1 and 2 (values +5 and -5) gap
    apart: within 16 bits of the largest score they tie (average 0), beyond they do not (5)."""
    module = st.Transformer({"d_model": 2, "n_heads": 1, "n_layers": 1, "d_ff": 1,
                             "norm_position": "none", "attention": "hard", "max_length": 4},
                            "majority")
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        attn = module.layers[0].attn
        attn.bqkv[0] = 1  # q = (1, 0) everywhere
        attn.wqkv[2:4] = torch.eye(2)  # k = x
        attn.wqkv[5, 1] = 1  # v = (0, x_1)
        attn.wo.copy_(torch.eye(2))
        module.embed.wpe[:3] = torch.tensor([[0.5, 0], [1, 5], [1 - gap, -5]])
        module.head.w[0, 1] = 1  # the logit: the attention output's second coordinate
    model = saturn.from_torch(module, tmp_path / "ties.safetensors")
    assert model.forward(["ab"])[0] == pytest.approx(logit, abs=1e-6)
    assert torch_logits(module, ["ab"])[0] == pytest.approx(logit, abs=1e-6)


ROUND_TRIP = {"gate-qk-fraction": {"attention_gate": True, "qk_norm": True,
                                   "positional": "fraction"},
              "schedule-next-symbol": {"attention_scale_end": 2.0,
                                       "attention_scale_schedule": "linear",
                                       "objective": "next-symbol", "bias": False}}


@pytest.mark.parametrize("overrides", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_round_trip_is_bit_identical(trained, tmp_path, overrides):
    model = trained(overrides)
    module = model.to_torch()
    back = saturn.from_torch(module, tmp_path / "back.safetensors")
    assert list(back.params) == list(model.params)
    for name, a in model.params.items():
        assert back.params[name].dtype == a.dtype and np.array_equal(back.params[name], a), name
    assert back.config == model.config and back.step == model.step == 3
    assert back._h.start_attention_scale == model._h.start_attention_scale
    np.testing.assert_array_equal(back.forward(WORDS), model.forward(WORDS))
    np.testing.assert_array_equal(torch_logits(back.to_torch(), WORDS), torch_logits(module, WORDS))


def test_from_torch_writes_the_modules_parameters(trained, tmp_path):
    model = trained({"attention_gate": True, "readout": "mean"})
    module = model.to_torch(dtype=torch.float64)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))  # gains and biases too
            p.copy_(p.float())  # float32 values: the checkpoint holds them exactly
    back = saturn.from_torch(module, tmp_path / "changed.safetensors", step=7)
    assert back.step == 7
    assert_close(back.forward(WORDS), torch_logits(module, WORDS))
    assert_close(saturn_double_logits(back, WORDS), torch_logits(module, WORDS), 1e-10)
    with pytest.raises(AssertionError):
        assert_close(back.forward(WORDS), model.forward(WORDS))


def test_a_fresh_module_is_a_saturn_model(tmp_path):
    torch.manual_seed(1)
    module = st.Transformer({"d_model": 8, "n_heads": 2, "positional": "sinusoidal",
                             "init_std": 0.3, "attention": "hard"}, "dyck-1")
    assert module.config["n_layers"] == 2  # saturn's default
    assert set(module.state_dict()) >= {"embed.wte", "layers.1.ffn.w2", "lnf.g", "head.w"}
    model = saturn.from_torch(module, tmp_path / "fresh.safetensors", language="dyck-1",
                              alphabet=["(", ")"])
    assert model.language.name == "dyck-1" and model.step == 0
    words = ["", "()", "(())", "()()("]
    assert_close(torch_logits(module, words), model.forward(words))


def test_a_module_copies_and_saves(trained, tmp_path):
    """copy.deepcopy and torch.save take the module whole: its Language pickles (by its spec, or
    a built-in by name)."""
    import copy
    module = trained({}).to_torch()
    twin = copy.deepcopy(module)
    assert twin.language.name == "majority" and twin is not module
    np.testing.assert_array_equal(torch_logits(twin, WORDS), torch_logits(module, WORDS))
    torch.save(module, tmp_path / "module.pt")
    loaded = torch.load(tmp_path / "module.pt")
    np.testing.assert_array_equal(torch_logits(loaded, WORDS), torch_logits(module, WORDS))
    spec = saturn.Language.from_spec('name = "ends-b"\nalphabet = ["a", "b"]\n[accept]\n'
                                     'regex = "(a|b)*b"\n')
    again = copy.deepcopy(spec)
    assert again.spec_text == spec.spec_text and again.accepts(["ab", "ba"]) == [True, False]


def test_every_model_key_is_covered():
    assert set(saturn._saturn.model_keys()) == set(st.FORWARD_KEYS) | set(st.TRAINING_ONLY_KEYS)


@pytest.mark.parametrize("config,message", [
    ({"attention_temperature": 2}, "saturn.torch: unknown key 'attention_temperature'"),
    ({"attention": "softmax2"}, "saturn.torch: attention = 'softmax2' is not covered"),
    ({"objective": "label"}, "saturn.torch: objective = 'label' is not covered"),
    ({"d_model": 10, "n_heads": 3}, "d_model (10) must be divisible by n_heads (3)"),
    ({"norm_eps": 2.0}, "norm_eps: must be in [0, 1] (got 2"),
])
def test_a_configuration_it_cannot_build_is_refused(config, message):
    with pytest.raises(saturn.InputError) as e:
        st.Transformer(config, "majority")
    assert message in str(e.value)


def test_what_from_torch_refuses(trained, tmp_path):
    module = trained({}).to_torch()
    with pytest.raises(saturn.InputError, match="dyck-1's alphabet \\(\\( \\)\\) is not the "
                                                "module's \\(a b\\)"):
        saturn.from_torch(module, tmp_path / "x.safetensors", language="dyck-1")
    with pytest.raises(saturn.InputError, match="alphabet \\(b a\\) is not the module's"):
        saturn.from_torch(module, tmp_path / "x.safetensors", alphabet=["b", "a"])
    with torch.no_grad():
        module.head.w[0, 0] = math.nan
    with pytest.raises(saturn.InputError, match="parameter 'head.w' is not finite"):
        saturn.from_torch(module, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    with pytest.raises(saturn.InputError, match="longer than the model's max_length \\(12\\)"):
        module(["a" * 13])


def test_import_saturn_needs_no_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import saturn\n"
            "try:\n    saturn.from_torch(None, 'x')\n"
            "except ImportError as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert "needs PyTorch (Debian's python3-torch" in p.stdout

"""saturn's transformer as a pure-PyTorch ``nn.Module`` (``Model.to_torch()``), and back
(``saturn.from_torch``). The forward pass is nets/'s (nets/model.h), written again in torch for
every model knob: a module's logits equal saturn's within float rounding. A knob value this file
does not know is refused, never approximated. Imported only when used: ``import saturn`` does not
need torch."""
import math

import torch
import torch.nn.functional as F

from . import _saturn
from . import InputError, Language

# The model keys (nets/config.cpp's model_keys()) the forward pass reads, and those it does not
# need: they shape training only (the initialisation, the scale schedule, the margin penalty),
# or, as max_length, only the position table's size. A key in neither is refused (a knob added
# to nets/ later must be added here before a module can be built).
FORWARD_KEYS = ("d_model", "n_heads", "n_layers", "d_ff", "ffn_activation", "norm_position",
                "norm", "norm_affine", "norm_eps", "attention", "attention_alpha", "qk_norm",
                "attention_gate", "positional", "causal", "bias", "readout", "objective",
                "max_length", "attention_scale", "attention_set", "attention_tolerance")
TRAINING_ONLY_KEYS = ("init_std", "seed", "attention_scale_end", "attention_scale_schedule",
                      "attention_margin", "attention_margin_gap")

NORMS = ("layernorm", "projection", "scale", "rms", "none")
NORM_POSITIONS = ("pre", "post", "none")
POINTWISE = ("relu", "relu2", "gelu", "softplus", "identity", "relu6", "sigmoid")
ATTENTIONS = ("softmax",) + POINTWISE + ("sparsemax", "hard")
ATTENTION_SETS = ("argmax", "tolerance", "uniform")
POSITIONALS = ("none", "sinusoidal", "learned", "fraction")
READOUTS = ("bos", "eos", "mean")
OBJECTIVES = ("recognize", "next-symbol")
FFN_ACTIVATIONS = ("relu", "gelu")
TIE_BITS = 16  # nets/attention.h: AttentionSpec::tie_bits, hard attention's tie precision


def _choice(config, key, allowed):
    value = config[key]
    if value not in allowed:
        raise InputError(f"saturn.torch: {key} = {value!r} is not covered "
                         f"(expected one of {', '.join(allowed)})")
    return value


def _checked_config(config):
    """The configuration with every model key present and known; training keys pass through."""
    defaults = _default_config()
    if "attention_scale_end" not in config and "attention_scale" in config:
        config["attention_scale_end"] = config["attention_scale"]  # a constant scale
    training = set(_saturn.training_keys())
    for key in config:
        if key not in defaults and key not in training:
            raise InputError(f"saturn.torch: unknown key '{key}' (not a model or training key)")
    merged = dict(defaults)
    merged.update(config)
    for key in _saturn.model_keys():
        if key not in FORWARD_KEYS and key not in TRAINING_ONLY_KEYS:
            raise InputError(f"saturn.torch: the model key '{key}' is not covered")
    for key, allowed in (("norm", NORMS), ("norm_position", NORM_POSITIONS),
                         ("attention", ATTENTIONS), ("attention_set", ATTENTION_SETS),
                         ("positional", POSITIONALS), ("readout", READOUTS),
                         ("objective", OBJECTIVES), ("ffn_activation", FFN_ACTIVATIONS)):
        _choice(merged, key, allowed)
    # nets/'s own checks (divisibility, ranges, keys without effect), with its messages.
    _saturn.check_config(_config_toml(merged))
    return merged


def _default_config():
    import tomllib
    return tomllib.loads(_saturn.default_config_toml())


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _config_toml(config):
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in config.items())


class _Params(torch.nn.Module):
    """A group of named parameters (a checkpoint name's path: embed, layers.0.attn, ...)."""


class Transformer(torch.nn.Module):
    """saturn's transformer encoder (nets/model.h) in PyTorch, for one configuration and
    alphabet. Its ``state_dict()`` names are the checkpoint's (``embed.wte``,
    ``layers.0.attn.wqkv``, ``head.w``, ...), with the same shapes.

    ``Transformer(config, language, dtype=torch.float32)``: ``config`` a dict of model keys
    (missing keys take saturn's defaults; training keys are kept, unused), ``language`` a
    :class:`saturn.Language` or its name; the parameters are initialised as saturn does
    (normal(0, init_std) weights, zero biases, unit gains) from torch's generator.
    ``Model.to_torch()`` builds one with a checkpoint's parameters instead."""

    def __init__(self, config, language, dtype=torch.float32):
        super().__init__()
        if not isinstance(language, Language):
            language = Language(language)
        if dtype not in (torch.float32, torch.float64):
            raise InputError(f"saturn.torch: dtype must be torch.float32 or torch.float64 "
                             f"(got {dtype})")
        self.config = _checked_config(dict(config))
        self.language = language
        self.alphabet = language.alphabet
        self.step = 0
        self._start_attention_scale = None  # a schedule's start, from a checkpoint
        c = self.config
        k, C, Fd = len(self.alphabet), c["d_model"], c["d_ff"]
        dh = C // c["n_heads"]
        outputs = 1 if c["objective"] == "recognize" else k + 1
        self.has_norm_layers = c["norm_position"] != "none" and c["norm"] != "none"
        affine = self.has_norm_layers and c["norm_affine"]
        bias = c["bias"]

        def group(**shapes):
            g = _Params()
            for name, shape in shapes.items():
                if shape is not None:
                    g.register_parameter(name, torch.nn.Parameter(torch.empty(shape, dtype=dtype)))
            return g

        # Registered in the checkpoint's tensor order (nets/parameters.cpp, ParameterLayout).
        self.embed = group(wte=(k + 2, C),
                           wpe=(c["max_length"] + 2, C) if c["positional"] == "learned" else None,
                           wfrac=(C,) if c["positional"] == "fraction" else None)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["n_layers"]):
            layer = torch.nn.Module()
            if affine:
                layer.ln1 = group(g=(C,), b=(C,))
            layer.attn = group(wqkv=(3 * C, C), bqkv=(3 * C,) if bias else None)
            if c["qk_norm"] and c["norm_affine"]:
                layer.attn.q_ln = group(g=(dh,), b=(dh,))
                layer.attn.k_ln = group(g=(dh,), b=(dh,))
            if c["attention_gate"]:
                layer.attn.wgate = torch.nn.Parameter(torch.empty(C, C, dtype=dtype))
                if bias:
                    layer.attn.bgate = torch.nn.Parameter(torch.empty(C, dtype=dtype))
            layer.attn.wo = torch.nn.Parameter(torch.empty(C, C, dtype=dtype))
            if bias:
                layer.attn.bo = torch.nn.Parameter(torch.empty(C, dtype=dtype))
            if affine:
                layer.ln2 = group(g=(C,), b=(C,))
            layer.ffn = group(w1=(Fd, C), b1=(Fd,) if bias else None, w2=(C, Fd),
                              b2=(C,) if bias else None)
            self.layers.append(layer)
        if c["norm_position"] == "pre" and affine:
            self.lnf = group(g=(C,), b=(C,))
        self.head = group(w=(outputs, C), b=(outputs,) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """saturn's initialisation (Transformer::init): gains 1, biases 0, the rest normal(0,
        init_std), from torch's generator."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith(".g"):
                    p.fill_(1)
                elif p.dim() == 1 and name != "embed.wfrac":
                    p.zero_()
                else:
                    p.normal_(0, self.config["init_std"])

    @property
    def dtype(self):
        return self.embed.wte.dtype

    def extra_repr(self):
        c = self.config
        return (f"language={self.language.name!r}, d_model={c['d_model']}, n_heads={c['n_heads']}, "
                f"n_layers={c['n_layers']}, attention={c['attention']!r}, "
                f"objective={c['objective']!r}")

    # ---- the forward pass (nets/model.cpp, Transformer::forward) ----

    def _norm(self, x, group, kind=None):
        """nets/norm.h: y = (x - m) r, m the mean (centred kinds), r = 1/sqrt(|x - m|^2/C + eps
        term) (scaled kinds; 0 where that is 0), then gain * y + bias when affine."""
        kind = kind or self.config["norm"]
        C = x.shape[-1]
        eps = self.config["norm_eps"]
        if kind in ("layernorm", "projection"):
            x = x - x.mean(-1, keepdim=True)
        if kind in ("layernorm", "scale", "rms"):
            q = (x * x).sum(-1, keepdim=True) / C + (eps / C if kind == "scale" else eps)
            positive = q > 0
            r = torch.where(positive, torch.rsqrt(torch.where(positive, q, torch.ones_like(q))),
                            torch.zeros_like(q))
            x = x * r
        if group is not None:
            x = x * group.g + group.b
        return x

    def _embed(self, tokens, lengths):
        c = self.config
        B, T = tokens.shape
        C = c["d_model"]
        t = torch.arange(T, device=tokens.device)
        valid = t[None, :] < lengths[:, None]  # (B, T)
        x = self.embed.wte[tokens]
        if c["positional"] == "learned":
            x = x + self.embed.wpe[:T][None]
        elif c["positional"] == "fraction":
            x = x + self.embed.wfrac * t[None, :, None].to(self.dtype) / \
                lengths[:, None, None].to(self.dtype)
        elif c["positional"] == "sinusoidal":
            ch = torch.arange(C, device=tokens.device)
            freq = torch.pow(torch.tensor(10000.0, dtype=self.dtype),
                             -(2 * (ch // 2)).to(self.dtype) / C)
            angle = t[:, None].to(self.dtype) * freq[None, :]
            pe = torch.where(ch[None, :] % 2 == 0, torch.sin(angle), torch.cos(angle))
            x = x + pe[None]
        return x * valid[..., None]

    def _weights(self, s, visible, n_visible):
        """Attention weights from scaled scores s (B, H, T, T) over the visible keys."""
        c = self.config
        kind = c["attention"]
        if kind == "softmax":
            return s.masked_fill(~visible, float("-inf")).softmax(-1).masked_fill(~visible, 0)
        if kind == "sparsemax":
            return _sparsemax(s, visible, n_visible)
        if kind == "hard":
            hard = _average_hard(s, visible, self._set_tolerance())
            # Straight-through (nets/attention.h): the value is the hard weights', the gradient
            # softmax's at the same scale.
            soft = s.masked_fill(~visible, float("-inf")).softmax(-1).masked_fill(~visible, 0)
            return hard + (soft - soft.detach())
        length_scale = torch.pow(n_visible.to(s.dtype), -torch.tensor(c["attention_alpha"],
                                                                       dtype=s.dtype))
        return torch.where(visible, _activate(kind, s) * length_scale, torch.zeros_like(s))

    def _set_tolerance(self):
        c = self.config
        return {"argmax": 0.0, "tolerance": c["attention_tolerance"],
                "uniform": math.inf}[c["attention_set"]]

    def _layer(self, layer, x, valid, visible, n_visible, cache, prefix):
        c = self.config
        B, T, C = x.shape
        H = c["n_heads"]
        dh = C // H
        norms = self.has_norm_layers
        pre, post = norms and c["norm_position"] == "pre", norms and c["norm_position"] == "post"
        ln1, ln2 = getattr(layer, "ln1", None), getattr(layer, "ln2", None)
        a_in = self._norm(x, ln1) if pre else x
        attn = layer.attn
        qkv = F.linear(a_in, attn.wqkv, getattr(attn, "bqkv", None))
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, H, dh).transpose(1, 2)
                   for i in range(3))
        if c["qk_norm"]:  # LayerNorm over each head's query and key (Wortsman et al. 2023)
            q = self._norm(q, getattr(attn, "q_ln", None), "layernorm")
            k = self._norm(k, getattr(attn, "k_ln", None), "layernorm")
        factor = torch.tensor(c["attention_scale"], dtype=x.dtype) / \
            torch.sqrt(torch.tensor(float(dh), dtype=x.dtype))
        s = factor * (q @ k.transpose(-1, -2))  # (B, H, T, T): queries, keys
        a = self._weights(s, visible, n_visible) * valid[:, None, :, None]
        if cache is not None:
            cache[prefix + "attn.hook_attn_scores"] = s.masked_fill(~visible, float("-inf"))
            cache[prefix + "attn.hook_pattern"] = a
        ao = (a @ v).transpose(1, 2).reshape(B, T, C)
        if c["attention_gate"]:  # a multiplicative gate from the attention's input
            ao = ao * F.linear(a_in, attn.wgate, getattr(attn, "bgate", None))
        s1 = x + F.linear(ao, attn.wo, getattr(attn, "bo", None))
        mid = self._norm(s1, ln1) if post else s1
        f_in = self._norm(mid, ln2) if pre else mid
        ffn = layer.ffn
        hidden = F.linear(f_in, ffn.w1, getattr(ffn, "b1", None))
        hidden = F.relu(hidden) if c["ffn_activation"] == "relu" else F.gelu(hidden)
        s2 = mid + F.linear(hidden, ffn.w2, getattr(ffn, "b2", None))
        return self._norm(s2, ln2) if post else s2

    def forward(self, tokens, lengths=None, cache=False):
        """The model's outputs, as ``saturn.Model.forward`` gives them.

        ``tokens`` (N, T) int64 token ids as ``Language.encode`` makes them (BOS k, the symbols,
        EOS k + 1, padding), with ``lengths`` (N) counting BOS and EOS: recognizers give (N)
        logits (> 0 accepts); next-symbol models (N, T, k + 1), row t scoring the prefix of t
        symbols (rows from a word's length + 1 on are padding). Or ``tokens`` a list of words
        (strings, spelled as on the command line): the same, laid out as
        ``saturn.Model.forward`` lays them out (next-symbol: (N, longest + 1, k + 1), NaN past a
        word's end).

        With ``cache=True``: ``(logits, cache)``, the cache holding each layer's scaled scores
        ``blocks.{l}.attn.hook_attn_scores`` (-inf where a query cannot see a key) and weights
        ``blocks.{l}.attn.hook_pattern`` (N, n_heads, T, T)."""
        words = None
        if isinstance(tokens, str):
            raise TypeError("words: expected a list of words, not one string (write [word])")
        if isinstance(tokens, (list, tuple)) and all(isinstance(w, str) for w in tokens):
            words = list(tokens)
            tokens, lengths = (torch.from_numpy(a) for a in self.language.encode(words))
        if lengths is None:
            raise InputError("saturn.torch: forward needs the lengths of the token rows")
        tokens = torch.as_tensor(tokens, dtype=torch.int64)
        lengths = torch.as_tensor(lengths, dtype=torch.int64)
        c = self.config
        B, T = tokens.shape
        if T - 2 > c["max_length"]:
            raise InputError(f"a word of length {T - 2} is longer than the model's max_length "
                             f"({c['max_length']})")
        pos = torch.arange(T)
        valid = pos[None, :] < lengths[:, None]  # (B, T)
        visible = valid[:, None, None, :]  # (B, 1, 1, T): keys of the word
        if c["causal"]:
            visible = visible & (pos[None, None, None, :] <= pos[None, None, :, None])
        n_visible = visible.sum(-1, keepdim=True)  # (B, 1, T, 1)
        store = {} if cache else None
        x = self._embed(tokens, lengths)
        for l, layer in enumerate(self.layers):
            x = self._layer(layer, x, valid, visible, n_visible, store, f"blocks.{l}.")
        if c["norm_position"] == "pre" and self.has_norm_layers:
            x = self._norm(x, getattr(self, "lnf", None))
        head = self.head
        if c["objective"] == "next-symbol":
            out = F.linear(x, head.w, getattr(head, "b", None))
            if words is not None:  # saturn.Model.forward's layout: NaN past a word's end
                rows = pos[None, :T - 1] < (lengths[:, None] - 1)
                out = torch.where(rows[..., None], out[:, :T - 1],
                                  torch.full_like(out[:, :T - 1], math.nan))
        else:
            if c["readout"] == "mean":
                r = (x * valid[..., None]).sum(1) / lengths[:, None].to(x.dtype)
            else:
                at = torch.zeros_like(lengths) if c["readout"] == "bos" else lengths - 1
                r = x[torch.arange(B), at]
            out = F.linear(r, head.w, getattr(head, "b", None))[:, 0]
        return (out, store) if cache else out


def _activate(kind, x):
    """nets/activation.h's pointwise activations."""
    if kind == "relu":
        return F.relu(x)
    if kind == "relu2":
        return F.relu(x) ** 2
    if kind == "gelu":
        return F.gelu(x)  # exact (erf)
    if kind == "softplus":
        return torch.where(x > 20, x, torch.log1p(torch.exp(torch.clamp(x, max=20))))
    if kind == "identity":
        return x
    if kind == "relu6":
        return torch.clamp(x, 0, 6)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    raise InputError(f"saturn.torch: attention = {kind!r} is not covered")


def _sparsemax(s, visible, n_visible):
    """Martins & Astudillo (2016) over each row's visible keys (nets/attention.h)."""
    z = torch.where(visible, s, torch.zeros_like(s))
    order = torch.where(visible, s, torch.full_like(s, -math.inf)).argsort(-1, descending=True)
    sorted_z = z.gather(-1, order)
    cumulative = sorted_z.cumsum(-1)
    ks = torch.arange(1, s.shape[-1] + 1, dtype=s.dtype)
    in_row = ks <= n_visible.to(s.dtype)
    support = ((1 + ks * sorted_z > cumulative) & in_row).to(s.dtype)
    size = (support * ks).amax(-1, keepdim=True).clamp(min=1)  # the largest such k
    tau = (cumulative.gather(-1, size.long() - 1) - 1) / size
    return torch.where(visible, torch.clamp(z - tau, min=0), torch.zeros_like(s))


def _average_hard(s, visible, tolerance):
    """Average-hard attention (nets/attention.cpp, hard_attention_row): each row's visible
    scores rounded to TIE_BITS significant bits relative to its largest |score|; weight
    1/|set| on the set of keys within `tolerance` of the rounded maximum (every visible key when
    it is infinite)."""
    if math.isinf(tolerance):
        win = visible.expand_as(s)
    else:
        masked = torch.where(visible, s, torch.zeros_like(s))
        largest = masked.abs().amax(-1, keepdim=True)
        _, e = torch.frexp(largest)  # largest < 2^e
        quantum = torch.ldexp(torch.ones_like(largest), e - TIE_BITS)
        round_it = (largest > 0) & torch.isfinite(largest)
        rounded = torch.where(round_it, torch.round(masked / quantum) * quantum, masked)
        top = rounded.masked_fill(~visible, -math.inf).amax(-1, keepdim=True)
        floor = top - torch.tensor(tolerance, dtype=s.dtype)
        win = visible & (rounded >= floor)
    win = win.to(s.dtype)
    return win / win.sum(-1, keepdim=True).clamp(min=1)


def to_torch(model, dtype=None):
    """A :class:`Transformer` with a saturn.Model's configuration, language and parameters (the
    checkpoint's float32 values; with dtype=torch.float64, the same values widened)."""
    config = model.config
    module = Transformer(config, model.language, dtype=torch.float32 if dtype is None else dtype)
    params = model.params
    names = [name for name, _ in module.named_parameters()]
    if sorted(names) != sorted(params):
        raise InputError(f"saturn.torch: the checkpoint's tensors ({', '.join(params)}) are "
                         f"not the module's ({', '.join(names)})")
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.from_numpy(params[name].copy()))
    module.step = model.step
    module._start_attention_scale = model._h.start_attention_scale
    return module


def from_torch(module, out, language=None, alphabet=None, step=None):
    """Writes a :class:`Transformer`'s parameters as a saturn checkpoint at ``out`` (atomically,
    by the writer ``saturn train`` uses) and returns it loaded, a ``saturn.Model``."""
    import numpy as np
    if not isinstance(module, Transformer):
        raise InputError(f"from_torch: expected a saturn.torch.Transformer (Model.to_torch()), "
                         f"got {type(module).__name__}")
    if language is None:
        language = module.language
    elif not isinstance(language, Language):
        language = Language(language)
    if language.alphabet != module.alphabet:
        raise InputError(f"from_torch: {language.name}'s alphabet ({' '.join(language.alphabet)}) "
                         f"is not the module's ({' '.join(module.alphabet)})")
    if alphabet is not None and list(alphabet) != module.alphabet:
        raise InputError(f"from_torch: alphabet ({' '.join(alphabet)}) is not the module's "
                         f"({' '.join(module.alphabet)})")
    params = {}
    for name, p in module.named_parameters():
        a = p.detach().to("cpu").numpy()
        if not np.isfinite(a).all():
            raise InputError(f"from_torch: parameter '{name}' is not finite")
        params[name] = np.ascontiguousarray(a, dtype=np.float32)
    start = module._start_attention_scale
    _saturn.save_checkpoint(str(out), _config_toml(module.config), language._h,
                            int(module.step if step is None else step), start, params)
    from . import load
    return load(out)

"""saturn from Python: languages, trained models, extraction and verification, in-process.

The package calls saturn's C++ libraries (the module ``saturn._saturn``), not the command line:
each function does what the CLI command of the same name does and returns what its ``--json``
prints, as Python objects. Bad input raises :class:`InputError` (a ``ValueError``) whose message
is the line the CLI prints after ``saturn: ``. The manual is docs/python.md.
"""

import json as _json
import os as _os
import warnings as _warnings

# OpenMP's idle threads spin by default and take the core a partner needs on a busy machine; the
# saturn binary starts with GOMP_SPINCOUNT=1000 unless the user chose a policy (README, "Threads
# on a shared machine"). libgomp reads it when it is loaded, that is when _saturn is imported.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "1000"

from . import _saturn  # noqa: E402

__version__ = _saturn.__version__
__all__ = [
    "__version__", "InputError", "LimitError", "Language", "Model", "Run", "Circuit", "languages", "load",
    "train", "extract", "verify", "keys", "set_threads", "threads", "set_memory_limit",
    "from_torch",
    "sweep", "sweep_results", "grid_toml", "theory", "theory_suites", "flare",
]

InputError = _saturn.InputError  # bad input: a ValueError with the CLI's message
LimitError = _saturn.LimitError  # a limit of the exact algorithms or the memory budget
InputError.__module__ = LimitError.__module__ = "saturn"

if _os.environ.get("SATURN_THREADS"):
    _saturn.set_threads_from_env(_os.environ["SATURN_THREADS"])


def set_threads(n):
    """Threads each computation uses (the CLI's ``--threads``; default: SATURN_THREADS, else
    every core). Logits are bit-for-bit the CLI's at the same thread count."""
    _saturn.set_threads(int(n))


def threads():
    """The thread count computations use now."""
    return _saturn.threads()


def set_memory_limit(size):
    """The memory budget sizes are checked against, e.g. ``"8G"`` (the CLI's --memory-limit)."""
    _saturn.set_memory_limit(str(size))


def _lengths(lengths):
    """``"A:B"``, ``"A"``, an int, a ``(A, B)`` pair or a ``range`` (its first and last)."""
    if isinstance(lengths, str):
        return lengths
    if isinstance(lengths, int):
        return str(lengths)
    if isinstance(lengths, range):
        if len(lengths) == 0 or lengths.step != 1:
            raise InputError("--lengths: expected a range of consecutive lengths")
        return f"{lengths[0]}:{lengths[-1]}"
    a, b = lengths
    return f"{int(a)}:{int(b)}"


def _words(words):
    if isinstance(words, str):
        raise TypeError("words: expected a list of words, not one string (write [word])")
    return [str(w) for w in words]


class Language:
    """A formal language: a built-in (``saturn lang list``) or a spec file, as ``--lang`` takes it.

    >>> saturn.Language("dyck-1").count(20)
    16796
    """

    def __init__(self, name):
        """The built-in of that name, else the spec file at that path (as the CLI's LANG)."""
        self._h = name if isinstance(name, _saturn.LanguageHandle) \
            else _saturn.resolve_language(str(name))

    @classmethod
    def from_spec(cls, spec):
        """A language from a spec (docs/languages.md, "Spec files"): the path of a TOML file (a
        str or os.PathLike), or the TOML text itself (errors then name it "spec")."""
        if isinstance(spec, _os.PathLike) or _os.path.isfile(spec) or \
                ("\n" not in spec and "=" not in spec):
            return cls(_saturn.load_spec_file(_os.fspath(spec)))
        return cls(_saturn.load_spec(str(spec), "spec"))  # errors name "spec:LINE:COL"

    name = property(lambda self: self._h.name, doc="The language's name.")
    alphabet = property(lambda self: list(self._h.alphabet),
                        doc="Symbol names in order: symbol i is token id i.")
    language_class = property(lambda self: self._h.language_class,
                              doc="regular, counter, deterministic-cf, cf or cs.")
    class_detail = property(lambda self: self._h.class_detail, doc='e.g. "minimal DFA: 5 states".')
    description = property(lambda self: self._h.description)
    source = property(lambda self: self._h.source, doc='Where it comes from ("" if unsaid).')
    spec_text = property(lambda self: self._h.spec_text,
                         doc="The TOML it was defined by (empty for C++ machines).")

    def __repr__(self):
        return f"saturn.Language({self.name!r})"

    def __reduce__(self):
        # Pickled (copy.deepcopy, torch.save of a module holding it) by its spec, else its name.
        if self.spec_text:
            return (Language._from_spec_text, (self.spec_text, self.name))
        return (Language, (self.name,))

    @classmethod
    def _from_spec_text(cls, text, name):
        return cls(_saturn.load_spec(text, name))

    def accepts(self, word):
        """True when the language accepts the word (spelled as on the command line; ``""`` is
        the empty word). A list of words gives a list of verdicts."""
        if isinstance(word, str):
            return self._h.accepts([word])[0]
        return self._h.accepts(_words(word))

    def count(self, length, rejected=False, table_limit=_saturn.default_table_limit):
        """The exact number of accepted (rejected) words of a length, as ``saturn lang count``:
        a Python int, however large."""
        return int(self._h.count(int(length), bool(rejected), int(table_limit)))

    def sample(self, lengths, per_length, negatives="none", seed=0, distinct=False,
               table_limit=_saturn.default_table_limit, next_symbols=False,
               next_max_length=None):
        """``saturn lang sample``: per length, ``per_length`` accepted words, then (negatives
        other than none) as many rejected ones, exactly uniform, deterministic for the seed.

        Returns ``(words, labels)``: the words as the JSONL's "word" field spells them, and a
        numpy int8 array of labels (1 accepted). Notes the CLI prints (lengths skipped, caps)
        come as warnings.

        ``next_symbols=True`` (the CLI's ``--next``) returns ``(words, labels, next_symbols,
        prefix_accepted)``: for every word w and prefix w[:i] (i = 0..|w|), ``next_symbols``
        (numpy bool (N, longest + 1, k)) says which symbols s continue w[:i] s to an accepted
        word of length at most ``next_max_length`` (``--next-max-length``; default the longest
        length sampled), and ``prefix_accepted`` (numpy bool (N, longest + 1)) whether w[:i] is
        accepted; both false past a word's end. The words and labels are the same as without
        it."""
        if next_symbols:
            words, labels, nxt, accepted, notes = _saturn.sample_next(
                self._h, _lengths(lengths), int(per_length), str(negatives), int(seed),
                bool(distinct), int(table_limit),
                -1 if next_max_length is None else int(next_max_length))
        else:
            words, labels, notes = self._h.sample(_lengths(lengths), int(per_length),
                                                  str(negatives), int(seed), bool(distinct),
                                                  int(table_limit))
        for note in notes:
            _warnings.warn(note, stacklevel=2)
        if next_symbols:
            return words, labels, nxt, accepted
        return words, labels

    def encode(self, words):
        """Token ids as a model over this alphabet reads them: ``(tokens, lengths)``, numpy int64,
        tokens (N, longest + 2) = BOS (k), the symbols (0..k-1), EOS (k + 1), then EOS as padding;
        lengths (N) count BOS and EOS."""
        return self._h.encode(_words(words))


def languages():
    """The built-in languages: a list of dicts with name, alphabet, class, source, description
    (``saturn lang list``)."""
    return _saturn.languages()


class Model:
    """A trained transformer from a checkpoint (``saturn.load``)."""

    def __init__(self, handle):
        self._h = handle
        self._params = None

    @property
    def config(self):
        """The run's configuration (model and training keys) as a dict."""
        import tomllib
        return tomllib.loads(self._h.config_toml)

    step = property(lambda self: self._h.step, doc="The training step of the checkpoint.")
    checkpoint = property(lambda self: self._h.checkpoint, doc="The checkpoint file's path.")
    language = property(lambda self: Language(self._h.language),
                        doc="The language the model was trained on.")

    @property
    def params(self):
        """Parameters by name (as in the checkpoint), float32 numpy arrays: read-only views into
        the model's parameter arena (no copies; ``.copy()`` one to change it, or ask for
        ``params_writable()``)."""
        if self._params is None:
            self._params = self._h.params()
        return self._params

    def params_writable(self):
        """The same views, writable: an edit (an ablation, a patched weight) changes what
        ``forward`` (with or without a cache) and ``to_torch`` compute from then on, in this
        ``Model`` only; the checkpoint file is not touched (``saturn.from_torch(model.to_torch(),
        path)`` saves an edited model). Do not edit while another thread runs ``forward``."""
        return self._h.params(writable=True)

    def forward(self, words, cache=False):
        """The model's outputs on words, bit-for-bit ``saturn eval --data F --logits`` at the
        same thread count: recognizers give a float32 array (N) of logits (> 0: accept);
        next-symbol models (N, longest + 1, k + 1), NaN past a word's end.

        With ``cache=True``, ``(logits, cache)``: the activations ``saturn inspect --json``
        reports, in float64, under TransformerLens's names (docs/python.md): ``hook_embed``,
        ``hook_pos_embed``, per layer ``blocks.{l}.hook_resid_pre``,
        ``attn.hook_attn_scores``, ``attn.hook_pattern``, ``attn.hook_pattern_saturated`` (the
        model's attended-set rule, average-hard), ``hook_resid_mid``, ``mlp.hook_post``,
        ``hook_resid_post``, and ``hook_final``."""
        return self._h.forward(_words(words), bool(cache))

    def to_torch(self, dtype=None):
        """The model as a pure-PyTorch ``nn.Module`` (:class:`saturn.torch.Transformer`): every
        model knob, the checkpoint's parameters, float32 (saturn's dtype; ``dtype=torch.float64``
        widens them). Its logits equal :meth:`forward`'s within float rounding. Needs PyTorch."""
        return _torch().to_torch(self, dtype)

    def __repr__(self):
        return f"saturn.Model({self.checkpoint!r}, step {self.step})"


def _torch():
    try:
        from . import torch as saturn_torch
    except ImportError as e:
        if e.name != "torch":
            raise
        raise ImportError("saturn's PyTorch interop needs PyTorch (Debian's python3-torch: "
                          "scripts/install-deps.sh --interop)", name="torch") from e
    return saturn_torch


def from_torch(module, out, language=None, alphabet=None, step=None):
    """Writes a :class:`saturn.torch.Transformer` (``Model.to_torch()``) back as a saturn
    checkpoint file ``out`` (atomically, as ``saturn train`` writes them) and returns it loaded,
    a :class:`Model`. ``language`` (default the module's) must have the module's alphabet, and
    so must ``alphabet`` (a list of symbols) when given; ``step``: default the module's.
    Parameters are stored as float32 (the checkpoint's dtype). Needs PyTorch."""
    return _torch().from_torch(module, out, language=language, alphabet=alphabet, step=step)


def load(run_or_checkpoint):
    """A model from a checkpoint file, or a run directory's last checkpoint."""
    return Model(_saturn.load(_os.fspath(run_or_checkpoint)))


def verify(circuit, against, max_length, min_length=0, method="auto", timeout=0):
    """``saturn verify CIRCUIT --against ... --json``: a dict with the same fields (circuit,
    against, verdict, method, seconds, min_length, max_length, proved_up_to, [word, length,
    canonical, circuit_accepts, reference_accepts | reason], tie). A counterexample or unknown
    is a verdict, not an exception."""
    return _json.loads(_saturn.verify(_os.fspath(circuit), _os.fspath(against), int(max_length),
                                      int(min_length), str(method), float(timeout)))


def extract(run, against, max_length, min_length=-1, method="auto", timeout=0, out=None,
            checkpoint="last", bits=0, per_length=0, tie="average", seed=0,
            exhaustive_max=_saturn.default_exhaustive_max, no_search=False):
    """``saturn extract RUN --against ... --json``: the most faithful saturated circuit of a
    trained run, written to ``out`` (default RUN/circuit.json) and verified; a dict with the
    same fields as the CLI's JSON. ``min_length=-1``: the shortest training length."""
    return _json.loads(_saturn.extract(
        _os.fspath(run), _os.fspath(against), int(max_length), int(min_length), str(method),
        float(timeout), "" if out is None else _os.fspath(out), str(checkpoint), int(bits),
        int(per_length), str(tie), int(seed), int(exhaustive_max), bool(no_search)))


def _value_text(key, value):
    """A config value as ``--set key=value`` spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value) if not isinstance(value, float) else repr(value)
    if isinstance(value, range) and len(value) > 0 and value.step == 1:
        return f"{value[0]}:{value[-1]}"  # a length range, e.g. train_lengths=range(1, 21)
    if isinstance(value, (tuple, list)) and len(value) == 2 and \
            all(isinstance(x, int) and not isinstance(x, bool) for x in value):
        return f"{value[0]}:{value[1]}"  # a length range, e.g. train_lengths=(1, 20)
    raise InputError(f"--set: {key}: expected a number, a bool, text or an (A, B) length range "
                     f"(got {value!r})")


def train(language, config=None, out=None, resume=False, overwrite=False, quiet=True,
          check_labels=True, progress=None):
    """``saturn train``: trains a transformer on a language into the run directory ``out`` and
    returns its :class:`Run` (the same directory the CLI writes: config.toml, metrics.jsonl,
    checkpoints, summary.json; locked while training, resumable).

    ``language``: a :class:`Language`, a built-in name or a spec file. ``config``: a dict of model
    and training keys (docs/train.md; e.g. ``{"steps": 500, "train_lengths": "1:20"}``), or the
    path of a TOML config file, or None for the defaults. ``resume=True`` continues the run from
    its last checkpoint (its own config.toml; dict keys are applied after it, as ``--set``).
    Ctrl-C stops training between steps and raises KeyboardInterrupt; ``resume=True`` then
    continues it. Progress lines go to stderr unless ``quiet``.

    ``progress``: a callable, called from the training loop with each row metrics.jsonl records
    as it is written, as a dict: every step's (step, loss, train_acc, lr, param_norm,
    weight_norm, norm.*, grad_norm, tokens_per_s, ...) and every evaluation's (eval_step,
    in_range, out_of_range, per_length). It runs with the GIL held, between steps; an exception
    it raises stops training and propagates (the run stays resumable)."""
    if out is None:
        raise InputError("--out: expected a run directory")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable or None (got {type(progress).__name__})")
    if not isinstance(language, Language):
        language = Language(language)
    config_file, sets = "", []
    if isinstance(config, dict):
        sets = [f"{k}={_value_text(k, v)}" for k, v in config.items()]
    elif config is not None:
        config_file = _os.fspath(config)
    _saturn.train(language._h, config_file, sets, _os.fspath(out), bool(resume), bool(overwrite),
                  bool(quiet), bool(check_labels), progress)
    return Run(out)


class Run:
    """A run directory written by ``saturn train`` (or :func:`train`)."""

    def __init__(self, path):
        self.dir = _os.fspath(path)
        if not _os.path.isdir(self.dir):
            raise InputError(f"{self.dir}: not a run directory")

    def __repr__(self):
        return f"saturn.Run({self.dir!r})"

    def _path(self, name):
        return _os.path.join(self.dir, name)

    @property
    def config(self):
        """The run's resolved configuration (its config.toml) as a dict."""
        import tomllib
        with open(self._path("config.toml"), "rb") as f:
            return tomllib.load(f)

    @property
    def summary(self):
        """summary.json as a dict (None while the run has not finished)."""
        if not _os.path.exists(self._path("summary.json")):
            return None
        with open(self._path("summary.json")) as f:
            return _json.load(f)

    @property
    def metrics(self):
        """metrics.jsonl: one dict per logged step (a pandas DataFrame when pandas is
        installed)."""
        rows = []
        if _os.path.exists(self._path("metrics.jsonl")):
            with open(self._path("metrics.jsonl")) as f:
                rows = [_json.loads(line) for line in f if line.strip()]
        try:
            import pandas
        except ImportError:
            return rows
        return pandas.DataFrame(rows)

    @property
    def checkpoints(self):
        """The checkpoint files, by step."""
        import re
        found = []
        for name in _os.listdir(self.dir):
            m = re.fullmatch(r"ckpt-(\d+)\.safetensors", name)
            if m:
                found.append((int(m.group(1)), self._path(name)))
        return [path for _, path in sorted(found)]

    def model(self, checkpoint=None):
        """The model at a checkpoint (a path from :attr:`checkpoints`; default the last)."""
        return load(checkpoint if checkpoint is not None else self.dir)

    def evaluate(self, lengths, per_length=100, exhaustive=False, seed=0, language=None):
        """``saturn eval RUN --lengths A:B --json``: accuracy per length of the last checkpoint
        (a recognizer), on ``per_length`` accepted and rejected words per length (or every word
        with ``exhaustive``), against the trained language or ``language``. A dict: language,
        step, accuracy, per_length {"N": {accuracy, words}}."""
        if language is not None and not isinstance(language, Language):
            language = Language(language)
        lang = None if language is None else language._h
        return _json.loads(_saturn.evaluate(self.dir, lang, _lengths(lengths), int(per_length),
                                            bool(exhaustive), int(seed)))


class Circuit:
    """A saturated circuit file (``saturn extract`` or ``saturn circuit`` wrote it),
    evaluated exactly in rationals."""

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def load(cls, path):
        """The circuit in a JSON file (docs/formats.md). A circuit that cannot be evaluated
        exactly (pointwise attention, gelu FFNs) is refused."""
        return cls(_saturn.load_circuit(_os.fspath(path)))

    path = property(lambda self: self._h.path, doc="The circuit file's path.")
    alphabet = property(lambda self: list(self._h.alphabet), doc="Its symbols, in token order.")
    tie = property(lambda self: self._h.tie, doc="The tie rule it was saturated with.")

    def __repr__(self):
        return f"saturn.Circuit.load({self.path!r})"

    def run(self, words):
        """``saturn circuit run FILE WORD...``: per word a dict ``word``, ``verdict``
        (accept, reject or undecided), ``logit`` (a ``fractions.Fraction``, the exact accept
        logit, or None when only bounds are known), ``logit_interval`` (``(lo, hi)`` Fractions
        bounding it, or None) and ``reason`` (why undecided, else "")."""
        from fractions import Fraction
        words = _words(words)
        out = []
        for word, (verdict, lo, hi, reason) in zip(words, self._h.run(words)):
            interval = (Fraction(lo), Fraction(hi)) if lo else None
            out.append({"word": word, "verdict": verdict,
                        "logit": interval[0] if interval and interval[0] == interval[1] else None,
                        "logit_interval": interval, "reason": reason})
        return out


def _exact_text(x, where):
    """A coordinate as the point reader takes it, exactly: ints and Fractions as "p/q"; floats
    (numpy's too) at their exact binary value; strings ("3/7", "0.1") as written."""
    from fractions import Fraction
    import numbers
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        raise InputError(f"{where}: expected a number (got {x!r})")
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    if isinstance(x, numbers.Real):
        f = float(x)
        if f != f or f in (float("inf"), float("-inf")):
            raise InputError(f"{where}: expected a finite number (got {f})")
        p, q = f.as_integer_ratio()
        return f"{p}/{q}"
    raise InputError(f"{where}: expected a number (got {type(x).__name__})")


def keys(points):
    """``saturn keys --points FILE --json``: which points (keys) some query scores strictly
    highest, decided exactly (Brody et al. 2023). ``points``: a point file's path
    (``{"points": [[x, ...], ...]}``), or rows of coordinates (a list of lists, or a 2-D numpy
    array): ints, Fractions, strings ("3/7", "0.1" = 1/10), or floats at their exact binary value
    (0.1 as a float is not 1/10). A dict: points, dimension, distinct, num_selectable, num_tied,
    num_unselectable, and the indices of the selectable (tied included), tied and un-selectable
    points."""
    if isinstance(points, (str, _os.PathLike)):
        return _json.loads(_saturn.keys(_os.fspath(points), True))
    rows = [[_exact_text(x, f"points[{i}][{k}]") for k, x in enumerate(row)]
            for i, row in enumerate(points)]
    return _json.loads(_saturn.keys(_json.dumps({"points": rows}), False))


# ---- sweeps, theory suites, FLaRe datasets ----------------------------------------------------

def _toml_key(key):
    import re
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _json.dumps(key)


def _toml_value(value, where):
    """A value as TOML writes it: bools, ints, floats, strings, lists of them; a ``range`` or an
    ``(A, B)`` tuple of ints as the length range "A:B"."""
    import math
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _json.dumps(value)
    if isinstance(value, _os.PathLike):
        return _json.dumps(_os.fspath(value))
    if isinstance(value, range) or (isinstance(value, tuple) and len(value) == 2 and all(
            isinstance(x, int) and not isinstance(x, bool) for x in value)):
        return _json.dumps(_value_text(where, value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(x, where) for x in value) + "]"
    raise InputError(f"grid: {where}: expected a number, a bool, text, a list or a table "
                     f"(got {value!r})")


def grid_toml(grid):
    """A sweep grid given as a dict (the keys of GRID.toml, docs/sweep.md: ``languages``,
    ``seeds``, training keys, and the tables ``grid``, ``points`` (a list of dicts),
    ``per_language`` (a dict of dicts), ``extract``) as TOML text."""
    if not isinstance(grid, dict):
        raise TypeError("grid: expected a dict")
    lines, tables = [], []
    for key, value in grid.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value, key)}")

    def table(name, body):
        out = [f"\n[{name}]"]
        nested = []
        for k, v in body.items():
            if isinstance(v, dict):
                nested.append((f"{name}.{_toml_key(k)}", v))
            else:
                out.append(f"{_toml_key(k)} = {_toml_value(v, f'{name}.{k}')}")
        for n, b in nested:
            out += table(n, b)
        return out

    for key, value in tables:
        if isinstance(value, dict):
            lines += table(_toml_key(key), value)
        else:
            for point in value:
                lines.append(f"\n[[{_toml_key(key)}]]")
                lines += [f"{_toml_key(k)} = {_toml_value(v, f'{key}.{k}')}"
                          for k, v in point.items()]
    return "\n".join(lines) + "\n"


def sweep(grid, out, jobs=1, threads=0, resume=False, quiet=True):
    """``saturn sweep GRID --out DIR [--jobs J] [--threads T] [--resume]`` on this machine,
    in-process: every task of the grid trained into DIR/runs/..., evaluated, gathered into
    DIR/results.jsonl, summary.md and the heat map. Returns :func:`sweep_results` of ``out``.

    ``grid``: the path of a GRID.toml, or a dict of its keys (written as TOML by
    :func:`grid_toml`; spec files are then found relative to the working directory, and messages
    name the grid "grid"), or the TOML text itself. ``threads=0``: cores / jobs per task.
    Progress lines go to stderr unless ``quiet``. Ctrl-C stops the tasks and raises
    KeyboardInterrupt; ``resume=True`` continues the sweep (finished tasks are skipped)."""
    if out is None:
        raise InputError("--out: expected a sweep directory")
    if isinstance(grid, dict):
        text, is_text = grid_toml(grid), True
    elif isinstance(grid, str) and "\n" in grid:
        text, is_text = grid, True
    else:
        text, is_text = _os.fspath(grid), False
    _saturn.run_sweep(text, is_text, _os.fspath(out), int(jobs), int(threads), bool(resume),
                      bool(quiet))
    return sweep_results(out)


def sweep_results(dir):
    """A sweep directory's results.jsonl: one dict per task, in grid order (the fields of
    docs/sweep.md: language, config, keys, seed, run, in_range, out_of_range, ch_score,
    per_length, ...); a pandas DataFrame when pandas is installed."""
    path = _os.path.join(_os.fspath(dir), "results.jsonl")
    if not _os.path.isfile(path):
        raise InputError(f"{path}: no such file (not a finished sweep directory)")
    with open(path) as f:
        rows = [_json.loads(line) for line in f if line.strip()]
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def theory_suites():
    """The theory suites' names, in the order ``saturn theory`` runs them."""
    return list(_saturn.theory_suites())


def theory(suites="all", scale="quick", out="saturn-theory", seeds=None, threads=0, quiet=True):
    """``saturn theory --suite SUITES --scale SCALE --out DIR [--seeds N] [--threads T]``,
    in-process: runs the suites' claims into ``out`` (report.md, results.json, figures/, runs/;
    finished runs and measurements there are reused) and returns results.json's content as a
    dict: ``scale`` and ``claims``, one dict per claim (id, paper, measured, expected, criterion,
    kind, quote, min_effect, setup, value, verdict, differs, numbers, [per_seed, effects,
    figure]). ``suites``: "all", "a,b" or a list of names (:func:`theory_suites`); ``seeds``:
    seeds per configuration (None: the suite's default for the scale); ``threads``: runs trained
    at once (0: every core). A claim that fails is a verdict, not an exception. Progress lines
    go to stderr unless ``quiet``; Ctrl-C raises KeyboardInterrupt."""
    if not isinstance(suites, str):
        suites = ",".join(str(s) for s in suites)
    return _json.loads(_saturn.run_theory(
        suites, str(scale), "" if out is None else _os.fspath(out),
        0 if seeds is None else int(seeds), seeds is not None, int(threads), not quiet))


from . import flare  # noqa: E402

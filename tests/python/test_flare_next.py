"""saturn.flare and Language.sample(next_symbols=True) against `saturn lang sample --next
[--format flare]` and `saturn lang import` on the same inputs, and the next-symbol sets against
brute force over the language's accepted words."""
import itertools
import warnings

import numpy as np
import pytest

import saturn
from conftest import cli_error, read_jsonl


def files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.mark.parametrize("name,lengths,next_max_length", [
    ("dyck-1", "0:6", None), ("tomita-3", "1:5", None), ("anbn", "2:6", 9)])
def test_next_symbols_equal_lang_sample_next(cli, tmp_path, name, lengths, next_max_length):
    out = tmp_path / "s.jsonl"
    extra = [] if next_max_length is None else ["--next-max-length", next_max_length]
    cli("lang", "sample", name, "--lengths", lengths, "--per-length", 3, "--negatives", "mixed",
        "--seed", 5, "--next", *extra, "-o", out)
    rows = read_jsonl(out)
    lang = saturn.Language(name)
    words, labels, nxt, accepted = lang.sample(lengths, 3, negatives="mixed", seed=5,
                                               next_symbols=True,
                                               next_max_length=next_max_length)
    plain_words, plain_labels = lang.sample(lengths, 3, negatives="mixed", seed=5)
    assert words == plain_words and labels.tolist() == plain_labels.tolist()
    assert words == [r["word"] for r in rows] and labels.tolist() == [r["label"] for r in rows]
    longest = max(len(r["next"]) for r in rows)
    assert nxt.shape == (len(rows), longest, len(lang.alphabet)) and nxt.dtype == np.bool_
    assert accepted.shape == (len(rows), longest) and accepted.dtype == np.bool_
    for i, r in enumerate(rows):
        n = len(r["next"])
        listed = [[lang.alphabet[s] for s in np.flatnonzero(nxt[i, p])] for p in range(n)]
        assert listed == r["next"]
        assert accepted[i, :n].tolist() == r["prefix_accepted"]
        assert not nxt[i, n:].any() and not accepted[i, n:].any()
    assert nxt.any() and (~nxt).any()


@pytest.mark.parametrize("name,lengths,bound", [("dyck-1", "0:7", 9), ("tomita-3", "1:6", 7),
                                                ("anbn", "0:6", 6), ("majority", "1:5", 5)])
def test_next_symbols_equal_brute_force(name, lengths, bound):
    """Symbol s may follow the prefix p exactly when some accepted word of length <= bound
    begins with p s (checked over every word up to bound); prefix_accepted is accepts(p)."""
    lang = saturn.Language(name)
    alphabet = lang.alphabet
    assert all(len(a) == 1 for a in alphabet)
    all_words = ["".join(t) for n in range(bound + 1)
                 for t in itertools.product(alphabet, repeat=n)]
    accepted_words = [w for w, ok in zip(all_words, lang.accepts(all_words)) if ok]
    prefixes = {w[:i] for w in accepted_words for i in range(len(w) + 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        words, labels, nxt, acc = lang.sample(lengths, 4, negatives="uniform", seed=2,
                                              next_symbols=True, next_max_length=bound)
    checked = 0
    for i, w in enumerate(words):
        for p in range(len(w) + 1):
            expected = [w[:p] + a in prefixes for a in alphabet]
            assert nxt[i, p].tolist() == expected, (w, p)
            assert bool(acc[i, p]) == lang.accepts(w[:p])
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("name,next_flag", [("dyck-1", True), ("tomita-3", True),
                                            ("majority", False)])
def test_flare_write_equals_lang_sample_format_flare(cli, tmp_path, name, next_flag):
    """The same words and labels give the files `lang sample --format flare` writes, byte for
    byte (FLaRe's unbounded next-symbol sets where a DFA decides them)."""
    nf = ["--next"] if next_flag else []
    cli("lang", "sample", name, "--lengths", "0:6", "--per-length", 3, "--negatives", "mixed",
        "--seed", 4, "--format", "flare", "-o", tmp_path / "cli", *nf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        words, labels = saturn.Language(name).sample("0:6", 3, negatives="mixed", seed=4)
    saturn.flare.write(tmp_path / "py", name, words, labels, next_symbols=next_flag,
                       next_max_length=6)
    expected = files(tmp_path / "cli")
    assert ("next-symbols.jsonl" in expected) == next_flag
    assert files(tmp_path / "py") == expected


def test_flare_read_equals_lang_import(cli, tmp_path):
    d = tmp_path / "d"
    cli("lang", "sample", "tomita-3", "--lengths", "0:6", "--per-length", 3, "--negatives",
        "mixed", "--seed", 9, "--format", "flare", "-o", d, "--next")
    cli("lang", "import", d, "--lang", "tomita-3", "-o", tmp_path / "i.jsonl")
    rows = read_jsonl(tmp_path / "i.jsonl")
    data = saturn.flare.read(d, "tomita-3")
    assert data.words == [r["word"] for r in rows]
    assert data.labels.tolist() == [r["label"] for r in rows]
    alphabet = saturn.Language("tomita-3").alphabet
    positives = 0
    for i, r in enumerate(rows):
        if "next" not in r:
            assert not data.next_symbols[i].any() and r["label"] == 0
            continue
        positives += 1
        n = len(r["next"])
        assert [[alphabet[s] for s in np.flatnonzero(data.next_symbols[i, p])]
                for p in range(n)] == r["next"]
        assert data.prefix_accepted[i, :n].tolist() == r["prefix_accepted"]
    assert positives > 0
    # Without next-symbols.jsonl: no arrays.
    saturn.flare.write(tmp_path / "plain", "tomita-3", data.words, data.labels)
    plain = saturn.flare.read(tmp_path / "plain", "tomita-3")
    assert plain.next_symbols is None and plain.prefix_accepted is None
    assert plain.words == data.words and plain.labels.tolist() == data.labels.tolist()


def test_flare_round_trip_with_next_symbols(tmp_path):
    lang = saturn.Language("dyck-1")
    words, labels = lang.sample("0:8", 4, negatives="near-miss", seed=1)
    saturn.flare.write(tmp_path / "d", lang, words, labels, next_symbols=True, next_max_length=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dyck-1 has no DFA: unconfirmed sets are a note
        data = saturn.flare.read(tmp_path / "d", lang)
    assert data.words == words and data.labels.tolist() == labels.tolist()
    _, _, nxt, acc = lang.sample("0:8", 4, negatives="near-miss", seed=1, next_symbols=True,
                                 next_max_length=8)
    positive = labels == 1
    assert (data.next_symbols[positive] == nxt[positive]).all()
    assert (data.prefix_accepted[positive] == acc[positive]).all()
    assert not data.next_symbols[~positive].any()


def test_flare_errors_are_the_clis(cli, tmp_path):
    # FLaRe's spelling of even-pairs (over 0 1) read as saturn's (over a b): the hint.
    d = tmp_path / "fl"
    cli("lang", "sample", "flare-even-pairs", "--lengths", "1:4", "--per-length", 2,
        "--format", "flare", "-o", d)
    expected = cli_error(cli, "lang", "import", d, "--lang", "even-pairs")
    assert "use --lang flare-even-pairs" in expected
    with pytest.raises(ValueError) as e:
        saturn.flare.read(d, "even-pairs")
    assert str(e.value) == expected
    # A label the language disagrees with.
    (d / "labels.txt").write_text("0\n" + (d / "labels.txt").read_text().split("\n", 1)[1])
    expected = cli_error(cli, "lang", "import", d, "--lang", "flare-even-pairs")
    with pytest.raises(saturn.InputError) as e:
        saturn.flare.read(d, "flare-even-pairs")
    assert str(e.value) == expected
    assert saturn.flare.read(d, "flare-even-pairs", check_labels=False).labels[0] == 0
    expected = cli_error(cli, "lang", "import", d, "--lang", "even-pairs",
                         "--next-max-length", -1)
    with pytest.raises(ValueError) as e:
        saturn.flare.read(d, "even-pairs", next_max_length=-1)
    assert str(e.value) == expected
    expected = cli_error(cli, "lang", "import", tmp_path / "nothing", "--lang", "first")
    with pytest.raises(ValueError) as e:
        saturn.flare.read(tmp_path / "nothing", "first")
    assert str(e.value) == expected
    # Writing: a mislabelled word is refused unless asked.
    with pytest.raises(ValueError, match=r"labels\[1\]: label 1, but the word \(\( is not in"):
        saturn.flare.write(tmp_path / "w", "dyck-1", ["()", "(("], [1, 1])
    saturn.flare.write(tmp_path / "w", "dyck-1", ["()", "(("], [1, 1], check_labels=False)
    assert (tmp_path / "w" / "labels.txt").read_text() == "1\n1\n"
    assert (tmp_path / "w" / "main.tok").read_text() == "( )\n( (\n"

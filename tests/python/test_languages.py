"""saturn.Language against `saturn lang ...` on the same inputs."""
import json
import warnings

import numpy as np
import pytest

import saturn
from conftest import cli_error, read_jsonl


def test_version_is_the_cli_version(cli):
    _, out, _ = cli("--version")
    assert out.splitlines()[0] == f"saturn {saturn.__version__}"


def test_languages_list_the_zoo(cli):
    _, out, _ = cli("lang", "list")
    rows = [line.split() for line in out.splitlines()[1:]]
    listed = saturn.languages()
    assert [r["name"] for r in listed] == [r[0] for r in rows]
    for row in listed:
        lang = saturn.Language(row["name"])
        assert row["alphabet"] == lang.alphabet and row["class"] == lang.language_class
        assert row["source"] == lang.source


@pytest.mark.parametrize("name,length,rejected", [
    ("dyck-1", 20, False), ("dyck-1", 150, False),  # 16796; and a count beyond 64 bits
    ("anbn", 40, True), ("tomita-3", 300, False), ("majority", 33, False)])
def test_count_equals_lang_count(cli, name, length, rejected):
    args = ["lang", "count", name, "--length", length] + (["--rejected"] if rejected else [])
    _, out, _ = cli(*args)
    n = saturn.Language(name).count(length, rejected=rejected)
    assert isinstance(n, int) and n == int(out)
    if length >= 150:
        assert n > 2**64


@pytest.mark.parametrize("name,lengths,per_length,negatives,seed,distinct", [
    ("dyck-1", "2:8", 3, "mixed", 7, False), ("majority", "0:5", 2, "uniform", 1, True),
    ("anbn", "4:6", 2, "near-miss", 0, False), ("tomita-3", "1:4", 5, "none", 11, False)])
def test_sample_equals_lang_sample(cli, tmp_path, name, lengths, per_length, negatives, seed,
                                   distinct):
    out = tmp_path / "s.jsonl"
    cli("lang", "sample", name, "--lengths", lengths, "--per-length", per_length,
        "--negatives", negatives, "--seed", seed, "-o", out, *(["--distinct"] if distinct else []))
    rows = read_jsonl(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lengths without words are notes
        words, labels = saturn.Language(name).sample(lengths, per_length, negatives=negatives,
                                                     seed=seed, distinct=distinct)
    assert words == [r["word"] for r in rows]
    assert labels.dtype == np.int8 and labels.tolist() == [r["label"] for r in rows]
    assert len(words) > 0


def test_sample_lengths_forms():
    lang = saturn.Language("majority")
    expected = lang.sample("2:6", 2, seed=4)[0]
    for form in [(2, 6), range(2, 7)]:
        assert lang.sample(form, 2, seed=4)[0] == expected
    assert lang.sample(4, 3, seed=4)[0] == lang.sample("4:4", 3, seed=4)[0]


def test_accepts_equals_lang_check(cli):
    words = ["(())", "()(", '""', ")(", "()()()"]
    _, out, _ = cli("lang", "check", "dyck-1", *words)
    lang = saturn.Language("dyck-1")
    assert lang.accepts(words) == [line == "accept" for line in out.split()]
    assert lang.accepts("(())") is True


SPEC = """name = "a-then-b"
alphabet = ["a", "b"]
[accept]
regex = "a*b*"
counts = ["#a == #b"]
"""


def test_spec_text_and_file(cli, tmp_path):
    path = tmp_path / "anbn.toml"
    path.write_text(SPEC)
    from_text, from_file = saturn.Language.from_spec(SPEC), saturn.Language.from_spec(path)
    assert from_text.name == from_file.name == "a-then-b"
    assert saturn.Language(str(path)).alphabet == ["a", "b"]
    for n in (10, 11):
        _, out, _ = cli("lang", "count", path, "--length", n)
        assert from_text.count(n) == from_file.count(n) == int(out) == (1 if n == 10 else 0)


def test_encode_is_the_models_token_ids(cli, runs):
    lang = saturn.Language("dyck-1")
    tokens, lengths = lang.encode(["(())", "()", '""'])
    assert tokens.tolist() == [[2, 0, 0, 1, 1, 3], [2, 0, 1, 3, 3, 3], [2, 3, 3, 3, 3, 3]]
    assert lengths.tolist() == [6, 4, 2]
    _, out, _ = cli("inspect", runs["dyck-1"], "--json", "(())")
    assert tokens[0].tolist() == json.loads(out)["tokens"]


def test_bad_input_raises_the_clis_message(cli, tmp_path):
    with pytest.raises(ValueError) as e:
        saturn.Language("dyk-1")
    assert str(e.value) == cli_error(cli, "lang", "count", "dyk-1", "--length", "3")
    assert isinstance(e.value, saturn.InputError)

    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.replace('"#a == #b"', '"#a == #c"'))
    with pytest.raises(saturn.InputError) as e:
        saturn.Language.from_spec(bad)
    assert str(e.value) == cli_error(cli, "lang", "count", bad, "--length", "3")

    lang = saturn.Language("dyck-1")
    with pytest.raises(ValueError) as e:
        lang.count(-1)
    assert str(e.value) == cli_error(cli, "lang", "count", "dyck-1", "--length", "-1")
    with pytest.raises(ValueError) as e:
        lang.sample("5:2", 3)
    assert str(e.value) == cli_error(cli, "lang", "sample", "dyck-1", "--lengths", "5:2",
                                     "--per-length", "3")
    with pytest.raises(ValueError) as e:
        lang.sample("1:3", 3, negatives="near")
    assert str(e.value) == cli_error(cli, "lang", "sample", "dyck-1", "--lengths", "1:3",
                                     "--per-length", "3", "--negatives", "near")
    with pytest.raises(ValueError) as e:
        lang.accepts("(x)")
    assert str(e.value) == cli_error(cli, "lang", "check", "dyck-1", "(x)")
    with pytest.raises(saturn.LimitError) as e:
        saturn.Language("dyck-2").count(60, table_limit=10)
    assert str(e.value) == cli_error(cli, "lang", "count", "dyck-2", "--length", "60",
                                     "--table-limit", "10")

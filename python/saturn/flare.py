"""FLaRe datasets (Butoi et al. 2025; docs/formats.md): a directory of main.tok, labels.txt and,
optionally, next-symbols.jsonl, read and written as ``saturn lang import`` reads them and
``saturn lang sample --format flare`` writes them."""

import collections as _collections
import os as _os

from . import _saturn

__all__ = ["FlareDataset", "read", "write"]

FlareDataset = _collections.namedtuple(
    "FlareDataset", ["words", "labels", "next_symbols", "prefix_accepted"])
FlareDataset.__doc__ = """A FLaRe dataset read into Python: ``words`` (strings, spelled as
the JSONL's "word"), ``labels`` (numpy int8, 1 accepted), and, when the directory has
next-symbols.jsonl, ``next_symbols`` (numpy bool (N, longest + 1, k): symbol s may follow the
prefix w[:i]) and ``prefix_accepted`` (numpy bool (N, longest + 1)); both None without the file,
and all false on negative examples (FLaRe lists targets for positives only) and past a word's
end."""


def _language(language):
    from . import Language
    return language if isinstance(language, Language) else Language(language)


def read(dir, language, check_labels=True, next_max_length=0):
    """``saturn lang import DIR --lang LANGUAGE``: the dataset in ``dir`` as a
    :class:`FlareDataset`. Every label (and next-symbols.jsonl entry) is checked against the
    language unless ``check_labels=False`` (the CLI's --no-check-labels); ``next_max_length``
    bounds the search for continuations of languages without a DFA (0: twice the longest word,
    at least 16). The note the CLI prints on unconfirmed next symbols comes as a warning."""
    lang = _language(language)
    words, labels, next_symbols, accepted, note = _saturn.flare_read(
        _os.fspath(dir), lang._h, bool(check_labels), int(next_max_length))
    if note:
        import warnings
        warnings.warn(note, stacklevel=2)
    return FlareDataset(words, labels, next_symbols, accepted)


def write(dir, language, words, labels, next_symbols=False, next_max_length=None,
          check_labels=True, table_limit=_saturn.default_table_limit):
    """Writes ``words`` and ``labels`` (0 or 1) as a FLaRe dataset in ``dir``: main.tok and
    labels.txt, and with ``next_symbols=True`` next-symbols.jsonl for the positive words, the
    files ``saturn lang sample --format flare [--next]`` writes for the same words (each file
    written atomically). Next-symbol sets are FLaRe's unbounded ones where the language has a
    DFA, else bounded by ``next_max_length`` (default: the longest word; the CLI's default is the
    longest sampled length B). A label the language disagrees with is refused unless
    ``check_labels=False``."""
    lang = _language(language)
    if isinstance(words, str):
        raise TypeError("words: expected a list of words, not one string (write [word])")
    _saturn.flare_write(_os.fspath(dir), lang._h, [str(w) for w in words],
                        [int(x) for x in labels], bool(next_symbols),
                        -1 if next_max_length is None else int(next_max_length),
                        bool(check_labels), int(table_limit))

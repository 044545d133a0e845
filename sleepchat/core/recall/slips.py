"""Slips of the finger: one letter inserted, dropped, swapped or hit beside its key, and a
word that is no word read as the one word it slipped from."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[A-Za-z]+")
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROWS = {c: (r, i) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)}


def _adjacent(a: str, b: str) -> bool:
    """Neighbouring keys on a QWERTY keyboard (a slip of the finger, not another vowel)."""
    if a not in _ROWS or b not in _ROWS:
        return False
    (ra, ia), (rb, ib) = _ROWS[a], _ROWS[b]
    return abs(ra - rb) <= 1 and abs(ia - ib) <= 1 and (ra, ia) != (rb, ib)


def one_slip(x: str, y: str) -> bool:
    """One inserted, dropped or swapped letter, or one replaced by a neighbouring key; never
    the first letter (a different first letter or prefix makes a different word:
    typical/atypical, heat/preheat) and never in a short word."""
    if x == y or x[:1] != y[:1] or abs(len(x) - len(y)) > 1:
        return False
    short = min(len(x), len(y))
    if len(x) == len(y):
        diff = [i for i in range(len(x)) if x[i] != y[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return short >= 4 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]
        return len(diff) == 1 and short >= 5 and _adjacent(x[diff[0]], y[diff[0]])
    s, long_ = (x, y) if len(x) < len(y) else (y, x)
    return short >= 5 and any(long_[:i] + long_[i + 1 :] == s for i in range(1, len(long_)))


def vowel_for_vowel(x: str, y: str, shortest: int = 6) -> bool:
    """One vowel written for another, past the first letter, in a word of ``shortest``+
    letters."""
    if len(x) != len(y) or len(x) < shortest:
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    return len(diff) == 1 and diff[0] > 0 and x[diff[0]] in "aeiouy" and y[diff[0]] in "aeiouy"


def words_of(texts: Iterable[str]) -> frozenset[str]:
    """The words ``texts`` are written with, lowercased."""
    return frozenset(w.lower() for t in texts for w in _WORD.findall(t))


def respelled(
    text: str,
    vocabulary: frozenset[str],
    is_word: Callable[[str], bool],
    keep: Iterable[str] = (),
    vowels: frozenset[str] | None = None,
) -> str:
    """``text`` with each word that is no word (``is_word``) and one slip from exactly one
    ``vocabulary`` word written as that word, or one vowel for another of a word in ``vowels``
    (None: any of the vocabulary); ``keep``: names left as they are."""
    kept = words_of(keep)
    vowel_words = vocabulary if vowels is None else vocabulary & vowels

    def fixed(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word in vocabulary or word in kept or is_word(word):
            return m.group(0)
        near = [
            v
            for v in vocabulary
            if one_slip(word, v) or (v in vowel_words and vowel_for_vowel(word, v))
        ]
        return near[0] if len(near) == 1 else m.group(0)

    return _WORD.sub(fixed, text)

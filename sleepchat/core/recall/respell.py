"""Typos in the closed catalogues' phrasings ("what is this libary about?", "an exmaple").

A catalogue matches a message only when, form set aside, it is one of its phrasings word for
word, so one slip of the finger sent a reader's first question to the model. A word that is no
English word (the shipped lexicon the verifier reads typos with) and is one slip from exactly
one word the catalogue is written with is read as that word; a real word is never changed
("sue" stays "sue", "uninstall" is two letters from "install"), nor a file's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from sleepchat.core.recall.lined_up import vowel_for_vowel
from sleepchat.core.recall.verify import load_lexicon, one_slip

_WORD = re.compile(r"[A-Za-z]+")
T = TypeVar("T")


def words_of(texts: Iterable[str]) -> frozenset[str]:
    """The words ``texts`` are written with (a catalogue's vocabulary)."""
    return frozenset(w.lower() for t in texts for w in _WORD.findall(t))


def respelled(text: str, vocabulary: frozenset[str], keep: Iterable[str] = ()) -> str:
    """``text`` with each typo of a ``vocabulary`` word written as that word; ``keep``: names
    (a file's) left as they are."""
    kept = words_of(keep)

    def fixed(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word in vocabulary or word in kept or word in load_lexicon():
            return m.group(0)
        near = [v for v in vocabulary if one_slip(word, v) or vowel_for_vowel(word, v)]
        return near[0] if len(near) == 1 else m.group(0)

    return _WORD.sub(fixed, text)


def read_as_typed_or_respelled(
    text: str, vocabulary: frozenset[str], keep: Iterable[str], read: Callable[[str], T | None]
) -> T | None:
    """What ``read`` finds in ``text`` as typed, else in ``text`` with its typos of
    ``vocabulary`` words respelt (``keep``: names left as they are)."""
    found = read(text)
    if found is None and (fixed := respelled(text, vocabulary, keep)) != text:
        found = read(fixed)
    return found

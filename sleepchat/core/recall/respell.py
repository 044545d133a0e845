"""Typos in the closed catalogues' phrasings ("what is this libary about?", "an exmaple").

A catalogue matches a message only when, form set aside, it is one of its phrasings word for
word, so one slip of the finger sent a reader's first question to the model. A word that is no
English word (the shipped lexicon the verifier reads typos with) and is one slip from exactly
one word the catalogue is written with is read as that word; a real word is never changed
("sue" stays "sue", "uninstall" is two letters from "install"), nor a file's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sleepchat.core.recall.slips import respelled
from sleepchat.core.recall.verify import load_lexicon

T = TypeVar("T")


def read_as_typed_or_respelled(
    text: str, vocabulary: frozenset[str], keep: Iterable[str], read: Callable[[str], T | None]
) -> T | None:
    """What ``read`` finds in ``text`` as typed, else in ``text`` with its typos of
    ``vocabulary`` words respelt (``keep``: names left as they are)."""
    found = read(text)
    if found is None:
        fixed = respelled(text, vocabulary, load_lexicon().__contains__, keep)
        if fixed != text:
            found = read(fixed)
    return found

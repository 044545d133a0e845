"""What a reader asks first of a file just attached, beside its summary: how to install what it
describes, and how to use it.

Like the summary (``followups``), each is a closed set of phrasings, and a message is one only
when, form set aside, it is nothing but one of them with the file named by "it" or "this",
"this library" or its own name: "how do I install it on Windows?" or "how do I use it with
asyncio?" say more, and stay questions for the matcher. Their answers are precomputed only for
a file whose text shows how (an install command; code), and only the first message after the
file came can be served them: later, "it" may be the last answer's subject.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from sleepchat.core.recall.followups import MAX_CHARS, as_document, normalize

INSTALL = "install"
USAGE = "usage"
NAMES = (INSTALL, USAGE)

_PHRASINGS = {
    INSTALL: """
        how do i install it | how to install it | how can i install it | how do you install it |
        how would i install it | how should i install it | how do i get it installed |
        how is it installed | how do i install | how to install | how can i install |
        install it | installing it | install | installation | installation instructions |
        install instructions | installation steps | what is the install command |
        how do i add it to my project | what do i need to install""",
    USAGE: """
        how do i use it | how to use it | how can i use it | how do you use it |
        how would i use it | how should i use it | how do i actually use it | how is it used |
        how do i start using it | how to get started | how to get started with it |
        getting started | quick start | quickstart | usage | basic usage | usage example |
        a usage example |
        an example of using it | example of using it | an example of how to use it |
        how to use it with an example | how do i use it with an example""",
}

# What a file's text holds when it says how: a package manager's install command (or an
# Install section), and code (a fenced or doctest example, an import, a definition).
_INSTALLS = re.compile(
    r"(?im)\b(?:pip3?|pipx|conda|mamba|poetry|uv|npm|yarn|pnpm|cargo|gem|brew)\s+"
    r"(?:pip\s+)?(?:install|add)\b|^[#\s]*install(?:ation|ing)?\s*$"
)
_CODE = re.compile(
    r"(?m)```|^\s*>>> |^\s*(?:from\s+[\w.]+\s+)?import\s+\w|\.\. code(?:-block)?::|"
    r"^\s*(?:async\s+)?def\s+\w|^\s*class\s+\w"
)


def shown(text: str) -> list[str]:
    """The intents a file's ``text`` shows how to answer, in the order a reader asks them."""
    found = [INSTALL] if _INSTALLS.search(text) else []
    return found + ([USAGE] if _CODE.search(text) else [])


def request(intent: str, name: str) -> str:
    """The request an idle period precomputes ``intent``'s answer with, for the file ``name``
    (what it is of: "humanize", "shlex")."""
    if intent == INSTALL:
        return f"How do I install {name}?"
    return f"How do I use {name}? Show a short example."


@functools.cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for intent, listed in _PHRASINGS.items():
        for phrasing in listed.split("|"):
            key = normalize(phrasing)
            if table.setdefault(key, intent) != intent:
                raise ValueError(f"document phrasing {phrasing!r} is in two intents")
    return table


def match(text: str, documents: Sequence[str]) -> str | None:
    """The intent ``text`` is nothing but, asked of a file just attached (``documents``: what
    those files may be called by), or None."""
    if not documents or len(text) > MAX_CHARS:
        return None
    return _table().get(normalize(as_document(text, documents)))

"""What a reader asks first of a file just attached, beside its summary: how to install what it
describes, how to use it, and (of a code file) what it provides.

Like the summary (``followups``), each is a closed set of phrasings, and a message is one only
when, form set aside, it is nothing but one of them with the file named by "it" or "this",
"this library" or its own name: "how do I install it on Windows?" or "how do I use it with
asyncio?" say more, and stay questions for the matcher. Their answers are precomputed only for
a file whose text shows how (an install command; code; a code file's definitions), and only a
message right after the file came, or after answers served from its own study, can be served
them by "it": after the model answered something else, "it" may be that answer's subject. Asked
by the file's name ("how do I install cachetools?") they are served later too, re-validated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from sleepchat.core.recall.followups import MAX_CHARS, as_document, normalize, table_of

INSTALL = "install"
USAGE = "usage"
API = "api"
NAMES = (INSTALL, USAGE, API)

# What a module provides, asked of its parts ("what classes does it have?", "list its
# functions"): every way of naming them with every verb that asks for them.
_PARTS = (
    "classes", "functions", "classes and functions", "functions and classes", "public functions",
    "public classes", "main classes", "main functions", "methods", "functions and methods",
    "objects", "class", "function", "types", "public api", "exports",
)  # fmt: skip
_VERBS = (
    "have", "provide", "define", "export", "give me", "give you", "offer", "contain", "expose",
    "include", "come with",
)  # fmt: skip
_WHICH = ("what", "which")


def _api_phrasings() -> list[str]:
    asked = [f"{w} {p} does it {v}" for w in _WHICH for p in _PARTS for v in _VERBS]
    asked += [f"{w} {p} are in it" for w in _WHICH for p in _PARTS]
    asked += [f"{w} {p} are there" for w in _WHICH for p in _PARTS]
    asked += [f"{w} {p} can i use" for w in _WHICH for p in _PARTS]
    asked += [f"{w} are its {p}" for w in _WHICH for p in _PARTS]
    asked += [f"{w} are the {p}" for w in _WHICH for p in _PARTS]
    asked += [f"list its {p}" for p in _PARTS] + [f"list the {p}" for p in _PARTS]
    asked += [f"its {p}" for p in _PARTS]
    return [
        *asked,
        "what does it export", "what does it expose", "what is its api", "what is in its api",
        "what is the api", "what api does it have", "what api does it provide", "api",
        "its api", "an overview of its api", "list its api", "give me a list of its functions",
        "give me a list of its classes", "what can i import from it", "what can i import",
    ]  # fmt: skip

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


# A code file's definitions (what it provides), in the languages people attach most.
_DEFINITIONS = re.compile(
    r"(?m)^\s*(?:export\s+)?(?:pub\s+)?(?:async\s+)?"
    r"(?:def|class|function|fn|func|struct|interface|trait|enum)\s+[A-Za-z_]\w*"
)


def shown(text: str, *, code: bool = False) -> list[str]:
    """The intents a file's ``text`` shows how to answer, in the order a reader asks them;
    ``code``: it is a code file, so what it provides is its definitions."""
    found = [INSTALL] if _INSTALLS.search(text) else []
    found += [USAGE] if _CODE.search(text) else []
    # a file of one definition: its summary says what it provides
    return found + ([API] if code and len(_DEFINITIONS.findall(text)) > 1 else [])


def request(intent: str, name: str) -> str:
    """The request an idle period precomputes ``intent``'s answer with, for the file ``name``
    (what it is of: "humanize", "shlex")."""
    if intent == INSTALL:
        return f"How do I install {name}?"
    if intent == API:
        return (
            f"What does {name} provide? List its public classes and functions, each with one "
            "line on what it does."
        )
    return f"How do I use {name}? Show a short example."


@functools.cache
def _table() -> dict[str, str]:
    listed = {intent: phrasings.split("|") for intent, phrasings in _PHRASINGS.items()}
    return table_of([*listed.items(), (API, _api_phrasings())], "document")


# Asked of a file, these are its summary; of a program file that has an answer on what it
# provides, they ask for that (graphlib.py's summary, asked what the module held, named
# none of its classes).
_CONTENTS = frozenset(
    normalize(x)
    for x in (
        "what does it contain", "what is in it", "what it contains", "what is inside it",
        "what does it include", "what does it have", "what does it provide", "what it provides",
        "what does it offer", "what it offers", "what is in there",
    )
)  # fmt: skip


def contents(text: str, documents: Sequence[str]) -> bool:
    """Whether ``text`` asks what a file (called by one of ``documents``' names, "it" or
    "this module") holds, and nothing else."""
    return bool(documents) and normalize(as_document(text, documents)) in _CONTENTS


def match(text: str, documents: Sequence[str]) -> str | None:
    """The intent ``text`` is nothing but, asked of a file just attached (``documents``: what
    those files may be called by), or None."""
    if not documents or len(text) > MAX_CHARS:
        return None
    return _table().get(normalize(as_document(text, documents)))

"""What a reader asks first of a file just attached, beside its summary: how to install what it
describes, how to use it, what it needs (versions, dependencies), (of a code file) what it
provides, (of prose that compares it with other tools) why it (``doc_need``), its licence and
how to cite it.

Like the summary (``followups``), each is a closed set of phrasings, and a message is one only
when, form set aside, it is nothing but one of them with the file named by "it" or "this",
"this library" or its own name: "how do I install it on Windows?" or "how do I use it with
asyncio?" say more, and stay questions for the matcher. Their answers are precomputed only for
a file whose text shows how (an install command; code; a code file's definitions; a statement
of need; a licence named; a citation or DOI), and only a message right after the file came, or
after answers served from its own study, can be served them by "it": after the model answered
something else, "it" may be that answer's subject. Asked by the file's name ("how do I install
cachetools?") they are served later too, re-validated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from sleepchat.core.recall import doc_need
from sleepchat.core.recall.followups import (
    MAX_CHARS,
    as_document,
    normalize,
    table_of,
    vocabulary,
)
from sleepchat.core.recall.respell import read_as_typed_or_respelled
from sleepchat.core.recall.slips import words_of

INSTALL = "install"
USAGE = "usage"
API = "api"
REQUIRES = "requirements"
NEED = doc_need.NEED
LICENSE = "license"
CITE = "citation"
NAMES = (INSTALL, USAGE, API, NEED, REQUIRES, LICENSE, CITE)

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
        "what does it define", "what is defined in it", "what does it declare",
    ]  # fmt: skip


# What a project needs, asked of its versions or of what it depends on ("which python versions
# does it support?", "does it bring in any dependencies?"): never of one version ("does it run
# on python 2?" is a question the answer may not settle).
_PYTHON = ("python version", "python versions", "version of python", "versions of python", "python")
_NEEDS = ("need", "require", "support", "work with", "run on", "target")
_DEPENDENCIES = ("dependencies", "requirements", "prerequisites", "deps")
_FOR_IT = ("", " for it", " to run it", " to use it")
# The platforms it runs on, which its answer names beside the versions ("what OSes and python
# versions does it run on?"); never one of them ("does it work on windows?").
_PLATFORMS = ("platforms", "operating systems", "os", "oses", "systems")
_ON_IT = (
    "can i use it on", "can i run it on", "can it run on", "does it run on", "does it work on",
    "will it run on", "will it work on", "is it supported on",
)  # fmt: skip
_SUPPORTED = (
    *_PLATFORMS, *_PYTHON,
    *(f"{a} and {b}" for a in _PLATFORMS for b in _PYTHON),
    *(f"{b} and {a}" for a in _PLATFORMS for b in _PYTHON),
)  # fmt: skip


_TESTED = ("on", "with", "against")


def _requirement_phrasings() -> list[str]:
    asked = [f"{w} {p} does it {v}" for w in _WHICH for p in _SUPPORTED for v in _NEEDS]
    asked += [f"{w} {p} {o}" for w in _WHICH for p in _SUPPORTED for o in _ON_IT]
    asked += [f"{w} {p} are supported" for w in _WHICH for p in _PLATFORMS]
    asked += [f"{w} {p} do i need{t}" for w in _WHICH for p in _PYTHON for t in _FOR_IT]
    asked += [f"{w} {p} is it tested {x}" for w in _WHICH for p in _PYTHON for x in _TESTED]
    asked += [f"{w} {p} are supported" for w in _WHICH for p in _PYTHON]
    asked += [f"{w} {p} is required" for w in _WHICH for p in _PYTHON]
    asked += [f"{w} are its {d}" for w in _WHICH for d in _DEPENDENCIES]
    asked += [f"{w} are the {d}" for w in _WHICH for d in _DEPENDENCIES]
    for d in _DEPENDENCIES:
        asked += [d, f"its {d}", f"any {d}", f"list its {d}", f"list the {d}"]
        asked += [f"does it {v} any {d}" for v in ("have", "need", "pull in", "bring in")]
        asked += [f"does it have {d}", f"are there any {d}"]
    return [
        *asked,
        "what does it depend on", "does it depend on anything", "what does it need",
        "what does it require", "what do i need to run it", "what do i need to use it",
        "system requirements", "supported python versions", "python requirements",
        "minimum python version", "what is the minimum python version", "min python version",
    ]  # fmt: skip


_PHRASINGS = {
    INSTALL: """
        how do i install it | how to install it | how can i install it | how do you install it |
        how would i install it | how should i install it | how do i get it installed |
        how is it installed | how do i install | how to install | how can i install |
        install it | installing it | install | installation | installation instructions |
        how do i get it | how can i get it | where do i get it | where can i get it |
        install instructions | installation steps | what is the install command |
        how do i add it to my project | what do i need to install |
        how i install it | how i can install it | how i would install it | how i should install it |
        how i get it | where i can get it | how i get it installed""",
    USAGE: """
        how do i use it | how to use it | how can i use it | how do you use it |
        how would i use it | how should i use it | how do i actually use it | how is it used |
        how do i start using it | how to get started | how to get started with it |
        how do i get started | how do i get started with it | how can i get started |
        how can i get started with it | how should i get started with it |
        how do i begin using it | how to start using it |
        getting started | quick start | quickstart | usage | basic usage | usage example |
        a usage example |
        how do i get it running | how to get it running | how do i get it working |
        how do i run it | how to run it | how can i run it |
        an example of using it | example of using it | an example of how to use it |
        how to use it with an example | how do i use it with an example |
        how i use it | how i can use it | how i would use it | how i should use it |
        how i run it | how i can run it | how i get it running""",
    LICENSE: """
        license | licence | its license | the license | what license | which license |
        what is the license | what is its license | what license is it under |
        what license is it released under | what license does it use | what license does it have |
        what license is it | which license is it under | which license does it use |
        what is the license on it | what license is on it | what license does it come with |
        how is it licensed | what is it licensed under | under what license is it released |
        what are the license terms | is it open source | is it free software""",
    CITE: """
        how do i cite it | how should i cite it | how to cite it | how to cite | how can i cite it |
        how am i supposed to cite it | how would i cite it | how do i reference it |
        how should i reference it | how to reference it | citation | its citation |
        what is the citation | is there a citation | what should i cite | what do i cite |
        is there a doi | does it have a doi | what is the doi | what is its doi | doi |
        is there a paper i can cite | is there a paper to cite | bibtex | a bibtex entry |
        is there a bibtex entry | how do i cite it in a paper | how should i cite it in a paper""",
}

# What a file's text holds when it says how: a package manager's install command (or an
# Install section), and code (a fenced or doctest example, an import, a definition).
_INSTALLS = re.compile(
    r"(?im)\b(?:pip3?|pipx|conda|mamba|poetry|uv|npm|yarn|pnpm|cargo|gem|brew)\s+"
    r"(?:pip\s+)?(?:install|add)\b|^[#\s]*install(?:ation|ing)?\s*$"
)
# ... and what it needs: a section on it, a Python version or what it depends on, stated.
_REQUIREMENTS = re.compile(
    r"(?im)^[#=*\s]*(?:requirements|dependencies|prerequisites|compatibility|"
    r"supported (?:python )?versions)\s*:?\s*$|\bpython_requires\b|\brequires[- ]python\b|"
    r"\b(?:requires?|needs?|supports?|tested (?:on|with|against)|compatible with)\s+c?python\s*"
    r"(?:>=|\u2265|~=|==)?\s*[23]\b|\bpython\s*(?:>=|\u2265|~=)\s*[23]\.\d|\bpython\s*(?:version\s+)?"
    r"[23]\.\d+\s*(?:\+|or (?:later|newer|above|higher)|and (?:up|above|later|newer))|"
    r"\bno (?:external |other |third[- ]party |runtime )?dependencies\b|\bdepends on\b"
)
# ... its licence: a section on it, or one named ("MIT License", "licensed under", "GPLv3").
_LICENSE = re.compile(
    r"(?im)^[#=*\s]*licen[cs]e\s*:?\s*$|\blicen[cs]ed under\b|\b(?:mit|bsd|apache|isc|mpl|"
    r"l?gpl|agpl|mozilla public|gnu (?:lesser |affero )?general public)(?:[- ]?v?\d(?:\.\d)?)?"
    r"[- ](?:\d-clause )?licen[cs]e\b|\bl?gplv\d\b"
    r"|\b(?:mit|bsd|apache|isc|mpl|l?gpl|agpl)(?:[- ]?v?\d(?:\.\d)?)?[- ]licen[cs]ed\b"
)
# ... and how to cite it: a DOI, a BibTeX entry, a request to cite it, or a section on it that
# gives a reference (a year and a venue). A section titled "Citations" alone may be a markup's
# feature (reStructuredText's), not a way to cite the file.
_CITATION = re.compile(
    r"(?i)\bdoi\.org/|\bdoi:\s*10\.|@(?:article|misc|software|inproceedings)\{|\bplease cite\b"
)
_CITATION_SECTION = re.compile(r"(?im)^[#=*\s]*(?:citation|citing|how to cite|cite)\b[^\n]{0,30}$")
_REFERENCE = re.compile(
    r"(?i)\b(?:19|20)\d\d\b[\s\S]{0,300}?\b(?:journal|proceedings|zenodo|arxiv|et al|vol\.)"
    r"|\b(?:journal|proceedings|zenodo|arxiv|et al|vol\.)[\s\S]{0,300}?\b(?:19|20)\d\d\b"
)


def _cites(text: str) -> bool:
    """``text`` says how to cite it."""
    if _CITATION.search(text):
        return True
    return any(
        _REFERENCE.search(text, m.end(), m.end() + 800) for m in _CITATION_SECTION.finditer(text)
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
    found += [API] if code and len(_DEFINITIONS.findall(text)) > 1 else []
    found += [NEED] if not code and doc_need.SHOWN.search(text) else []
    # a code file's imports are what it depends on, not what a reader installs
    found += [REQUIRES] if not code and _REQUIREMENTS.search(text) else []
    found += [LICENSE] if _LICENSE.search(text) else []
    return found + ([CITE] if _cites(text) else [])


def request(intent: str, name: str) -> str:
    """The request an idle period precomputes ``intent``'s answer with, for the file ``name``
    (what it is of: "humanize", "shlex")."""
    if intent == INSTALL:
        return f"How do I install {name}?"
    if intent == REQUIRES:
        return (
            f"What does {name} need: which versions of Python (or of its language) and which "
            "platforms does it support, and what does it depend on?"
        )
    if intent == NEED:
        return doc_need.request(name)
    if intent == LICENSE:
        return f"What license is {name} released under? Say it as the document states it."
    if intent == CITE:
        return (
            f"How do I cite {name}? Give the citation, DOI or BibTeX entry the document gives."
        )
    if intent == API:
        return (
            f"What does {name} provide? List its public classes and functions, each with one "
            "line on what it does."
        )
    return f"How do I use {name}? Show a short example."


_IN_A_PAPER = tuple(
    f"if i use it in {x}" for x in ("a paper", "a research paper", "my paper", "my research",
                                   "my thesis", "a publication")
)


@functools.cache
def _table() -> dict[str, str]:
    listed = {intent: phrasings.split("|") for intent, phrasings in _PHRASINGS.items()}
    listed[LICENSE] += [x.replace("license", "licence") for x in listed[LICENSE]]
    # asked for a paper's sake: "if I use it in a paper, how should I cite it?"
    listed[CITE] += [f"{use} {x}" for use in _IN_A_PAPER for x in listed[CITE]]
    asked = [*listed.items(), (API, _api_phrasings()), (REQUIRES, _requirement_phrasings())]
    return table_of(asked, "document")


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
    if not documents:
        return False

    def read(asked: str) -> bool | None:
        return normalize(as_document(asked, documents)) in _CONTENTS or None

    return bool(read_as_typed_or_respelled(text, _contents_vocabulary(), documents, read))


# Asking to be told how ("tell me how I can install it", "explain how to use it") asks how.
_TELL_HOW = re.compile(r"^(?:tell me|explain|show me|describe) (?=(?:how|where) )")


# What a module provides, asked in its own domain's word ("what checks are in this file?", "which
# metrics does it define?"): its parts by another name. Served only an answer that uses the word.
_KINDS_OF_PART = re.compile(
    r"^(?:what|which) ([a-z]{3,}s) (?:are (?:there )?in _|are there|does _ (?:have|provide|define|"
    r"offer|include|implement|contain|export|expose|come with))$"
)


def _part_named(text: str, documents: Sequence[str]) -> str | None:
    """The plural noun ``text`` names the file's parts by, if that is all it asks."""
    m = _KINDS_OF_PART.match(normalize(as_document(text, documents)))
    return m.group(1) if m else None


def match(text: str, documents: Sequence[str]) -> str | None:
    """The intent ``text`` is nothing but, asked of a file just attached (``documents``: what
    those files may be called by), or None."""
    if not documents or len(text) > MAX_CHARS:
        return None

    def read(asked: str) -> str | None:
        normal = _TELL_HOW.sub("", normalize(as_document(asked, documents)))
        return _table().get(normal) or (API if _KINDS_OF_PART.match(normal) else None)

    found = read_as_typed_or_respelled(text, _vocabulary(), documents, read)
    return found if found is not None or doc_need.asked(text, documents) is None else NEED


def answers(intent: str, text: str, documents: Sequence[str], answer: str) -> bool:
    """Whether ``answer``, precomputed for ``intent``, answers ``text`` (of that intent): an
    answer on why the file, where other tools exist, only names every tool ``text`` names; one
    on what a module provides, asked of its parts in another word, only uses that word."""
    if intent == API:
        # "what checks are in it": an answer that never says "check" lists something else
        part = _part_named(text, documents)
        noun = part[:-1] if part else ""
        return part is None or part in _PARTS or re.search(rf"\b{noun}", answer, re.I) is not None
    if intent != NEED:
        return True
    tools = doc_need.asked(text, documents)
    return tools is not None and doc_need.fits(answer, tools)


@functools.cache
def _vocabulary() -> frozenset[str]:
    return words_of(_table()) | vocabulary()


@functools.cache
def _contents_vocabulary() -> frozenset[str]:
    return _vocabulary() | words_of(_CONTENTS)

"""What a reader asks of a paper or a project beside what it is: why it, where other tools exist
("why not just use polars?", "how does it compare to existing packages?", "what need does it
fill?"). Papers of research software say so in a section of their own (a statement of need,
related work) and readers ask it early.

A closed set of phrasings, as the file's other questions (``doc_intents``), with one slot: the
tools a reader names ("why not just use X or Y?"). Such a question is served the file's
precomputed answer only when that answer names every tool the reader named: an answer that
never mentions the reader's tool does not answer why not it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from sleepchat.core.recall.followups import REF, as_document, normalize, vocabulary
from sleepchat.core.recall.slips import words_of

NEED = "need"
TOOL = "xtool"  # the slot: the tools a reader names, in the normal form of a phrasing

# A file that compares what it describes with other tools: a section on it, or its words.
_SECTION = (
    r"(?:motivation|related (?:work|software|packages|projects|tools|libraries)|similar "
    r"(?:projects|packages|tools|libraries|software)|alternatives|comparison|prior work)"
)
SHOWN = re.compile(
    rf"(?im)\bstatement of need\b|^#+\s.*\b{_SECTION}\b|^[=*\s]*(?:\d+\.?\s+)?{_SECTION}"
    r"(?: (?:with|to) [\w -]+)?\s*:?\s*[=*]*\s*$"
    r"|\b(?:existing|other|similar|alternative)\s+(?:open[- ]source\s+|python\s+)?(?:tools|"
    r"packages|libraries|software|implementations|solutions|frameworks|codes)\b"
    r"|\bunlike\s+(?:other|existing|many|most)\b"
    # a design note asking "Why not ...?" of the others, a heading "X vs Y", a replacement
    r"|^#+\s*why not\b|^#+\s.*\b(?:vs\.?|versus)\s|\b(?:drop-in|suitable|modern) replacement for\b"
    r"|^why not\b.*\n[-=~^*]{3,}[ \t]*$"  # ... as reStructuredText underlines a heading
)

# The others it is compared with: named (the slot) or not.
_OTHERS = (
    TOOL, "existing tools", "other tools", "existing packages", "other packages",
    "existing libraries", "other libraries", "existing software", "other software",
    "alternatives", "existing alternatives", "other alternatives", "similar tools",
    "similar packages", "similar libraries", "other options", "existing solutions",
    "other solutions", "existing implementations", "other implementations",
    "what is already out there", "what already exists", "existing work",
)  # fmt: skip

_AGAINST = (
    "how does it compare to {o}", "how does it compare with {o}", "how is it different from {o}",
    "how is it different to {o}", "how does it differ from {o}", "what does it do that {o} do not",
    "what does it do that {o} does not", "what does it do that {o} can not",
    "what does it offer over {o}", "what does it add over {o}", "what does it add to {o}",
    "what is its advantage over {o}", "what are its advantages over {o}",
    "what is the advantage over {o}", "what are the advantages over {o}",
    "what is the advantage of it over {o}", "what are the advantages of it over {o}",
    *(
        f"why {who}{verb} it {than} {{o}}"
        for who in ("", "would i ", "should i ", "would anyone ", "would you ")
        for verb in ("use", "choose", "pick", "go with", "prefer")
        for than in ("instead of", "over", "rather than", "instead of just", "rather than just")
    ),
    "why not just use {o}",
    # the same asked the other way round: "why shouldn't I simply use the csv module?"
    *(
        f"why {modal} not i {just}use {{o}}"
        for modal in ("would", "should", "can", "could")
        for just in ("", "just ", "simply ")
    ),
    "why not use {o}", "why not just {o}", "why not {o}", "how is it better than {o}",
    "what makes it better than {o}", "what makes it different from {o}",
    "it vs {o}", "it versus {o}", "{o} vs it", "{o} versus it",
    "what is wrong with {o}", "what do {o} lack", "what does {o} lack",
    "what is missing from {o}", "what is missing in {o}", "why is {o} not enough",
    "why are {o} not enough", "why does {o} not work", "why do {o} not work",
    "which {o} does it compare to", "which {o} does it compare itself to",
    "which {o} does it compare itself with", "what {o} does it compare to",
    "which {o} do authors compare it to", "which {o} do authors compare it with",
    "which {o} do authors compare themselves to", "what {o} do authors compare it to",
    "how do authors position it relative to {o}", "how does it relate to {o}",
    "how do authors compare it to {o}", "how do authors compare it with {o}",
)  # fmt: skip

_ALONE = """
    what need does it fill | what need does it address | what need does it meet |
    what need does it serve | what need is it filling | what need it fills |
    what is need it fills | what is actual need it fills | what is real need it fills |
    what actual need does it fill | what gap does it fill | what gap does it close |
    what gap does it address | what gap is it filling | what gap it fills | what is gap it fills |
    why was it needed | why is it needed | why was it made | why was it written |
    why was it created | why was it developed | why was it built | why does it exist |
    why do we need it | why would i need it | why do i need it | why would anyone need it |
    what is statement of need | statement of need | its statement of need |
    what is its statement of need | what does statement of need say |
    what is its motivation | what is motivation | what is motivation behind it |
    what is motivation for it | what motivated it | what was motivation for it |
    what was motivation behind it | why did authors make it | why did authors write it |
    why did authors build it | why did they make it | why did they build it |
    what problem does it solve that others do not | what is it for that others are not"""

# After a question that names tools, a second asking what is wrong with them ("why not just
# use Polars? what's wrong with it, in the paper's view"): "it" is the tool then.
_THEN = """
    what is wrong with it | what is wrong with them | what do they lack | what does it lack |
    what is missing | what is difference | what are differences | what do they not do |
    what does it not do | why not | why is it not enough | why are they not enough"""

_ACCORDING = re.compile(
    r"\s+(?:according to|in view of|for|in)\s+(?:authors?|_)(?:\s+(?:view|opinion|eyes))?$"
)


@functools.cache
def _phrasings() -> tuple[frozenset[str], frozenset[str]]:
    asked = [t.format(o=o) for t in _AGAINST for o in _OTHERS]
    alone = [p.strip() for p in _ALONE.split("|")]
    then = [p.strip() for p in _THEN.split("|")]
    return frozenset(normalize(p) for p in asked + alone), frozenset(normalize(p) for p in then)


@functools.cache
def _vocabulary() -> frozenset[str]:
    """The words the phrasings are written with, besides the slot, and the form around them."""
    first, then = _phrasings()
    return (words_of(first | then) | vocabulary() | {REF}) - {TOOL}


# Where a message asks a second question: a question mark, a semicolon, a full stop, a dash.
_PARTS = re.compile(r"[?;!]\s*|\.\s+|\s+[-\u2013\u2014]+\s+")
_JOIN = frozenset({"or", "and", "nor"})


def _slotted(key: str) -> tuple[str, list[str]]:
    """``key`` with each run of words no phrasing has (the tools named, joined by "or" and
    "and") as the slot, and the tools."""
    known = _vocabulary()
    words, out, tools = key.split(), [], []
    i = 0
    while i < len(words):
        if words[i] in known:
            out.append(words[i])
            i += 1
            continue
        run: list[str] = []
        while i < len(words) and (
            words[i] not in known or (words[i] in _JOIN and run and i + 1 < len(words)
                                      and words[i + 1] not in known)
        ):
            run.append(words[i])
            i += 1
        tools += [" ".join(t) for t in _split(run)]
        out.append(TOOL)
    return " ".join(out), tools


def _split(run: list[str]) -> list[list[str]]:
    found: list[list[str]] = [[]]
    for w in run:
        if w in _JOIN:
            found.append([])
        else:
            found[-1].append(w)
    return [t for t in found if t]


# A tool's name is a word or a few ("scikit learn", "statsmodels"): a longer run is a clause.
MAX_TOOL_WORDS = 3


# Where a tool is (Python's own): "python's built-in encodings.idna" names encodings.idna,
# "plain datetime" datetime, "python's sorted()" sorted.
_BUILT_IN = re.compile(
    r"\b(?:(?:the|python(?: is| s)?|python 3(?: is| s)?)\s+)?(?:built in|builtin|standard library"
    r"(?: is| s)?|stdlib(?: is| s)?|plain|plain old|regular|vanilla|good old|just plain)"
    r"(?:\s+module)?\s+(?=\w)"
    r"|\bpython(?: 3)?(?: is| s)\s+(?=\w)"  # "python's sorted()"
)

# ... and what kind of thing it is, after its name ("the csv module", "the Digger package").
_KIND_AFTER = re.compile(r"(?<=\w)\s+(?:module|package|library)$")


def asked(text: str, documents: Sequence[str]) -> list[str] | None:
    """The tools ``text`` names (none: it asks of others in general) when it is nothing but why
    the file ``documents`` calls it by, where other tools exist; else None."""
    parts = [p for p in _PARTS.split(as_document(text, documents)) if p.strip(" ,.")]
    if not parts:
        return None
    first, then = _phrasings()
    tools: list[str] = []
    for i, part in enumerate(parts):
        key = _BUILT_IN.sub(" ", _ACCORDING.sub("", normalize(part)))
        key = _KIND_AFTER.sub("", key.strip())
        slotted, named = _slotted(key)
        if slotted in first and (named or TOOL not in slotted.split()):
            tools += named
        elif not (i and tools and key in then):
            return None
    if any(len(t.split()) > MAX_TOOL_WORDS for t in tools):
        return None
    return tools


def fits(answer: str, tools: Sequence[str]) -> bool:
    """Whether ``answer`` names every one of ``tools``."""
    said = f" {normalize(answer)} "
    return all(f" {t} " in said for t in tools)


def request(name: str) -> str:
    """The request an idle period precomputes the answer with, for the file about ``name``."""
    return (
        f"Why {name}, where other tools exist? Name each existing tool or package the document "
        f"compares {name} with and what it says that tool lacks or does differently; then the "
        f"need {name} fills."
    )

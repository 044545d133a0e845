"""What a reader asks of a code file that defines two forms of one thing ("dump" and "dumps",
"stdev" and "pstdev", "sort" and "sort_flat"): how they differ. A module that offers both
invites the question, and its answer is in the file.

Precomputed for at most ``MOST`` such pairs of a file's top-level definitions of one kind (two
functions or two classes; no exception beside its class), and served to a question that is
nothing but the difference between those two names, in either order ("so what's the diff
between load() and loads() in it?", "loads vs load?", "how does fmean differ from mean?").
"""

from __future__ import annotations

import os
import re

PREFIX = "difference:"
MOST = 3

_TOP = re.compile(r"(?m)^(?:async\s+)?(def|class)\s+([A-Za-z]\w*)")
_NOT_A_FORM = re.compile(r"(?:Error|Exception|Warning)$")


def pairs(text: str) -> list[tuple[str, str]]:
    """The pairs of ``text``'s top-level names that are two forms of one thing, the nearest
    first, then in the order the file defines them; at most ``MOST``."""
    kinds: dict[str, str] = {}
    for kind, name in _TOP.findall(text):
        if not _NOT_A_FORM.search(name):
            kinds.setdefault(name, kind)
    names = list(kinds)
    found = [
        (x, y)
        for i, x in enumerate(names)
        for y in names[i + 1 :]
        if kinds[x] == kinds[y] and _alike(x.lower(), y.lower())
    ]
    # the nearest first: "stdev" / "pstdev" before "median" / "median_grouped"
    found.sort(key=lambda pair: abs(len(pair[0]) - len(pair[1])))
    return found[:MOST]


def _alike(x: str, y: str) -> bool:
    """One name is the other with a little more: after it ("dump" / "dumps", "sort" /
    "sort_flat"), a letter or two before it ("stdev" / "pstdev"), or another ending of a
    long stem ("decorate" / "decorator")."""
    short, long_ = sorted((x, y), key=len)
    if len(short) < 3 or short == long_:
        return False
    extra = len(long_) - len(short)
    if (long_.startswith(short) and extra <= 10) or (long_.endswith(short) and extra <= 2):
        return True
    common = len(os.path.commonprefix([x, y]))  # noqa: RUF071 (letters, not a path)
    return common >= 5 and len(long_) - common <= 2


def intent(a: str, b: str) -> str:
    """The intent of the difference between ``a`` and ``b``, whichever is named first."""
    return PREFIX + "|".join(sorted((a, b)))


def is_difference(name: str | None) -> bool:
    return name is not None and name.startswith(PREFIX)


def pair_of(name: str) -> tuple[str, str]:
    """The two names of the difference intent ``name``."""
    a, b = name.removeprefix(PREFIX).split("|")
    return a, b


def request(a: str, b: str, subject: str) -> str:
    """The request an idle period precomputes the difference's answer with."""
    return f"What is the difference between `{a}` and `{b}` in {subject}? Say when to use each."


_FILLER = r"(?:(?:hey|hi|so|ok|okay|and|quick q(?:uestion)?)[,:!-]?\s+)*"
_HERE = (
    r"(?:\s+(?:here|in (?:it|here|this (?:file|module|code|library|package|script)|the "
    r"(?:file|module|code)))|\s+for me)?"
)
_ASKS = (
    r"(?:what(?:'s| is| are)?|whats) (?:the |a )?(?:main |key |real |actual |exact )?"
    r"(?:difference|differences|diff) between {x} and {y}",
    r"(?:the )?(?:difference|differences|diff) between {x} and {y}",
    r"how (?:does|do) {x} differ from {y}",
    r"how do {x} and {y} differ",
    r"how (?:is|are) {x} different (?:from|to|than) {y}",
    r"how are {x} and {y} different",
    r"what distinguishes {x} from {y}",
    r"{x} (?:vs\.?|versus) {y}",
)


def asked(text: str, offered: list[tuple[str, str]]) -> str | None:
    """The difference intent of ``offered`` (a file's pairs) that ``text`` is nothing but,
    or None."""
    lowered = " ".join(text.lower().split())
    for a, b in offered:
        for x, y in ((a, b), (b, a)):
            names = {"x": _called(x), "y": _called(y)}
            for form in _ASKS:
                body = form.format(**names)
                if re.fullmatch(rf"{_FILLER}{body}{_HERE}\s*[?.!]*", lowered):
                    return intent(a, b)
    return None


def _called(name: str) -> str:
    """``name`` as a reader writes it: in backticks or not, with "()" or not, "the" before
    and its kind after it maybe."""
    kind = r"(?:\s+(?:function|method|class|functions|methods|classes))?"
    return rf"(?:the\s+)?`?{re.escape(name.lower())}(?:\(\))?`?{kind}"

"""Questions that ask for a narrower case of another: the words one adds to the other.

When one question is the other with words added, the judge decides whether they change what is
asked, and a small model often says they do not when they do. Some shapes always narrow what is
asked, and the rules veto them before the judge is asked: a word put right before a word both
hold ("a white leather sofa", "my aunt's password"), or a clause after the whole question that
says for what, where or when ("... each day to gain weight"), and a part of the thing asked
about ("just the filter").
"""

from __future__ import annotations

import difflib
import re

from sleepchat.core.recall.lined_up import owners
from sleepchat.core.recall.question import Question
from sleepchat.core.recall.wordlists import FILLER, INTERJECTIONS, MARKERS

# Words that, right before another, do not make it a kind of itself: hedges and intensifiers
# ("how do I even ask", "super tight").
_NOT_NARROWING = FILLER | INTERJECTIONS | {"even", "just", "ever", "still", "pretty", "super"}

_END = frozenset({"?", "!", "."})


# Closing phrases that hedge or ask how to answer, not what: "..., in short?", "... at all?"
_STOCK_ENDINGS = frozenset(
    {
        "in short", "in brief", "in a nutshell", "in practice", "in theory", "on average",
        "at all", "as a rule", "in real life", "if anyone knows", "for example", "for instance",
    }
)  # fmt: skip


def _purpose(added: list[str], content: set[str], other: list[str]) -> bool:
    """Words added after the whole of the other question that say for what, where or when
    ("... each day to gain weight", "... after a workout with a sore knee"): a preposition or
    "to" and then a word of substance the other question does not hold anywhere."""
    words = [w for w in added[1:] if w in content and w not in _NOT_NARROWING]
    return (
        added[0] in MARKERS
        and " ".join(added) not in _STOCK_ENDINGS
        and bool(words)
        and not set(words) & set(other)
    )


def _unclosed(words: list[str]) -> list[str]:
    """``words`` without the marks that close the question."""
    end = len(words)
    while end and words[end - 1] in _END:
        end -= 1
    return words[:end]


def narrowed(a: Question, b: Question) -> str:
    """The words one question adds that narrow what the other asks ("" when there are none):
    words right before a content word both hold ("a white leather sofa", "sweet potatoes", "my
    aunt's password") ask of a kind of that thing, and so does a clause after the whole
    question (``_purpose``). Words added at the start, ending in a function word ("am I
    supposed to brush"), moved from elsewhere in the other ("a passport for Canada" / "a Canada
    passport") or a verb after a preposition ("without using an oven") leave it as asked."""
    short, long_ = sorted((a, b), key=lambda q: len(q.raw))
    content = {t.surface for t in long_.tokens}
    shared = content & {t.surface for t in short.tokens}
    x, y = _unclosed(short.raw), _unclosed(long_.raw)
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes():
        if tag == "insert" and j1 > 0 and j2 == len(y) and _purpose(y[j1:], content, x):
            return " ".join(y[j1:])
        if tag != "insert" or j1 == 0 or j2 >= len(y):
            continue
        added, last = y[j1:j2], y[j2 - 1]
        if last == "is" and len(added) > 1 and added[-2] in owners(long_.text):
            added, last = [*added[:-2], added[-2] + "'s"], added[-2]  # read as "child is"
        if last not in content or last in _NOT_NARROWING or y[j2] not in shared:
            continue
        if set(added) & set(x) or (y[j1 - 1] in MARKERS and last.endswith("ing")):
            continue
        return " ".join(added)
    return ""


# "Just the filter", "only my photos": a part of the thing, or some of them, not the whole.
_ONLY = re.compile(r"\b(?:just|only) (?:the|my|your|our|this|these|those) \w+")


def restricted(a: str, b: str) -> str:
    """The part one question restricts itself to that the other does not ("how do I clean the
    dishwasher" / "... just the filter"): "" when both or neither do."""
    found = [_ONLY.search(text.lower()) for text in (a, b)]
    if bool(found[0]) == bool(found[1]):
        return ""
    return next(m.group(0) for m in found if m)

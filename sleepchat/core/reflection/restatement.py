"""A predicted question that restates one already asked, behind padding.

Small models "predict" the question the user just asked and got answered, padded so the word
check no longer sees the repeat: a generic goal ("What index should I add to optimize the query
performance?" after "What index should I add?"), a filler ("specifically", "in my case", "based
on your advice"), examples that do not narrow the need (", such as adding water or adjusting
the temperature?"). Its answer would repeat the one given: a wasted slot of the idle period.
Only padding that asks for nothing new is taken off before comparing; a condition that
narrows the need ("without a starter", "for a 50M row table") stays, and keeps the question.
"""

from __future__ import annotations

import re

from sleepchat.core.recall import lexical_similarity
from sleepchat.core.recall.verify import Verdict

_GOAL = (
    r"(?:optimi[sz]e|improve|enhance|boost|maximi[sz]e|increase|ensure|achieve|get|have|speed up)"
)
_OWNER = r"(?:the|my|our|its|their|your|a|an)"
_BETTER = r"(?:best|better|good|great|overall|optimal|maximum|desired)"
_RESULT = r"(?:performance|efficiency|results?|outcomes?|quality|success|experience|speed)"
_PADDING = re.compile(
    # a generic goal: ", to improve the overall query performance", "for better results"
    rf",?\s*\b(?:in order |so as )?to {_GOAL}(?: {_OWNER})?(?: {_BETTER})?(?: [\w-]+)?"
    rf" {_RESULT}\b(?: of (?:{_OWNER} )?[\w-]+)?|"
    rf",?\s*\bfor (?:{_OWNER} )?{_BETTER} {_RESULT}\b|"
    # the answer it came from: "based on your advice", "that you mentioned"
    r",?\s*\b(?:based on|according to|following|given) (?:your|the|this) (?:advice|answer|"
    r"suggestions?|recommendations?|explanation|response|tips?)\b|"
    r"\b(?:that|which) you (?:mentioned|suggested|recommended|described)\b|"
    # fillers
    r",?\s*\b(?:in|for) (?:my|this|our) (?:specific |particular |own )?(?:case|situation)\b|"
    r"\b(?:specifically|exactly|precisely|actually|really|particular|specific)\b|"
    # examples after the need: ", such as X or Y?", ", like X?"
    r",\s*(?:such as|like|e\.g\.|for example|including)\b[^?]*(?=\?\s*$)",
    re.IGNORECASE,
)
# As close as the gate's repeat check asks, after the padding is off.
SIMILAR = 0.6


def without_padding(question: str) -> str:
    """The question with the padding that asks for nothing new taken off."""
    return " ".join(_PADDING.sub(" ", question).split()).replace(" ?", "?")


def restates(question: str, asked: str) -> bool:
    """``question`` asks what ``asked`` asked, once its padding is off."""
    stripped = without_padding(question)
    return stripped != question and lexical_similarity(stripped, asked) >= SIMILAR


# The word rules' vetoes that name another need, not another wording: a negation, another
# person, a narrower or broader scope, a word spelt alike, a word in another role ("turn it on"
# / "turn it off"); numbers, units and particles unpaired. Not another question kind: a
# rewording often changes it ("How can I…" / "What is the way to…").
_ANOTHER_NEED = ("negation", "person ", "scope", "spelt alike", "role of")


# "What happens if I run it" and "… when I run it" are one need, though recall keeps them
# apart (a condition is not a time).
_CONDITION = re.compile(r"role of '[^']*': (?:if / when|when / if)$")


def another_need(verdict: Verdict) -> bool:
    """The rules compared two questions and found they ask for different things."""
    if verdict.same or _CONDITION.search(verdict.reason):
        return False
    structural = verdict.reason.startswith("words") and not verdict.judge
    return structural or verdict.reason.startswith(_ANOTHER_NEED)

"""Follow-ups that leave out what the conversation already says.

A prediction is written out in full ("Should I lube the bike chain after degreasing it?"); the
user, who knows the conversation, types it short ("should I lube it?", "should I do that?").
Without the conversation the two ask different things (the short one is broader: the rules
veto it or the judge refuses it), and so on real conversations such follow-ups were never
served. In the conversation they may ask the same.

The rules decide only that a pair is such an ellipsis: the same kind of question (or a
fragment), the same negations, no tense, modal or speaker of its own, and every word the
prediction adds, or the short question has of its own, one the last exchange used (or a light
one: "still", "just", "ok"). Whether the short question means the long one there (and not
another option the answer named, or the whole of which the prediction asks a part) is the
judge's, shown the last exchange, at a level calibrated on labelled pairs in an exchange: above
every look-alike asked in one, whether these rules let it through or not (a model without that
level judges the pair as any other, out of the exchange).
"""

from __future__ import annotations

from collections.abc import Sequence

from sleepchat.core.models import Message
from sleepchat.core.recall.question import stem
from sleepchat.core.recall.verify import Verifier

KIND = "context"  # the judge's calibrated kind for these pairs
# Labelled pairs asked in an exchange that the rules do not let through: judged in it all the
# same when calibrating, their look-alikes bound the level of the kind above.
BOUND = "context, not left out"
# The last exchange's words are read from this much of each message: an answer's start holds
# what it is about, and a long one would lend its words to any prediction.
CHARS = 1500
STEM = 5  # letters two words made from one stem share at least, to count as one word said
# Words that point back at the conversation ("push the changes there instead"): said by the
# exchange whether or not it used them.
POINTING = frozenset({"ther", "her", "instead"})  # stems: there, here, instead
# Words that say how or when, not what ("still safe", "just stir it back in", "ok to wait"):
# a prediction adds them, a short question drops or adds them, and neither asks another thing.
_LIGHT = """
    still once just back okay ok enough need usually typically realistically actually really
    ever already yet first then now later right away even also
"""
LIGHT = frozenset(stem(w) for w in _LIGHT.split())
SPEAKERS = frozenset({"i", "you"})  # a question of one's own against one of the other's


def last_exchange(history: Sequence[Message]) -> tuple[str, ...]:
    """The last reply and the user's message it answered (none before a first reply)."""
    talk = [m for m in history if m.role in ("user", "assistant") and m.content.strip()]
    if not talk or talk[-1].role != "assistant":
        return ()
    asked = [m.content for m in talk[-2:-1] if m.role == "user"]
    return (*asked, talk[-1].content)


def context_words(verifier: Verifier, messages: Sequence[str]) -> frozenset[str]:
    """The word stems the last exchange used."""
    out: set[str] = set()
    for text in messages:
        out |= {t.word for t in verifier.parse(text[:CHARS]).tokens}
    return frozenset(out)


def left_out(verifier: Verifier, predicted: str, asked: str, said: frozenset[str]) -> bool:
    """Whether ``asked`` is ``predicted`` with words of the last exchange (``said``) left out,
    for the judge to weigh in that exchange: the same kind of question (or a fragment), the
    same negations, no tense, modal or speaker of its own, and every word it lacks or adds
    one the exchange used (or a light one)."""
    p, a = verifier.parse(predicted), verifier.parse(asked)
    if p.negations != a.negations or a.tenses - p.tenses:
        return False
    if a.kind not in (p.kind, "other") or a.modal not in (None, p.modal):
        return False
    if (a.persons - p.persons) & SPEAKERS or (a.possessors - p.possessors) & SPEAKERS:
        return False
    mine, theirs = {t.word for t in p.tokens}, {t.word for t in a.tokens}
    added = mine - theirs
    return bool(added) and all(w in LIGHT or _said(w, said) for w in added | theirs - mine)


def _said(word: str, said: frozenset[str]) -> bool:
    """The exchange used ``word`` or a word made from it ("degreasing" after "degreaser"):
    only where the judge is asked, so a shared stem of five letters is enough."""
    if word in said or word in POINTING:
        return True
    if len(word) < STEM:
        return False
    return any(w.startswith(word) or word.startswith(w) for w in said if len(w) >= STEM)

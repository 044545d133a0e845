"""The markers that govern a question's words ("in", "to", "for", "on", "if"), where two
questions give one word different ones: a reversal that makes another question ("from Rome" /
"to Rome"), or a rewording that drops or trades one ("a trip in winter" / "a winter trip", "if
I travel for work" / "when I travel for work", "the latch on a gate" / "a gate latch"). Used by
the verifier (``verify.py``) once the words line up."""

from __future__ import annotations

from sleepchat.core.recall.question import Question, Token
from sleepchat.core.recall.wordlists import DETERMINERS

_ONE_DETERMINER = [[w] for w in sorted(DETERMINERS)]


# Markers that say the opposite of each other about the word they govern.
_OPPOSITE = frozenset(
    frozenset(pair)
    for pair in (
        ("before", "after"), ("to", "from"), ("with", "without"), ("above", "below"),
        ("over", "under"), ("in", "out"), ("into", "from"), ("for", "against"),
    )
)  # fmt: skip


def opposite_roles(a: list[Token], b: list[Token]) -> str:
    """A word both questions hold once, governed by opposite markers ("swim after eating" /
    "swim before eating", "from Rome" / "to Rome"): another question whatever the other words
    ("" when none). Checked where not every word pairs, so a judge never sees it."""
    for t in a:
        same = [u for u in b if u.word == t.word]
        once = len(same) == 1 and sum(x.word == t.word for x in a) == 1
        if once and frozenset({t.role, same[0].role}) in _OPPOSITE:
            return f"role of {t.surface!r}: {t.role} / {same[0].role}"
    return ""


# Markers a rewording drops as it makes the word a modifier or the subject ("a trip in winter" /
# "a winter trip", "for a beginner, how ..." / "how ... a beginner"). Not "from", "to", "on",
# "of": "paint from wood" / "wood paint" ask other things ("on" and a possessive's "of" only
# where ``modifier_marked`` says).
_DROPPABLE = frozenset({"in", "with", "for", "as", "by", "if", "at", "during"})
# The two markers that set the case a question asks of, one for the other.
_CONDITION = frozenset({"if", "when"})


def role_dropped(a: list[Token], b: list[Token], moved: list[tuple[Token, Token]]) -> bool:
    """Every word whose marker differs has a droppable one on one side only, and no marker went
    to another word ("Kelvin to Celsius" / "Celsius to Kelvin"): a rewording the words
    alone cannot tell ("with CSS" / "in CSS" is not: "wine with fish" / "wine in fish")."""
    roles_a, roles_b = {t.role for t in a}, {u.role for u in b}
    for t, u in moved:
        if frozenset({t.role, u.role}) == _CONDITION and not {t.role, u.role} & (roles_a & roles_b):
            continue  # "if I travel for work" / "when I travel for work": the case it asks of
        if _for_doing(t, u, moved) or _for_doing(u, t, [(y, x) for x, y in moved]):
            continue  # "the deadline to file" / "the deadline for filing": what it is for
        marker, other = (t.role, roles_b) if t.role else (u.role, roles_a)
        if (t.role and u.role) or marker not in _DROPPABLE or marker in other:
            return False
    return True


def _for_doing(t: Token, u: Token, moved: list[tuple[Token, Token]]) -> bool:
    """``t`` is marked "to" and ``u`` "for", both of a verb's phrase, "to V" in one question
    and "for V-ing" in the other ("to file my taxes" / "for filing my taxes")."""
    if (t.role, u.role) != ("to", "for"):
        return False
    verbs = [x for x, y in moved if (x.role, y.role) == ("to", "for") and y.surface.endswith("ing")]
    return any(
        v.word == t.word or (v.clause == t.clause and v.position < t.position) for v in verbs
    )


def modifier_marked(a: Question, b: Question, moved: list[tuple[Token, Token]]) -> bool:
    """The words whose marker differs name, before a noun on one side, what that noun is on or
    whose it is ("gate latch", "kids bike chain", "a wardrobe's depth"), and after it on the
    other, marked so and ending its phrase ("the latch on a gate", "the depth of a
    wardrobe"). "Of" only for a possessive: "a cocoa mug" is no "mug of cocoa"."""
    for side in (0, 1):
        mods = sorted((pair[side] for pair in moved), key=lambda x: x.position)
        marked = sorted((pair[1 - side] for pair in moved), key=lambda x: x.position)
        near, far = (a, b) if side == 0 else (b, a)
        marker = marked[0].role
        if marker not in ("on", "of") or any(x.role != marker for x in marked):
            continue
        start = mods[0].position
        if [m.position - start for m in mods] != list(range(len(mods))):
            continue
        if any((m.clause, m.role) != (mods[0].clause, mods[0].role) for m in mods):
            continue
        nouns = _noun_after(near, mods[-1], possessive=marker == "of")
        run = [m.surface for m in mods] + (["is"] if marker == "of" else []) + nouns
        ends = next((x for x in far.tokens if x.position == marked[-1].position + 1), None)
        if not nouns or not _found(near.raw, [run]):
            continue
        if ends is not None and (ends.clause, ends.role) == (marked[-1].clause, marker):
            continue
        tail = [x.surface for x in marked]
        runs = [[*nouns, marker, *det, *tail] for det in ([], *_ONE_DETERMINER)]
        if any(_a_things(far.raw, i, near.raw, run[0]) for i in _found(far.raw, runs)):
            return True
    return False


def _found(raw: list[str], runs: list[list[str]]) -> list[int]:
    """Where in ``raw`` one of ``runs`` starts, word after word."""
    return [i for run in runs for i in range(len(raw)) if raw[i : i + len(run)] == run]


def _a_things(raw: list[str], at: int, near: list[str], first: str) -> bool:
    """The noun at ``at`` is a thing named with a determiner ("the latch on a gate", "a loose
    hinge on the shed door"), past the words that stand before the other side's modifier
    (``first``) too: "on a ferry" after "take snacks" says where they are taken."""
    before = near[: near.index(first)] if first in near else []
    while at and before and raw[at - 1] == before[-1] and raw[at - 1] not in DETERMINERS:
        at, before = at - 1, before[:-1]
    return at > 0 and raw[at - 1] in DETERMINERS


def _noun_after(q: Question, t: Token, *, possessive: bool) -> list[str]:
    """The words of the noun right after ``t`` (past a possessive's "is"), to its phrase's end."""
    words = [x for x in q.tokens if x.position > t.position and x.clause == t.clause]
    out: list[str] = []
    for i, x in enumerate(words):
        if x.kind != "word" or x.position != t.position + 1 + i:
            break
        if x.role != (words[0].role if possessive else t.role):
            break
        out.append(x.surface)
    return out


def noun_modifier(a: Question, b: Question, t: Token, u: Token) -> bool:
    """The -s that differs is no count: without it the word modifies the noun right after it
    on its side ("kitchen tile grout"), where a noun stands in the singular whatever the
    number; with it, it follows that noun on the other, marked ("the grout on kitchen
    tiles"), and no noun comes after it ("walnut trees" / "walnuts" stays)."""
    for one, side, many, other in ((t, a, u, b), (u, b, t, a)):
        if one.surface.endswith("s") or not many.surface.endswith("s"):
            continue
        head = _head_after(side, one)
        if head is None or _head_after(other, many) is not None or not many.role:
            continue
        if any(x.word == head.word and x.position < many.position and x.role != many.role
               for x in other.tokens):
            return True
    return False


def _head_after(q: Question, t: Token) -> Token | None:
    """The word of ``t``'s phrase right after it, if one is."""
    after = next((x for x in q.tokens if x.position == t.position + 1), None)
    if after is None or after.kind != "word" or (after.clause, after.role) != (t.clause, t.role):
        return None
    at = [i for i, w in enumerate(q.raw[:-1]) if w == t.surface]
    return after if at and all(q.raw[i + 1] == after.surface for i in at) else None

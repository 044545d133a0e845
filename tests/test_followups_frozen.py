"""The frozen test set of follow-up intents (tests/data/followup_intents_test.jsonl).

Written before the catalogue (``sleepchat/core/recall/followups.py``) and never read while
writing or tuning it: phrasings of each intent in words the catalogue was not written from,
and look-alikes that must not match (an intent word about another subject, an intent plus
another request, a part of the answer, a negation, an ambiguous word). The hash keeps it
frozen: a change to the set is a new set, and figures measured on the old one say so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "followup_intents_test.jsonl"
FROZEN_SHA256 = "bedf5787f2f020f3ede985559256d03ab15bf03ce575ffb144cdda93d9f93df9"


def rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]


def test_the_test_set_is_frozen() -> None:
    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == FROZEN_SHA256


def test_the_set_has_both_sides() -> None:
    data = rows()
    positives = [r for r in data if r["intent"]]
    assert len(positives) >= 80 and len(data) - len(positives) >= 60


def test_the_catalogue_on_the_frozen_set() -> None:
    """Measured once, before any miss was read: 68/87 phrasings recognised as their intent
    (30/49 of those not written verbatim in the catalogue), none as another intent, 0/68
    look-alikes. Every look-alike must stay unmatched; recall has a margin below 68/87."""
    from sleepchat.core.recall.followups import match

    data = rows()
    positives = [r for r in data if r["intent"]]
    found = [(r, match(str(r["text"]))) for r in data]
    matched_lookalikes = [r["text"] for r, m in found if m is not None and not r["intent"]]
    wrong = [r["text"] for r, m in found if m is not None and r["intent"] and m.name != r["intent"]]
    right = sum(1 for r, m in found if m is not None and m.name == r["intent"])
    assert matched_lookalikes == []
    assert wrong == []
    assert right / len(positives) >= 0.7


# The brief's own examples of look-alikes, quoted in the issue before the set was written.
FROM_THE_ISSUE = {
    "shorter ways to cook rice?",
    "why is the sky blue?",
    "give me an example of a closure in rust",
    "make the function shorter and add types",
    "why is my code slow?",  # in tests/test_recall.py before the set was written
}
SHORTEST = 4  # words: "tell me more" or "why?" is any catalogue's, not a quote


def _strings(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        " ".join(n.value.lower().split())
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_no_code_or_test_quotes_a_message_of_the_set() -> None:
    """The set stays held out: no string in sleepchat/ or tests/ is one of its messages (the
    catalogue's own phrasings aside: a phrasing the catalogue needs may coincide, and the
    figure above says how many do; and the shortest messages, which any text may hold)."""
    root = Path(__file__).parent.parent
    texts = {" ".join(str(r["text"]).lower().split()) for r in rows()} - FROM_THE_ISSUE
    texts = {t for t in texts if len(t.split()) >= SHORTEST}
    catalogue = root / "sleepchat" / "core" / "followups.py"
    quoted = {}
    for path in [*root.glob("sleepchat/**/*.py"), *root.glob("tests/**/*.py")]:
        if path in (catalogue, Path(__file__)):
            continue
        found = _strings(path) & texts
        if found:
            quoted[str(path.relative_to(root))] = sorted(found)
    assert quoted == {}

"""The frozen test set of follow-up intents (tests/data/followup_intents_test.jsonl).

Written before the catalogue (``sleepchat/core/followups.py``) and never read while writing or
tuning it: phrasings of each intent in words the catalogue was not written from, and look-alikes
that must not match (an intent word about another subject, an intent plus another request, a
part of the answer, a negation, an ambiguous word). The hash keeps it frozen: a change to the set
is a new set, and figures measured on the old one say so.
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

"""How much sleep compute to spend on predictions (issue 10, item 5).

The Sleep-time Compute paper's open problem: precomputing answers pays only when the next
question is predictable. Per session we keep the outcome of each question asked while
predictions were there — a hit, a near miss (the recall's hint-level score, or a match with a
question whose answer was not precomputed) or a miss — and choose the level of the next
reflection from the recent ones:

* ``answers``: questions and their answers (the full cost);
* ``questions``: questions only (a few tokens; they still show whether hits would come);
* ``none``: no prediction work, except a questions-only probe every ``PROBE_EVERY``
  reflections, so a conversation that becomes predictable is noticed.

Notes and the warm-up run at every level: they pay without hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sleepchat.core.models import TolerantRecord

PredictSetting = Literal["auto", "always", "never"]
Level = Literal["answers", "questions", "none"]
Outcome = Literal["hit", "near", "miss"]

WINDOW = 6  # recent outcomes that decide
# Outcomes needed before spending less: two plain misses. Cheap to be wrong about: questions
# are still predicted, and one that would have hit (a hit lost) brings answers back at once.
MIN_EVIDENCE = 2
NONE_AFTER = 8  # misses in a row (at least) before even questions stop
PROBE_EVERY = 3  # at level none, every third reflection still predicts questions
KEPT = 20  # outcomes kept on record


@dataclass
class PolicyState(TolerantRecord):
    """One session's record: recent outcomes (oldest first) and reflections since a probe."""

    outcomes: list[Outcome] = field(default_factory=list)
    since_probe: int = 0

    def __post_init__(self) -> None:
        self.outcomes = self.outcomes[-KEPT:]
        self.since_probe = max(0, self.since_probe)

    def with_outcome(self, outcome: Outcome) -> PolicyState:
        return PolicyState([*self.outcomes, outcome][-KEPT:], self.since_probe)


def misses_in_a_row(outcomes: Sequence[str]) -> int:
    n = 0
    for o in reversed(outcomes):
        if o != "miss":
            break
        n += 1
    return n


def level(setting: PredictSetting, state: PolicyState) -> Level:
    """The prediction work of the next reflection."""
    if setting == "always":
        return "answers"
    if setting == "never":
        return "none"
    recent = state.outcomes[-WINDOW:]
    if len(recent) < MIN_EVIDENCE or any(o != "miss" for o in recent):
        return "answers"
    if misses_in_a_row(state.outcomes) < NONE_AFTER:
        return "questions"
    return "questions" if state.since_probe + 1 >= PROBE_EVERY else "none"


def after_reflection(state: PolicyState, ran: Level) -> PolicyState:
    """The state after a reflection that did ``ran`` (a probe resets the count)."""
    return PolicyState(list(state.outcomes), 0 if ran != "none" else state.since_probe + 1)

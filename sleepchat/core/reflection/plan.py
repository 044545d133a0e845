"""How much of a reflection fits the idle period, from measured speed (issue 20, item 2).

A request cut by a key loses what a structured step had written (notes, questions), and the
first idle periods of a slow model were spent that way: 5 of 6 cut before a question was
stored. So each reflection is planned for the idle period it will likely get:

* the idle period: how long this user stayed away before (this session's idle periods that a
  message ended: the median of the latest five), else ``idle_seconds`` but at least
  ``FIRST_GUESS`` (having waited that long, the user is as likely as not to stay as long
  again);
* the model's speed on this machine (``core/speed.py``): decode tokens/s, a request's fixed
  cost, the warm-up's time and each step's usual output.

Steps are fitted in the order they run: the notes (their request's ceiling lowered to what
fits; none below ``MIN_NOTES``), whole follow-up answers that fit, then the largest number of
questions whose whole answers fit too. When not even one whole answer fits, one question is
asked and its answer gets what time is left (kept and continued by the next idle period), or
none: the answer waits for the next idle period. A model never measured is not planned.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from sleepchat.core.models import Message, Reflection
from sleepchat.core.speed import ModelSpeed

SAFETY = 0.85  # of the idle period planned: the rest absorbs noise in the measured speeds
MIN_NOTES = 48  # tokens: a notes request smaller than this finishes no fact worth its prefill
MIN_ANSWER = 48  # tokens: nor an answer's slice
QUESTION_TOKENS = 28  # one predicted question, until measured
QUESTIONS_FIXED = 12  # the list's own JSON
DEFAULT_REQUEST_S = 1.0  # a request's fixed cost, until measured
WINDOWS = 5  # latest idle periods that decide
FIRST_GUESS = 20.0  # seconds: the idle period assumed before any was seen


@dataclass(frozen=True)
class Plan:
    seconds: float  # the idle period planned for
    decode: float  # tokens/s
    notes_tokens: int  # the notes request's ceiling (0: no notes this time)
    sections: int  # sections of a long attached document to study
    followups: int  # whole follow-up answers
    questions: int  # questions to ask for
    # Each answer's share of this idle period: None, whole answers; 0, the answers wait for
    # the next idle period; else a slice, kept and continued by the next.
    answer_tokens: int | None

    def describe(self) -> str:
        answers = (
            "whole answers"
            if self.answer_tokens is None
            else f"answers ≤ {self.answer_tokens} tokens each"
            if self.answer_tokens
            else "answers next time"
        )
        parts = [
            f"notes ≤ {self.notes_tokens} tokens" if self.notes_tokens else "no notes",
            _count(self.sections, "document section") if self.sections else "",
            _count(self.followups, "follow-up") if self.followups else "",
            f"{_count(self.questions, 'question')}, {answers}"
            if self.questions
            else "no questions",
        ]
        said = ", ".join(p for p in parts if p)
        return f"{self.seconds:.0f} s at {self.decode:.1f} tok/s: {said}"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def idle_seconds(
    reflections: Sequence[Reflection], history: Sequence[Message], default: float
) -> float:
    """How long the user will likely stay away: the median of this session's latest idle
    periods that a message ended (the time its reflections ran), else ``default``."""
    asked = sorted(m.created for m in history if m.role == "user")
    periods: dict[int, list[Reflection]] = {}
    for r in reflections:
        if r.status in ("done", "cancelled") and r.ms > 0:
            after = sum(1 for t in asked if t <= r.started)
            periods.setdefault(after, []).append(r)
    seen = [
        sum(r.ms for r in group) / 1000.0
        for after, group in sorted(periods.items())
        if after < len(asked) and max(group, key=lambda r: r.started).status == "cancelled"
    ][-WINDOWS:]
    return statistics.median(seen) if len(seen) >= 2 else max(default, FIRST_GUESS)


def typical_reply(history: Sequence[Message], cap: int | None) -> int:
    """Tokens of a whole answer in this conversation (its replies' median), within the cap."""
    sizes = [m.completion_tokens for m in history if m.role == "assistant" and m.completion_tokens]
    typical = int(statistics.median(sizes)) if sizes else (cap or 300)
    return min(typical, cap) if cap else typical


def plan(
    speed: ModelSpeed,
    seconds: float,
    *,
    notes: bool,
    revalidate: bool,
    followups: int,
    questions: int,
    reply_tokens: int,
    notes_ceiling: int,
    sections: int = 0,
    answering: bool,
    can_continue: bool,
    continuing: bool = False,
) -> Plan | None:
    """The work that fits ``seconds`` at ``speed``; None for a model never measured.
    ``answering``: the questions' answers are computed too (the prediction policy's level).
    ``can_continue``: the backend goes on from a cut answer (else an answer is given whole or
    not started). ``continuing``: only answers are left (an unchanged conversation): one gets
    at least ``MIN_ANSWER`` tokens, so an idle period always moves them on."""
    decode = speed.decode
    if not decode:
        return None
    request = speed.request_s if speed.request_s is not None else DEFAULT_REQUEST_S

    def cost(tokens: float) -> float:
        return request + tokens / decode

    def fits(seconds_left: float) -> int:
        return max(0, int((seconds_left - request) * decode))

    left = seconds * SAFETY - (speed.warm_s or 0.0)
    section = cost(speed.step_tokens.get("section", 40.0))

    def studied(seconds_left: float) -> int:
        return min(sections, max(1, int(seconds_left / 2 / section))) if sections else 0

    if continuing:
        n_sections = studied(left)
        left -= n_sections * section
        part = fits(left)
        slice_ = None if part >= reply_tokens or not can_continue else max(MIN_ANSWER, part)
        return Plan(seconds, decode, 0, n_sections, 0, questions, slice_)
    if revalidate:
        left -= cost(speed.step_tokens.get("revalidate", 40.0))
    notes_tokens = 0
    if notes:
        notes_tokens = min(notes_ceiling, fits(left))
        notes_tokens = notes_tokens if notes_tokens >= MIN_NOTES else 0
        if notes_tokens:
            left -= cost(min(notes_tokens, speed.step_tokens.get("notes", notes_tokens)))
    n_sections = studied(left)
    left -= n_sections * section
    whole = cost(reply_tokens)
    n_followups = 0
    answer_cost = whole if answering else 0.0
    while n_followups < followups and left - whole >= 0:
        n_followups += 1
        left -= whole
    per_question = speed.step_tokens.get("question", QUESTION_TOKENS)
    k, answer_tokens = 0, 0
    for n in range(questions, 0, -1):
        if cost(QUESTIONS_FIXED + per_question * n) + n * answer_cost <= left:
            return Plan(seconds, decode, notes_tokens, n_sections, n_followups, n, None)
    if questions > 0 and (asking := cost(QUESTIONS_FIXED + per_question)) <= left:
        k = 1
        part = fits(left - asking)
        answer_tokens = part if part >= MIN_ANSWER and can_continue else 0
    return Plan(seconds, decode, notes_tokens, n_sections, n_followups, k, answer_tokens)

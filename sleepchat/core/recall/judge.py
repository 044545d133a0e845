"""The recall judge: the chat model decides the pairs the word rules leave open.

The verifier (verify.py, lined_up.py) vetoes what it can see (numbers, negation, direction,
people, tense, whose thing, words spelt alike) and approves pairs that differ in form only; a
pair that differs in content words ("begin" for "start", "get rid of" for "remove", a request
for a question) goes here. The model is asked, in both orders, whether the best reply to one
message answers the other, and the two answers are averaged: asked one way only, a small model
says yes to almost anything worded alike. Once the rules veto the look-alikes that line up,
the mean of the two orders served more rewordings at no look-alike than the lower of the two
did on the labelled pairs (README, Recall); each order is clamped so that one order's
certainty cannot carry the other.

The first order is the cheap one (readied while idle, it prefills only the asked question): where
the calibration says it settles a pair alone (above every look-alike's, or below every served
rewording's), the second is not asked.

A backend's answer is a margin: the log-odds of "yes" over "no" as the reply's first word where
the model's log-probabilities are at hand (the embedded model), else +1 for a yes and -1 for
anything else. A pair is the same only above the level calibrated for that model and that kind
of pair (``calibration.py``): a model or a kind without one is not judged, and recall serves
what the rules alone approve.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Protocol

from sleepchat.core.ports import ChatMessage, ModelOptions, settled
from sleepchat.core.recall.calibration import Calibration, FirstOrder, first_for
from sleepchat.core.recall.in_context import KIND, context_words, left_out
from sleepchat.core.recall.verify import Verifier, judge_kind

# Naming what must not change (object, amount, place, person, platform, purpose) made the
# 1.5B model's "no" firmer on look-alikes than asking whether the two "ask the same thing".
# The instruction comes first and the predicted question right after it in the first order:
# all but the asked question is then known while idle, and a model that keeps what it
# evaluated (the embedded one) prefills only the asked question's few tokens there. The second
# order must show the asked question first: with the predicted one first in both (the
# instruction turned round, or the labels swapped) the 1.5B model served a third as many
# rewordings above every look-alike (README, Recall).
# The system message says what rewording is and what is another question: on the 818 labelled
# tune pairs the 1.5B model then served 174 of 225 rewordings above every look-alike, against
# 147 with "You are a careful assistant." alone (README, Recall).
SYSTEM = (
    "You are a careful assistant. You decide whether two chat messages ask for the same reply. "
    "People word one question in many ways: casual or terse, with typos, abbreviations or "
    "fillers, as a request instead of a question, with synonyms or in another order; those ask "
    "the same thing. Any change to what is asked about (the object, amount, unit, place, time, "
    "person, platform, version, direction, or a negation) asks something else."
)
QUESTION = (
    "Would the best reply to message A also be a complete and correct reply to message B, with "
    "nothing changed (same object, amount, place, person, platform and purpose)? Answer only "
    'yes or no.\nMessage A: "{a}"\nMessage B: "{b}"'
)
# A follow-up that leaves out what the last exchange says (in_context.py) is judged in it: the
# exchange comes first, so what a session's questions share before the asked one stays one
# start. Each message is clipped: the answer's start says what it was about.
IN_CONTEXT = (
    "This is the end of a conversation so far.\nUser: \"{user}\"\nAssistant: \"{reply}\"\n\n"
    "Messages A and B are each what the user might say next. Take each as the user means it "
    "after this exchange. "
)
SHOWN = 600  # characters of each message of the exchange
# Two messages that share no first token: where the questions they end part is where any
# message's tokens begin.
PROBES = ("x", "?")
MAX_CHARS = 400  # longer messages are not judged: a pasted text is not a question to match
# Margins are clamped to +-CEILING before the two orders are averaged (the 1.5B model's
# highest on the labelled pairs was +3.7): a first order so low that even a second at the
# ceiling could not lift the mean above the level ends the judging.
CEILING = 4.0


class YesNo(Protocol):
    """A model asked yes/no questions: for each, how much more likely "yes" is than "no" as the
    first word of its reply (log-odds; +1 / -1 where a server gives no log-probabilities).
    Raises on any failure."""

    async def yes_margins(
        self,
        questions: Sequence[Sequence[ChatMessage]],
        *,
        options: ModelOptions | None = None,
        stop_outside: tuple[float, float] | None = None,
    ) -> list[float]:
        """``stop_outside``: stop after the first margin that ``settled`` says decides."""
        ...

    async def keep_judge_starts(
        self,
        groups: Sequence[Sequence[Sequence[ChatMessage]]],
        *,
        options: ModelOptions | None = None,
        background: bool = True,
    ) -> None:
        """Evaluate now what each group of questions shares at its start, for questions that
        begin with it later (a model without a cache of its own does nothing); ``background``:
        while idle, not for a question waiting."""
        ...


def judge_messages(a: str, b: str, context: Sequence[str] = ()) -> list[ChatMessage]:
    """Whether the best reply to ``a`` also answers ``b``; ``context``: the last exchange (the
    user's message and the reply), when the two are taken as said right after it."""
    question = QUESTION.format(a=a.strip(), b=b.strip())
    if context:
        *before, reply = context
        user = before[-1] if before else ""
        question = IN_CONTEXT.format(user=_clipped(user), reply=_clipped(reply)) + question
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def _clipped(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[:SHOWN].rsplit(" ", 1)[0] + " ..."


def start_groups(
    predicted: Sequence[str], context: Sequence[str] = ()
) -> list[list[list[ChatMessage]]]:
    """What judge questions share before the part asked: the instruction (every question's
    start), then, for each of ``predicted``, the first order's start up to the asked question."""
    groups = [[judge_messages(x, y, context) for x, y in (PROBES, PROBES[::-1])]]
    groups += [[judge_messages(text, probe, context) for probe in PROBES] for text in predicted]
    return groups


def _clamped(margin: float) -> float:
    return max(-CEILING, min(CEILING, margin))


def mean(first: float, second: float) -> float:
    """The pair's margin: the two orders' mean, each clamped."""
    return (_clamped(first) + _clamped(second)) / 2


def bounds(level: float, first: FirstOrder) -> tuple[float, float]:
    """Where a first order settles a pair at ``level``: at or below the low end (too low for any
    second to lift the mean above the level, or where ``first`` rejects) it is not the same
    question; above the high end (where ``first`` accepts) it is."""
    low = 2 * level - CEILING
    if first.reject is not None:
        low = max(low, first.reject)
    return low, math.inf if first.accept is None else first.accept


def verdict(margins: Sequence[float], level: float, first: FirstOrder) -> bool:
    """The pair's verdict from its first order, or both where the first does not settle it."""
    edges = bounds(level, first)
    if margins and settled(margins[0], edges):
        return margins[0] > edges[1]
    if len(margins) != 2:
        raise ValueError(f"the model answered {len(margins)} of 2 questions")
    return mean(*margins) > level


async def judged_same(
    model: YesNo,
    predicted: str,
    asked: str,
    level: float,
    first: FirstOrder,
    options: ModelOptions | None = None,
    context: Sequence[str] = (),
) -> bool:
    """Whether the pair is the same question at ``level``: the second order is asked only when
    the first does not settle it (a clear miss costs one question, not two)."""
    questions = [
        judge_messages(predicted, asked, context),
        judge_messages(asked, predicted, context),
    ]
    edges = bounds(level, first)
    margins = await model.yes_margins(questions, options=options, stop_outside=edges)
    return verdict(margins, level, first)


class ModelJudge:
    """The ``Judge`` port on the chat model, at the levels calibrated for it."""

    def __init__(
        self,
        model: YesNo,
        calibration: Calibration,
        options: ModelOptions | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        if not calibration.usable:
            raise ValueError(f"no calibrated level for {calibration.model}")
        self.model = model
        # The chat's own, unless a question brings the session's: a server keeps the model
        # loaded as it is.
        self.options = options
        self.calibration = calibration
        self.verifier = verifier or Verifier.default()
        self.name = f"{calibration.method} on {calibration.model}"
        self.judges_exchanges = calibration.level(KIND) is not None
        self.calls = 0
        self.spent_ms = 0.0  # what judging cost so far (shown next to what answers cost)

    def kind(self, predicted: str, asked: str, context: Sequence[str] = ()) -> str | None:
        """The pair's calibrated kind; None when the rules decide the pair themselves (a veto
        is never put to the judge). ``context``: the last exchange, for a follow-up that leaves
        out what it says (and nothing else)."""
        if context:
            said = context_words(self.verifier, context)
            return KIND if left_out(self.verifier, predicted, asked, said) else None
        verdict = self.verifier.check(predicted, asked)
        return judge_kind(verdict) if verdict.judge else None

    def level(self, predicted: str, asked: str, context: Sequence[str] = ()) -> float | None:
        """The level for this pair's kind; None when its kind is never judged, or when the
        rules decide the pair themselves."""
        kind = self.kind(predicted, asked, context)
        return None if kind is None else self.calibration.level(kind)

    async def prepare(
        self,
        predicted: Sequence[str],
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> None:
        """While idle: what the questions about each of ``predicted`` share before the asked
        question is evaluated now, so judging a pair later prefills only the asked one (in the
        last exchange too, where ``context`` holds it and that kind is judged)."""
        texts = [p for p in predicted if len(p) <= MAX_CHARS]
        options = options or self.options
        await self.model.keep_judge_starts(start_groups(texts), options=options)
        if context and self.judges_exchanges:
            await self.model.keep_judge_starts(start_groups(texts, context), options=options)

    async def same(
        self,
        predicted: str,
        asked: str,
        answer: str,
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> bool:
        if max(len(predicted), len(asked)) > MAX_CHARS:
            return False
        kind = self.kind(predicted, asked, context)
        level = None if kind is None else self.calibration.level(kind)
        if kind is None or level is None:
            return False
        started = time.perf_counter()
        options = options or self.options
        try:
            # Kept already when prepared while idle; else evaluated now, once for both orders.
            await self.model.keep_judge_starts(
                start_groups([predicted], context), options=options, background=False
            )
            first = first_for(kind, self.calibration.first)
            return await judged_same(
                self.model, predicted, asked, level, first, options, context
            )
        finally:
            self.calls += 1
            self.spent_ms += (time.perf_counter() - started) * 1000

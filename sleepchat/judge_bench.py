"""``sleepchat bench recall --calibrate``: the chat model as recall's judge, on labelled pairs.

Only the pairs the word rules leave to a judge are asked (the others never reach one). The
level stored is the lowest that served no pair labelled different; the report says how many
rewordings that level serves, by class, and what judging costs next to generating an answer.
The pairs shipped for this (``sleepchat/data/recall_tune.jsonl``, and ``context_tune.jsonl`` for
follow-ups asked after an exchange) were read while the word rules and the judge's question were
written: a calibration is a tune figure, and the README's held-out figures come from sets that
were not.
"""

from __future__ import annotations

import dataclasses
import datetime
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from importlib import resources
from typing import IO, TYPE_CHECKING

from sleepchat.core.ports import settled
from sleepchat.core.recall import in_context
from sleepchat.core.recall.calibration import (
    APART,
    KINDS,
    LOG_ODDS,
    MIN_NEGATIVES,
    MIN_SHARE,
    STORE_KEY,
    YES_NO,
    Calibration,
    FirstOrder,
    KindLevel,
    choose_first,
    choose_level,
    first_for,
)
from sleepchat.core.recall.judge import (
    YesNo,
    bounds,
    judge_messages,
    mean,
    start_groups,
    verdict,
)
from sleepchat.core.recall.verify import Verifier, judge_kind
from sleepchat.llm.base import ChatRequest
from sleepchat.recall_bench import Pair, load_all

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.ports import ModelOptions
    from sleepchat.llm.base import BaseBackend

ANSWERS_TIMED = 3  # answers generated to put the judge's cost beside


@dataclass
class Scored:
    pair: Pair
    kind: str  # judge_kind(): each kind has its own level
    first: float  # the first order's margin (the predicted question shown first)
    second: float
    first_ms: float  # what asking each order took
    second_ms: float

    @property
    def margin(self) -> float:
        return mean(self.first, self.second)


def tune_pairs_path(name: str = "recall_tune.jsonl") -> str:
    return str(resources.files("sleepchat.data").joinpath(name))


def method_of(backend: BaseBackend) -> str:
    return LOG_ODDS if backend.name == "local" else YES_NO


async def score_pairs(
    model: YesNo,
    pairs: list[Pair],
    options: ModelOptions | None = None,
    *,
    progress: IO[str] | None = None,
) -> list[Scored]:
    """The model's margin on each pair the word rules leave to a judge."""
    verifier = Verifier.default()
    kinds = [(p, kind_of(verifier, p)) for p in pairs]
    asked = [(p, kind) for p, kind in kinds if kind is not None]
    out: list[Scored] = []
    for n, (pair, kind) in enumerate(asked, 1):
        context = pair.context  # a pair of an exchange is judged in it
        # As a session does: the predicted question is readied while idle, then judged.
        await model.keep_judge_starts(start_groups([pair.predicted], context), options=options)
        # Each order asked alone, and timed: what a session pays depends on whether the first
        # settles the pair.
        margins, times = [], []
        for a, b in ((pair.predicted, pair.asked), (pair.asked, pair.predicted)):
            started = time.perf_counter()
            found = await model.yes_margins([judge_messages(a, b, context)], options=options)
            times.append((time.perf_counter() - started) * 1000)
            if len(found) != 1:
                raise ValueError(f"the model answered {len(found)} of 1 question")
            margins.append(found[0])
        out.append(Scored(pair, kind, margins[0], margins[1], times[0], times[1]))
        if progress is not None and (n % 10 == 0 or n == len(asked)):
            print(f"judged {n} of {len(asked)} pairs", file=progress, flush=True)
    return out


def kind_of(verifier: Verifier, pair: Pair) -> str | None:
    """The kind a session judges the pair as (None: the rules decide it): after its last
    exchange, a follow-up that leaves out what the exchange says is judged in it; any other
    pair asked in an exchange is judged in it too, to bound that kind's level."""
    verdict = verifier.check(pair.predicted, pair.asked)
    if verdict.same:
        return None
    if pair.context:
        said = in_context.context_words(verifier, pair.context)
        shortened = in_context.left_out(verifier, pair.predicted, pair.asked, said)
        return in_context.KIND if shortened else in_context.BOUND
    return judge_kind(verdict) if verdict.judge else None


def kind_levels(scored: Sequence[tuple[str, float, bool]]) -> dict[str, KindLevel]:
    """Each kind's level from (kind, margin, labelled same) of every judged pair."""
    kinds = {}
    for kind in KINDS:
        # asked in an exchange or not: another question, whose margins bound only its own kind
        others = [
            m
            for k, m, same in scored
            if k != kind and not same and (k in APART) == (kind in APART)
        ]
        kinds[kind] = choose_level([(m, same) for k, m, same in scored if k == kind], others)
    return kinds


def calibration_from(key: str, method: str, scored: list[Scored]) -> Calibration:
    found = kind_levels([(s.kind, s.margin, s.pair.same) for s in scored])
    kinds = {
        kind: dataclasses.replace(
            level,
            level=None if level.level is None else round(level.level, 4),
            max_false=None if level.max_false is None else round(level.max_false, 4),
        )
        for kind, level in found.items()
    }
    levels = {kind: k.level for kind, k in kinds.items()}  # a pair bounding one: never served
    # The first order settles pairs out of an exchange alone (a pair in one asks both orders).
    alone = [s for s in scored if s.kind not in APART]
    by_levels = [(s.first, s.pair.same, served_by(s, levels.get(s.kind))) for s in alone]
    chosen = choose_first(by_levels)
    first = FirstOrder(*(None if v is None else round(v, 4) for v in astuple(chosen)))
    judged = [session_ms(s, levels.get(s.kind), first_for(s.kind, first)) for s in scored]
    return Calibration(
        model=key,
        method=method,
        kinds=kinds,
        judge_ms=round(statistics.fmean(judged), 1) if judged else 0.0,
        measured=datetime.date.today().isoformat(),
        first=first,
    )


def served_by(s: Scored, level: float | None, first: FirstOrder | None = None) -> bool:
    return level is not None and verdict([s.first, s.second], level, first or FirstOrder())


def session_ms(s: Scored, level: float | None, first: FirstOrder) -> float:
    """What judging the pair costs a session: nothing for a kind never judged, the first order
    alone where it settles the pair."""
    if level is None:
        return 0.0
    return s.first_ms if settled(s.first, bounds(level, first)) else s.first_ms + s.second_ms


async def answer_ms(backend: BaseBackend, pairs: list[Pair], options: ModelOptions) -> float:
    """Mean time to generate an answer at the backend's reply cap, on a few predicted
    questions: what a judged hit saves, and what the judge's cost is measured against."""
    questions = list(dict.fromkeys(p.predicted for p in pairs))[:ANSWERS_TIMED]
    cap = backend.capabilities.reply_tokens
    times = []
    for question in questions:
        started = time.perf_counter()
        await backend.complete(ChatRequest([{"role": "user", "content": question}], options, cap))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.fmean(times) if times else 0.0


def print_calibration(cal: Calibration, scored: list[Scored], answer: float, out: IO[str]) -> None:
    print(f"judge: {cal.method} on {cal.model}", file=out)
    look_alikes = sum(k.negatives for k in cal.kinds.values())  # a kind with few: above all
    for kind in KINDS:
        k = cal.kinds[kind]
        print(f"{kind} pairs: {k.positives} same, {k.negatives} different", file=out)
        if k.max_false is not None:
            print(f"  highest margin of a pair labelled different: {k.max_false:+.3f}", file=out)
        if k.level is None:
            why = (
                f"fewer than {MIN_NEGATIVES} look-alikes to place a level"
                if look_alikes < MIN_NEGATIVES
                else f"above every look-alike it serves {k.hits} of {k.positives} rewordings, "
                f"too few to pay for judging (at least {MIN_SHARE:.0%})"
            )
            print(f"  {why}: this kind is not judged", file=out)
            continue
        print(
            f"  level {k.level:+.3f}: {k.hits} of {k.positives} same served, "
            f"0 of {k.negatives} different",
            file=out,
        )
        served: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for s in scored:
            if s.pair.same and s.kind == kind:
                total[s.pair.cls or "same"] += 1
                served[s.pair.cls or "same"] += served_by(s, k.level, first_for(kind, cal.first))
        for cls in sorted(total):
            print(f"    {cls:<20} {served[cls]}/{total[cls]}", file=out)
    if not cal.usable:
        print("the judge stays off for this model", file=out)
    else:
        print_first_order(cal, scored, out)
    share = f", {cal.judge_ms / answer:.0%} of generating an answer ({answer:.0f} ms)"
    print(f"judging one pair: {cal.judge_ms:.0f} ms{share if answer else ''}", file=out)
    if cal.usable:
        print(
            "a level holds for the look-alikes it was set on: check it on pairs it was not set "
            "on before trusting it (sleepchat bench recall --judge --pairs FILE)",
            file=out,
        )


def print_first_order(cal: Calibration, scored: list[Scored], out: IO[str]) -> None:
    """Where the first order settles a pair alone, and what that spares."""
    first = cal.first
    if first.accept is not None:
        more = sum(
            1
            for s in scored
            if s.pair.same and s.first > first.accept and not served_by(s, cal.level(s.kind))
        )
        print(f"first order alone serves above {first.accept:+.3f} ({more} more)", file=out)
    if first.reject is not None:
        print(f"first order alone ends the judging at or below {first.reject:+.3f}", file=out)
    both = statistics.fmean(s.first_ms + s.second_ms for s in scored) if scored else 0.0
    session = f"a pair costs {cal.judge_ms:.0f} ms as a session judges"
    print(f"{session}, {both:.0f} ms asked both ways", file=out)


async def run_calibrate(
    config: Config, *, pairs: str | Sequence[str] | None, split: str | None
) -> int:
    """Calibrate the configured chat model as the judge and store the level for it."""
    from sleepchat.runtime import judge_key, open_backend, open_store

    shipped = [tune_pairs_path(), tune_pairs_path("context_tune.jsonl")]
    loaded = load_all(pairs or shipped, split)
    store = await open_store(config.resolved_data_dir())
    try:
        backend = await open_backend(config, check=True)
        try:
            options = config.core_settings().options
            scored = await score_pairs(backend, loaded, options, progress=sys.stderr)
            key = judge_key(backend.name, backend.model)
            cal = calibration_from(key, method_of(backend), scored)
            answer = await answer_ms(backend, loaded, options)
        finally:
            await backend.aclose()
        stored = await store.get_meta(STORE_KEY)
        calibrations = dict(stored) if isinstance(stored, dict) else {}
        calibrations[key] = cal.to_dict()
        await store.set_meta(STORE_KEY, calibrations)
    finally:
        await store.close()
    print_calibration(cal, scored, answer, sys.stdout)
    print(f"stored for {key}: recall.judge uses it from the next start", file=sys.stdout)
    return 0

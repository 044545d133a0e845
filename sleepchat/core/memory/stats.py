"""Sleep-cycle statistics, per session (kv table, id "stats") and overall (store meta "stats").

Honesty (docs/architecture.md): what sleeping cost (tokens spent asleep) sits next to what it saved
(hits, tokens a hit avoided, and the latency those tokens would have taken at the measured
generation speed).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sleepchat.core.models import Change, ReflectionStatus, TolerantRecord
from sleepchat.core.ports import StorePort
from sleepchat.core.reflection.predict_policy import Outcome, PolicyState

STATS_ID = "stats"  # the session's kv document
POLICY_ID = "predict_policy"  # the session's kv document of recent prediction outcomes
META_KEY = "stats"  # the store-wide meta key


@dataclass
class Stats(TolerantRecord):
    reflections_done: int = 0
    reflections_cancelled: int = 0
    reflections_skipped: int = 0
    sleep_tokens: int = 0
    # Sleep tokens generated and then thrown away: an answer cut short that could not be kept
    # to continue, one that looped (a share of sleep_tokens; lower is better).
    sleep_tokens_wasted: int = 0
    predictions_made: int = 0
    hits: int = 0
    misses: int = 0
    tokens_avoided: int = 0
    latency_saved_ms: float = 0.0
    # what the quality gate kept out of memory
    notes_dropped: int = 0
    questions_dropped: int = 0
    # A question close to a prediction without being served from it (hint-level score).
    near_misses: int = 0
    # A question that matched a predicted question whose answer was not precomputed.
    hits_lost: int = 0
    # Answers the prediction policy chose not to precompute, and the tokens that saved
    # (estimated from this session's answers so far).
    answers_skipped: int = 0
    sleep_tokens_saved: int = 0
    # Re-validation of predictions that did not see the latest user content.
    predictions_kept: int = 0
    predictions_revised: int = 0
    predictions_dropped: int = 0

    def add(self, other: Stats) -> None:
        """Add ``other`` into this one, in place."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def merge(self, other: Stats) -> Stats:
        """A new Stats holding the sum of both."""
        out = dataclasses.replace(self)
        out.add(other)
        return out

    @property
    def hit_rate(self) -> float | None:
        asked = self.hits + self.misses
        return self.hits / asked if asked else None


def reflection_delta(
    status: ReflectionStatus, tokens: int, predictions: int, wasted: int = 0
) -> Stats:
    return Stats(
        reflections_done=int(status == "done"),
        reflections_cancelled=int(status == "cancelled"),
        reflections_skipped=int(status == "skipped"),
        sleep_tokens=max(0, tokens),
        sleep_tokens_wasted=max(0, wasted),
        predictions_made=max(0, predictions),
    )


def hit_delta(tokens_avoided: int, tokens_per_second: float | None) -> Stats:
    tokens = max(0, tokens_avoided)
    # Without a measured speed there is no honest latency figure: count the tokens only.
    saved = tokens / tokens_per_second * 1000.0 if tokens_per_second else 0.0
    return Stats(hits=1, tokens_avoided=tokens, latency_saved_ms=saved)


class StatsRecorder:
    """Keeps one session's stats and the store-wide totals in step."""

    def __init__(self, store: StorePort, session_id: str) -> None:
        self.store = store
        self.session_id = session_id
        self.session = Stats()
        self.policy = PolicyState()
        self._lock = asyncio.Lock()

    def load_from(self, kv_docs: Sequence[dict[str, Any]]) -> None:
        doc = next((d for d in kv_docs if d.get("id") == STATS_ID), None)
        self.session = Stats.from_dict(doc)
        policy = next((d for d in kv_docs if d.get("id") == POLICY_ID), None)
        self.policy = PolicyState.from_dict(policy)

    async def overall(self) -> Stats:
        return Stats.from_dict(await self.store.get_meta(META_KEY))

    async def record(self, delta: Stats) -> None:
        # Shielded: a preempted reflection still gets counted, and both totals move together.
        await asyncio.shield(self._record(delta))

    async def _record(self, delta: Stats) -> None:
        async with self._lock:
            session = self.session.merge(delta)
            doc = {"id": STATS_ID, **session.to_dict()}
            await self.store.apply(self.session_id, [Change("kv", "upsert", doc)])
            self.session = session
            total = (await self.overall()).merge(delta)
            await self.store.set_meta(META_KEY, total.to_dict())

    async def record_reflection(
        self, status: ReflectionStatus, tokens: int, predictions: int, wasted: int = 0
    ) -> None:
        await self.record(reflection_delta(status, tokens, predictions, wasted))

    async def record_hit(self, tokens_avoided: int, tokens_per_second: float | None) -> None:
        await self.record(hit_delta(tokens_avoided, tokens_per_second))

    async def record_dropped(self, notes: int = 0, questions: int = 0) -> None:
        """Texts the quality gate kept out of memory (notes, predicted questions)."""
        if notes > 0 or questions > 0:
            dropped = Stats(notes_dropped=max(0, notes), questions_dropped=max(0, questions))
            await self.record(dropped)

    async def record_miss(self) -> None:
        await self.record(Stats(misses=1))

    async def record_outcome(self, outcome: Outcome, *, lost: bool = False) -> None:
        """A question asked while predictions were there: the policy's evidence. A miss is
        counted by ``record_miss``; a near miss (or a lost hit, when ``lost``) here."""
        await self.set_policy(self.policy.with_outcome(outcome))
        if outcome == "near":
            await self.record(Stats(near_misses=1, hits_lost=int(lost)))

    async def set_policy(self, state: PolicyState) -> None:
        doc = {"id": POLICY_ID, **state.to_dict()}
        await asyncio.shield(self.store.apply(self.session_id, [Change("kv", "upsert", doc)]))
        self.policy = state

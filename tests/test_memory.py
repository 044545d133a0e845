"""Notes with provenance and undo, predictions and their freshness, stats — one write each."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from support.memory_store import MemoryStore

from sleepchat.core.clock import FakeClock
from sleepchat.core.memory import Memory, UnknownNote
from sleepchat.core.models import Change, Note, Prediction, Reflection

SID = "s1"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def memory(store: MemoryStore, clock: FakeClock) -> Memory:
    m = Memory(store, SID, clock)
    await m.load()
    return m


async def reopen(store: MemoryStore, clock: FakeClock) -> Memory:
    m = Memory(store, SID, clock)
    await m.load()
    return m


async def test_insert_gets_short_ids_provenance_and_history(
    memory: Memory, store: MemoryStore, clock: FakeClock
) -> None:
    a = await memory.insert_note("  User prefers metric units ", ["m1", "m2", "m1"], "r1")
    b = await memory.insert_note("Party is on Saturday", ["m3"], "user")
    assert (a.id, b.id) == ("n1", "n2")
    assert a.text == "User prefers metric units"
    assert a.source_message_ids == ["m1", "m2"]
    assert a.reflection_id == "r1" and b.reflection_id is None
    assert a.history == [
        {"at": clock.now(), "op": "insert", "text": a.text, "by": "r1", "reason": None}
    ]
    assert len(store.writes) == 2  # one atomic write per operation
    again = await reopen(store, clock)
    assert [n.text for n in again.notes] == [a.text, b.text]
    assert (await again.insert_note("third")).id == "n3"


async def test_forget_is_soft_and_undo_brings_the_note_back(
    memory: Memory, store: MemoryStore, clock: FakeClock
) -> None:
    a = await memory.insert_note("Budget is 200 euros", ["m1"], "r1")
    gone = await memory.forget_note("N1", "user changed the budget", "r2")
    assert memory.notes == []
    assert gone.history[-1]["op"] == "forget"
    assert gone.history[-1]["reason"] == "user changed the budget"
    assert store.docs(SID, "notes")["n1"]["active"] is False  # kept on record
    with pytest.raises(KeyError):
        await memory.forget_note(a.id, "again")
    assert await memory.undo() == "undid forget of n1 (note restored)"
    assert [n.text for n in memory.notes] == ["Budget is 200 euros"]
    restored = memory.notes[0]
    assert [h["op"] for h in restored.history] == ["insert", "forget", "restore"]
    assert restored.source_message_ids == ["m1"]
    again = await reopen(store, clock)
    assert [n.id for n in again.notes] == ["n1"]


async def stored_merge(store: MemoryStore, clock: FakeClock, a: Note, b: Note, text: str) -> Memory:
    """Notes ``a`` and ``b`` merged into n3 as earlier builds stored a merge (they merged notes;
    data dirs keep such operations, and undo must still reverse them); the memory reopened."""
    now = clock.now()
    merged = Note(
        "n3",
        SID,
        text,
        now,
        now,
        merged_from=[a.id, b.id],
        history=[{"at": now, "op": "merge", "text": text, "by": "r1", "reason": "merged"}],
    )
    retired = [dataclasses.replace(n, active=False, merged_into="n3") for n in (a, b)]
    op = {
        "id": "o3",
        "seq": 3,
        "kind": "merge",
        "note_ids": [a.id, b.id, "n3"],
        "before": {"n3": None, a.id: a.to_dict(), b.id: b.to_dict()},
        "by": "r1",
        "at": now,
    }
    notes = [Change("notes", "upsert", n.to_dict()) for n in (merged, *retired)]
    await store.apply(SID, [*notes, Change("note_ops", "upsert", op)])
    return await reopen(store, clock)


async def test_undo_each_kind_in_stack_order(
    memory: Memory, store: MemoryStore, clock: FakeClock
) -> None:
    a = await memory.insert_note("alpha")
    b = await memory.insert_note("beta")
    memory = await stored_merge(store, clock, a, b, "alpha and beta")
    await memory.edit_note("n3", "alpha & beta")
    assert memory.notes[0].history[-1] == {
        "at": clock.now(),
        "op": "edit",
        "text": "alpha & beta",
        "by": "user",
        "reason": None,
    }
    assert await memory.undo() == "undid edit of n3 (text restored)"
    assert [n.text for n in memory.notes] == ["alpha and beta"]
    assert await memory.undo() == "undid merge of n1, n2 into n3 (n1, n2 restored)"
    assert [n.text for n in memory.notes] == ["alpha", "beta"]
    assert memory.note("n3") is None
    assert all(n.merged_into is None for n in memory.notes)
    assert await memory.undo() == "undid insert of n2 (note removed)"
    # The undo stack survives a restart.
    again = await reopen(store, clock)
    assert [n.text for n in again.notes] == ["alpha"]
    assert await again.undo() == "undid insert of n1 (note removed)"
    assert await again.undo() is None
    assert again.all_notes == []
    # Ids are never reused, so "n1" in an old message still means what it meant.
    assert (await again.insert_note("gamma")).id == "n4"


async def test_edit_needs_text_and_a_known_note(memory: Memory) -> None:
    with pytest.raises(UnknownNote):
        await memory.edit_note("n7", "x")
    a = await memory.insert_note("a")
    with pytest.raises(ValueError):
        await memory.edit_note(a.id, "   ")
    assert memory.notes[0].text == "a"


async def test_a_failed_write_changes_nothing(memory: Memory, store: MemoryStore) -> None:
    a = await memory.insert_note("kept")
    store.fail_next = OSError("disk full")
    with pytest.raises(OSError):
        await memory.forget_note(a.id, "x")
    assert [n.id for n in memory.notes] == ["n1"]
    assert store.docs(SID, "notes")["n1"]["active"] is True
    assert await memory.undo() == "undid insert of n1 (note removed)"


class SlowStore(MemoryStore):
    """A store whose write is in flight until released (like the real one's thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def apply(self, session_id, changes):  # type: ignore[no-untyped-def]
        self.entered.set()
        await self.release.wait()
        await super().apply(session_id, changes)


async def test_cancel_during_a_write_still_follows_the_write(clock: FakeClock) -> None:
    store = SlowStore()
    memory = Memory(store, SID, clock)
    await memory.load()
    task = asyncio.create_task(memory.insert_note("landing"))
    await store.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    store.release.set()
    while not store.writes:
        await asyncio.sleep(0)  # let the in-flight write finish (no wall-clock sleep)
    await asyncio.sleep(0)
    assert [n.text for n in memory.notes] == ["landing"]  # memory agrees with disk


def prediction(question: str, turn: int, **kw: object) -> Prediction:
    return Prediction(
        id="",
        session_id=SID,
        question=question,
        answer="an answer",
        created=0.0,
        reflection_id="r1",
        based_on_message_id="m2",
        based_on_turn=turn,
        **kw,  # type: ignore[arg-type]
    )


async def test_predictions_ids_status_and_freshness(
    memory: Memory, store: MemoryStore, clock: FakeClock
) -> None:
    p1 = await memory.save_prediction(prediction("How long should the cake bake?", 1))
    p2 = await memory.save_prediction(prediction("Which frosting?", 2))
    p3 = await memory.save_prediction(prediction("How many guests?", 2))
    assert [p.id for p in (p1, p2, p3)] == ["p1", "p2", "p3"]
    assert [p.id for p in memory.fresh_predictions(2, 3)] == ["p1", "p2", "p3"]
    # Older than the ttl: not served any more.
    assert [p.id for p in memory.fresh_predictions(5, 3)] == ["p2", "p3"]
    await memory.mark_served("p2")
    await memory.drop_prediction("p3", "contradicted by the user")
    assert [p.id for p in memory.fresh_predictions(2, 3)] == ["p1"]
    assert store.docs(SID, "predictions")["p3"]["drop_reason"] == "contradicted by the user"
    again = await reopen(store, clock)
    assert [(p.id, p.status) for p in again.predictions] == [
        ("p1", "fresh"),
        ("p2", "served"),
        ("p3", "dropped"),
    ]
    assert (await again.save_prediction(prediction("Next?", 3))).id == "p4"
    with pytest.raises(KeyError):
        await again.mark_served("p99")


async def test_reflections_are_numbered_and_last_one_found(
    memory: Memory, store: MemoryStore, clock: FakeClock
) -> None:
    r1 = await memory.save_reflection(
        Reflection(id="", session_id=SID, state_key="k1", started=1.0)
    )
    r1 = await memory.save_reflection(dataclasses.replace(r1, status="done"))
    r2 = await memory.save_reflection(
        Reflection(id="", session_id=SID, state_key="k1", started=2.0, status="skipped")
    )
    assert (r1.id, r2.id) == ("r1", "r2")
    assert memory.last_reflection() == r2
    assert memory.last_reflection("done", "cancelled") == r1
    running = await memory.save_reflection(
        Reflection(id="", session_id=SID, state_key="k", started=3)
    )
    assert running.status == "running"
    again = await reopen(store, clock)  # the process died mid-reflection
    assert again.last_reflection().status == "cancelled"  # type: ignore[union-attr]


async def test_stats_per_session_and_overall(store: MemoryStore, clock: FakeClock) -> None:
    one = Memory(store, "s1", clock)
    two = Memory(store, "s2", clock)
    await one.load()
    await two.load()
    await one.recorder.record_reflection("done", 120, 3)
    await one.recorder.record_reflection("cancelled", 40, 1)
    await two.recorder.record_reflection("skipped", 0, 0)
    await one.recorder.record_hit(50, 25.0)  # 50 tokens at 25 tok/s = 2 s saved
    await one.recorder.record_hit(10, None)  # no measured speed: tokens counted, no latency claimed
    await two.recorder.record_miss()
    s = one.stats
    assert (s.reflections_done, s.reflections_cancelled, s.sleep_tokens, s.predictions_made) == (
        1,
        1,
        160,
        4,
    )
    assert (s.hits, s.tokens_avoided, s.latency_saved_ms) == (2, 60, 2000.0)
    overall = await two.recorder.overall()
    assert (overall.hits, overall.misses, overall.reflections_skipped, overall.sleep_tokens) == (
        2,
        1,
        1,
        160,
    )
    assert overall.hit_rate == pytest.approx(2 / 3)
    again = await reopen(store, clock)
    assert again.stats == s

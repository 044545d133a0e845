"""Fault suite, property-based: any sequence of note operations keeps memory's invariants.

Operations: insert, replace (a correction), forget, edit, undo, in any order, with valid and
invalid arguments.
After every step: ids are unique; an inactive note was merged into an existing note or forgotten
with history; a note's history only grows; the store holds exactly what memory shows; and undo
restores the previous state of every note.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.memory_store import MemoryStore

from sleepchat.core.clock import FakeClock
from sleepchat.core.memory import Memory
from sleepchat.core.models import Note

SID = "s1"
STATE_FIELDS = ("id", "text", "active", "merged_into", "merged_from", "source_message_ids")

texts = st.one_of(st.text(max_size=12), st.sampled_from(["tomatoes", "  ", "basil", "x" * 300]))
picks = st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=4)
ops = st.one_of(
    st.tuples(st.just("insert"), texts),
    st.tuples(st.just("replace"), st.integers(0, 40), texts),
    st.tuples(st.just("forget"), st.integers(0, 40)),
    st.tuples(st.just("edit"), st.integers(0, 40), texts),
    st.tuples(st.just("undo")),
)


def _state(memory: Memory) -> dict[str, dict[str, Any]]:
    return {n.id: {k: getattr(n, k) for k in STATE_FIELDS} for n in memory.all_notes}


def _pick(memory: Memory, i: int) -> str:
    ids = [n.id for n in memory.all_notes] + ["n999", "zz"]  # unknown ids are tried too
    return ids[i % len(ids)]


async def _apply(memory: Memory, op: tuple[Any, ...]) -> bool:
    """Run one operation; False when memory refused it (and must then be unchanged)."""
    kind = op[0]
    try:
        if kind == "insert":
            await memory.insert_note(op[1], ["m1"], "r1")
        elif kind == "replace":
            await memory.replace_note(_pick(memory, op[1]), op[2], "corrected", ["m2"], "r1")
        elif kind == "forget":
            await memory.forget_note(_pick(memory, op[1]), "obsolete", "r1")
        elif kind == "edit":
            await memory.edit_note(_pick(memory, op[1]), op[2])
        else:
            return await memory.undo() is not None
    except (KeyError, ValueError):
        return False
    return True


def _check_invariants(memory: Memory, histories: dict[str, int]) -> None:
    notes = memory.all_notes
    ids = [n.id for n in notes]
    assert len(ids) == len(set(ids))
    by_id = {n.id: n for n in notes}
    for n in notes:
        if n.active:
            assert n.merged_into is None
            continue
        if n.merged_into is not None:
            assert n.merged_into in by_id, f"{n.id} merged into a missing note"
        else:
            assert any(h["op"] == "forget" for h in n.history), f"{n.id} inactive, no history"
    for n in notes:
        assert len(n.history) >= histories.get(n.id, 0), f"{n.id} lost history"
        histories[n.id] = len(n.history)


async def _run(sequence: list[tuple[Any, ...]]) -> None:
    store = MemoryStore()
    clock = FakeClock(1000.0)
    memory = Memory(store, SID, clock)
    await memory.load()
    undo_stack: list[dict[str, dict[str, Any]]] = []
    histories: dict[str, int] = {}
    after = _state(memory)
    for op in sequence:
        clock.advance(1.0)
        before = _state(memory)
        done = await _apply(memory, op)
        after = _state(memory)
        if op[0] == "undo":
            if undo_stack:
                assert done
                assert after == undo_stack.pop(), "undo did not restore the previous state"
            else:
                assert not done and after == before
        elif done:
            undo_stack.append(before)
        else:
            assert after == before, f"a refused {op[0]} changed memory"
        _check_invariants(memory, histories)
        # The store holds what memory shows: a fresh load sees the same notes.
        again = Memory(store, SID, clock)
        await again.load()
        assert _state(again) == after
        assert again.can_undo == bool(undo_stack)
    docs = await store.load_table(SID, "notes")
    assert sorted(d["id"] for d in docs) == sorted(after)
    for d in docs:
        Note.from_dict(d)  # every stored note is a well-typed record


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(ops, max_size=30))
def test_any_sequence_of_note_operations_keeps_the_invariants(
    sequence: list[tuple[Any, ...]],
) -> None:
    asyncio.run(_run(sequence))

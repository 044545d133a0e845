"""The store's everyday behaviour: sessions, messages across segments, tables, meta, threads."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sleepchat.core.clock import FakeClock
from sleepchat.core.models import Change, Message
from sleepchat.store import SEGMENT_SIZE, FileOps, Store, StoreError


def msg(session_id: str, i: int, **fields: object) -> Message:
    return Message(f"m{i:05d}", session_id, "user", f"message {i}", 1000.0 + i, **fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "data", clock=clock)
    yield s
    await s.close()


async def reopen(store: Store, **kwargs: object) -> Store:
    await store.close()
    return await Store.open(store.data_dir, **kwargs)  # type: ignore[arg-type]


async def test_messages_round_trip_with_every_field_across_a_restart(store: Store) -> None:
    s = await store.create_session("Plans")
    sent = Message(
        "a1", s.id, "assistant", "multi\nline ünïcødé 🌙", 1234.5, source="prediction",
        model="qwen", prediction_id="p1", reflection_id="r1", interrupted=True,
        error="cut", prompt_tokens=10, completion_tokens=20, ttft_ms=1.5, total_ms=9.25,
        replaced_by="a2",
    )  # fmt: skip
    await store.append_message(msg(s.id, 0))
    await store.append_message(sent)
    store = await reopen(store)
    try:
        assert await store.messages(s.id) == [msg(s.id, 0), sent]
        again = await store.get_session(s.id)
        assert again is not None and again.title == "Plans" and again.message_count == 2
    finally:
        await store.close()


async def test_segments_roll_over_at_256_and_read_back_in_order(store: Store) -> None:
    s = await store.create_session("long")
    sent = [msg(s.id, i) for i in range(SEGMENT_SIZE + 3)]
    for m in sent:
        await store.append_message(m)
    folder = store.data_dir / "sessions" / s.id
    sizes = [
        len(json.loads(p.read_text())["messages"]) for p in sorted(folder.glob("messages-*.json"))
    ]
    assert sizes == [256, 3]
    assert await store.messages(s.id) == sent
    store = await reopen(store)
    try:
        assert await store.messages(s.id) == sent
        await store.append_message(msg(s.id, 9999))
        assert (await store.messages(s.id))[-1].id == "m09999"
    finally:
        await store.close()


async def test_update_message_reaches_an_older_segment(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d", segment_size=3)
    try:
        s = await store.create_session("t")
        for i in range(8):
            await store.append_message(msg(s.id, i))
        old = msg(s.id, 1, interrupted=True)
        await store.update_message(old)
        await store.update_message(msg(s.id, 7, replaced_by="x"))
        store = await reopen(store, segment_size=3)
        got = await store.messages(s.id)
        assert [m.id for m in got] == [f"m{i:05d}" for i in range(8)]
        assert got[1].interrupted and got[7].replaced_by == "x" and not got[0].interrupted
        with pytest.raises(StoreError, match="no message"):
            await store.update_message(msg(s.id, 42))
    finally:
        await store.close()


async def test_sessions_order_by_latest_activity_even_when_the_clock_stands_still(
    store: Store, clock: FakeClock
) -> None:
    a = await store.create_session("a")
    b = await store.create_session("b")
    assert [s.id for s in await store.list_sessions()] == [b.id, a.id]
    await store.append_message(msg(a.id, 0))  # same FakeClock time as the creation
    assert [s.id for s in await store.list_sessions()] == [a.id, b.id]
    clock.advance(60)
    await store.append_message(msg(b.id, 1))
    last = await store.last_session()
    assert last is not None and last.id == b.id and last.updated == clock.now()
    assert last.message_count == 1


async def test_get_session_by_unique_prefix_only(store: Store) -> None:
    sessions = [await store.create_session(f"s{i}") for i in range(20)]
    target = sessions[0]
    prefixes = [s.id[:1] for s in sessions]
    found = await store.get_session(target.id[:6])
    assert found is not None and found.id == target.id
    assert (await store.get_session(target.id)) == target
    shared = next(p for p in prefixes if prefixes.count(p) > 1)  # 20 ids over 16 hex digits
    assert await store.get_session(shared) is None
    assert await store.get_session("") is None
    assert await store.get_session("zz") is None


async def test_rename_and_delete_persist(store: Store) -> None:
    keep = await store.create_session("old name")
    gone = await store.create_session("doomed")
    await store.append_message(msg(gone.id, 0))
    renamed = await store.rename_session(keep.id, "new name")
    assert renamed.title == "new name"
    await store.delete_session(gone.id)
    assert not (store.data_dir / "sessions" / gone.id).exists()
    store = await reopen(store)
    try:
        assert [(s.id, s.title) for s in await store.list_sessions()] == [(keep.id, "new name")]
        with pytest.raises(StoreError, match="no session"):
            await store.append_message(msg(gone.id, 1))
        with pytest.raises(StoreError, match="no session"):
            await store.rename_session(gone.id, "x")
    finally:
        await store.close()


async def test_a_delete_cut_short_by_a_crash_is_undone_at_next_start(store: Store) -> None:
    s = await store.create_session("half deleted")
    await store.append_message(msg(s.id, 0))
    await store.close()
    sessions = store.data_dir / "sessions"
    (sessions / s.id).rename(sessions / f".deleted-{s.id}")  # moved aside, record not dropped
    store = await Store.open(store.data_dir)
    try:
        assert [m.id for m in await store.messages(s.id)] == ["m00000"]
        assert [p.name for p in sessions.iterdir()] == [s.id]
    finally:
        await store.close()


async def test_session_tables_upsert_replace_and_delete(store: Store) -> None:
    s = await store.create_session("t")
    await store.apply(
        s.id,
        [
            Change("notes", "upsert", {"id": "n1", "text": "likes tea", "extra": 1}),
            Change("notes", "upsert", {"id": "n2", "text": "lives in Oslo"}),
            Change("predictions", "upsert", {"id": "p1", "question": "q?"}),
        ],
    )
    await store.apply(
        s.id,
        [
            Change("notes", "upsert", {"id": "n1", "text": "likes green tea"}),
            Change("notes", "delete", {"id": "n2"}),
        ],
    )
    store = await reopen(store)
    try:
        assert await store.load_table(s.id, "notes") == [{"id": "n1", "text": "likes green tea"}]
        assert await store.load_table(s.id, "predictions") == [{"id": "p1", "question": "q?"}]
        assert await store.load_table(s.id, "reflections") == []
        with pytest.raises(ValueError, match="unknown session table"):
            await store.load_table(s.id, "bogus")
    finally:
        await store.close()


async def test_apply_is_all_or_nothing(store: Store) -> None:
    s = await store.create_session("t")
    await store.apply(s.id, [Change("notes", "upsert", {"id": "n1", "text": "before"})])
    bad = [
        Change("notes", "upsert", {"id": "n1", "text": "after"}),
        Change("notes", "upsert", {"id": "n2", "text": "new"}),
        Change("notes", "upsert", {"id": "n3", "blob": object()}),  # cannot be saved
    ]
    with pytest.raises(TypeError):
        await store.apply(s.id, bad)
    assert await store.load_table(s.id, "notes") == [{"id": "n1", "text": "before"}]
    with pytest.raises(ValueError, match="'id'"):
        await store.apply(s.id, [Change("notes", "upsert", {"text": "no id"})])
    store = await reopen(store)
    try:
        assert await store.load_table(s.id, "notes") == [{"id": "n1", "text": "before"}]
    finally:
        await store.close()


async def test_global_meta_survives_a_restart(store: Store) -> None:
    assert await store.get_meta("theme", "default") == "default"
    await store.set_meta("theme", {"name": "night"})
    await store.set_meta("theme", {"name": "day"})
    store = await reopen(store)
    try:
        assert await store.get_meta("theme") == {"name": "day"}
    finally:
        await store.close()


async def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d")
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        await store.list_sessions()


async def test_disk_work_runs_on_one_worker_thread(tmp_path: Path) -> None:
    threads: set[int] = set()

    def fsync(fd: int) -> None:
        threads.add(threading.get_ident())
        os.fsync(fd)

    store = await Store.open(tmp_path / "d", file_ops=FileOps(fsync=fsync))
    try:
        s = await store.create_session("t")
        await asyncio.gather(*(store.append_message(msg(s.id, i)) for i in range(10)))
        assert len(await store.messages(s.id)) == 10
    finally:
        await store.close()
    assert len(threads) == 1 and threading.get_ident() not in threads


async def test_the_event_loop_runs_while_a_save_is_stuck_on_disk(tmp_path: Path) -> None:
    in_fsync, release = threading.Event(), threading.Event()
    gate = {"on": False}

    def fsync(fd: int) -> None:
        if gate["on"]:
            in_fsync.set()
            release.wait(10)
        os.fsync(fd)

    store = await Store.open(tmp_path / "d", file_ops=FileOps(fsync=fsync))
    try:
        s = await store.create_session("t")
        gate["on"] = True
        saving = asyncio.create_task(store.append_message(msg(s.id, 0)))
        # Waiting here needs the loop: it would stall if the save ran on the loop's thread.
        assert await asyncio.to_thread(in_fsync.wait, 10)
        assert not saving.done()
        gate["on"] = False
        release.set()
        await saving
        assert [m.id for m in await store.messages(s.id)] == ["m00000"]
    finally:
        release.set()
        await store.close()

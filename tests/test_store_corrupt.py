"""Unreadable files are moved aside with a warning, never overwritten; schema migrations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from sleepchat.core.clock import FakeClock
from sleepchat.core.models import Change, Message
from sleepchat.store import Store, StoreError

BROKEN = {
    "garbage bytes": b"\x00\xff\xfe not json at all",
    "truncated JSON": b'{"sessions": {"1": {"id": "ab',
    "a JSON list": b"[1, 2, 3]",
    "a table that is a list": b'{"sessions": [], "meta": {}}',
    "a document that is a string": b'{"messages": {"1": "hello"}, "notes": {"1": "x"}}',
    "an empty file": b"",
    # digits, but more than int() reads: TinyDB would fail on the id at the next write
    "a document id of 5,000 digits": b'{"meta": {"' + b"9" * 5000 + b'": {"key": "k"}}}',
}


def msg(session_id: str, i: int) -> Message:
    return Message(f"m{i}", session_id, "user", f"message {i}", 1000.0 + i)


def stamp(clock: FakeClock) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(clock.now()))


async def populated(data: Path, clock: FakeClock, **kw: Any) -> tuple[str, str]:
    """Two sessions: 'alpha' with 10 messages and a note, 'beta' with 1 message."""
    store = await Store.open(data, clock=clock, **kw)
    a = await store.create_session("alpha")
    for i in range(10):
        await store.append_message(msg(a.id, i))
    await store.apply(a.id, [Change("notes", "upsert", {"id": "n1", "text": "likes tea"})])
    clock.advance(10)
    b = await store.create_session("beta")
    await store.append_message(msg(b.id, 99))
    await store.close()
    return a.id, b.id


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
async def test_a_corrupt_index_is_moved_aside_and_rebuilt_from_the_folders(
    tmp_path: Path, content: bytes
) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    a, b = await populated(data, clock)
    (data / "index.json").write_bytes(content)
    warnings: list[str] = []
    store = await Store.open(data, clock=clock, on_warning=warnings.append)
    try:
        moved = data / f"index.json.corrupt-{stamp(clock)}"
        assert moved.read_bytes() == content
        assert len(warnings) == 1
        assert str(data / "index.json") in warnings[0] and moved.name in warnings[0]
        assert "2 sessions were rebuilt from their folders" in warnings[0]
        got = [(s.id, s.title, s.message_count) for s in await store.list_sessions()]
        assert got == [(b, "beta", 1), (a, "alpha", 10)]
        assert len(await store.messages(a)) == 10
        assert await store.load_table(a, "notes") == [{"id": "n1", "text": "likes tea"}]
        await store.set_meta("k", 1)  # the rebuilt index saves normally
    finally:
        await store.close()


async def test_quarantine_never_overwrites_an_earlier_one(tmp_path: Path) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    await populated(data, clock)
    for content in (b"first", b"second"):
        (data / "index.json").write_bytes(content)
        store = await Store.open(data, clock=clock, on_warning=lambda _: None)
        await store.close()
    base = f"index.json.corrupt-{stamp(clock)}"
    assert (data / base).read_bytes() == b"first"
    assert (data / f"{base}-2").read_bytes() == b"second"


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
async def test_a_corrupt_segment_loses_only_its_own_messages(
    tmp_path: Path, content: bytes
) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    a, _ = await populated(data, clock, segment_size=4)  # segments of 4, 4 and 2 messages
    segment = data / "sessions" / a / "messages-0001.json"
    segment.write_bytes(content)
    warnings: list[str] = []
    store = await Store.open(data, clock=clock, on_warning=warnings.append, segment_size=4)
    try:
        got = await store.messages(a)
        assert [m.id for m in got] == ["m0", "m1", "m2", "m3", "m8", "m9"]
        assert len(warnings) == 1
        assert str(segment) in warnings[0] and "6 messages of session 'alpha'" in warnings[0]
        assert (segment.parent / f"messages-0001.json.corrupt-{stamp(clock)}").read_bytes() == (
            content
        )
        await store.append_message(msg(a, 10))
        session = await store.get_session(a)
        assert session is not None and session.message_count == 7
    finally:
        await store.close()


async def test_a_corrupt_last_segment_found_by_an_append_is_kept_aside(tmp_path: Path) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    a, _ = await populated(data, clock, segment_size=4)
    tail = data / "sessions" / a / "messages-0002.json"
    tail.write_bytes(b"{oops")
    warnings: list[str] = []
    store = await Store.open(data, clock=clock, on_warning=warnings.append, segment_size=4)
    try:
        await store.append_message(msg(a, 10))
        assert len(warnings) == 1 and str(tail) in warnings[0]
        assert "8 messages of session 'alpha' were kept" in warnings[0]
        assert (tail.parent / f"messages-0002.json.corrupt-{stamp(clock)}").read_bytes() == (
            b"{oops"
        )
        assert [m.id for m in await store.messages(a)][-2:] == ["m7", "m10"]
    finally:
        await store.close()


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
async def test_a_corrupt_session_meta_starts_empty_and_is_kept_aside(
    tmp_path: Path, content: bytes
) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    a, _ = await populated(data, clock)
    meta = data / "sessions" / a / "meta.json"
    meta.write_bytes(content)
    warnings: list[str] = []
    store = await Store.open(data, clock=clock, on_warning=warnings.append)
    try:
        assert await store.load_table(a, "notes") == []
        assert len(warnings) == 1 and str(meta) in warnings[0] and "start empty" in warnings[0]
        assert (meta.parent / f"meta.json.corrupt-{stamp(clock)}").read_bytes() == content
        assert len(await store.messages(a)) == 10  # messages live elsewhere
        await store.apply(a, [Change("notes", "upsert", {"id": "n2", "text": "fresh"})])
        assert await store.load_table(a, "notes") == [{"id": "n2", "text": "fresh"}]
    finally:
        await store.close()


async def test_a_missing_index_is_rebuilt_from_the_folders(tmp_path: Path) -> None:
    clock = FakeClock()
    data = tmp_path / "data"
    a, _ = await populated(data, clock)
    first = await Store.open(data, clock=clock)
    await first.rename_session(a, "renamed alpha")
    await first.close()
    (data / "index.json").unlink()
    warnings: list[str] = []
    store = await Store.open(data, clock=clock, on_warning=warnings.append)
    try:
        assert len(warnings) == 1 and "was missing" in warnings[0]
        assert {s.title for s in await store.list_sessions()} == {"renamed alpha", "beta"}
    finally:
        await store.close()


async def test_a_registered_migration_runs_once_and_bumps_the_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = FakeClock()
    await populated(data, clock)
    runs: list[Path] = []

    def to_v2(data_dir: Path, index: TinyDB) -> None:
        runs.append(data_dir)
        table = index.table("sessions")
        for doc in table.all():
            table.update({"title": doc["title"].upper()}, doc_ids=[doc.doc_id])

    for _ in range(2):
        store = await Store.open(data, clock=clock, migrations={2: to_v2}, schema_version=2)
        try:
            assert await store.get_meta("schema_version") == 2
            assert {s.title for s in await store.list_sessions()} == {"ALPHA", "BETA"}
        finally:
            await store.close()
    assert runs == [data]
    assert json.loads((data / "index.json").read_text())["meta"]


async def test_a_newer_schema_is_refused_and_leaves_the_dir_unlocked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = await Store.open(data, schema_version=3)
    await store.close()
    with pytest.raises(StoreError) as err:
        await Store.open(data)
    assert err.value.message == (
        f"data dir {data} was written by a newer sleepchat (schema 3) — upgrade sleepchat"
    )
    store = await Store.open(data, schema_version=3)
    await store.close()


async def test_a_failing_migration_is_reported_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = await Store.open(data)
    await store.close()

    def broken(data_dir: Path, index: TinyDB) -> None:
        raise RuntimeError("boom")

    with pytest.raises(StoreError, match="schema 2 failed: boom"):
        await Store.open(data, migrations={2: broken}, schema_version=2)
    store = await Store.open(data)
    try:
        assert await store.get_meta("schema_version") == 1
    finally:
        await store.close()

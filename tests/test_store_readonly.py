"""Reading your own history never needs write access (issue 11.10).

``Store.open(read_only=True)`` takes no lock and writes nothing — on a read-only disk, a full
one, or a data dir another sleepchat owns — says why a chat could not save there, and refuses
every change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.disk import fill, remount, tiny_tmpfs
from support.files import tree

from sleepchat.core.clock import FakeClock
from sleepchat.core.models import Change, Message
from sleepchat.store import DataDirError, Store, StoreError


def msg(sid: str, i: int) -> Message:
    return Message(f"m{i}", sid, "user", f"message {i}", 1000.0 + i)


async def populate(data: Path) -> str:
    store = await Store.open(data, clock=FakeClock())
    s = await store.create_session("trip")
    for i in range(5):
        await store.append_message(msg(s.id, i))
    await store.apply(s.id, [Change("notes", "upsert", {"id": "n1", "text": "likes trains"})])
    await store.close()
    return s.id


async def read_all(store: Store) -> dict[str, object]:
    sessions = await store.list_sessions()
    return {
        s.id: (s.title, s.message_count, [m.content for m in await store.messages(s.id)],
               await store.load_table(s.id, "notes"))
        for s in sessions
    }  # fmt: skip


async def test_reading_takes_no_lock_writes_nothing_and_refuses_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = await populate(data)
    (data / "index.json").chmod(0o644)  # a writable open would tighten this
    before = tree(data, mtimes=True)
    warnings: list[str] = []
    store = await Store.open(data, read_only=True, on_warning=warnings.append)
    try:
        got = await read_all(store)
        assert got[sid][2] == [f"message {i}" for i in range(5)]  # type: ignore[index]
        assert store.read_only
        attempts = [
            store.create_session("x"),
            store.append_message(msg(sid, 9)),
            store.update_message(msg(sid, 0)),
            store.rename_session(sid, "y"),
            store.delete_session(sid),
            store.apply(sid, [Change("notes", "delete", {"id": "n1"})]),
            store.set_meta("k", 1),
        ]
        for attempt in attempts:
            with pytest.raises(StoreError, match="read-only"):
                await attempt
    finally:
        await store.close()
    assert tree(data, mtimes=True) == before
    assert warnings == []  # a writable dir needs no notice


async def test_a_dir_another_sleepchat_owns_is_read_with_its_latest_messages(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    sid = await populate(data)
    owner = await Store.open(data)  # holds the lock; its index counts are saved only at close
    try:
        await owner.append_message(msg(sid, 5))
        with pytest.raises(DataDirError):
            await Store.open(data)
        reader = await Store.open(data, read_only=True)
        try:
            session = await reader.get_session(sid)
            assert session is not None and session.message_count == 6
            assert len(await reader.messages(sid)) == 6
        finally:
            await reader.close()
        await owner.append_message(msg(sid, 6))  # the owner goes on undisturbed
    finally:
        await owner.close()


async def test_a_missing_data_dir_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    data = tmp_path / "nowhere" / "data"
    store = await Store.open(data, read_only=True)
    try:
        assert await store.list_sessions() == [] and await store.last_session() is None
    finally:
        await store.close()
    assert not (tmp_path / "nowhere").exists()


async def test_an_unreadable_file_is_skipped_and_left_in_place(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = await populate(data)
    (data / "index.json").write_bytes(b"\x00garbage")
    meta = data / "sessions" / sid / "meta.json"
    meta.write_text("[1, 2]")
    before = tree(data, mtimes=True)
    warnings: list[str] = []
    store = await Store.open(data, read_only=True, on_warning=warnings.append)
    try:
        got = await read_all(store)
        assert got[sid][1:3] == (5, [f"message {i}" for i in range(5)])  # rebuilt in memory
        assert got[sid][3] == []
    finally:
        await store.close()
    assert tree(data, mtimes=True) == before  # nothing quarantined, nothing rebuilt on disk
    assert any(str(data / "index.json") in w and "skipped" in w for w in warnings), warnings
    assert any(str(meta) in w and "skipped" in w for w in warnings), warnings


@pytest.mark.parametrize("fault", ["read-only file system", "full disk"])
async def test_a_read_only_or_full_disk_is_read_with_a_notice(tmp_path: Path, fault: str) -> None:
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        data = mnt / "data"
        sid = await populate(data)
        if fault == "full disk":
            fill(mnt)
        else:
            remount(mnt, "ro")
        try:
            with pytest.raises(StoreError):
                await Store.open(data)  # a chat cannot start here
            warnings: list[str] = []
            store = await Store.open(data, read_only=True, on_warning=warnings.append)
            try:
                got = await read_all(store)
            finally:
                await store.close()
        finally:
            if fault != "full disk":
                remount(mnt, "rw")
    assert got[sid][2] == [f"message {i}" for i in range(5)]  # type: ignore[index]
    reason = "read-only file system" if fault != "full disk" else "disk is full"
    assert len(warnings) == 1 and str(data) in warnings[0] and reason in warnings[0], warnings

"""Fault suite, the user's memory: `sleepchat memory consolidate` killed with SIGKILL after a
random number of sessions, and a disk that fills during consolidation. Every state left behind
loads, holds no item twice and no half-merged item, and the next run ends where a run never cut
would have."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sleepchat.core.clock import FakeClock
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.user_memory import UserMemory
from sleepchat.importer import Imported, store_all
from sleepchat.store import DiskFullError, FileOps, Store

T0 = 1_683_500_000.0
DAY = 86_400.0
PLACES = ["Lisbon", "Porto", "Braga", "Faro", "Coimbra", "Evora"]
HOBBIES = ["the cello", "chess", "tennis", "the piano", "squash", "go", "the violin", "darts"]


def history(sessions: int) -> list[Imported]:
    """Sessions where the user moves house (a value restated: merged) and takes up hobbies."""
    out = []
    for n in range(sessions):
        conv = Imported(f"chatgpt:{n}", f"chat {n}", T0 + n * DAY)
        said = [
            f"I live in {PLACES[n % len(PLACES)]}.",
            f"I started playing {HOBBIES[n % len(HOBBIES)]} with my friend number {n} yesterday.",
            "Thanks, that helps!",
        ]
        for k, text in enumerate(said):
            when = T0 + n * DAY + 2 * k
            conv.messages += [("user", text, when), ("assistant", "I see.", when + 1)]
        out.append(conv)
    return out


async def prepared(data: Path, sessions: int) -> None:
    store = await Store.open(data)
    try:
        await store_all(store, history(sessions))
    finally:
        await store.close()


async def state(data: Path) -> tuple[list[tuple[str, bool]], dict[str, list[str]]]:
    """The memory as stored (text, active), checked whole; and each session's user messages."""
    store = await Store.open(data)
    try:
        memory = UserMemory(store, FakeClock())
        await memory.load()
        items = sorted(
            ((i.text, i.active) for i in memory._items.values()), key=lambda t: t[0]
        )
        said = {
            s.id: [m.content for m in await store.messages(s.id) if m.role == "user"]
            for s in await store.list_sessions()
        }
        for item in memory._items.values():
            # Not half-merged: each text is what the user said in the session it names.
            assert any(item.text in text for text in said[item.session_id]), item
            for old in item.history:
                assert isinstance(old.get("text"), str) and old["text"]
    finally:
        await store.close()
    texts = [t for t, _ in items]
    assert len(texts) == len(set(texts)), "an item kept twice"
    return items, said


def consolidate(data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "memory", "consolidate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_kill_during_consolidation_loses_nothing_and_keeps_nothing_twice(
    tmp_path: Path,
) -> None:
    data, clean = tmp_path / "killed", tmp_path / "clean"
    asyncio.run(prepared(data, 40))
    asyncio.run(prepared(clean, 40))
    assert consolidate(clean).wait(timeout=120) == 0
    expected, _ = asyncio.run(state(clean))
    rng = random.Random(11)
    kills = 0
    for _ in range(6):
        proc = consolidate(data)
        assert proc.stderr is not None
        # Killed after a random number of sessions were read (one progress line each).
        for _ in range(rng.randint(1, 12)):
            if not proc.stderr.readline():
                break
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        asyncio.run(state(data))  # whatever was left loads, whole, nothing twice
    assert kills >= 3
    final = consolidate(data)
    assert final.wait(timeout=120) == 0
    assert asyncio.run(state(data))[0] == expected


class FullDisk:
    """Writes fail with ENOSPC once ``writes_left`` more have gone through (None: never)."""

    def __init__(self) -> None:
        self.writes_left: int | None = None
        real = FileOps()

        def write_all(fd: int, payload: bytes) -> int:
            if self.writes_left is not None:
                if self.writes_left <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self.writes_left -= 1
            return real.write_all(fd, payload)

        self.ops = FileOps(write_all=write_all)


# The disk fills at the first write, or a few writes in: between a session's memory and how far
# it was read, at some point of these.
@pytest.mark.parametrize(("after", "writes"), [(0, 0), (3, 0), (3, 1), (3, 2), (3, 3), (5, 5)])
async def test_a_full_disk_during_consolidation_keeps_the_last_saved_memory(
    tmp_path: Path, after: int, writes: int
) -> None:
    data, clean = tmp_path / "d", tmp_path / "clean"
    await prepared(data, 12)
    await prepared(clean, 12)
    store = await Store.open(clean)
    try:
        await Consolidator(store, memory := UserMemory(store, FakeClock())).run()
        expected = sorted((i.text, i.active) for i in memory._items.values())
    finally:
        await store.close()
    disk = FullDisk()
    store = await Store.open(data, file_ops=disk.ops)
    try:
        memory = UserMemory(store, FakeClock())
        await Consolidator(store, memory).run(max_sessions=after)
        disk.writes_left = writes
        with pytest.raises(DiskFullError) as failed:
            await Consolidator(store, memory).run()
        assert "disk full" in failed.value.message and "\n" not in failed.value.message
        disk.writes_left = None
        memory = UserMemory(store, FakeClock())
        await memory.load()
        await Consolidator(store, memory).run()
    finally:
        await store.close()
    assert (await state(data))[0] == expected


async def state_of(store: Store) -> tuple[list[tuple[str, bool]], int]:
    memory = UserMemory(store, FakeClock())
    await memory.load()
    done = await Consolidator(store, memory).progress()
    return sorted((i.text, i.active) for i in memory._items.values()), len(done)

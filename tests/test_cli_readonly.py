"""`sleepchat sessions` and `export` read without writing (issue 11.10): on a read-only or full
disk, and while another sleepchat owns the data dir, they show the history (with a notice where
a chat could not save), change nothing and exit 0."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.disk import fill, remount, tiny_tmpfs
from support.files import tree

from sleepchat.core.models import Message
from sleepchat.store import Store


def sleepchat(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", *args, "--data-dir", str(data)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


async def populate(data: Path) -> str:
    store = await Store.open(data)
    s = await store.create_session("Balcony tomatoes")
    await store.append_message(Message("m1", s.id, "user", "how often to water?", 1.0))
    await store.append_message(Message("m2", s.id, "assistant", "every morning", 2.0))
    await store.close()
    return s.id


def check_reads(data: Path, sid: str) -> tuple[str, str]:
    """Both commands work; returns their stderr."""
    listed = sleepchat(data, "sessions")
    assert listed.returncode == 0, listed.stderr
    assert sid in listed.stdout and "Balcony tomatoes" in listed.stdout
    exported = sleepchat(data, "export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    texts = [m["content"] for m in json.loads(exported.stdout)["messages"]]
    assert texts == ["how often to water?", "every morning"]
    for proc in (listed, exported):
        assert "Traceback" not in proc.stderr and "make the data dir writable" not in proc.stderr
    return listed.stderr, exported.stderr


def test_reading_changes_nothing_in_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = asyncio.run(populate(data))
    before = tree(data, mtimes=True)
    assert check_reads(data, sid) == ("", "")
    assert tree(data, mtimes=True) == before


def test_reading_while_another_sleepchat_owns_the_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = asyncio.run(populate(data))

    async def held() -> None:
        owner = await Store.open(data)
        try:
            await asyncio.to_thread(check_reads, data, sid)
        finally:
            await owner.close()

    asyncio.run(held())


@pytest.mark.parametrize("fault", ["read-only file system", "disk is full"])
def test_reading_on_a_read_only_or_full_disk_says_so(tmp_path: Path, fault: str) -> None:
    with tiny_tmpfs(tmp_path / "mnt") as mnt:
        data = mnt / "data"
        sid = asyncio.run(populate(data))
        if fault == "disk is full":
            fill(mnt)
        else:
            remount(mnt, "ro")
        try:
            errs = check_reads(data, sid)
        finally:
            if fault != "disk is full":
                remount(mnt, "rw")
    for err in errs:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and fault in lines[0] and str(data) in lines[0], err

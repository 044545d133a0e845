"""`sleepchat export -o FILE` is safe (issue 11.5): it never replaces a file without --force,
writes atomically (a full disk leaves the old file as it was), makes the file 0600 whatever the
umask, and replaces a symlink itself rather than writing through it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.disk import fill, tiny_tmpfs

from sleepchat.core.models import Message
from sleepchat.store import Store


async def _populate(data: Path) -> None:
    store = await Store.open(data)
    s = await store.create_session("Export me")
    await store.append_message(Message("m1", s.id, "user", "a question", 1.0))
    await store.append_message(Message("m2", s.id, "assistant", "an answer " * 2000, 2.0))
    await store.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    asyncio.run(_populate(d))
    return d


def export(data: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", "export", "--format", "json", *args]
    return subprocess.run(
        [*cmd, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(umask),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_a_new_file_is_private_whatever_the_umask(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "chat.json"
    proc = export(data, "-o", str(out), umask=0)
    assert proc.returncode == 0, proc.stderr
    assert mode(out) == 0o600
    assert json.loads(out.read_text())["session"]["title"] == "Export me"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_file_is_kept_unless_forced(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("my own notes")
    out.chmod(0o644)
    one_line_error(export(data, "-o", str(out)), str(out), "already exists", "--force")
    assert out.read_text() == "my own notes" and mode(out) == 0o644
    proc = export(data, "-o", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["messages"][0]["content"] == "a question"
    assert mode(out) == 0o600


def test_a_symlink_is_never_written_through(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere")
    one_line_error(export(data, "-o", str(link)), "already exists")
    one_line_error(export(data, "-o", str(dangling)), "already exists")
    assert not (tmp_path / "nowhere").exists()
    assert export(data, "-o", str(link), "--force").returncode == 0
    assert target.read_text() == "keep me"  # the link was replaced, its target untouched
    assert not link.is_symlink() and json.loads(link.read_text())["session"]


def test_a_folder_or_a_missing_folder_is_one_line(data: Path, tmp_path: Path) -> None:
    one_line_error(export(data, "-o", str(tmp_path)), str(tmp_path), "folder")
    one_line_error(export(data, "-o", str(tmp_path / "no" / "x.json")), "No such file")


def test_a_full_disk_leaves_the_old_file_as_it_was(data: Path, tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "mnt", size="1m") as mnt:
        out = mnt / "chat.json"
        out.write_text("the previous export")
        fill(mnt)
        one_line_error(export(data, "-o", str(out), "--force"), "disk full", str(out))
        assert out.read_text() == "the previous export"
        assert sorted(p.name for p in mnt.iterdir()) == ["chat.json", "filler"]  # no temp left

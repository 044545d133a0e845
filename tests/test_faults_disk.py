"""Fault suite, disk full: ENOSPC injected in the store's writes, and a real tiny tmpfs.

A full disk gives one clear line, leaves the last saved state intact, the app keeps running,
and the next save after space returns works.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.disk import fill, tiny_tmpfs

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyDone, ReplyStarted
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import DiskFullError, FileOps, Store, StoreError


class FullDisk:
    """FileOps whose writes fail with ENOSPC while ``full`` is set."""

    def __init__(self) -> None:
        self.full = False
        self.refused = 0
        real = FileOps()

        def write_all(fd: int, data: bytes) -> int:
            if self.full:
                self.refused += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real.write_all(fd, data)

        self.ops = FileOps(write_all=write_all)


async def _turn(a: Assistant, text: str, disk: FullDisk, *, fill_at_reply: bool = False) -> Any:
    """Ask; returns the ReplyDone, or the StoreError the front end would show."""
    try:
        async for event in a.ask(text):
            if fill_at_reply and isinstance(event, ReplyStarted):
                disk.full = True  # the question was saved; the reply's save will fail
            if isinstance(event, ReplyDone):
                return event
    except StoreError as exc:
        return exc
    return None


@pytest.mark.parametrize("where", ["question", "reply", "reflection"])
async def test_assistant_reports_disk_full_keeps_state_and_recovers(
    where: str, tmp_path: Path
) -> None:
    disk = FullDisk()
    data = tmp_path / "d"
    store = await Store.open(data, file_ops=disk.ops)
    a = Assistant(
        backend=FakeBackend(lambda _m: "an answer"),
        store=store,
        settings=CoreSettings(cooldown_seconds=0),
        clock=FakeClock(),
    )
    try:
        await a.start()
        assert isinstance(await _turn(a, "before?", disk), ReplyDone)
        await a.reflect()
        notes_before = [n.to_dict() for n in a.notes]
        if where == "question":
            disk.full = True
            result = await _turn(a, "during?", disk)
        elif where == "reply":
            result = await _turn(a, "during?", disk, fill_at_reply=True)
        else:
            await _turn(a, "during?", disk)
            disk.full = True
            try:
                result = await a.reflect()
            except StoreError as exc:
                result = exc
        assert disk.refused > 0
        if isinstance(result, StoreError):
            assert isinstance(result, DiskFullError)
            assert "disk full" in result.message and "free some space" in result.message
            assert "\n" not in result.message
        else:  # a reflection may record its own failure instead of raising
            assert getattr(result, "status", None) == "failed", result
        disk.full = False  # space is back: the app goes on
        done = await _turn(a, "after?", disk)
        assert isinstance(done, ReplyDone) and done.message.content == "an answer"
        sid = a.session.id  # type: ignore[union-attr]
    finally:
        await a.close()
        await store.close()
    again = await Store.open(data)
    try:
        msgs = [(m.role, m.content) for m in await again.messages(sid)]
        notes = await again.load_table(sid, "notes")
    finally:
        await again.close()
    assert msgs[:2] == [("user", "before?"), ("assistant", "an answer")]
    assert msgs[-2:] == [("user", "after?"), ("assistant", "an answer")]
    assert len([m for m in msgs if m[1] == "during?"]) <= 1
    if where == "question":
        assert ("user", "during?") not in msgs  # the failed save left no trace
    if where != "reflection":
        assert {n["id"] for n in notes} >= {n["id"] for n in notes_before}


# -- a real full disk: script mode on a tiny tmpfs ----------------------------------------------
def test_script_mode_on_a_full_tmpfs(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "mnt") as mnt, FakeOllama(reply="fine") as srv:
        data = mnt / "data"
        cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--model", "llama3.2"]
        cmd += ["--backend", "ollama", "--host", srv.url, "--json"]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdin is not None and proc.stdout is not None

        def say(line: str) -> dict[str, Any]:
            proc.stdin.write(line.encode() + b"\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            event: dict[str, Any] = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
            return event

        try:
            assert say("before?")["type"] == "reply"
            filler = fill(mnt)
            error = say("during?")
            assert error["type"] == "error", error
            assert "disk full" in error["message"] and "free some space" in error["message"]
            filler.unlink()  # space is back
            after = say("after?")
            assert after["type"] == "reply" and after["text"] == "fine"
            proc.stdin.close()
            assert proc.wait(timeout=30) == 1  # one line could not be handled
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read().decode()  # type: ignore[union-attr]
        assert "Traceback" not in stderr
        exported = subprocess.run(
            [
                sys.executable,
                "-m",
                "sleepchat",
                "export",
                "--format",
                "json",
                "--data-dir",
                str(data),
            ],
            capture_output=True,
        )
        assert exported.returncode == 0, exported.stderr.decode()
        msgs = [(m["role"], m["content"]) for m in json.loads(exported.stdout)["messages"]]
    assert msgs == [
        ("user", "before?"),
        ("assistant", "fine"),
        ("user", "after?"),
        ("assistant", "fine"),
    ]

"""Saves that fail halfway: a crash before the rename, a full disk, a read-only dir; modes."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from sleepchat.core.models import Change, Message
from sleepchat.store import DiskFullError, FileOps, Store, StoreError, StoreWriteError

REPO = Path(__file__).resolve().parents[1]


def msg(session_id: str, i: int) -> Message:
    return Message(f"m{i}", session_id, "user", f"message {i}", 1000.0 + i)


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Faults:
    """FileOps that fail with a chosen errno while saving files whose name contains ``only``."""

    def __init__(self) -> None:
        self.errno: int | None = None
        self.only = ""
        self._saving = ""

    def ops(self) -> FileOps:
        return FileOps(mkstemp=self._mkstemp, write_all=self._write_all)

    def _mkstemp(self, folder: Path, prefix: str) -> tuple[int, str]:
        self._saving = prefix
        return tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")

    def _write_all(self, fd: int, data: bytes) -> int:
        if self.errno is not None and self.only in self._saving:
            os.write(fd, data[: len(data) // 2])  # a partial write, as a full disk leaves it
            raise OSError(self.errno, os.strerror(self.errno))
        return os.write(fd, data)


CRASHER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from sleepchat.core.models import Message
    from sleepchat.store import FileOps, Store

    crash = False

    def replace(src, dst):
        if crash:  # the temp file is written and fsynced; die before the rename
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(src, dst)

    async def main():
        global crash
        store = await Store.open(Path(sys.argv[1]), file_ops=FileOps(replace=replace))
        s = await store.create_session("crashy")
        other = await store.create_session("created later, never used")
        await store.append_message(Message("m0", s.id, "user", "saved", 1.0))
        print(s.id, other.id, flush=True)
        crash = True
        await store.append_message(Message("m1", s.id, "user", "in flight", 2.0))

    asyncio.run(main())
    """
)


async def test_a_crash_between_temp_write_and_replace_keeps_the_old_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-c", CRASHER, str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == -9, proc.stderr
    sid, other = proc.stdout.split()
    segment = data / "sessions" / sid / "messages-0000.json"
    leftovers = temp_files(data)
    assert len(leftovers) == 1 and "in flight" in leftovers[0].read_text()
    assert "in flight" not in segment.read_text()

    warnings: list[str] = []
    store = await Store.open(data, on_warning=warnings.append)
    try:
        # The index was not saved after the append: recomputed from the message file.
        # (Their order comes from file mtimes here, too coarse to order two writes a moment
        # apart: not what this test is about.)
        got = {x.id: x.message_count for x in await store.list_sessions()}
        assert got == {sid: 1, other: 0}
        assert [m.content for m in await store.messages(sid)] == ["saved"]
        assert temp_files(data) == []
        assert any("died" in w for w in warnings)
        await store.append_message(Message("m2", sid, "user", "after restart", 3.0))
        assert [m.content for m in await store.messages(sid)] == ["saved", "after restart"]
    finally:
        await store.close()


async def test_a_failed_rename_reports_cleans_up_and_keeps_the_old_file(tmp_path: Path) -> None:
    broken = {"on": False}

    def replace(src: str, dst: str) -> None:
        if broken["on"]:
            raise OSError(errno.EIO, "Input/output error")
        os.replace(src, dst)

    store = await Store.open(tmp_path / "d", file_ops=FileOps(replace=replace))
    try:
        s = await store.create_session("t")
        await store.append_message(msg(s.id, 0))
        broken["on"] = True
        with pytest.raises(StoreWriteError) as err:
            await store.append_message(msg(s.id, 1))
        assert "messages-0000.json" in err.value.message
        assert "the last saved state is intact" in err.value.message
        assert temp_files(store.data_dir) == []
        assert [m.id for m in await store.messages(s.id)] == ["m0"]
        broken["on"] = False
        await store.append_message(msg(s.id, 1))
        assert [m.id for m in await store.messages(s.id)] == ["m0", "m1"]
    finally:
        await store.close()


async def test_a_full_disk_is_reported_and_the_saved_state_survives(tmp_path: Path) -> None:
    faults = Faults()
    store = await Store.open(tmp_path / "d", file_ops=faults.ops())
    try:
        s = await store.create_session("t")
        await store.append_message(msg(s.id, 0))
        segment = store.data_dir / "sessions" / s.id / "messages-0000.json"
        on_disk = segment.read_bytes()

        faults.errno = errno.ENOSPC
        with pytest.raises(DiskFullError) as err:
            await store.append_message(msg(s.id, 1))
        text = err.value.message
        assert "disk full" in text and str(segment) in text and "free some space" in text
        assert "\n" not in text
        assert segment.read_bytes() == on_disk
        assert temp_files(store.data_dir) == []
        assert [m.id for m in await store.messages(s.id)] == ["m0"]
        with pytest.raises(DiskFullError):
            await store.create_session("no room")
        with pytest.raises(DiskFullError):
            await store.apply(s.id, [Change("notes", "upsert", {"id": "n1", "text": "x"})])
        assert await store.load_table(s.id, "notes") == []
        assert [x.title for x in await store.list_sessions()] == ["t"]

        faults.errno = None  # space returns
        await store.append_message(msg(s.id, 1))
        await store.apply(s.id, [Change("notes", "upsert", {"id": "n1", "text": "x"})])
        store = await reopen(store, file_ops=faults.ops())
        assert [m.id for m in await store.messages(s.id)] == ["m0", "m1"]
        assert await store.load_table(s.id, "notes") == [{"id": "n1", "text": "x"}]
        assert [(x.title, x.message_count) for x in await store.list_sessions()] == [("t", 2)]
    finally:
        await store.close()


async def test_a_failed_final_index_save_is_reported_and_repaired_at_next_start(
    tmp_path: Path,
) -> None:
    faults = Faults()
    warnings: list[str] = []
    store = await Store.open(tmp_path / "d", file_ops=faults.ops(), on_warning=warnings.append)
    quiet = await store.create_session("quiet")
    s = await store.create_session("busy")
    faults.errno, faults.only = errno.EDQUOT, "index.json"
    # Real creation times: file mtimes are too coarse to order appends a moment apart, so the
    # repair reads the order from the messages themselves, as it would in a real session.
    now = time.time()
    for session_id, i in ((quiet.id, 0), (s.id, 1), (s.id, 2)):
        m = msg(session_id, i)
        m.created = now + i / 1000
        await store.append_message(m)  # message files save; the index waits in memory
    assert warnings == []
    await store.close()  # the final index save fails: reported, the lock still released
    assert len(warnings) == 1 and "disk full" in warnings[0] and "index.json" in warnings[0]
    faults.errno = None
    store = await Store.open(tmp_path / "d", on_warning=warnings.append)
    try:
        got = [(x.id, x.message_count) for x in await store.list_sessions()]
        assert got == [(s.id, 2), (quiet.id, 1)]
        assert len(warnings) == 1
    finally:
        await store.close()


async def test_a_delete_that_cannot_save_keeps_the_session_whole(tmp_path: Path) -> None:
    faults = Faults()
    warnings: list[str] = []
    store = await Store.open(tmp_path / "d", file_ops=faults.ops(), on_warning=warnings.append)
    try:
        s = await store.create_session("keep me")
        await store.append_message(msg(s.id, 0))
        faults.errno, faults.only = errno.ENOSPC, "index.json"
        with pytest.raises(DiskFullError):
            await store.delete_session(s.id)
        assert [m.id for m in await store.messages(s.id)] == ["m0"]
        faults.errno = None
        await store.delete_session(s.id)
        store = await reopen(store, on_warning=warnings.append)
        assert await store.list_sessions() == []  # not brought back as an orphan folder
        assert warnings == []
    finally:
        await store.close()


async def reopen(store: Store, **kwargs: object) -> Store:
    await store.close()
    return await Store.open(store.data_dir, **kwargs)  # type: ignore[arg-type]


async def test_files_are_private_and_loose_modes_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = await Store.open(data)
    s = await store.create_session("t")
    await store.append_message(msg(s.id, 0))
    await store.apply(s.id, [Change("notes", "upsert", {"id": "n", "text": "x"})])
    folder = data / "sessions" / s.id
    files = [data / "index.json", data / "lock", folder / "meta.json"]
    files.append(folder / "messages-0000.json")
    assert [mode(p) for p in files] == [0o600] * 4
    assert [mode(p) for p in (data, data / "sessions", folder)] == [0o700] * 3
    await store.close()

    for p in files:
        p.chmod(0o644)
    for p in (data, data / "sessions", folder):
        p.chmod(0o755)
    store = await Store.open(data)
    try:
        await store.messages(s.id)
        await store.load_table(s.id, "notes")
        assert [mode(p) for p in files] == [0o600] * 4
        assert [mode(p) for p in (data, data / "sessions", folder)] == [0o700] * 3
    finally:
        await store.close()


async def test_a_read_only_data_dir_is_named_in_the_error(tmp_path: Path) -> None:
    def mkstemp(folder: Path, prefix: str) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    data = tmp_path / "data"
    with pytest.raises(StoreError) as err:
        await Store.open(data, file_ops=FileOps(mkstemp=mkstemp))
    assert str(data) in err.value.message and "not writable" in err.value.message
    assert "Read-only file system" in err.value.message
    assert "another data dir" in err.value.message
    store = await Store.open(data)  # the failed open left no lock behind
    await store.close()


def _open_as_unprivileged_user(data: Path) -> tuple[int, str]:
    """Store.open(data) in a forked child that runs as "nobody" when this process is root (root
    writes through file modes, and CI runs as root): (exit code, the error message or "")."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, open, report through the pipe, never return
        code = 1
        try:
            os.close(read)
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            try:
                store = asyncio.run(Store.open(data))
                asyncio.run(store.close())
                message, code = "", 0
            except StoreError as exc:
                message, code = exc.message, 3
            os.write(write, message.encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


def test_a_data_dir_without_write_permission_is_named_in_the_error() -> None:
    asyncio.run(_open_and_close(Path(tempfile.mkdtemp(prefix="sleepchat-warm-"))))  # imports
    root = Path(tempfile.mkdtemp(prefix="sleepchat-ro-"))  # under /tmp: any user reaches it
    try:
        root.chmod(0o755)
        data = root / "data"
        data.mkdir(mode=0o500)
        if os.geteuid() == 0:  # the user's own folder, without the write bit
            nobody = pwd.getpwnam("nobody")
            os.chown(data, nobody.pw_uid, nobody.pw_gid)
        code, message = _open_as_unprivileged_user(data)
        assert code == 3 and "not writable" in message and str(data) in message, (code, message)
        assert list(data.iterdir()) == []  # no lock, no index: nothing half-made
        data.chmod(0o700)
        code, message = _open_as_unprivileged_user(data)  # the same user, now allowed
        assert (code, message) == (0, "")
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _open_and_close(data: Path) -> None:
    store = await Store.open(data)
    await store.close()
    shutil.rmtree(data, ignore_errors=True)


async def test_a_data_dir_that_is_a_file_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("oops")
    with pytest.raises(StoreError, match="not a folder"):
        await Store.open(data)


def test_saved_files_are_plain_tinydb_json(tmp_path: Path) -> None:
    import asyncio

    async def run() -> str:
        store = await Store.open(tmp_path / "d")
        s = await store.create_session("t")
        await store.append_message(msg(s.id, 0))
        await store.close()
        return s.id

    sid = asyncio.run(run())
    data = json.loads((tmp_path / "d" / "sessions" / sid / "messages-0000.json").read_text())
    assert data["messages"]["1"]["content"] == "message 0"

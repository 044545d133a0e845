"""One sleepchat per data dir: a live holder blocks a second one; a dead one is taken over."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sleepchat.store import Store, StoreLocked
from sleepchat.store.engine import Engine

REPO = Path(__file__).resolve().parents[1]

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from sleepchat.store import Store

    async def main():
        store = await Store.open(Path(sys.argv[1]))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # hold the lock until told to stop
        await store.close()

    asyncio.run(main())
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "data")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    assert ready and proc.stdout.readline().strip() == "ready", proc.stderr.read()  # type: ignore[union-attr]
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


async def test_a_second_instance_is_refused_with_the_holders_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    data = tmp_path / "data"
    with pytest.raises(StoreLocked) as err:
        await Store.open(data)
    assert err.value.pid == holder.pid
    assert err.value.message == (
        f"data dir {data} is in use by another sleepchat (PID {holder.pid}) — "
        "close it first or use another data dir"
    )


async def test_the_lock_of_a_killed_instance_is_taken_over(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    warnings: list[str] = []
    store = await Store.open(tmp_path / "data", on_warning=warnings.append)
    try:
        assert warnings == [f"took over the lock of a sleepchat that died (PID {holder.pid})"]
        assert (tmp_path / "data" / "lock").read_text().strip() == str(os.getpid())
        await store.create_session("mine now")
    finally:
        await store.close()


async def test_a_clean_exit_hands_over_without_a_warning(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.communicate("stop\n", timeout=30)
    assert holder.returncode == 0
    warnings: list[str] = []
    store = await Store.open(tmp_path / "data", on_warning=warnings.append)
    await store.close()
    assert warnings == []


async def test_the_same_process_cannot_open_a_dir_twice(tmp_path: Path) -> None:
    first = await Store.open(tmp_path / "d")
    try:
        with pytest.raises(StoreLocked, match=f"PID {os.getpid()}"):
            await Store.open(tmp_path / "d")
    finally:
        await first.close()
    second = await Store.open(tmp_path / "d")
    await second.close()


async def test_an_open_cancelled_midway_gives_the_data_dir_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app closed while its store was opening in its thread: the open finishes there, and
    # the lock is given back by sleepchat, not left for the kernel at exit.
    locked, go_on = threading.Event(), threading.Event()
    real_open = Engine.open

    def open_then_wait(self: Engine) -> None:
        real_open(self)
        locked.set()
        go_on.wait(30)

    monkeypatch.setattr(Engine, "open", open_then_wait)
    opening = asyncio.create_task(Store.open(tmp_path / "d"))
    assert await asyncio.to_thread(locked.wait, 30)
    opening.cancel()
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await opening
    monkeypatch.undo()
    assert (tmp_path / "d" / "lock").read_text() == ""  # released cleanly: no holder's PID
    warnings: list[str] = []
    store = await Store.open(tmp_path / "d", on_warning=warnings.append)
    await store.close()
    assert warnings == []  # no "took over the lock of a sleepchat that died"

"""A stop that meets a main thread waiting for ever (the way Textual's shutdown waited on a
terminal that was gone) still ends the process: the watchdog after the grace period, a second
SIGTERM at once; the exit code names the signal either way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

STUCK = """
import asyncio, sys, threading
from sleepchat.signals import StopSignals

async def main():
    stop = StopSignals(grace=float(sys.argv[1]))
    stop.install(lambda: None)  # nothing comes of the stop on the loop...
    print("ready", flush=True)
    threading.Event().wait()  # ...and the main thread waits for ever, the loop blocked

asyncio.run(main())
"""


def _stuck(grace: float) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, str(grace)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


def _wait_for_watchdog(proc: subprocess.Popen[bytes]) -> None:
    """Until the stop's watchdog thread runs (the process's second thread)."""
    tasks = Path(f"/proc/{proc.pid}/task")
    deadline = time.monotonic() + 30
    while len(list(tasks.iterdir())) < 2:
        assert time.monotonic() < deadline, "the stop signal was never handled"
        time.sleep(0.01)


def test_the_watchdog_ends_a_stuck_shutdown() -> None:
    proc = _stuck(grace=0.5)
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=30) == 129


def test_a_second_sigterm_ends_it_at_once() -> None:
    proc = _stuck(grace=600)  # the watchdog would take ten minutes
    proc.send_signal(signal.SIGTERM)
    _wait_for_watchdog(proc)  # the first one handled (two pending signals would be one)
    assert proc.poll() is None  # stuck, as it should be: the first stop waits for the grace
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143


def test_a_second_sighup_is_not_a_second_stop() -> None:
    """A closing terminal may send SIGHUP twice (to the process group, then from the shell):
    the stop under way goes on, the partial reply is not cut short of being saved."""
    proc = _stuck(grace=3.0)
    proc.send_signal(signal.SIGHUP)
    _wait_for_watchdog(proc)
    proc.send_signal(signal.SIGHUP)
    started = time.monotonic()
    assert proc.wait(timeout=30) == 129
    assert time.monotonic() - started > 1.0  # ended by the watchdog, not by the second signal


RACE = """
import asyncio, os, signal
from sleepchat.commands import run

raised = []

async def main():
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def deliver():
        # What a stream's reader does as data arrives (asyncio.Event.set): it checks that the
        # waiter is pending, then sets it. Ctrl-C lands in between.
        if not waiter.done():
            os.kill(os.getpid(), signal.SIGINT)
            try:
                waiter.set_result(True)
            except asyncio.InvalidStateError:
                raised.append("InvalidStateError")

    loop.call_soon(deliver)
    await waiter
    await asyncio.sleep(30)  # the Ctrl-C should end it long before
    return 0

code = run(main())
print(code, raised, flush=True)
"""


def test_ctrl_c_between_a_check_and_a_set_is_a_clean_interrupt() -> None:
    """Ctrl-C in a scripted session is handed to the event loop, not acted on between two
    bytecodes of whatever it interrupts: a stream reader that had just checked its waiter was
    pending then found it cancelled under it, and the session ended with a traceback."""
    proc = subprocess.run(
        [sys.executable, "-c", RACE], capture_output=True, timeout=60, check=False
    )
    assert proc.stdout == b"130 []\n", proc.stderr.decode()[-1500:]
    assert b"Traceback" not in proc.stderr


def test_a_second_ctrl_c_ends_a_stuck_scripted_session_at_once() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_RUN], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGINT)
    _wait_for_watchdog(proc)
    assert proc.poll() is None  # the first one waits for the grace (600 s)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130


STUCK_RUN = """
import threading
from sleepchat import signals
from sleepchat.commands import run

signals.GRACE_S = 600

async def main():
    print("ready", flush=True)
    threading.Event().wait()  # the loop blocked for ever

run(main())
"""

"""Stop signals: SIGTERM (``kill``, a service manager) and SIGHUP (the terminal was closed) stop
sleepchat the way Ctrl-C does — the reply in progress is cut and kept with its question, the
data dir is released — and the exit code names the signal (128 + its number: 143, 129). A
terminal that goes away without a SIGHUP (a front end sees it fail) stops it the same way.

Whatever the shutdown meets, it ends: the handlers run even while the event loop is blocked
(Python runs them on the main thread between bytecodes, and hand the stop to the loop), a
second SIGTERM ends the process at once, and ``GRACE_S`` after the first stop a watchdog thread
ends it whatever it is doing (nothing else can end a process whose main thread waits forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("sleepchat.signals")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# From a stop signal to the end of the process, at most (then: os._exit). A stop handled only
# between start-up's imports (a loaded two-core machine: up to ~0.6 s each) plus the shutdown
# itself passed 1.5 s now and then; 3 s leaves the clean stop its time and still ends a hang.
GRACE_S = 3.0


class StopSignals:
    """``install(on_stop)`` inside the running loop; ``signum`` is the first signal received.
    ``on_stop`` runs once, on the loop."""

    def __init__(
        self, grace: float | None = None, signals: tuple[int, ...] = STOP_SIGNALS
    ) -> None:
        self.signum: int | None = None
        self.grace = GRACE_S if grace is None else grace
        self.signals = signals
        self._ttys: tuple[int, ...] = ()
        self._previous: dict[int, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_stop: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def install(self, on_stop: Callable[[], object]) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_stop = on_stop
        # Which descriptors are the terminal, asked now: once it hangs up, isatty() says no.
        self._ttys = tuple(fd for fd in (0, 1, 2) if _isatty(fd))
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._received)

    def uninstall(self) -> None:
        """Give the signals back to whoever had them (a test process, say)."""
        for sig, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
        self._previous.clear()

    def _received(self, sig: int, _frame: FrameType | None) -> None:
        if sig == signal.SIGHUP:
            detach_terminal(self._ttys)
        self.stop(sig)

    def terminal_lost(self) -> None:
        """The terminal went away (EOF, EIO, hung up) without a SIGHUP: stop as if one came.
        Safe from any thread."""
        detach_terminal(self._ttys)
        self.stop(signal.SIGHUP)

    def stop(self, sig: int) -> None:
        """Stop for ``sig``: the first time, hand the stop to the loop and start the watchdog;
        a second SIGTERM or Ctrl-C ends the process now (a hung-up terminal may send SIGHUP
        twice)."""
        with self._lock:
            first = self.signum is None
            if first:
                self.signum = sig
        if not first:
            if sig in (signal.SIGTERM, signal.SIGINT):
                os._exit(self.exit_code(0))
            return
        threading.Thread(target=self._watchdog, name="sleepchat-stop", daemon=True).start()
        if self._loop is not None and self._on_stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: ending anyway
                self._loop.call_soon_threadsafe(self._on_stop)

    def _watchdog(self) -> None:
        threading.Event().wait(self.grace)
        with contextlib.suppress(Exception):
            # Where the main thread is held: what to make faster or cancellable next time.
            frame = sys._current_frames().get(threading.main_thread().ident or 0)
            where = "".join(traceback.format_stack(frame, limit=8)) if frame else "unknown"
            log.warning(
                "still stopping %.1f s after the stop signal: ended now; main thread at\n%s",
                self.grace,
                where,
            )
        os._exit(self.exit_code(0))

    def exit_code(self, code: int) -> int:
        """``code``, or 128 + the signal's number once a stop signal arrived."""
        return 128 + self.signum if self.signum is not None else code


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def detach_terminal(ttys: tuple[int, ...] | None = None) -> None:
    """The terminal is gone: what is read from it or written to it while shutting down goes
    nowhere instead of failing (EIO). Pipes and files are left alone: their reader is still
    there. ``ttys``: the descriptors that were the terminal (by default, those that still are)."""
    fds = ttys if ttys is not None else tuple(fd for fd in (0, 1, 2) if _isatty(fd))
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in fds:
                os.dup2(devnull, fd)
        finally:
            os.close(devnull)

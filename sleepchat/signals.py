"""Stop signals: SIGTERM (``kill``, a service manager) and SIGHUP (the terminal was closed) stop
sleepchat the way Ctrl-C does — the reply in progress is cut and kept with its question, the
data dir is released — and the exit code names the signal (128 + its number: 143, 129)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """``install(on_stop)`` inside the running loop; ``signum`` is the first signal received."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def install(self, on_stop: Callable[[], object]) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._received, sig, on_stop)

    def _received(self, sig: int, on_stop: Callable[[], object]) -> None:
        if sig == signal.SIGHUP:
            detach_terminal()
        if self.signum is None:
            self.signum = sig
            on_stop()

    def exit_code(self, code: int) -> int:
        """``code``, or 128 + the signal's number once a stop signal arrived."""
        return 128 + self.signum if self.signum is not None else code


def detach_terminal() -> None:
    """The terminal is gone (SIGHUP): what is written to it while shutting down goes nowhere
    instead of failing (EIO). Pipes and files are left alone: their reader is still there."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            for fd in (1, 2):
                if os.isatty(fd):
                    os.dup2(devnull, fd)
        finally:
            os.close(devnull)

"""Textual's Linux driver, made to let go of a terminal that is gone.

Textual writes the screen through a writer thread and a bounded queue (30 writes). When the
terminal goes away (its window closed, ``tmux kill-session``, the ssh link dropped), the
thread's next write fails with EIO and the thread dies; the queue fills and the app's next
write, at the latest the last frame written on the way out, blocks forever (Textual issue
#6692 shows the same mechanism). So here:

* output that fails is dropped, never raised: the writer thread lives and drains the queue;
* a terminal that hangs up or fails is noticed at once (a thread waits on its hang-up, and a
  failed write counts too) and reported to the app, which stops as on SIGHUP;
* once it is gone nothing more is queued, the input thread stops reading, and closing waits
  for the writer thread only ``CLOSE_WAIT_S``.
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Callable
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver

CLOSE_WAIT_S = 0.5  # for the last frame to reach a slow (but live) terminal


class _Output:
    """The terminal's text stream, with writes that fail counted as the terminal lost."""

    def __init__(self, file: IO[str], lost: Callable[[], None]) -> None:
        self._file = file
        self._lost = lost
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._file.write(text)
            except (OSError, ValueError):  # EIO, EPIPE; ValueError: the file was closed
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._lost()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


class TerminalDriver(LinuxDriver):
    """LinuxDriver that stops the app, instead of hanging, when the terminal goes away. The
    app gets ``terminal_lost()`` (from another thread) when it does."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._gone = threading.Event()
        self._output = _Output(self._file, self._lost)
        self._file = self._output  # type: ignore[assignment]

    @property
    def terminal_gone(self) -> bool:
        return self._gone.is_set()

    def start_application_mode(self) -> None:
        super().start_application_mode()
        if self._writer_thread is None:  # the terminal failed before the app could start
            self._lost()
            return
        threading.Thread(target=self._watch_hangup, name="sleepchat-hangup", daemon=True).start()

    def _watch_hangup(self) -> None:
        """Wait for the terminal to hang up (poll reports it whatever events are asked for)."""
        poller = select.poll()
        for fd in {self.fileno, self._output.fileno()}:
            poller.register(fd, 0)
        with contextlib.suppress(OSError, ValueError):
            while not self._gone.is_set():
                if poller.poll():
                    self._lost()

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError:  # EIO: the terminal is gone (not a crash to show)
            self._lost()

    def let_go(self) -> None:
        """The terminal is gone or given up (SIGHUP): write nothing more, read nothing more."""
        self._gone.set()
        self._output.gone = True
        self.exit_event.set()  # the input thread stops (a hung-up terminal reads as EOF)

    def _lost(self) -> None:
        if self._gone.is_set():
            return
        self.let_go()
        lost = getattr(self._app, "terminal_lost", None)
        if callable(lost):
            lost()

    def write(self, data: str) -> None:
        if not self._gone.is_set() and self._writer_thread is not None:
            super().write(data)

    def close(self) -> None:
        """Stop the writer thread; wait for it only a moment (it is a daemon thread)."""
        writer = self._writer_thread
        if writer is None:
            return
        if self._gone.is_set():
            self._writer_thread = None
            return
        stopper = threading.Thread(target=writer.stop, name="sleepchat-writer-stop", daemon=True)
        stopper.start()
        stopper.join(CLOSE_WAIT_S)

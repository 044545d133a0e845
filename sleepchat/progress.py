"""Progress of long work on the command line: a bar with an ETA on a terminal, plain lines when
the output is piped or logged (no carriage returns in a log file).

Shared by every command that works through a known number of steps (the benchmark's
conversations, building the search index).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO

BAR = 24  # characters
REDRAW_S = 0.1  # a terminal line is redrawn at most this often


def duration(seconds: float) -> str:
    """ "42 s", "3 min 05 s", "1 h 02 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """``advance()`` after each step; ``done()`` at the end. On a terminal one line is redrawn
    (bar, count, percent, elapsed, ETA); otherwise each step with a note is one line, and
    steps without one are summed up every tenth of the way."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: IO[str] | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.count = 0
        self.started = clock()
        self._drawn = 0.0
        self._tenth = 0

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (None before the first step)."""
        if not self.count or self.count >= self.total:
            return None if not self.count else 0.0
        elapsed = self.clock() - self.started
        return elapsed / self.count * (self.total - self.count)

    def line(self) -> str:
        total = self.total or 1
        filled = round(BAR * min(self.count, total) / total)
        pct = 100 * min(self.count, total) // total
        elapsed = duration(self.clock() - self.started)
        eta = self.eta()
        left = f", {duration(eta)} left" if eta else ""
        bar = "█" * filled + "░" * (BAR - filled)
        return f"{self.label} {bar} {self.count}/{self.total} ({pct} %), {elapsed}{left}"

    def advance(self, steps: int = 1, note: str = "") -> None:
        self.count += steps
        if self.tty:
            now = self.clock()
            if now - self._drawn >= REDRAW_S or self.count >= self.total:
                self._drawn = now
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
            return
        tenth = 10 * self.count // (self.total or 1)
        if note or tenth > self._tenth:
            self._tenth = tenth
            eta = self.eta()
            left = f", {duration(eta)} left" if eta else ""
            detail = f": {note}" if note else ""
            self.stream.write(f"{self.label} {self.count}/{self.total}{detail}{left}\n")
            self.stream.flush()

    def done(self, summary: str = "") -> None:
        took = duration(self.clock() - self.started)
        text = f"{self.label}: {summary or 'done'} in {took}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + "\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

"""The idle clock: when the keyboard has been quiet long enough, at a turn boundary
(docs/architecture.md, When).

Pure bookkeeping over an injected clock. The sleep loop (``core/sleep.py``) listens to its
changes (input, a turn's start or end) to know when to look again; whether there is anything new
to reflect on is the reflector's business (it skips an unchanged state anyway).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from sleepchat.core.clock import Clock


class IdleClock:
    def __init__(self, clock: Clock, idle_seconds: float) -> None:
        if idle_seconds < 0:
            raise ValueError("idle_seconds must be >= 0")
        self.clock = clock
        self.idle_seconds = idle_seconds
        self._last_input = clock.monotonic()
        # A count, not a flag: a /regen may start while a reply's cleanup is still running.
        self._turns = 0
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every input and every turn start or end."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def touch(self) -> None:
        """Any input (a keystroke, a pasted chunk, a submitted line) restarts the idle period."""
        self._last_input = self.clock.monotonic()
        self._changed()

    def begin_turn(self) -> None:
        """A reply started streaming: no turn boundary until ``end_turn``."""
        self._turns += 1
        self._changed()

    def end_turn(self) -> None:
        self._turns = max(0, self._turns - 1)
        self._changed()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A reply in progress: never due during it; the idle period restarts at both ends."""
        self.touch()
        self.begin_turn()
        try:
            yield
        finally:
            self.end_turn()
            self.touch()

    @property
    def in_turn(self) -> bool:
        return self._turns > 0

    @property
    def idle_for(self) -> float:
        """Seconds since the last input."""
        return max(0.0, self.clock.monotonic() - self._last_input)

    def seconds_until_idle(self) -> float | None:
        """Seconds left of the idle period (0 when over); None while a reply streams."""
        if self.in_turn:
            return None
        return max(0.0, self.idle_seconds - self.idle_for)

    def is_due(self) -> bool:
        """True when ``idle_seconds`` passed since the last input and no reply is streaming."""
        left = self.seconds_until_idle()
        return left is not None and left <= 0.0

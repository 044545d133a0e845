"""When to sleep: the one loop every front end awaits (see "The sleep loop and the front ends"
in the README's Architecture section).

A reflection starts when sleep is enabled, a session is open, no reflection runs, the idle
period has passed at a turn boundary (never mid-reply) and there was input since the last cycle
ended: one cycle per idle period, so an unchanged conversation or a server that is down is not
retried over and over. A cycle skipped for the cooldown is tried again one cooldown later; one
that left answers for later (its plan was for a shorter idle period) is followed by the next at
once. Input
(``touch``) cancels a running reflection at once.

Nothing polls: the loop waits for a wake-up (input, a turn's start or end, a session opened, a
reflection ended) or for the idle deadline, timed by the injected clock's ``sleep`` — so tests
move a FakeClock and never sleep for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sleepchat.core.clock import Clock
from sleepchat.core.conversation import Conversation
from sleepchat.core.errors import CoreError
from sleepchat.core.events import EventBus, SleepChanged
from sleepchat.core.idle import IdleClock
from sleepchat.core.models import Reflection
from sleepchat.core.ports import Backend
from sleepchat.errors import SleepchatError


class Reflects(Protocol):
    async def run(self, conversation: Conversation) -> Reflection: ...


def yields_to_input(backend: Backend) -> bool:
    """Whether the user's input cancels a running reflection: when the server runs one request
    at a time (a reflection left running would delay the answer). With two or more slots
    (``capabilities.parallel_slots``) the user's request runs beside the reflection."""
    return backend.capabilities.parallel_slots < 2


class SleepLoop:
    """The loop reflects on ``conversation`` (the open session, set by the assistant when one
    opens) with ``reflector``; it emits ``SleepChanged`` on ``events``."""

    def __init__(
        self,
        idle: IdleClock,
        clock: Clock,
        reflector: Reflects,
        backend: Backend,
        events: EventBus,
        *,
        cooldown_seconds: float,
        log: logging.Logger,
    ) -> None:
        self.idle = idle
        self.clock = clock
        self.reflector = reflector
        self.backend = backend
        self.conversation: Conversation | None = None
        self.cooldown_seconds = cooldown_seconds
        self.events = events
        self.log = log
        self._task: asyncio.Task[Reflection] | None = None
        self._spent = False  # a cycle ended and no input came since
        self._retry_at: float | None = None  # monotonic time of a retry after a cooldown skip
        self._wakers: set[asyncio.Event] = set()
        idle.listen(self._input)

    # -- state -------------------------------------------------------------------------------
    def _ready(self) -> bool:
        """Sleep enabled and a session open."""
        return self.conversation is not None and self.conversation.settings.sleep_enabled

    @property
    def reflecting(self) -> bool:
        return self._task is not None and not self._task.done()

    def due(self) -> bool:
        """Whether a reflection should start now."""
        if not self._ready() or self.reflecting or not self.idle.is_due():
            return False
        if not self._spent:
            return True
        return self._retry_at is not None and self.clock.monotonic() >= self._retry_at

    def _input(self) -> None:
        self._spent = False
        self._retry_at = None
        self.wake()

    def wake(self) -> None:
        """Have every running loop look again (after anything that may change ``due``)."""
        for event in self._wakers:
            event.set()

    # -- one cycle ---------------------------------------------------------------------------
    def start(self) -> asyncio.Task[Reflection]:
        """Start one reflection in the background (or return the one running)."""
        if self._task is not None and not self._task.done():
            return self._task
        if self.conversation is None:
            raise CoreError("no session is open — start one first")
        self._task = asyncio.get_running_loop().create_task(self.reflector.run(self.conversation))
        self._task.add_done_callback(self._ended)
        self.events.emit(SleepChanged(True))
        return self._task

    def _ended(self, task: asyncio.Task[Reflection]) -> None:
        error: str | None = None
        if task.cancelled():
            pass  # input cancelled it: the idle period starts again with that input
        elif (exc := task.exception()) is not None:
            error = exc.message if isinstance(exc, SleepchatError) else f"{exc}"
            self.log.error("reflection failed: %s", error, exc_info=exc)
            self._spent = True
        else:
            self._spent = True
            result = task.result()
            if result.status == "skipped" and result.reason == "cooldown":
                self._retry_at = self.clock.monotonic() + self.cooldown_seconds
            elif result.status == "done" and result.more:
                # Planned for a shorter idle period than the user gave: go on with the answers
                # it left (each cycle stores what it did before the next starts).
                self._retry_at = self.clock.monotonic()
        self.events.emit(SleepChanged(False, error))
        self.wake()

    def touch(self) -> None:
        """Input: restart the idle period and cancel a running reflection at once (unless the
        server has a slot to spare for the user)."""
        self.idle.touch()
        if self._task is not None and not self._task.done() and yields_to_input(self.backend):
            self._task.cancel()

    async def preempt(self) -> None:
        """Cancel a running reflection and wait for it to record itself as cancelled."""
        task = self._task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    # -- the loop ----------------------------------------------------------------------------
    async def run(self, seconds: float | None = None) -> None:
        """Reflect whenever due, until cancelled, or for ``seconds`` of clock time. A reflection
        still running when the time is up goes on (the next input preempts it)."""
        end = None if seconds is None else self.clock.monotonic() + max(0.0, seconds)
        wake = asyncio.Event()
        self._wakers.add(wake)
        try:
            while True:
                wake.clear()  # before looking: a wake-up from here on is not lost
                if self.due():
                    self.start()
                now = self.clock.monotonic()
                if end is not None and now >= end:
                    return
                await self._wait(wake, self._next_look(now, end))
        finally:
            self._wakers.discard(wake)

    def _next_look(self, now: float, end: float | None) -> float | None:
        """The clock time when ``due`` may turn true on its own; None: only a wake-up can."""
        at: float | None = None
        if self._ready() and not self.reflecting:
            left = self.idle.seconds_until_idle()  # None mid-reply: the turn's end wakes us
            if left is not None:
                at = now + left
                if self._spent:
                    at = None if self._retry_at is None else max(at, self._retry_at)
        if end is not None:
            at = end if at is None else min(at, end)
        return at

    async def _wait(self, wake: asyncio.Event, deadline: float | None) -> None:
        if deadline is None:
            await wake.wait()
            return
        timer = asyncio.ensure_future(self.clock.sleep_until(deadline))
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait((timer, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            woken.cancel()

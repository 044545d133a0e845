"""The sleep cycle: one reflection over a session while the user is idle (DESIGN §2).

Steps, each stored as soon as it is done (a cancel keeps the finished ones):

A. notes (``notes_step``) — explicit insert / merge / forget operations;
B. predictions (``predict_step``) — keep or drop older ones, propose likely next questions;
C. answers (``predict_step``) — a full answer per new question, requested like a chat turn;
D. warm-up — the chat prefix alone, one token, so the server's cache holds it (on backends
   with a prefix cache; ``Reflector.warm_up`` is also what resuming a session uses).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence

from sleepchat.core import prompts
from sleepchat.core.clock import Clock
from sleepchat.core.events import Event, MemoryChanged, ReflectionChanged
from sleepchat.core.memory import Memory
from sleepchat.core.models import Message, Note, Reflection, ReflectionStatus
from sleepchat.core.notes_step import notes_step
from sleepchat.core.predict_step import predictions_step
from sleepchat.core.recall import Recall
from sleepchat.core.reflect_run import Run, completion_tokens, state_key, user_turns
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import Backend, BackendError


def has_exchange(history: Sequence[Message]) -> bool:
    """A complete user + assistant exchange exists."""
    asked = False
    for m in history:
        if m.role == "user":
            asked = True
        elif asked and m.content and not m.replaced_by:
            return True
    return False


class Reflector:
    def __init__(
        self,
        backend: Backend,
        settings: CoreSettings,
        clock: Clock,
        recall: Recall,
        log: logging.Logger | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.clock = clock
        self.recall = recall
        self.log = log or logging.getLogger("sleepchat.reflect")

    async def run(
        self,
        session_id: str,
        history: Sequence[Message],
        memory: Memory,
        emit: Callable[[Event], None],
    ) -> Reflection:
        """One reflection. Cancel the task to preempt it: the reflection is then stored as
        cancelled (finished steps kept) and CancelledError propagates."""
        history = list(history)
        key = state_key(session_id, history, memory.notes)
        reason = self._skip_reason(key, history, memory)
        if reason is not None:
            return await self._skip(session_id, key, reason, memory, emit, user_turns(history))

        started = self.clock.monotonic()
        reflection = await memory.save_reflection(
            Reflection(id="", session_id=session_id, state_key=key, started=self.clock.now())
        )
        emit(ReflectionChanged(reflection))
        run = Run(
            reflection,
            memory,
            emit,
            history,
            self.backend,
            self.settings,
            self.clock,
            self.log,
            started=started,
        )
        status: ReflectionStatus = "done"
        failure: str | None = None
        try:
            await notes_step(run)
            await predictions_step(run, self.recall)
            if run.warms():
                run.tokens += await self.warm_up(run.history, run.memory.notes)
        except asyncio.CancelledError:
            # Shielded: a second cancel must not lose the record of the first.
            await asyncio.shield(self._finish(run, "cancelled", "preempted by input"))
            raise
        except BackendError as exc:
            # The chat goes on; the reflection says why it stopped.
            self.log.warning("reflection %s failed: %s", reflection.id, exc.message)
            status, failure = "failed", exc.message
        return await self._finish(run, status, failure)

    def _skip_reason(self, key: str, history: Sequence[Message], memory: Memory) -> str | None:
        if not has_exchange(history):
            return "nothing to reflect on"
        last_done = memory.last_reflection("done")
        if last_done is not None and last_done.state_key == key:
            return "unchanged"
        last = memory.last_reflection("done", "cancelled")
        if (
            last is not None
            and last.finished is not None
            and self.clock.now() - last.finished < self.settings.cooldown_seconds
        ):
            return "cooldown"
        return None

    async def _skip(
        self,
        session_id: str,
        key: str,
        reason: str,
        memory: Memory,
        emit: Callable[[Event], None],
        turn: int,
    ) -> Reflection:
        last = memory.last_reflection()
        if (
            last is not None
            and last.status == "skipped"
            and last.state_key == key
            and last.reason == reason
        ):
            return last  # the same non-event again: no new record for every idle period
        now = self.clock.now()
        skipped = await memory.save_reflection(
            Reflection(
                id="",
                session_id=session_id,
                state_key=key,
                started=now,
                status="skipped",
                finished=now,
                reason=reason,
            )
        )
        await memory.record_reflection("skipped", 0, 0)
        emit(MemoryChanged.of(memory, turn, self.settings.prediction_ttl_turns))  # the stats
        emit(ReflectionChanged(skipped))
        return skipped

    async def _finish(self, run: Run, status: ReflectionStatus, reason: str | None) -> Reflection:
        final = dataclasses.replace(run.counted(status, reason), finished=self.clock.now())
        if status == "done":
            # Keyed by the state it leaves behind, so an unchanged conversation is not redone.
            final.state_key = state_key(final.session_id, run.history, run.memory.notes)
        final = await run.memory.save_reflection(final)
        await run.memory.record_reflection(status, run.tokens, run.predictions)
        run.memory_changed()  # the stats moved
        run.emit(ReflectionChanged(final, run.dropped))
        return final

    async def warm_up(self, history: Sequence[Message], notes: Sequence[Note]) -> int:
        """Have the server process the chat prefix (system prompt, history, notes) now, so the
        next question prefills only its own tokens; returns the tokens it generated. The one
        warm-up: the sleep cycle's last step, and what resuming a session does."""
        if not self.backend.capabilities.prefix_cache:
            return 0  # computed and forgotten: tokens for nothing
        messages = prompts.warm_messages(
            self.settings.system_prompt, history, [n.text for n in notes]
        )
        stats = await self.backend.warm_up(
            messages, options=self.settings.options, keep_alive=self.settings.keep_alive
        )
        return completion_tokens(stats, "")

"""The façade every front end drives: sessions, ``ask()``, and the sleep cycle.

Front ends consume ``ask()`` as an async iterator of events, await ``idle_loop()`` (the one sleep
loop, ``core/sleep.py``) while they wait for input, call ``touch()`` on every key, and subscribe
to background events (reflections, memory changes) with ``subscribe()``. Nothing here knows
about terminals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from sleepchat.core import branches
from sleepchat.core.clock import Clock, SystemClock
from sleepchat.core.errors import CoreError, UnknownNoteError, UnknownSessionError
from sleepchat.core.events import (
    Event,
    MemoryChanged,
    ReplyChunk,
    ReplyDone,
    ReplyStarted,
    SessionChanged,
)
from sleepchat.core.idle import IdleClock
from sleepchat.core.memory import Memory
from sleepchat.core.models import (
    Message,
    Note,
    PendingChange,
    Prediction,
    Reflection,
    Session,
    new_id,
)
from sleepchat.core.ports import Embedder, StorePort
from sleepchat.core.preferences import Preferences
from sleepchat.core.profile import SessionProfile
from sleepchat.core.recall import Recall, RecallResult
from sleepchat.core.reflect import Reflector
from sleepchat.core.replies import ReplyMaker
from sleepchat.core.session_lookup import find_session
from sleepchat.core.settings import CoreSettings
from sleepchat.core.sleep import SleepLoop
from sleepchat.core.staleness import current_predictions, servable
from sleepchat.core.stats import Stats
from sleepchat.llm.base import Backend
from sleepchat.text import clean_input, clip

DEFAULT_TITLE = "New chat"
TITLE_CHARS = 48
HINTS = 2  # near-miss predictions passed to the model as hints


__all__ = ["Assistant", "CoreError", "UnknownNoteError", "UnknownSessionError"]


class Assistant:
    def __init__(
        self,
        *,
        backend: Backend,
        store: StorePort,
        settings: CoreSettings | None = None,
        clock: Clock | None = None,
        log: logging.Logger | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """``embedder`` embeds questions for recall (None: recall matches words)."""
        self.backend = backend
        self.store = store
        self.settings = settings or CoreSettings()
        self.clock = clock or SystemClock()
        self.log = log or logging.getLogger("sleepchat.core")
        self.idle = IdleClock(self.clock, self.settings.idle_seconds)
        self.recall = Recall(embedder, threshold=self.settings.recall_threshold, log=self.log)
        self.reflector = Reflector(backend, self.settings, self.clock, self.recall, self.log)
        self.profile = SessionProfile(self)  # the session's model, system prompt, options
        self.session: Session | None = None
        self.history: list[Message] = []
        self.memory: Memory | None = None
        self.replies = ReplyMaker(backend, store, self.settings, self.clock, self.log)
        self.preferences = Preferences(store)
        self._listeners: list[Callable[[Event], None]] = []
        self.sleep = SleepLoop(
            self.idle,
            self.clock,
            self._reflect,
            ready=lambda: self.settings.sleep_enabled and self.session is not None,
            cooldown_seconds=self.settings.cooldown_seconds,
            emit=self._emit,
            log=self.log,
            yields=self.reflection_yields,
        )

    # -- events ------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Receive background events (reflections, memory changes). Returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the core
                self.log.exception("event listener failed")

    def _memory_changed(self) -> None:
        if self.memory is not None:
            ttl = self.settings.prediction_ttl_turns
            self._emit(MemoryChanged.of(self.memory, self.history, ttl))

    # -- sessions ----------------------------------------------------------------------------
    async def start(self, session_id: str | None = None) -> Session:
        """Open ``session_id`` (id or unique prefix), else resume the last one, else a new one."""
        if session_id:
            return await self.switch_session(session_id)
        last = await self.store.last_session()
        if last is None:
            return await self.new_session()
        return await self._load(last)

    async def new_session(self, title: str | None = None) -> Session:
        await self.preempt()
        session = await self.store.create_session(clean_input(title or "") or DEFAULT_TITLE)
        return await self._load(session)

    async def switch_session(self, session_id: str) -> Session:
        session = await find_session(self.store, session_id)
        await self.preempt()
        return await self._load(session)

    async def list_sessions(self) -> list[Session]:
        return await self.store.list_sessions()

    async def rename_session(self, session_id: str, title: str) -> Session:
        return await self.profile.rename(session_id, title)

    async def delete_session(self, session_id: str) -> None:
        """Delete a session; when it is the current one, move to the last remaining (or new)."""
        found = await find_session(self.store, session_id)
        current = self.session is not None and self.session.id == found.id
        if current:
            await self.preempt()
        await self.store.delete_session(found.id)
        if current:
            self.session = None
            await self.start()

    async def _load(self, session: Session) -> Session:
        self.session = session
        await self.profile.apply(session)
        self.history = await self.store.messages(session.id)
        self.memory = Memory(self.store, session.id, self.clock)
        await self.memory.load()
        self.idle.touch()
        self._emit(SessionChanged(session))
        self._memory_changed()
        return session

    async def _current(self) -> tuple[Session, Memory]:
        if self.session is None or self.memory is None:
            await self.start()
        assert self.session is not None and self.memory is not None
        return self.session, self.memory

    # -- asking ------------------------------------------------------------------------------
    @property
    def recall_method(self) -> str:
        """How questions are matched to predictions now, e.g. "embedding: all-MiniLM-L6-v2
        (built in)" or "lexical" (for the status line and doctor)."""
        return self.recall.description

    @property
    def turn(self) -> int:
        """User turns so far in the current session (the staleness clock of predictions)."""
        return sum(1 for m in self.history if m.role == "user")

    async def ask(self, text: str, *, force_model: bool = False) -> AsyncIterator[Event]:
        """Store the question, then answer it from a fresh prediction or the model.

        The user message is durable before any model call. A reply cut by an error or a
        cancel is stored, marked interrupted.
        """
        text = clean_input(text)  # whatever a front end hands in, stored and sent valid
        if not text.strip():
            raise CoreError("nothing to send: the message is empty")
        if self.reflection_yields():  # the user's request must not queue behind a reflection
            await self.preempt()
        with self.idle.turn():
            session, _memory = await self._current()
            last = self.history[-1] if self.history else None
            if last is not None and last.role == "user" and last.content == text:
                user = last  # a retry of a question that got no reply: not stored twice
            else:
                user = Message(
                    id=new_id("m", 6),
                    session_id=session.id,
                    role="user",
                    content=text,
                    created=self.clock.now(),
                )
                await self.store.append_message(user)
                self.history.append(user)
            if session.title == DEFAULT_TITLE and self.turn == 1:
                self.session = await self.store.rename_session(session.id, clip(text, TITLE_CHARS))
                self._emit(SessionChanged(self.session))
            hints: list[tuple[str, str]] = []
            if self.settings.sleep_enabled and not force_model:
                # Matched against what was there before this question was asked.
                ready = self._current_predictions(self.history[:-1])
                result = await self.recall.match(text, ready)
                if result.hit is not None and result.hit.answer:
                    async with contextlib.aclosing(self._serve(user, result.hit)) as events:
                        async for event in events:
                            yield event
                    return
                hints = [(p.question, p.answer) for p, _score in result.near if p.answer][:HINTS]
                if ready:
                    await self._record_outcome(result)
                    self._memory_changed()
            async with contextlib.aclosing(self._reply(user, hints)) as events:
                async for event in events:
                    yield event

    def _current_predictions(self, history: list[Message]) -> list[Prediction]:
        """Fresh predictions that account for ``history`` (answered or not): one computed before
        user content it did not see waits for a reflection to re-validate it."""
        if self.memory is None:
            return []
        return current_predictions(self.memory, history, self.settings.prediction_ttl_turns)

    async def _record_outcome(self, result: RecallResult) -> None:
        """A question that was not served: a near miss (or a hit on a question whose answer was
        not precomputed: a hit lost) or a plain miss, the prediction policy's evidence."""
        assert self.memory is not None
        await self.memory.recorder.record_miss()
        lost = result.hit is not None  # matched, but only the question was predicted
        near = lost or bool(result.near)
        await self.memory.recorder.record_outcome("near" if near else "miss", lost=lost)

    async def _serve(self, user: Message, prediction: Prediction) -> AsyncGenerator[Event, None]:
        """Answer from the cache: no model call; marked as precomputed."""
        assert self.memory is not None
        start = self.clock.monotonic()
        yield ReplyStarted(user.session_id, user, "prediction")
        yield ReplyChunk(user.session_id, prediction.answer)
        elapsed = (self.clock.monotonic() - start) * 1000
        reply = Message(
            id=new_id("m", 6),
            session_id=user.session_id,
            role="assistant",
            content=prediction.answer,
            created=self.clock.now(),
            source="prediction",
            model=self.backend.model,
            prediction_id=prediction.id,
            reflection_id=prediction.reflection_id,
            completion_tokens=prediction.answer_tokens,
            ttft_ms=elapsed,
            total_ms=elapsed,
        )
        await self.store.append_message(reply)
        self.history.append(reply)
        await self.memory.mark_served(prediction.id)
        await self.memory.recorder.record_hit(prediction.answer_tokens or 0, self.last_reply_speed)
        await self.memory.recorder.record_outcome("hit")
        self._memory_changed()
        yield ReplyDone(reply, prediction)

    @property
    def last_reply_speed(self) -> float | None:
        """Tokens/s of the last model reply."""
        return self.replies.last_speed

    def _reply(
        self,
        user: Message,
        hints: list[tuple[str, str]],
        *,
        prior: list[Message] | None = None,
        continuing: Message | None = None,
    ) -> AsyncGenerator[Event, None]:
        assert self.memory is not None
        notes = [n.text for n in self.memory.notes]
        return self.replies.generate(
            self.history, notes, user, hints, prior=prior, continuing=continuing
        )

    async def regenerate(self) -> AsyncIterator[Event]:
        """Ask the model again for the last question (e.g. one answered from the cache).

        The earlier reply stays on record, marked replaced, and leaves the prompt history.
        """
        if self.reflection_yields():
            await self.preempt()
        await self._current()
        idx = next(
            (i for i in range(len(self.history) - 1, -1, -1) if self.history[i].role == "user"),
            None,
        )
        if idx is None:
            raise CoreError("nothing to regenerate yet — ask something first")
        user = self.history[idx]
        old = [m for m in self.history[idx + 1 :] if m.role == "assistant"]
        with self.idle.turn():
            prior = self.history[:idx]
            new_reply: Message | None = None
            async with contextlib.aclosing(self._reply(user, [], prior=prior)) as events:
                async for event in events:
                    if isinstance(event, ReplyDone):
                        new_reply = event.message
                    yield event
            if new_reply is not None:
                for msg in old:
                    msg.replaced_by = new_reply.id
                    await self.store.update_message(msg)

    async def continue_reply(self) -> AsyncIterator[Event]:
        """Have the model go on with the last reply (one cut at the token cap, say): it gets the
        conversation and a request to continue, and its text is added to that reply."""
        if self.reflection_yields():
            await self.preempt()
        await self._current()
        last = self.history[-1] if self.history else None
        if last is None or last.role != "assistant" or last.source != "model":
            raise CoreError("nothing to continue — the last message is not a model reply")
        user = next(m for m in reversed(self.history) if m.role == "user")
        with self.idle.turn():
            async with contextlib.aclosing(self._reply(user, [], continuing=last)) as events:
                async for event in events:
                    yield event

    def edit(self, message_id: str, text: str) -> AsyncIterator[Event]:
        """Ask ``text`` in place of an earlier question; the old branch stays, replaced."""
        return branches.edit(self, message_id, text)

    # -- the sleep cycle ---------------------------------------------------------------------
    def touch(self) -> None:
        """Any input: restart the idle clock and cancel an in-flight reflection at once (when
        it holds the server's only slot)."""
        self.sleep.touch()

    @property
    def reflecting(self) -> bool:
        return self.sleep.reflecting

    def reflection_yields(self) -> bool:
        """Whether the user's input cancels a running reflection: when the server runs one
        request at a time (a reflection left running would delay the answer). With two or more
        slots (``capabilities.parallel_slots``) the question runs beside the reflection."""
        return self.backend.capabilities.parallel_slots < 2

    async def preempt(self) -> None:
        """Cancel an in-flight reflection and wait for it to record itself as cancelled."""
        await self.sleep.preempt()

    def sleep_due(self) -> bool:
        """True when the sleep loop would start a reflection now."""
        return self.sleep.due()

    def start_reflection(self) -> asyncio.Task[Reflection]:
        """Run one sleep cycle in the background now; ``touch()``/``preempt()`` cancel it."""
        return self.sleep.start()

    async def idle_loop(self, seconds: float | None = None) -> None:
        """The sleep loop: reflect whenever the user is idle, until cancelled (or for
        ``seconds`` of the clock's time). Front ends await it while they wait for input."""
        await self.sleep.run(seconds)

    async def warm_up(self) -> None:
        """Have the server process the chat prefix now, so the next question prefills only its
        own tokens (what the sleep cycle does after reflecting; also used on resume)."""
        _session, memory = await self._current()
        await self.reflector.warm_up(self.history, memory.notes, background=False)

    async def reflect(self) -> Reflection:
        """Run one sleep cycle to the end (script `/idle`, benchmarks)."""
        return await self.start_reflection()

    async def _reflect(self) -> Reflection:
        session, memory = await self._current()
        return await self.reflector.run(session.id, list(self.history), memory, self._emit)

    # -- memory ------------------------------------------------------------------------------
    def notes(self) -> list[Note]:
        return list(self.memory.notes) if self.memory else []

    def predictions(self) -> list[Prediction]:
        return list(self.memory.predictions) if self.memory else []

    def fresh_predictions(self) -> list[Prediction]:
        """Predictions a question asked now could be served from (answered and current)."""
        if self.memory is None:
            return []
        return servable(self.memory, self.history, self.settings.prediction_ttl_turns)

    def reflections(self) -> list[Reflection]:
        return list(self.memory.reflections) if self.memory else []

    async def forget_note(self, note_id: str, reason: str = "forgotten by the user") -> Note:
        _session, memory = await self._current()
        try:
            note = await memory.forget_note(note_id, reason, "user")
        except KeyError:
            raise UnknownNoteError(f"no note '{note_id}'") from None
        self._memory_changed()
        return note

    async def edit_note(self, note_id: str, text: str) -> Note:
        _session, memory = await self._current()
        if not text.strip():
            raise CoreError("a note cannot be empty — forget it to remove it")
        try:
            note = await memory.edit_note(note_id, text.strip())
        except KeyError:
            raise UnknownNoteError(f"no note '{note_id}'") from None
        self._memory_changed()
        return note

    def pending_changes(self) -> list[PendingChange]:
        """Note removals a reflection proposed and the user has yet to confirm or reject."""
        return self.memory.held.pending if self.memory else []

    async def confirm_change(self, change_id: str) -> list[Note]:
        """Apply held removals; each stays undoable."""
        _session, memory = await self._current()
        try:
            removed = await memory.confirm_change(change_id)
        except KeyError:
            raise CoreError(f"no pending change '{change_id}' — /notes lists them") from None
        self._memory_changed()
        return removed

    async def reject_change(self, change_id: str) -> None:
        _session, memory = await self._current()
        try:
            await memory.held.reject(change_id)
        except KeyError:
            raise CoreError(f"no pending change '{change_id}' — /notes lists them") from None
        self._memory_changed()

    async def undo(self) -> str:
        _session, memory = await self._current()
        done = await memory.undo()
        if done is None:
            raise CoreError("nothing to undo")
        self._memory_changed()
        return done

    async def stats(self, *, overall: bool = False) -> Stats:
        _session, memory = await self._current()
        return await memory.recorder.overall() if overall else memory.stats

    async def close(self) -> None:
        await self.preempt()

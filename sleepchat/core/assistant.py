"""The façade every front end drives: sessions, ``ask()``, and the sleep cycle.

Front ends consume ``ask()`` as an async iterator of events, await ``idle_loop()`` (the one sleep
loop, ``core/sleep.py``) while they wait for input, call ``touch()`` on every key, and subscribe
to background events (reflections, memory changes) with ``subscribe()``. They call only the
public methods and read the properties below (``tests/test_layering.py`` checks it); the open
session's state is a ``Conversation`` (``core/conversation.py``) that the parts work on. Nothing
here knows about terminals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sleepchat.core import branches
from sleepchat.core.clock import Clock, SystemClock
from sleepchat.core.conversation import Conversation
from sleepchat.core.drafts import Drafts
from sleepchat.core.errors import CoreError, UnknownNoteError, UnknownSessionError
from sleepchat.core.events import (
    Event,
    EventBus,
    ReplyDone,
    SessionChanged,
)
from sleepchat.core.idle import IdleClock
from sleepchat.core.memory import Memory
from sleepchat.core.memory.documents import estimate_tokens, names_of, used_by
from sleepchat.core.memory.stats import Stats
from sleepchat.core.memory.user_memory import MemoryItem, UserMemory
from sleepchat.core.models import (
    Document,
    Message,
    Note,
    PendingChange,
    Prediction,
    Reflection,
    SearchHit,
    Session,
)
from sleepchat.core.ports import Backend, Embedder, Judge, StorePort
from sleepchat.core.preferences import Preferences
from sleepchat.core.profile import SessionProfile
from sleepchat.core.recall import Recall, in_context
from sleepchat.core.reflection import document_step, followup_habits
from sleepchat.core.reflection.reflect import Reflector
from sleepchat.core.replies import ReplyMaker
from sleepchat.core.session_lookup import find_session
from sleepchat.core.settings import CoreSettings, documents_room, for_documents
from sleepchat.core.sleep import SleepLoop, yields_to_input
from sleepchat.text import clean_input, clip

DEFAULT_TITLE = "New chat"
TITLE_CHARS = 48
# Memory items a new session's first question may wait to embed (about 0.1 s); more, and it
# is quoted by shared words, the idle period embedding them.
EMBED_ON_INPUT = 32


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
        judge: Judge | None = None,
    ) -> None:
        """``embedder`` embeds questions for recall (None: recall matches words); ``judge``
        decides the reworded questions the word rules leave open (None: they are misses)."""
        self._backend = backend
        self._store = store
        self._base = settings or CoreSettings()  # as configured; a session may add its own
        self._clock = clock or SystemClock()
        self._log = log or logging.getLogger("sleepchat.core")
        self._events = EventBus(self._log)
        self._idle = IdleClock(self._clock, self._base.idle_seconds)
        self._recall = Recall(
            embedder, threshold=self._base.recall_threshold, judge=judge, log=self._log
        )
        self._reflector = Reflector(backend, self._clock, self._recall, self._log)
        self._profile = SessionProfile(backend, store, self._events, self._base)
        self._replies = ReplyMaker(backend, self._clock, self._log)
        self._preferences = Preferences(store)
        self._habits = followup_habits.Habits(store)  # the follow-ups this user asks, counted
        self._user_memory = UserMemory(store, self._clock)  # kept across sessions
        self._user_memory_loaded = False
        self._conversation: Conversation | None = None  # the open session
        self._drafts = Drafts(self._clock, self._ready_draft, self._log)
        self._sleep = SleepLoop(
            self._idle,
            self._clock,
            self._reflector,
            backend,
            self._events,
            cooldown_seconds=self._base.cooldown_seconds,
            log=self._log,
        )

    # -- what front ends read ----------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        return self._conversation.session if self._conversation else None

    @property
    def history(self) -> list[Message]:
        """The open session's messages, oldest first (replaced ones too, marked)."""
        return self._conversation.history if self._conversation else []

    @property
    def conversation(self) -> Conversation | None:
        """The open session's state (for tests and benchmarks; front ends use the views)."""
        return self._conversation

    @property
    def settings(self) -> CoreSettings:
        """The settings the open session's requests use (the configured ones before)."""
        return self._conversation.settings if self._conversation else self._base

    @property
    def configured(self) -> CoreSettings:
        """The settings as configured, before a session's own model, prompt and options."""
        return self._base

    @property
    def model(self) -> str:
        return self._backend.model

    @property
    def server(self) -> str:
        """The model server as the user knows it: its address, else the backend's name."""
        return self._profile.server

    @property
    def recall_method(self) -> str:
        """How questions are matched to predictions now: "embedding" or "lexical" (the status
        line shows it)."""
        return self._recall.method

    @property
    def clock(self) -> Clock:
        """The time the core stamps messages and predictions with (a FakeClock in tests)."""
        return self._clock

    @property
    def preferences(self) -> Preferences:
        return self._preferences

    @property
    def last_reply_speed(self) -> float | None:
        """Tokens/s of the last model reply."""
        return self._replies.last_speed

    @property
    def reflecting(self) -> bool:
        return self._sleep.reflecting

    @property
    def sleep_due(self) -> bool:
        """True when the sleep loop would start a reflection now."""
        return self._sleep.due()

    @property
    def seconds_until_idle(self) -> float | None:
        """Seconds until the idle period is over (None mid-reply)."""
        return self._idle.seconds_until_idle()

    @property
    def notes(self) -> list[Note]:
        return list(self._conversation.memory.notes) if self._conversation else []

    @property
    def predictions(self) -> list[Prediction]:
        return list(self._conversation.memory.predictions) if self._conversation else []

    @property
    def fresh_predictions(self) -> list[Prediction]:
        """Predictions a question asked now could be served from (answered and current)."""
        return self._conversation.servable() if self._conversation else []

    @property
    def reflections(self) -> list[Reflection]:
        return list(self._conversation.memory.reflections) if self._conversation else []

    @property
    def pending_changes(self) -> list[PendingChange]:
        """Note removals a reflection proposed and the user has yet to confirm or reject."""
        return list(self._conversation.memory.held.pending) if self._conversation else []

    # -- events ------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Receive background events (reflections, memory changes). Returns an unsubscribe."""
        return self._events.subscribe(listener)

    # -- sessions ----------------------------------------------------------------------------
    async def start(self, session_id: str | None = None) -> Session:
        """Open ``session_id`` (id or unique prefix), else resume the last one, else a new one."""
        if session_id:
            session = await find_session(self._store, session_id)
            await self.preempt()
            return await self._load(session)
        last = await self._store.last_session()
        if last is None:
            return await self.new_session()
        return await self._load(last)

    async def new_session(self, title: str | None = None, *, private: bool = False) -> Session:
        """A new session; ``private``: it neither reads nor feeds the user's memory, ever."""
        await self.preempt()
        session = await self._store.create_session(clean_input(title or "") or DEFAULT_TITLE)
        if private:
            session = await self._store.update_session(session.id, {"private": True})
        return await self._load(session)

    async def list_sessions(self) -> list[Session]:
        return await self._store.list_sessions()

    async def search(self, query: str, limit: int) -> list[SearchHit]:
        """Messages of every session matching ``query`` (its words, any case), newest first."""
        return await self._store.search(query, limit)

    async def rename_session(self, session_id: str, title: str) -> Session:
        return await self._profile.rename(session_id, title, self._conversation)

    async def delete_session(self, session_id: str) -> None:
        """Delete a session; when it is the current one, move to the last remaining (or new)."""
        found = await find_session(self._store, session_id)
        current = self.session is not None and self.session.id == found.id
        if current:
            await self.preempt()
        await self._store.delete_session(found.id)
        if current:
            self._conversation = self._sleep.conversation = None
            await self.start()

    async def _load(self, session: Session) -> Session:
        settings = await self._profile.apply(session)
        history = await self._store.messages(session.id)
        memory = Memory(self._store, session.id, self._clock)
        await memory.load()
        user_memory = None
        if settings.memory_enabled and not settings.memory_private and not session.private:
            user_memory = self._user_memory
            if not self._user_memory_loaded:
                await user_memory.load()
                self._user_memory_loaded = True
        conversation = Conversation(
            session,
            history,
            memory,
            settings,
            store=self._store,
            clock=self._clock,
            events=self._events,
            user_memory=user_memory,
        )
        await conversation.recall_memory(self._recall)  # what this session quotes, as it opens
        self._conversation = self._sleep.conversation = conversation
        self._idle.touch()
        self._events.emit(SessionChanged(session))
        conversation.memory_changed()
        return session

    async def _open(self) -> Conversation:
        """The open session (the last one, or a new one, when none is open yet)."""
        if self._conversation is None:
            await self.start()
        assert self._conversation is not None
        return self._conversation

    async def _for_input(self) -> Conversation:
        """The open session, once a reflection holding the server's only slot is cancelled:
        the user's request must not queue behind it."""
        if yields_to_input(self._backend):
            await self.preempt()
        return await self._open()

    async def configure(
        self,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> str:
        """Change the open session's model, system prompt ("" for the configured one) or
        options. Returns what it means, to tell the user; nothing changes on an error."""
        conversation = await self._open()
        fields = await self._profile.changes(
            conversation.session, model=model, system_prompt=system_prompt, options=options
        )
        if not fields:
            return "nothing changed"
        await self.preempt()
        return await self._profile.change(conversation, fields)

    async def models(self) -> list[str]:
        """The models the backend offers (BackendError when it cannot say)."""
        return await self._profile.models()

    # -- asking ------------------------------------------------------------------------------
    def ask(self, text: str, *, force_model: bool = False) -> AsyncIterator[Event]:
        """Store the question, then answer it from a fresh prediction or the model.

        The user message is durable before any model call. A reply cut by an error or a
        cancel is stored, marked interrupted.
        """
        return self._turn(text, force_model=force_model)

    def edit(self, message_id: str, text: str) -> AsyncIterator[Event]:
        """Ask ``text`` in place of an earlier question; the old branch stays, replaced
        (``core/branches.py``). Events as ``ask()``; the model answers."""
        return self._turn(text, editing=message_id)

    async def _turn(
        self, text: str, *, force_model: bool = False, editing: str | None = None
    ) -> AsyncIterator[Event]:
        asked_at = self.clock.monotonic()  # the wait the user sees counts from here
        text = clean_input(text)  # whatever a front end hands in, stored and sent valid
        if not text.strip():
            raise CoreError("nothing to send: the message is empty")
        conversation = await self._for_input()
        old = branches.editable(conversation, editing) if editing is not None else None
        await self._drafts.settle(text)  # its verdict, if it is this text; else out of the way
        with self._idle.turn():
            hints: list[tuple[str, str]] = []
            if old is not None:
                user = await branches.branch(conversation, old, text)
            else:
                user = await conversation.question(text)
                await self._title(conversation, text)
                await self._mark_private(conversation)
                if (
                    conversation.turn == 1
                    and conversation.user_memory is not None
                    and not conversation.memory.reflections
                ):
                    # A new session's first question: what to quote from memory is chosen by
                    # it, while nothing is cached that a new choice would lose (an idle period
                    # before it, studying an attached file, warmed the choice made then).
                    await conversation.recall_memory(self._recall, new_at_most=EMBED_ON_INPUT)
                if conversation.settings.sleep_enabled and not force_model:
                    # Matched against what was there before this question was asked.
                    memory, earlier = conversation.memory, conversation.history[:-1]
                    ready = conversation.current_predictions(earlier)
                    # A follow-up on the last answer ("shorter", "why?") first, by its intent.
                    previous = conversation.history[-2] if len(conversation.history) > 1 else None
                    # "this paper" names a document only while one is the newest thing in the
                    # talk: after an answer, "what does this module do?" may ask of its code
                    # (not after its own summary, whose subject is the file).
                    attached = document_step.talked_of(memory, earlier)
                    documents = [name for d in attached for name in names_of(d)]
                    everything = ready
                    found, ready = await self._habits.first(
                        text,
                        previous,
                        everything,
                        self.clock.now(),
                        documents=documents,
                        files={d.id for d in attached},
                    )
                    if found is None:
                        # "how do I install cachetools?" later on: a file named, not "it"
                        found = document_step.named(memory, text, everything)
                    if found is None:  # "it" while the reader's questions kept asking of it
                        found = document_step.asked_by_it(memory, text, earlier, everything)
                    if found is None:  # "how does loads differ from load?"
                        found = document_step.difference(memory, text, earlier, everything)
                    if found is None:  # "what is cachetools and how do I install it?"
                        found = await document_step.both(memory, text, attached, everything)
                    options = conversation.settings.options
                    result = None
                    if found is None:
                        exchange = in_context.last_exchange(earlier)
                        result = await self._recall.match(text, ready, options, exchange)
                    if result is not None and result.hit is not None and result.hit.answer:
                        found = result.hit
                    if found is not None:
                        model, speed = self._backend.model, self.last_reply_speed
                        served = conversation.serve(user, found, model, speed, asked_at)
                        async with contextlib.aclosing(served) as events:
                            async for event in events:
                                yield event
                        return
                    assert result is not None
                    hints = self._recall.hints(text, result, conversation.settings.recall_hints)
                    if ready:
                        await conversation.record_unserved(result)
            sections = await conversation.document_sections(text, self._recall)
            reply = self._replies.generate(
                conversation, user, hints, sections=sections, asked_at=asked_at
            )
            async with contextlib.aclosing(reply) as events:
                async for event in events:
                    yield event

    async def _mark_private(self, conversation: Conversation) -> None:
        """A session written in a private run is never consolidated into memory."""
        session = conversation.session
        if conversation.own_settings.memory_private and not session.private:
            session = await self._store.update_session(session.id, {"private": True})
            conversation.changed_session(session)

    async def _title(self, conversation: Conversation, text: str) -> None:
        """A new chat takes its first question as its title."""
        if conversation.session.title == DEFAULT_TITLE and conversation.turn == 1:
            title = clip(text, TITLE_CHARS)
            session = await self._store.rename_session(conversation.session.id, title)
            conversation.changed_session(session)

    async def regenerate(self) -> AsyncIterator[Event]:
        """Ask the model again for the last question (e.g. one answered from the cache).

        The earlier reply stays on record, marked replaced, and leaves the prompt history.
        """
        conversation = await self._for_input()
        history = conversation.history
        idx = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
        if idx is None:
            raise CoreError("nothing to regenerate yet — ask something first")
        user = history[idx]
        old = [m for m in history[idx + 1 :] if m.role == "assistant"]
        with self._idle.turn():
            new_reply: Message | None = None
            sections = await conversation.document_sections(user.content, self._recall)
            reply = self._replies.generate(
                conversation, user, [], prior=history[:idx], sections=sections
            )
            async with contextlib.aclosing(reply) as events:
                async for event in events:
                    if isinstance(event, ReplyDone):
                        new_reply = event.message
                    yield event
            if new_reply is not None:
                await conversation.mark_replaced(old, new_reply.id)

    async def continue_reply(self) -> AsyncIterator[Event]:
        """Have the model go on with the last reply (one cut at the token cap, say): it gets the
        conversation and a request to continue, and its text is added to that reply."""
        conversation = await self._for_input()
        history = conversation.history
        last = history[-1] if history else None
        if last is None or last.role != "assistant" or last.source != "model":
            raise CoreError("nothing to continue — the last message is not a model reply")
        user = next(m for m in reversed(history) if m.role == "user")
        with self._idle.turn():
            reply = self._replies.generate(conversation, user, [], continuing=last)
            async with contextlib.aclosing(reply) as events:
                async for event in events:
                    yield event

    async def later(self, text: str) -> Prediction:
        """Queue a question for idle time: the next idle period answers it with exactly a chat
        turn's request; asked then, it is served at once, marked precomputed."""
        prediction = await (await self._open()).queue(clean_input(text).strip())
        self.touch()  # input: the idle period that answers it starts now
        return prediction

    # -- documents ---------------------------------------------------------------------------
    @property
    def system_prompt(self) -> str:
        """The session's system prompt as set (its own, or the configured one), without the
        documents every request quotes after it."""
        c = self._conversation
        return c.own_settings.system_prompt if c else self._base.system_prompt

    @property
    def grown_window(self) -> int | None:
        """The context window requests use now when it grew to hold the attached files (the
        front ends say so as a file is attached); None while it is the configured one."""
        c = self._conversation
        if c is None:
            return None
        window = c.settings.options.num_ctx
        return window if window != c.own_settings.options.num_ctx else None

    @property
    def documents(self) -> list[Document]:
        return self._conversation.memory.documents.all if self._conversation else []

    async def attach(self, name: str, text: str | None) -> Document:
        """Attach a document (the front end read the file) to the open session: every request
        then quotes it after the system prompt, and the next idle period studies it. A file
        over the room for documents (``documents_room``) keeps its first part (the record says
        how much). With ``text`` None, remove the attached document ``name`` (its id, "d2", or
        file name)."""
        conversation = await self._open()
        documents = conversation.memory.documents
        if text is None:
            doc = documents.find(name)
            if doc is None:
                listed = ", ".join(f"{d.id} {d.name}" for d in documents.all) or "none attached"
                raise CoreError(f"no attached document '{name}' ({listed})")
            await documents.detach(doc)
            for p in conversation.memory.predictions:  # its own answers are of a file gone
                if p.document == doc.id and p.status == "fresh":
                    await conversation.memory.drop_prediction(p.id, f"{doc.name} was removed")
        else:
            body = clean_input(text).strip()
            if not body:
                raise CoreError(f"{name} is empty: nothing to attach")
            try:
                # The window grows, where it may, to hold this file whole with the others.
                wanted = used_by(documents.all) + estimate_tokens(body)
                budget = documents_room(for_documents(conversation.own_settings, wanted))
                last = conversation.history[-1].id if conversation.history else None
                doc = await documents.attach(name, body, budget, last)
            except ValueError as exc:
                raise CoreError(str(exc)) from None
            await conversation.embed_sections(self._recall)  # a long file's, read once now
        conversation.memory_changed(conversation.history)
        self.touch()  # input: the idle period that studies it (or its absence) starts now
        return doc

    async def _ready_draft(self, text: str) -> None:
        """Typing paused on ``text``: the recall judge's verdict on it (kept for the match),
        and, unless a prediction answers it, its reply's request all but the answer, so a
        question sent as typed waits for neither."""
        conversation = self._conversation
        if conversation is None or self._idle.in_turn:
            return
        settings = conversation.settings
        if not settings.ready_typed:
            return
        hints: list[tuple[str, str]] = []
        # as the match after the follow-up intents sees them (an intent's answer is its own)
        ready = [p for p in conversation.current_predictions(conversation.history) if not p.intent]
        if settings.sleep_enabled and ready:
            exchange = in_context.last_exchange(conversation.history)
            result = await self._recall.match(text, ready, settings.options, exchange)
            if result.hit is not None and result.hit.answer:
                return  # served at once when sent
            hints = self._recall.hints(text, result, settings.recall_hints)
        sections = await conversation.document_sections(text, self._recall)
        await self._replies.warm(conversation, text, hints, sections)

    # -- the sleep cycle ---------------------------------------------------------------------
    def touch(self, draft: str | None = None) -> None:
        """Any input: restart the idle clock and cancel an in-flight reflection at once (when
        it holds the server's only slot). ``draft``: the message box holds that text now
        (front ends pass it on every change): once typing pauses, what sending it would ask of
        the model first is done (``core/drafts.py``)."""
        self._sleep.touch()
        if draft is not None:
            self._drafts.update(clean_input(draft))

    async def preempt(self) -> None:
        """Cancel an in-flight reflection and wait for it to record itself as cancelled."""
        await self._sleep.preempt()

    def reflect(self) -> asyncio.Task[Reflection]:
        """Run one sleep cycle in the background now (await the task for its end: script
        `/idle`, benchmarks); ``touch()``/``preempt()`` cancel it."""
        return self._sleep.start()

    async def idle_loop(self, seconds: float | None = None) -> None:
        """The sleep loop: reflect whenever the user is idle, until cancelled (or for
        ``seconds`` of the clock's time). Front ends await it while they wait for input."""
        await self._sleep.run(seconds)

    async def warm_up(self) -> None:
        """Have the server process the chat prefix now, so the next question prefills only its
        own tokens (what the sleep cycle does after reflecting; also used on resume)."""
        c = await self._open()
        await self._reflector.warm_up(
            c.settings, c.history, c.memory.request_notes, background=False
        )

    # -- memory ------------------------------------------------------------------------------
    async def forget_note(
        self, note_id: str, reason: str = "forgotten by the user"
    ) -> Note | MemoryItem:
        """Forget a note of the open session, or an item of the user's memory ("u3")."""
        return await (await self._open()).forget_note(note_id, reason)

    async def edit_note(self, note_id: str, text: str) -> Note | MemoryItem:
        return await (await self._open()).edit_note(note_id, text)

    async def settle_change(self, change_id: str, *, confirm: bool) -> list[Note]:
        """Apply (``confirm``) or refuse the note removals a reflection held for the user;
        returns the notes removed, each undoable."""
        return await (await self._open()).settle_change(change_id, confirm=confirm)

    async def undo(self) -> str:
        return await (await self._open()).undo()

    async def stats(self, *, overall: bool = False) -> Stats:
        memory = (await self._open()).memory
        return await memory.recorder.overall() if overall else memory.stats

    async def close(self) -> None:
        await self._drafts.settle("")  # a draft being readied is dropped, not left running
        await self.preempt()

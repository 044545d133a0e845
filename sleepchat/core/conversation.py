"""The open session's state: its record, its messages, its memory (notes, predictions,
reflections) and the settings its requests use, with the operations that change them.

Asking, editing, regenerating, continuing, a profile change and the reply maker all work on
this one object (``Assistant`` holds the open one). Messages are made in one place
(``new_message``) and stored before they join the history; every change to the memory is
announced here, as one ``MemoryChanged``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Any

from sleepchat.core.clock import Clock
from sleepchat.core.errors import CoreError, UnknownNoteError
from sleepchat.core.events import (
    Event,
    EventBus,
    MemoryChanged,
    ReplyChunk,
    ReplyDone,
    ReplyStarted,
    SessionChanged,
)
from sleepchat.core.memory import Memory, doc_sections
from sleepchat.core.memory.documents import names_of, prompt_block, quoted_by, used_by
from sleepchat.core.memory.staleness import current_predictions, servable
from sleepchat.core.memory.user_memory import MemoryItem, UserMemory
from sleepchat.core.memory.user_memory import prompt_block as memory_block
from sleepchat.core.models import Message, Note, Prediction, Role, Session, new_id
from sleepchat.core.ports import StorePort
from sleepchat.core.recall import Recall, RecallResult, followups
from sleepchat.core.settings import CoreSettings, documents_room, for_documents


class Conversation:
    def __init__(
        self,
        session: Session,
        history: list[Message],
        memory: Memory,
        settings: CoreSettings,
        *,
        store: StorePort,
        clock: Clock,
        events: EventBus,
        user_memory: UserMemory | None = None,
    ) -> None:
        self.session = session
        self.history = history  # every message, oldest first (replaced ones too, marked)
        self.memory = memory
        self._settings = settings  # the configured ones with the session's own (profile.py)
        self.store = store
        self.clock = clock
        self.events = events
        # The user's memory across sessions (None: off, or a private session) and the items
        # this session's requests quote (chosen as it opens and as each idle period starts).
        self.user_memory = user_memory
        self.recalled: list[MemoryItem] = []
        # What the user's undo takes back, newest last: a memory item's id, or "" for a note
        # operation (the session's memory keeps its own undo).
        self._undo_order: list[str] = []

    # -- views -------------------------------------------------------------------------------
    @property
    def settings(self) -> CoreSettings:
        """The settings this session's requests use: the attached documents and the recalled
        memory items quoted in the system message, after the system prompt (the part of every
        request that stays put: memory/documents.py says why there), in a context window
        grown for the documents where they need it (``grown_window``)."""
        documents = self.memory.documents.all
        settings = for_documents(self._settings, used_by(documents))
        blocks = [prompt_block(documents), memory_block(self.recalled)]
        if not any(blocks):
            return settings
        prompt = "\n\n".join([settings.system_prompt, *filter(None, blocks)])
        return dataclasses.replace(settings, system_prompt=prompt)

    @settings.setter
    def settings(self, settings: CoreSettings) -> None:
        self._settings = settings

    async def recall_memory(
        self, recall: Recall | None = None, *, new_at_most: int | None = None
    ) -> None:
        """Choose the user's memory items this session quotes: related to what was said (by
        ``recall``'s embedding model when there is one, else by shared words), the newest first,
        within ``memory_max_tokens``. Called as the session opens and as an idle period starts,
        so the prefix changes only where a warm-up follows; with ``new_at_most``, by words
        when more items than that were never embedded (a question does not wait for them)."""
        if self.user_memory is None:
            self.recalled = []
            return
        said = [m.content for m in self.history[-20:] if m.role == "user"]
        items = self.user_memory.candidates(self.session.id)
        scores = None
        if recall is not None and said and items:
            texts = [i.text for i in items]
            found = await recall.similarities(" ".join(said[-3:]), texts, new_at_most=new_at_most)
            if found is not None:
                scores = {i.id: s for i, s in zip(items, found, strict=True)}
        budget = self._settings.memory_max_tokens
        self.recalled = self.user_memory.relevant(
            said, budget, besides=self.session.id, scores=scores
        )

    async def document_sections(self, question: str, recall: Recall | None = None) -> str:
        """The sections of the long attached documents ``question`` is about, as the request
        quotes them after the conversation ("" when no document is long)."""
        documents = self.memory.documents.all
        sections = doc_sections.sections_of(documents)
        if not sections:
            return ""
        budget = documents_room(self.settings) - quoted_by(documents)
        names = [name for d in documents for name in names_of(d)]
        intent = followups.match(question, documents=names)
        summary = (intent is not None and intent.name == "summary") or any(
            question == doc_sections.summary_request(d) for d in documents
        )
        outline = doc_sections.outline_block(documents, budget) if summary else ""
        if outline:  # a summary is of the whole file: what each part says
            return outline
        sections = doc_sections.unquoted(sections)
        scores = None
        if recall is not None:
            scores = await recall.similarities(question, [s.text for s in sections])
        return doc_sections.block(doc_sections.choose(sections, question, budget, scores))

    async def embed_sections(self, recall: Recall) -> None:
        """Have the embedding model read the long documents' sections while idle (it keeps
        their vectors), so a question about one pays only for its own."""
        sections = doc_sections.sections_of(self.memory.documents.all)
        if sections:
            await recall.similarities("", [s.text for s in sections])

    async def learn(self, text: str, message_ids: Sequence[str]) -> None:
        """A note the reflection kept: also the user's memory when it is about their standing
        situation (not in a private session)."""
        if self.user_memory is not None:
            await self.user_memory.learn(text, self.session.id, message_ids)

    @property
    def own_settings(self) -> CoreSettings:
        """The settings without the documents (what the user set and sees)."""
        return self._settings

    @property
    def turn(self) -> int:
        """User turns so far (the staleness clock of predictions)."""
        return sum(1 for m in self.history if m.role == "user")

    @property
    def note_texts(self) -> list[str]:
        return [n.text for n in self.memory.request_notes]

    def current_predictions(self, history: Sequence[Message] | None = None) -> list[Prediction]:
        """Fresh predictions that account for ``history`` (default: the whole conversation),
        answered or not: one computed before user content it did not see waits for a
        reflection to re-validate it."""
        seen = self.history if history is None else history
        return current_predictions(self.memory, seen, self.settings.prediction_ttl_turns)

    def servable(self) -> list[Prediction]:
        """Predictions a question asked now could be served from (answered and current)."""
        return servable(self.memory, self.history, self.settings.prediction_ttl_turns)

    # -- messages ----------------------------------------------------------------------------
    async def serve(
        self,
        user: Message,
        prediction: Prediction,
        model: str,
        speed: float | None,
        asked_at: float | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Answer ``user`` from the cache: no model call; marked as precomputed. ``speed`` is
        the last reply's tokens/s (the time a hit saved is counted at it); ``asked_at``: when
        the question came, which its times count from (matching it took part of them)."""
        start = self.clock.monotonic() if asked_at is None else asked_at
        yield ReplyStarted(user.session_id, user, "prediction")
        yield ReplyChunk(user.session_id, prediction.answer)
        elapsed = (self.clock.monotonic() - start) * 1000
        reply = self.new_message(
            "assistant",
            prediction.answer,
            source="prediction",
            model=model,
            prediction_id=prediction.id,
            reflection_id=prediction.reflection_id,
            completion_tokens=prediction.answer_tokens,
            ttft_ms=elapsed,
            total_ms=elapsed,
        )
        await self.add(reply)
        await self.memory.mark_served(prediction.id)
        await self.memory.recorder.record_hit(prediction.answer_tokens or 0, speed)
        await self.memory.recorder.record_outcome("hit")
        self.memory_changed()
        yield ReplyDone(reply, prediction)

    async def queue(self, question: str) -> Prediction:
        """A question the user queued for idle time, stored as a prediction the user asked
        for (``queued``): based on the conversation as it is now, answered while idle."""
        if not question:
            raise CoreError("nothing to queue: write the question after /later")
        same = " ".join(question.casefold().split())
        for queued in self.memory.predictions:  # queued twice: still one question to answer
            waiting = queued.queued and queued.status == "fresh"
            if waiting and " ".join(queued.question.casefold().split()) == same:
                return queued
        last = self.history[-1] if self.history else None
        prediction = await self.memory.save_prediction(
            Prediction(
                id="",
                session_id=self.session.id,
                question=question,
                answer="",
                created=self.clock.now(),
                reflection_id="",
                based_on_message_id=last.id if last is not None else None,
                based_on_turn=self.turn,
                queued=True,
            )
        )
        self.memory_changed()
        return prediction

    def new_message(self, role: Role, content: str, **fields: Any) -> Message:
        """The one way a message of this session is made (a user's or a reply)."""
        return Message(
            id=new_id("m", 6),
            session_id=self.session.id,
            role=role,
            content=content,
            created=self.clock.now(),
            **fields,
        )

    async def add(self, message: Message) -> None:
        """Store ``message``, then add it to the history. Shielded: a second Ctrl-C must not
        lose what the user typed or already saw."""
        await asyncio.shield(self.store.append_message(message))
        self.history.append(message)

    async def question(self, text: str) -> Message:
        """The user's question, stored (a retry of one that got no reply is not stored twice)."""
        last = self.history[-1] if self.history else None
        if last is not None and last.role == "user" and last.content == text:
            return last
        user = self.new_message("user", text)
        await self.add(user)
        return user

    async def grow(self, original: Message, grown: Message) -> None:
        """``original`` (a reply in the history) becomes ``grown``: stored, then shown."""
        await asyncio.shield(self.store.update_message(grown))
        self.history[self.history.index(original)] = grown

    async def mark_replaced(self, messages: Iterable[Message], by: str) -> None:
        """``messages`` stay on record, replaced by the message ``by``: they leave the prompt."""
        for m in messages:
            m.replaced_by = by
            await self.store.update_message(m)

    # -- the record and the memory -----------------------------------------------------------
    def changed_session(self, session: Session) -> None:
        """The session's record was updated (its title, model, prompt or options)."""
        self.session = session
        self.events.emit(SessionChanged(session))

    async def drop_fresh_predictions(
        self, reason: str, *, based_on: set[str] | None = None
    ) -> None:
        """Drop the fresh predictions (those based on one of the ``based_on`` message ids), as
        stale: what they were answered for changed."""
        for p in self.memory.predictions:
            if p.status == "fresh" and (based_on is None or p.based_on_message_id in based_on):
                await self.memory.drop_prediction(p.id, reason, "stale")

    def memory_changed(self, history: Sequence[Message] | None = None) -> None:
        """Tell the views the memory's state (as a conversation of ``history`` sees it)."""
        seen = self.history if history is None else history
        ttl = self.settings.prediction_ttl_turns
        state = MemoryChanged.of(self.memory, seen, ttl)
        if self.user_memory is not None:
            remembered, quoted = self.user_memory.snapshot(), frozenset(i.id for i in self.recalled)
            state = dataclasses.replace(state, remembered=remembered, quoted=quoted)
        self.events.emit(state)

    async def record_unserved(self, result: RecallResult) -> None:
        """A question that was not served: a near miss (or a hit on a question whose answer was
        not precomputed: a hit lost) or a plain miss, the prediction policy's evidence."""
        await self.memory.recorder.record_miss()
        lost = result.hit is not None  # matched, but only the question was predicted
        near = lost or bool(result.near)
        await self.memory.recorder.record_outcome("near" if near else "miss", lost=lost)
        self.memory_changed()

    # -- the user's changes to the notes -----------------------------------------------------
    async def forget_note(self, note_id: str, reason: str) -> Note | MemoryItem:
        """Forget a note of this session, or an item of the user's memory (an id "u…")."""
        if self._remembered(note_id):
            assert self.user_memory is not None
            item = await self.user_memory.forget(note_id)
            self._undo_order.append(item.id)
            # No longer quoted from the next request on (one brought back waits for the next
            # idle period's choice).
            self.recalled = [i for i in self.recalled if i.id != item.id]
            self.memory_changed()
            return item
        try:
            note = await self.memory.forget_note(note_id, reason, "user")
        except KeyError:
            raise UnknownNoteError(f"no note '{note_id}'") from None
        self._undo_order.append("")
        self.memory_changed()
        return note

    def _remembered(self, item_id: str) -> bool:
        return self.user_memory is not None and self.user_memory.find(item_id) is not None

    async def edit_note(self, note_id: str, text: str) -> Note | MemoryItem:
        if not text.strip():
            raise CoreError("a note cannot be empty — forget it to remove it")
        if self._remembered(note_id):
            assert self.user_memory is not None
            item = await self.user_memory.edit(note_id, text)
            self.memory_changed()
            return item
        try:
            note = await self.memory.edit_note(note_id, text.strip())
        except KeyError:
            raise UnknownNoteError(f"no note '{note_id}'") from None
        self._undo_order.append("")
        self.memory_changed()
        return note

    async def settle_change(self, change_id: str, *, confirm: bool) -> list[Note]:
        """Apply (``confirm``) or drop the note removals a reflection held for the user;
        returns the notes removed (each stays undoable)."""
        try:
            if confirm:
                removed = await self.memory.confirm_change(change_id)
            else:
                await self.memory.held.reject(change_id)
                removed = []
        except KeyError:
            raise CoreError(f"no pending change '{change_id}' — /notes lists them") from None
        self.memory_changed()
        return removed

    async def undo(self) -> str:
        if self._undo_order and self._undo_order[-1] and self.user_memory is not None:
            item = await self.user_memory.restore(self._undo_order.pop())
            self.memory_changed()
            return f"remembered again: {item.text}"
        if self._undo_order:
            self._undo_order.pop()
        done = await self.memory.undo()
        if done is None:
            raise CoreError("nothing to undo")
        self.memory_changed()
        return done

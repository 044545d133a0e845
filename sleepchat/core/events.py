"""Events the core emits; plain dataclasses any front end can consume."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sleepchat.core.memory.staleness import servable
from sleepchat.core.memory.stats import Stats
from sleepchat.core.models import (
    Document,
    Message,
    Note,
    PendingChange,
    Prediction,
    Reflection,
    Session,
)

if TYPE_CHECKING:
    from sleepchat.core.memory import Memory
    from sleepchat.core.memory.user_memory import MemoryItem


@dataclass(frozen=True)
class ReplyStarted:
    session_id: str
    user_message: Message
    source: str  # "model" | "prediction"
    continues: Message | None = None  # the reply this one adds to (``continue_reply``)


@dataclass(frozen=True)
class ReplyChunk:
    session_id: str
    text: str


@dataclass(frozen=True)
class ReplyDone:
    """The stored assistant message: ``message.interrupted`` tells a reply cut by an error or a
    cancel, ``message.cut`` one stopped at the token cap or in a loop."""

    message: Message
    prediction: Prediction | None = None  # set when served from the cache
    notice: str | None = None  # e.g. the backend trimmed a history longer than num_ctx


@dataclass(frozen=True)
class ReplyFailed:
    """The model could not answer; ``partial`` is the stored, interrupted reply (if text came)."""

    session_id: str
    error: str
    partial: Message | None
    unreachable: bool = False


@dataclass(frozen=True)
class SessionChanged:
    session: Session


@dataclass(frozen=True)
class Notice:
    """Something the user should know about the session that is not a reply (a stored model
    that the server no longer has, ...)."""

    session_id: str
    text: str


@dataclass(frozen=True)
class ReflectionChanged:
    """A reflection started, made progress (status "running", counts so far) or ended."""

    reflection: Reflection
    dropped: int = 0  # earlier predictions it dropped or found too old

    @property
    def session_id(self) -> str:
        return self.reflection.session_id

    @property
    def tokens_per_second(self) -> float | None:
        r = self.reflection
        return r.tokens / (r.ms / 1000) if r.tokens and r.ms > 0 else None


@dataclass(frozen=True)
class SleepChanged:
    """The sleep loop started a reflection (``reflecting``) or one ended; ``error`` says why
    one ended on a fault (a backend error ends it as "failed" instead, with no error here)."""

    reflecting: bool
    error: str | None = None


@dataclass(frozen=True)
class MemoryChanged:
    """A session's notes, predictions or stats changed. It carries their current state, so a
    view updates from the event alone, without reading the memory back."""

    session_id: str
    notes: tuple[Note, ...]  # active notes, oldest first
    predictions: tuple[Prediction, ...]  # live ones (fresh or stale), oldest first
    fresh_ids: frozenset[str]  # the predictions that may be served now
    stats: Stats
    # Removals a reflection held for the user to confirm or reject, oldest first.
    pending: tuple[PendingChange, ...] = ()
    # The user's memory across sessions (active items, oldest first; none when it is off or
    # the run is private) and the ids this session's requests quote now.
    remembered: tuple[MemoryItem, ...] = ()
    quoted: frozenset[str] = frozenset()
    documents: tuple[Document, ...] = ()  # attached to the session, in the order attached

    @classmethod
    def of(cls, memory: Memory, history: Sequence[Message], ttl_turns: int) -> MemoryChanged:
        """The state of ``memory`` after ``history``."""
        return cls(
            session_id=memory.session_id,
            notes=tuple(memory.notes),
            predictions=tuple(p for p in memory.predictions if p.status in ("fresh", "stale")),
            fresh_ids=frozenset(p.id for p in servable(memory, history, ttl_turns)),
            stats=dataclasses.replace(memory.stats),
            pending=tuple(memory.held.pending),
            documents=tuple(memory.documents.all),
        )


Event = (
    ReplyStarted
    | ReplyChunk
    | ReplyDone
    | ReplyFailed
    | SessionChanged
    | Notice
    | ReflectionChanged
    | SleepChanged
    | MemoryChanged
)


class EventBus:
    """Where the core's background events go: every part emits here, front ends subscribe."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Receive every event from now on. Returns an unsubscribe (calling it twice is fine)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the core
                self.log.exception("event listener failed")

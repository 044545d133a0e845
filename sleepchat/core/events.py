"""Events the core emits; plain dataclasses any front end can consume."""

from __future__ import annotations

from dataclasses import dataclass

from sleepchat.core.models import Message, Prediction, Reflection, Session


@dataclass(frozen=True)
class ReplyStarted:
    session_id: str
    user_message: Message
    source: str  # "model" | "prediction"


@dataclass(frozen=True)
class ReplyChunk:
    session_id: str
    text: str


@dataclass(frozen=True)
class ReplyDone:
    """The stored assistant message; ``message.interrupted`` tells a cut reply."""

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
class ReflectionChanged:
    reflection: Reflection


@dataclass(frozen=True)
class MemoryChanged:
    """Notes or predictions of a session changed (a front end refreshes its panel)."""

    session_id: str


Event = (
    ReplyStarted
    | ReplyChunk
    | ReplyDone
    | ReplyFailed
    | SessionChanged
    | ReflectionChanged
    | MemoryChanged
)

"""Finding a session by id or by the start of its id, with a clear word when that fails, and
reading one as stored."""

from __future__ import annotations

from dataclasses import dataclass

from sleepchat.core.clock import Clock
from sleepchat.core.errors import AmbiguousSessionError, UnknownSessionError
from sleepchat.core.models import Document, Message, Note, Prediction, Session
from sleepchat.core.ports import StorePort
from sleepchat.text import clip, terminal_safe

SHOWN_CANDIDATES = 5


async def find_session(store: StorePort, key: str) -> Session:
    """The session whose id is ``key`` or starts with it; UnknownSessionError when none is,
    AmbiguousSessionError (naming some of them) when several are."""
    found = await store.get_session(key) if key else None
    if found is not None:
        return found
    shown = terminal_safe(clip(key, 40))
    matches = [s for s in await store.list_sessions() if key and s.id.startswith(key)]
    if len(matches) < 2:
        raise UnknownSessionError(f"no session '{shown}'")
    listed = ", ".join(
        f"{s.id} ({terminal_safe(clip(s.title, 30))})" for s in matches[:SHOWN_CANDIDATES]
    )
    more = len(matches) - SHOWN_CANDIDATES
    listed += f" and {more} more" if more > 0 else ""
    raise AmbiguousSessionError(
        f"'{shown}' is the start of {len(matches)} session ids: {listed} — give more of the id"
    )


@dataclass(frozen=True)
class SessionRecord:
    """A stored session as it is, read without opening it (export)."""

    session: Session
    messages: list[Message]
    notes: list[Note]
    predictions: list[Prediction]
    documents: list[Document]


async def read_session(store: StorePort, session: Session, clock: Clock) -> SessionRecord:
    """``session``'s messages and memory as stored (nothing is written)."""
    from sleepchat.core.memory import Memory  # only export reads a session this way

    memory = Memory(store, session.id, clock)
    await memory.load()
    messages = await store.messages(session.id)
    return SessionRecord(
        session, messages, memory.notes, memory.predictions, memory.documents.all
    )

"""Consolidation: past sessions into the user's memory, a session at a time.

What each past session (one made here, or imported) tells about the user becomes memory: the
user's own sentences that state a standing fact or something in their life, dated by when they
were said (``user_memory.kind_of``); then facts restated in a later session with another value
are merged (newer wins, the old value to the item's history). No model call: it runs in any
idle period, on any backend, and what it keeps is the user's words, never a model's reading of
them.

Each session is a step stored as it ends: the memory first, then how far the session was read
(store meta ``memory_consolidated``: session id → messages read). A kill in between reads the
session again, and what it already kept is known (the same words are never kept twice). A
private session, the open one and forgotten items are never read again into memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sleepchat.core.memory.user_memory import UserMemory
from sleepchat.core.models import Session
from sleepchat.core.ports import StorePort
from sleepchat.core.reflection import quality

STORE_KEY = "memory_consolidated"


@dataclass
class Consolidation:
    sessions: int = 0  # sessions read in full
    pending: int = 0  # sessions left to read
    kept: int = 0  # new or updated items
    merged: int = 0  # older values merged into newer ones
    stopped: bool = False  # cut by the caller (a key, a budget)


class Consolidator:
    def __init__(self, store: StorePort, memory: UserMemory) -> None:
        self.store = store
        self.memory = memory

    async def progress(self) -> dict[str, int]:
        raw = await self.store.get_meta(STORE_KEY)
        if not isinstance(raw, Mapping):
            return {}
        return {str(k): v for k, v in raw.items() if isinstance(v, int) and v >= 0}

    async def pending(self, besides: str = "") -> list[Session]:
        """Sessions with messages not read yet, oldest first (not private, not ``besides``)."""
        done = await self.progress()
        sessions = [
            s
            for s in await self.store.list_sessions()
            if not s.private and s.id != besides and s.message_count > done.get(s.id, 0)
        ]
        return sorted(sessions, key=lambda s: (s.created, s.id))

    async def session(self, session: Session) -> int:
        """Read one session's new messages into memory; returns the items kept."""
        done = await self.progress()
        start = done.get(session.id, 0)
        messages = await self.store.messages(session.id)
        kept = 0
        for message in messages[start:]:
            if message.role != "user" or message.replaced_by:
                continue
            for sentence in quality.sentences(message.content):
                item = await self.memory.learn(
                    sentence,
                    session.id,
                    [message.id],
                    said=message.created,
                    events=True,
                    save=False,
                )
                kept += item is not None
        if kept:
            await self.memory.save()
        done = await self.progress()  # re-read: another step may have stored its own
        done[session.id] = len(messages)
        await self.store.set_meta(STORE_KEY, done)
        return kept

    async def run(
        self,
        *,
        besides: str = "",
        should_stop: Callable[[], bool] = lambda: False,
        on_session: Callable[[Session, Consolidation], None] | None = None,
        max_sessions: int | None = None,
    ) -> Consolidation:
        """Read pending sessions (up to ``max_sessions``) until ``should_stop``, then merge."""
        pending = await self.pending(besides)
        result = Consolidation(pending=len(pending))
        for session in pending:
            if should_stop() or (max_sessions is not None and result.sessions >= max_sessions):
                result.stopped = True
                break
            result.kept += await self.session(session)
            result.sessions += 1
            result.pending -= 1
            if on_session is not None:
                on_session(session, result)
        if result.sessions:
            result.merged = self.memory.merge()
            if result.merged:
                await self.memory.save()
        return result

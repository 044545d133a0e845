"""Removals a reflection may not apply alone, held until the user confirms or rejects them.

A reflection that would remove more than a few notes (issue 11: three merges once replaced all
24 notes) stores its removals here instead; the memory panel lists them, and confirming applies
them as one undoable step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from sleepchat.core.clock import Clock
from sleepchat.core.models import Change, PendingChange

Commit = Callable[[Sequence[Change], Callable[[], None]], Awaitable[None]]


class HeldChanges:
    def __init__(
        self, session_id: str, clock: Clock, commit: Commit, next_id: Callable[[], str]
    ) -> None:
        self.session_id = session_id
        self.clock = clock
        self._commit = commit  # the memory's atomic write (keeps the id counters in step)
        self._next_id = next_id
        self.changes: dict[str, PendingChange] = {}

    def load(self, changes: dict[str, PendingChange]) -> None:
        self.changes = changes

    @property
    def pending(self) -> list[PendingChange]:
        held = [c for c in self.changes.values() if c.status == "pending"]
        return sorted(held, key=lambda c: c.created)

    def get(self, change_id: str) -> PendingChange:
        change = self.changes.get(change_id.strip().lower())
        if change is None or change.status != "pending":
            raise KeyError(f"no pending change '{change_id}'")
        return change

    async def hold(self, reflection_id: str, removals: Sequence[tuple[str, str]]) -> PendingChange:
        change = PendingChange(
            id=self._next_id(),
            session_id=self.session_id,
            reflection_id=reflection_id,
            created=self.clock.now(),
            removals=[{"note_id": i, "reason": r} for i, r in removals],
        )
        await self._save(change)
        return change

    async def settle(
        self, change: PendingChange, status: Literal["confirmed", "rejected"]
    ) -> PendingChange:
        settled = dataclasses.replace(change, status=status)
        await self._save(settled)
        return settled

    async def reject(self, change_id: str) -> PendingChange:
        return await self.settle(self.get(change_id), "rejected")

    async def _save(self, change: PendingChange) -> None:
        def apply() -> None:
            self.changes[change.id] = change

        await self._commit([Change("pending", "upsert", change.to_dict())], apply)

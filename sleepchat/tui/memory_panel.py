"""The memory side panel's frame. Its contents (tabs, lists, an editor) are mounted right after
the first frame: their widgets and styles cost ~150 ms of start-up that nobody needs to wait
for, since there is no memory to show before the store is open anyway."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.models import Note, Prediction
    from sleepchat.tui.memory_views import MemoryBody


class MemoryPanel(Vertical):
    def __init__(self) -> None:
        super().__init__(id="memory")
        self.body: MemoryBody | None = None

    def compose(self) -> ComposeResult:
        yield Static("Memory", id="memory-placeholder", classes="detail")

    async def build(self) -> MemoryBody:
        if self.body is None:
            from sleepchat.tui.memory_views import MemoryBody

            self.body = MemoryBody()
            await self.query_one("#memory-placeholder").remove()
            await self.mount(self.body)
        return self.body

    @property
    def notes(self) -> list[Note]:
        return self.body.notes if self.body else []

    @property
    def predictions(self) -> list[Prediction]:
        return self.body.predictions if self.body else []

    def note(self, note_id: str | None) -> Note | None:
        return self.body.note(note_id) if self.body else None

    def show(
        self, assistant: Assistant, *, fresh_ids: set[str], stats: Any, reflecting: bool
    ) -> None:
        if self.body is not None:
            self.body.show(assistant, fresh_ids=fresh_ids, stats=stats, reflecting=reflecting)

"""The memory side panel: its views (mounted after the first frame, see ``build``) and the note
operations (edit, forget, undo). It updates from the core's events, never by reading back.

Its contents (tabs, lists, an editor) cost ~150 ms of start-up that nobody needs to wait for,
since there is no memory to show before the store is open anyway.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static

from sleepchat.tui.failures import report

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.events import MemoryChanged, ReflectionChanged
    from sleepchat.core.models import Note, Prediction, Reflection
    from sleepchat.tui.memory_views import (
        DocumentList,
        MemoryBody,
        NoteEditor,
        NoteList,
        PendingBar,
    )


class MemoryPanel(Vertical):
    @dataclass
    class Chosen(Message):
        """A predicted question was chosen (Enter): the chat asks it."""

        question: str

    def __init__(self) -> None:
        super().__init__(id="memory")
        self.body: MemoryBody | None = None
        self.assistant: Assistant | None = None
        self.pinned: bool | None = None  # shown or hidden by the user (else: by width)
        self._memory: MemoryChanged | None = None
        self._announced: set[str] = set()  # held changes already said in a notification
        self._log: dict[str, Reflection] = {}
        self._building = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static("Memory", id="memory-placeholder", classes="detail")

    async def build(self) -> MemoryBody:
        async with self._building:
            if self.body is None:
                from sleepchat.tui.memory_views import MemoryBody  # ~15 ms, off the first frame

                self.body = MemoryBody()
                await self.query_one("#memory-placeholder").remove()
                await self.mount(self.body)
                self._show()
            return self.body

    async def settled(self) -> None:
        """Return once a build in progress has mounted: the app quits only after it (tabs
        taken down while they mount fail the app, exit code 1)."""
        async with self._building:
            pass

    # -- views (from events) -----------------------------------------------------------------
    def show_session(self, assistant: Assistant) -> None:
        """A session opened: its reflection log (its memory comes with the next event)."""
        self.assistant = assistant
        self._log = {r.id: r for r in assistant.reflections}
        self._show()

    def show_memory(self, event: MemoryChanged) -> None:
        self._memory = event
        if self.body is not None:
            self.body.show_memory(event)
        new = [c for c in event.pending if c.id not in self._announced]
        self._announced.update(c.id for c in new)
        for change in new:
            self.notify(
                f"A reflection wants to remove {len(change.removals)} notes — remove or keep "
                "them in the memory panel (Notes, Ctrl+B).",
                timeout=15,
            )

    def show_reflection(self, event: ReflectionChanged) -> None:
        self._log[event.reflection.id] = event.reflection
        if self.body is not None:
            self.body.show_log(list(self._log.values()))

    def _show(self) -> None:
        if self.body is None:
            return
        self.body.assistant = self.assistant
        if self._memory is not None:
            self.body.show_memory(self._memory)
        self.body.show_log(list(self._log.values()))

    @property
    def notes(self) -> list[Note]:
        return self.body.notes if self.body else []

    @property
    def predictions(self) -> list[Prediction]:
        return self.body.predictions if self.body else []

    def note(self, note_id: str | None) -> Note | None:
        return self.body.note(note_id) if self.body else None

    # -- showing and focusing ----------------------------------------------------------------
    def toggle(self) -> None:
        self.display = not self.display
        self.pinned = bool(self.display)

    def show_tab(self, tab: str) -> None:
        """Show the panel on ``tab`` ("notes" or "predictions") with its list focused."""
        self.display = True
        self.pinned = True
        if self.body is not None:
            self.body.show_tab(tab)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "predictions":
            return
        event.stop()
        pred = next((p for p in self.predictions if p.id == event.option.id), None)
        if pred is not None:
            self.post_message(self.Chosen(pred.question))

    # -- note operations ---------------------------------------------------------------------
    def edit_note(self) -> None:
        self.show_tab("notes")
        self._note_list().action_edit()

    def forget_note(self) -> None:
        self.show_tab("notes")
        self._note_list().action_forget()

    def _note_list(self) -> NoteList:
        assert self.body is not None, "the panel is built before any note exists"
        return self.body.note_list

    def on_note_list_act(self, event: NoteList.Act) -> None:
        event.stop()
        if event.action == "undo":
            self.undo()
            return
        found = self.note(event.note_id) or (
            self.body.remembered_item(event.note_id) if self.body else None
        )
        if found is None:
            self.notify("Select a note first.")
        elif event.action == "edit" and self.body is not None:
            self.body.editor.start(found)
        elif event.action == "forget":
            self._change("forget", found.id)

    def on_document_list_detach(self, event: DocumentList.Detach) -> None:
        event.stop()
        self._change("detach", event.document_id)

    def on_pending_bar_settle(self, event: PendingBar.Settle) -> None:
        event.stop()
        self._change("confirm" if event.confirm else "reject", event.change_id)

    def on_note_editor_done(self, event: NoteEditor.Done) -> None:
        event.stop()
        if self.body is not None and self.body.remembered_item(event.note_id) is not None:
            self.body.query_one("#remembered").focus()
        else:
            self._note_list().focus()
        if event.text is not None:
            self._change("edit", event.note_id, event.text)

    def undo(self) -> None:
        self._change("undo")

    @work(group="memory", exit_on_error=False)
    async def _change(self, op: str, note_id: str = "", text: str = "") -> None:
        a = self.assistant
        if a is None:
            return
        try:
            what = "Fact" if self.body and self.body.remembered_item(note_id) else "Note"
            if op == "forget":
                await a.forget_note(note_id)
                self.notify(
                    f"{what} forgotten — press u (or Undo in the palette) to bring it back."
                )
            elif op == "edit":
                await a.edit_note(note_id, text)
                self.notify(f"{what} saved.")
            elif op == "confirm":
                removed = await a.settle_change(note_id, confirm=True)
                self.notify(f"Removed {len(removed)} notes — u undoes each.")
            elif op == "detach":
                doc = await a.attach(note_id, None)
                self.notify(f"Detached {doc.name}: requests no longer quote it.")
            elif op == "reject":
                await a.settle_change(note_id, confirm=False)
                self.notify("Kept them: the notes stay.")
            else:
                self.notify(f"Undone: {await a.undo()}")
        except Exception as exc:
            report(self, exc, "change memory")

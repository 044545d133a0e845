"""The message box: Enter sends, Shift+Enter / Ctrl+J add a line, Up/Down recall history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "newline", "New line", show=False),
        Binding("shift+enter", "newline", "New line", show=False),
        # A TextArea redoes on Ctrl+Y; here Ctrl+Y copies the last answer, as everywhere else.
        Binding("ctrl+y", "app.copy_answer", "Copy", tooltip="Copy the last answer"),
        Binding("ctrl+shift+z", "redo", "Redo", show=False),
        Binding("escape", "cancel_edit", "Cancel edit"),  # only while editing a message
    ]

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

    class CancelEdit(Message):
        """Esc while a sent message is being edited here."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder="Ask anything — Enter sends, Shift+Enter or Ctrl+J adds a line",
        )
        self.editing = False  # holds a sent message being written again (Esc cancels)
        self.sent: list[str] = []
        self._index: int | None = None  # position while browsing history
        self._draft = ""  # what was typed before browsing

    def on_key(self, event: events.Key) -> None:
        # Enter sends: prevent_default keeps TextArea's own key handler from inserting a newline
        # (the bindings above insert one).
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc cancels an edit; otherwise it goes on to the app (it stops a streaming reply).
        return self.editing if action == "cancel_edit" else True

    def action_cancel_edit(self) -> None:
        self.post_message(self.CancelEdit())

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    # -- history -----------------------------------------------------------------------------
    def set_history(self, entries: list[str]) -> None:
        self.sent = [e for e in entries if e.strip()]
        self._index = None

    def remember(self, text: str) -> None:
        if text.strip() and (not self.sent or self.sent[-1] != text):
            self.sent.append(text)
        self._index = None

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def action_cursor_up(self, select: bool = False) -> None:
        at_top = self.navigator.is_first_wrapped_line(self.cursor_location)
        if select or not at_top or not self.sent:
            super().action_cursor_up(select)
            return
        if self._index is None:
            self._draft = self.text
            self._index = len(self.sent)
        if self._index > 0:
            self._index -= 1
            self._show(self.sent[self._index])

    def action_cursor_down(self, select: bool = False) -> None:
        at_bottom = self.navigator.is_last_wrapped_line(self.cursor_location)
        if select or self._index is None or not at_bottom:
            super().action_cursor_down(select)
            return
        self._index += 1
        if self._index >= len(self.sent):
            self._index = None
            self._show(self._draft)
        else:
            self._show(self.sent[self._index])

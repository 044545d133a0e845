"""The app's memory-panel keys: show or hide it, its tabs, asking a predicted question, and
the panel following the terminal's width. A mixin of the app (its actions must be the app's),
like session_actions.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual import events

    from sleepchat.tui.app import SleepchatApp
    from sleepchat.tui.memory_panel import MemoryPanel

WIDE = 100  # columns from which the memory panel shows by default


class PanelActions:
    def on_memory_panel_chosen(self: SleepchatApp, event: MemoryPanel.Chosen) -> None:
        self.chat.ask(event.question)

    def on_resize(self: SleepchatApp, event: events.Resize) -> None:
        if self.panel.pinned is None:
            self.panel.display = event.size.width >= WIDE

    def action_toggle_memory(self: SleepchatApp) -> None:
        self.panel.toggle()
        if not self.panel.display and self.panel.has_focus_within:
            self.prompt.focus()

    def action_focus_notes(self: SleepchatApp) -> None:
        self.panel.show_tab("notes")

    def action_focus_predictions(self: SleepchatApp) -> None:
        self.panel.show_tab("predictions")

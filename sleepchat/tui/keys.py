"""The app's keys, as the footer and the palette show them."""

from __future__ import annotations

from textual.binding import Binding, BindingType

APP_KEYS: list[BindingType] = [
    Binding("ctrl+b", "toggle_memory", "Memory", tooltip="Show or hide the memory panel"),
    Binding("ctrl+o", "sessions", "Sessions", tooltip="List, switch, rename, delete sessions"),
    Binding("ctrl+n", "new_session", "New chat"),
    Binding("ctrl+l", "pick_model", "Model", tooltip="This session's model"),
    Binding("ctrl+r", "regenerate", "Regenerate", tooltip="Ask the model again"),
    Binding("ctrl+s", "export", "Export", tooltip="Export this session to Markdown"),
    Binding("ctrl+t", "change_theme", "Theme"),
    Binding("ctrl+y", "copy_answer", "Copy", tooltip="Copy the last answer"),
    Binding("escape", "stop_reply", "Stop reply"),
    Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
    Binding("ctrl+q", "quit", "Quit", priority=True),
]

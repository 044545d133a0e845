"""Session operations: the sessions modal (list, switch, new, rename, delete), a new session,
and the Markdown export."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from sleepchat.core.errors import CoreError
from sleepchat.errors import SleepchatError
from sleepchat.text import matching_line, query_matches, terminal_safe, when
from sleepchat.tui.failures import report

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.models import SearchHit, Session

SEARCHED = 500  # newest matching messages the filter looks at


def found_line(hit: SearchHit, query: str) -> Content:
    """``you: …the matching line…`` with the matches highlighted."""
    line, spans = matching_line(hit.text, query, width=64)
    who = "you" if hit.role == "user" else "sleepchat"
    content = Content(f"{who}: {line}").stylize("dim")
    offset = len(who) + 2
    for start, end in spans:
        content = content.stylize("bold reverse", offset + start, offset + end)
    return content


async def open_session(
    widget: Widget, assistant: Assistant, session_id: str | None, *, private: bool = False
) -> None:
    """Switch to ``session_id``, or start a new session (None; ``private``: one that neither
    reads nor feeds the memory); a failure is notified."""
    try:
        if session_id is None:
            await assistant.new_session(private=private)
        elif assistant.session is None or session_id != assistant.session.id:
            await assistant.start(session_id)
    except Exception as exc:
        report(widget, exc, "change session", slip="error")


async def export_session(widget: Widget, assistant: Assistant, path: Path) -> bool:
    """Write the current session as Markdown, readable by the user only; says where, or why
    it could not."""
    from sleepchat.export import to_markdown

    assert assistant.session is not None
    text = to_markdown(assistant.session, list(assistant.history))
    try:
        await asyncio.to_thread(_write_private, path, text)
    except OSError as exc:
        widget.notify(f"cannot write {path}: {exc.strerror}", severity="error")
        return False
    except SleepchatError as exc:
        widget.notify(exc.message, severity="error")
        return False
    widget.notify(f"Exported to {path}", title="Export", timeout=10)
    return True


def _write_private(path: Path, text: str) -> None:
    from sleepchat.export import write_export

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_export(path, text, replace=True)  # our own exports folder: the newest one wins


FILTER_DELAY_S = 0.15  # typing pauses this long before the filter searches


class SessionsScreen(ModalScreen[None]):
    """Opens the chosen session (or a new one) before it closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("n", "new", "New"),
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete"),
    ]

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant
        self.all_sessions: list[Session] = []
        self.sessions: list[Session] = []  # as listed (those the filter matches)
        self._confirm: str | None = None  # id awaiting a second "d"

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-box"):
            yield Static("Sessions — Enter opens · n new · r rename · d delete · Esc closes")
            yield Input(
                id="session-filter",
                placeholder="Filter: words in titles and messages (Tab or Enter: to the list)",
                compact=True,
            )
            yield OptionList(id="session-list")
            yield Input(id="session-title", placeholder="New title, Enter saves, Esc cancels")
            yield Static("", id="session-hint")

    async def on_mount(self) -> None:
        self.query_one("#session-title", Input).display = False
        await self.reload()

    async def reload(self) -> None:
        self.all_sessions = await self.assistant.list_sessions()
        await self._show(self.query_one("#session-filter", Input).value)
        self.query_one(OptionList).focus()

    async def _show(self, query: str) -> None:
        """The sessions whose title or messages match ``query`` (all when it is empty), each
        found by a message with its matching line."""
        lines: dict[str, SearchHit] = {}
        if query.strip():
            try:
                hits = await self.assistant.search(query.strip(), SEARCHED)
            except SleepchatError as exc:
                self._hint(exc.message)
                hits = []
            for hit in hits:
                lines.setdefault(hit.session_id, hit)
            matching = [
                s for s in self.all_sessions if s.id in lines or query_matches(s.title, query)
            ]
        else:
            matching = self.all_sessions
        self.sessions = matching
        current = self.assistant.session.id if self.assistant.session else None
        options = self.query_one(OptionList)
        options.clear_options()
        for s in matching:
            mark = "▶ " if s.id == current else "  "
            about = f"{s.message_count} msgs, {when(s.updated)}, {s.id}"
            label = Content(f"{mark}{terminal_safe(s.title)}  ({about})")
            if (hit := lines.get(s.id)) is not None:
                label += Content("\n    ") + found_line(hit, query)
            options.add_option(Option(label, id=s.id))
        index = next((i for i, s in enumerate(matching) if s.id == current), 0)
        if matching:
            options.highlighted = index
        elif query.strip():
            options.add_option(
                Option(Content(f"  nothing matches '{terminal_safe(query)}'"), disabled=True)
            )

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "session-filter":
            event.stop()
            self._filter(event.value)

    @work(exclusive=True, group="sessions-filter", exit_on_error=False)
    async def _filter(self, query: str) -> None:
        await asyncio.sleep(FILTER_DELAY_S)  # a pause in typing; the next key cancels this
        await self._show(query)

    def _selected(self) -> Session | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or options.highlighted >= len(self.sessions):
            return None
        return self.sessions[options.highlighted]

    def _hint(self, text: str) -> None:
        self.query_one("#session-hint", Static).update(Content(text))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option.id)

    @work(exclusive=True, group="sessions-open", exit_on_error=False)
    async def _open(self, session_id: str | None) -> None:
        await open_session(self, self.assistant, session_id)
        self.dismiss(None)

    def action_close(self) -> None:
        title = self.query_one("#session-title", Input)
        if title.display:
            title.display = False
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)

    def action_new(self) -> None:
        self._open(None)

    def action_rename(self) -> None:
        session = self._selected()
        if session is None:
            return
        title = self.query_one("#session-title", Input)
        title.value = session.title
        title.display = True
        title.focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "session-filter":  # Enter: to the list (Enter there opens)
            self.query_one(OptionList).focus()
            return
        session = self._selected()
        event.input.display = False
        if session is not None:
            self._do_rename(session.id, event.value)

    @work(group="sessions", exit_on_error=False)
    async def _do_rename(self, session_id: str, title: str) -> None:
        try:
            await self.assistant.rename_session(session_id, title)
        except CoreError as exc:
            self._hint(exc.message)
        await self.reload()

    def action_delete(self) -> None:
        session = self._selected()
        if session is None:
            return
        if self._confirm != session.id:
            self._confirm = session.id
            self._hint(f"Press d again to delete '{terminal_safe(session.title)}' for good.")
            return
        self._confirm = None
        self._do_delete(session.id)

    @work(group="sessions", exit_on_error=False)
    async def _do_delete(self, session_id: str) -> None:
        try:
            await self.assistant.delete_session(session_id)
            self._hint("Deleted.")
        except CoreError as exc:
            self._hint(exc.message)
        await self.reload()

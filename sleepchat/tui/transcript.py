"""The conversation: user and assistant messages, streamed Markdown, badges and notices.

Model text is untrusted: escape sequences are stripped before display, and it only ever reaches
the screen as Markdown source or literal ``Content`` (never parsed as Rich/Textual markup).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message as Event
from textual.widget import Widget
from textual.widgets import Button, Static

from sleepchat.text import age, terminal_safe

if TYPE_CHECKING:
    from textual.widgets.markdown import MarkdownStream

    from sleepchat.core.models import Message, Prediction

SHOWN_MESSAGES = 200  # older messages stay stored (and exported), just not mounted
SHOWN_CHARS = 20_000  # a 1 MB paste is kept whole in the store; the screen shows the start

# An escape sequence cut at the end of a chunk: held back until the next chunk completes it.
_PARTIAL_ESCAPE = re.compile(
    r"(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[PX^_][^\x1b]*)?|\x9b[0-?]*[ -/]*)$"
)
_MAX_HELD = 256


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters, kept in full)"


class SafeChunks:
    """Strip terminal escapes from a stream whose sequences may be split across chunks."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        m = _PARTIAL_ESCAPE.search(text)
        if m and len(text) - m.start() <= _MAX_HELD:
            self._held, text = text[m.start() :], text[: m.start()]
        else:
            self._held = ""
        return terminal_safe(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return terminal_safe(text)


class Selectable(Widget):
    """A message that takes focus (Shift+Tab from the box, or a click): its keys act on it."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy", "Copy"),
        Binding("c", "copy_code", "Copy code"),
        Binding("up,k", "step(-1)", "Previous message", show=False),
        Binding("down,j", "step(1)", "Next message", show=False),
        Binding("escape", "leave", "Back to the box", show=False),
        Binding("enter,o", "fold", "Show / fold"),
    ]
    what = "the message"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only a replaced message (an edited branch, a regenerated answer) is folded away.
        return self.has_class("replaced") if action == "fold" else True

    def mark_replaced(self, why: str) -> None:
        """Kept, out of the conversation: dimmed and folded to a few lines (Enter shows it)."""
        self.add_class("replaced", "folded")
        self.border_subtitle = f"{why} · Enter shows it"

    def action_fold(self) -> None:
        self.toggle_class("folded")
        why = str(self.border_subtitle or "").split(" · ")[0]
        self.border_subtitle = (
            f"{why} · Enter {'shows' if self.has_class('folded') else 'folds'} it"
        )

    def full_text(self) -> str:
        """The whole text (the screen may show only its start)."""
        raise NotImplementedError

    def action_copy(self) -> None:
        from sleepchat.tui.copying import copy_text

        if not self.full_text().strip():
            self.notify("Nothing to copy: this message is empty.", severity="warning")
        else:
            copy_text(self, self.full_text(), self.what)

    def action_copy_code(self) -> None:
        from sleepchat.tui.copying import copy_code

        copy_code(self, self.full_text())

    def action_step(self, step: int) -> None:
        views = list(self.screen.query(Selectable))
        index = views.index(self) + step
        if 0 <= index < len(views):
            views[index].focus()

    def action_leave(self) -> None:
        self.post_message(Selectable.Leave())

    @dataclass
    class Leave(Event):
        """Esc on a message: back to the message box."""


class UserMessage(Selectable, Static):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("e", "edit", "Edit & resend")]
    what = "your message"

    @dataclass
    class Edit(Event):
        """``e`` on one of the user's messages: write it again and ask again from there."""

        view: UserMessage

    def action_edit(self) -> None:
        self.post_message(self.Edit(self))

    def __init__(self, message: Message | None, text: str, *, edited: bool = False) -> None:
        super().__init__(Content(clip(terminal_safe(text))), classes="message user")
        self.message = message
        self.text = text
        self.border_title = "You · edited" if edited else "You"

    def full_text(self) -> str:
        return self.message.content if self.message is not None else self.text


class Notice(Static):
    """A line in the transcript from sleepchat itself (errors with their fix, info)."""

    def __init__(self, text: str, severity: str = "information") -> None:
        # Errors quote the server's own text: never let its escape sequences reach the terminal.
        super().__init__(Content(terminal_safe(text)), classes=f"notice {severity}")


class Badge(Horizontal):
    """Marks an answer served from a precomputed prediction; offers to ask the model."""

    def __init__(self, text: str, *, regenerable: bool) -> None:
        super().__init__(classes="badge")
        self._text = text
        self._regenerable = regenerable

    def compose(self) -> ComposeResult:
        yield Static(Content(self._text), classes="badge-text")
        if self._regenerable:
            yield Button("Regenerate ^r", classes="regenerate", compact=True)


class AssistantMessage(Selectable, Vertical):
    what = "the answer"

    def __init__(self, message: Message | None = None, *, source: str = "model") -> None:
        super().__init__(classes="message assistant")
        self.message = message
        self.source = source
        self.border_title = "sleepchat"
        # Imported here: Markdown (markdown-it) costs ~60 ms, kept off the first frame.
        from textual.widgets import Markdown

        self.body = Markdown(
            clip(terminal_safe(message.content)) if message else "", classes="body"
        )
        self.meta = Static("", classes="meta")
        self.meta.display = False
        self._stream: MarkdownStream | None = None
        self._safe = SafeChunks()
        self.text = ""

    def compose(self) -> ComposeResult:
        yield self.body
        yield self.meta

    def full_text(self) -> str:
        return self.message.content if self.message is not None else self.text

    async def write(self, fragment: str) -> None:
        text = self._safe.feed(fragment)
        if not text:
            return
        self.text += text
        if self._stream is None:
            self._stream = self.body.get_stream(self.body)
        await self._stream.write(text)

    async def close_stream(self) -> None:
        tail = self._safe.flush()
        if tail and self._stream is not None:
            await self._stream.write(tail)
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def add_badge(self, text: str, *, regenerable: bool) -> None:
        await self.mount(Badge(text, regenerable=regenerable), before=self.body)
        self.add_class("precomputed")

    def set_meta(self, text: str) -> None:
        self.meta.update(Content(terminal_safe(text)))  # may quote a server's error text
        self.meta.display = bool(text)

    def drop_regenerate(self) -> None:
        for button in self.query(".regenerate"):
            button.remove()


def prediction_badge(message: Message, prediction: Prediction | None, now: float) -> str:
    """Badge text: precomputed, from which prediction and reflection, how old."""
    parts = ["⚡ precomputed while idle", f"prediction {message.prediction_id or '?'}"]
    parts.append(f"reflection {message.reflection_id or (prediction and prediction.reflection_id)}")
    if prediction is not None:
        parts.append(f"{age(now - prediction.created)} old")
    return " · ".join(parts)


def reply_meta(message: Message, speed: float | None = None) -> str:
    """The line under a reply: cut or replaced, and its tokens/s (the server's figure when
    ``speed`` is given, else wall time from the stored timings)."""
    bits: list[str] = []
    if message.interrupted:
        bits.append(f"interrupted ({message.error or 'stopped'}) — partial reply kept")
    if message.replaced_by:
        bits.append("replaced by a regenerated answer (left out of the conversation)")
    tokens = message.completion_tokens
    if message.cut is not None:
        why = "the reply cap" if message.cut == "length" else "it was repeating itself"
        bits.append(f"cut at {tokens} tokens ({why}) — Ctrl+R regenerates, Ctrl+G continues")
    if message.memory_ids:
        n = len(message.memory_ids)
        ids = ", ".join(message.memory_ids)
        bits.append(f"quoted {n} remembered fact{'s' if n > 1 else ''} ({ids}; Ctrl+B, You)")
    if message.source == "model" and tokens and not message.interrupted:
        if speed is None and message.total_ms:
            speed = tokens / max(message.total_ms - (message.ttft_ms or 0.0), 1.0) * 1000
        bits.append(f"{tokens} tokens" + (f" · {speed:.1f} tok/s" if speed else ""))
    return " · ".join(bits)


class Transcript(VerticalScroll):
    can_focus = True

    async def show_history(
        self, messages: Sequence[Message], predictions: dict[str, Prediction], now: float
    ) -> None:
        await self.remove_children()
        hidden = max(0, len(messages) - SHOWN_MESSAGES)
        widgets: list[Static | AssistantMessage] = []
        if hidden:
            widgets.append(
                Notice(f"{hidden} earlier messages are not shown — export the session to read them")
            )
        # a question another question replaced was edited: the newer one is the edit
        edits = {m.replaced_by for m in messages if m.role == "user" and m.replaced_by}
        for m in messages[hidden:]:
            view: UserMessage | AssistantMessage
            if m.role == "user":
                view = UserMessage(m, m.content, edited=m.id in edits)
            else:
                view = AssistantMessage(m, source=m.source)
                view.set_meta(reply_meta(m))
            if m.replaced_by:
                view.mark_replaced("edited below" if m.role == "user" else "replaced below")
            widgets.append(view)
        if not messages:
            widgets.append(
                Notice(
                    "New conversation. While you are idle, sleepchat reflects: it takes notes, "
                    "predicts your next questions and precomputes their answers "
                    "(Ctrl+B shows them)."
                )
            )
        await self.mount_all(widgets)
        for shown in widgets:
            served = shown.message if isinstance(shown, AssistantMessage) else None
            if isinstance(shown, AssistantMessage) and served and served.source == "prediction":
                pred = predictions.get(served.prediction_id or "")
                # the age it had when it was served
                badge = prediction_badge(served, pred, served.created)
                await shown.add_badge(badge, regenerable=False)
        self.scroll_end(animate=False)

    async def add_user(self, text: str) -> UserMessage:
        view = UserMessage(None, text)
        await self.mount(view)
        self.anchor()
        return view

    async def begin_reply(self, source: str) -> AssistantMessage:
        for old in self.query(AssistantMessage):
            old.drop_regenerate()
        view = AssistantMessage(source=source)
        await self.mount(view)
        self.anchor()
        return view

    async def add_notice(self, text: str, severity: str = "information") -> Notice:
        notice = Notice(text, severity)
        await self.mount(notice)
        self.anchor()
        return notice

"""The session's model picker (Ctrl+L) and its system prompt and options editor (palette).

Both change the current session only (it keeps them: they come back when it is resumed) and
say what a change means: a new prefix, warmed again in the next idle period. A choice the core
refuses (a model the server does not have, a system prompt too long to fit) is said in the
screen, which stays open with what was typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from sleepchat.errors import SleepchatError
from sleepchat.text import clip, terminal_safe

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant

OPTION_FIELDS = (  # (key, label, type)
    ("temperature", "Temperature (0–2)", float),
    ("num_ctx", "Context window, tokens (num_ctx)", int),
    ("seed", "Seed", int),
)


class ProfileScreen(ModalScreen[str | None]):
    """Dismissed with what the change means (to show), or None when nothing changed."""

    async def change(self, **what: Any) -> None:
        a: Assistant = self.assistant  # type: ignore[attr-defined]
        try:
            said = await a.configure(**what)
        except SleepchatError as exc:  # refused: say why, keep the screen and what was typed
            self.query_one(".hint", Static).update(Content(exc.message))
            self.notify(exc.message, severity="warning")
            return
        self.dismiss(None if said == "nothing changed" else said)


class ModelPicker(ProfileScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant

    def compose(self) -> ComposeResult:
        with Vertical(id="model-picker", classes="dialog"):
            yield Static("Model for this session — Enter picks · Esc closes")
            yield OptionList(id="models")
            yield Static("Asking the server which models it has…", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(exclusive=True, group="models", exit_on_error=False)
    async def _load(self) -> None:
        try:
            models = await self.assistant.models()
        except SleepchatError as exc:
            self.query_one(".hint", Static).update(
                Content(f"cannot list the models: {exc.message}")
            )
            return
        current = self.assistant.model
        options = self.query_one(OptionList)
        for name in models:
            mark = "▶ " if name in (current, f"{current}:latest") else "  "
            options.add_option(Option(Content(mark + terminal_safe(name)), id=name))
        where = self.assistant.server
        hint = f"{len(models)} on {where}" if models else f"{where} lists no models"
        self.query_one(".hint", Static).update(Content(hint))
        index = next((i for i, m in enumerate(models) if m in (current, f"{current}:latest")), 0)
        if models:
            options.highlighted = index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.run_worker(self.change(model=event.option.id), group="profile", exclusive=True)


class ProfileEditor(ProfileScreen):
    """The session's system prompt and model options; empty fields: the configured ones."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant

    def compose(self) -> ComposeResult:
        a = self.assistant
        session = a.session
        prompt = session.system_prompt if session and session.system_prompt else ""
        base = a.configured
        with Vertical(id="profile-editor", classes="dialog"):
            yield Static("System prompt of this session — Ctrl+S saves · Esc cancels")
            yield TextArea(
                prompt,
                id="system-prompt",
                soft_wrap=True,
                placeholder=f"(configured) {clip(base.system_prompt, 200)}",
            )
            with Horizontal(id="profile-options"):
                configured = base.options.to_dict()
                for key, label, _kind in OPTION_FIELDS:
                    value = session.options.get(key) if session else None
                    with Vertical():
                        yield Static(label)
                        yield Input(
                            "" if value is None else str(value),
                            id=f"option-{key}",
                            placeholder=f"configured: {configured.get(key, 'server default')}",
                            compact=True,
                        )
            yield Static("Empty: the configured value.", classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        options: dict[str, Any] = {}
        for key, label, kind in OPTION_FIELDS:
            text = self.query_one(f"#option-{key}", Input).value.strip()
            if not text:
                continue
            try:
                options[key] = kind(text)
            except ValueError:
                number = "a whole number" if kind is int else "a number"
                problem = f"{label}: '{clip(text, 20)}' is not {number}"
                self.query_one(".hint", Static).update(Content(problem))
                return
        prompt = self.query_one(TextArea).text
        self.run_worker(
            self.change(system_prompt=prompt, options=options), group="profile", exclusive=True
        )

"""Copying answers and code blocks to the clipboard.

Textual's ``copy_to_clipboard`` writes an OSC 52 sequence: the terminal puts the text on the
system clipboard, which works over SSH and inside tmux (with ``set -g set-clipboard on``). What is
copied is what the screen shows: the text with terminal escape sequences removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sleepchat.text import clip, terminal_safe


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str

    @property
    def lines(self) -> int:
        return len(self.code.splitlines())

    def describe(self) -> str:
        lines = f"{self.lines} line{'s' if self.lines != 1 else ''}"
        return f"{self.language}, {lines}" if self.language else lines


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced and indented code blocks of a Markdown text, in order (as the transcript's
    Markdown renderer sees them: markdown-it, CommonMark)."""
    from markdown_it import MarkdownIt  # loaded with Textual's Markdown widget anyway

    tokens = MarkdownIt("commonmark").parse(terminal_safe(markdown))
    return [
        CodeBlock(t.info.split()[0] if t.info.strip() else "", t.content)
        for t in tokens
        if t.type in ("fence", "code_block")
    ]


def copy_text(widget: Widget, text: str, what: str) -> None:
    """Put ``text`` on the clipboard and say what was copied."""
    text = terminal_safe(text)
    widget.app.copy_to_clipboard(text)
    size = f"{len(text):,} character{'s' if len(text) != 1 else ''}"
    widget.notify(f"Copied {what} ({size}).", title="Clipboard")


def copy_code(widget: Widget, markdown: str) -> None:
    """Copy the one code block of a message, or let the user choose among several."""
    blocks = code_blocks(markdown)
    if not blocks:
        widget.notify("Nothing to copy: this message has no code block.", severity="warning")
    elif len(blocks) == 1:
        copy_text(widget, blocks[0].code, f"the code block ({blocks[0].describe()})")
    else:

        def chosen(choice: int | None) -> None:
            if choice is None:
                return
            if choice == len(blocks):
                text = "\n".join(b.code for b in blocks)
                copy_text(widget, text, f"all {len(blocks)} code blocks")
            else:
                block = blocks[choice]
                copy_text(widget, block.code, f"code block {choice + 1} ({block.describe()})")

        widget.app.push_screen(CodeChoice(blocks), chosen)


class CodeChoice(ModalScreen[int | None]):
    """Which code block to copy: its index, ``len(blocks)`` for all of them, None to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__()
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical(id="code-choice", classes="dialog"):
            yield Static("Copy which code block? Enter copies · Esc cancels")
            options = [
                Option(Content(f"{i + 1}. {self._first_line(b)}  ({b.describe()})"), id=str(i))
                for i, b in enumerate(self.blocks)
            ]
            options.append(Option(Content(f"All {len(self.blocks)} blocks"), id="all"))
            yield OptionList(*options)

    @staticmethod
    def _first_line(block: CodeBlock) -> str:
        line = next((s.strip() for s in block.code.splitlines() if s.strip()), "")
        return clip(line, 60)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(len(self.blocks) if event.option.id == "all" else int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)

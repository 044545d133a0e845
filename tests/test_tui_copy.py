"""Copying: Ctrl+Y copies the last answer; on a selected message y copies it, c its code."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import ask, chat_server, loaded, make_app, make_config, screen_text, until

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.copying import CodeChoice, code_blocks
from sleepchat.tui.transcript import AssistantMessage, UserMessage

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (120, 36)
TWO_BLOCKS = (
    "Install it, then run it:\n\n```sh\npip install tomato\n```\n\n"
    "```python\nimport tomato\ntomato.grow()\n```\n"
)


async def test_ctrl_y_copies_the_last_answer_and_says_so(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+y")
        assert app.notices[-1] == "Nothing to copy yet: no answer in this session."
        assert app.clipboard == ""
        await ask(pilot, app, "How do I grow tomatoes?")
        await pilot.press("ctrl+y")
        answer = app.assistant.history[-1].content  # type: ignore[union-attr]
        assert app.clipboard == answer
        assert "Keep the soil moist" in app.clipboard
        assert app.notices[-1] == f"Copied the last answer ({len(answer):,} characters)."
        await until(pilot, lambda: "^y Copy" in screen_text(app))  # the key is in the footer


async def test_a_selected_message_copies_itself_and_its_code(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "How do I grow tomatoes?")
        await pilot.press("shift+tab")  # from the box: the last message
        answer = app.query(AssistantMessage).last()
        assert app.focused is answer
        await until(pilot, lambda: "Copy code" in screen_text(app))  # in the footer
        await pilot.press("c")
        assert app.clipboard == "print('water')\n"
        assert app.notices[-1] == "Copied the code block (python, 1 line) (15 characters)."
        await pilot.press("up")  # the question above it
        assert isinstance(app.focused, UserMessage)
        await pilot.press("y")
        assert app.clipboard == "How do I grow tomatoes?"
        assert app.notices[-1] == "Copied your message (23 characters)."
        await pilot.press("c")
        assert app.notices[-1] == "Nothing to copy: this message has no code block."
        assert app.clipboard == "How do I grow tomatoes?"  # unchanged
        await pilot.press("down", "y")
        assert app.clipboard == answer.full_text()
        await pilot.press("escape")
        assert app.focused is app.prompt


async def test_several_code_blocks_offer_a_choice(chat_server: FakeOllama, tmp_path: Path) -> None:
    chat_server.configure(reply=TWO_BLOCKS)
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "How do I install it?")
        await pilot.press("shift+tab", "c")
        await until(pilot, lambda: isinstance(app.screen, CodeChoice))
        shown = screen_text(app)
        assert "1. pip install tomato  (sh, 1 line)" in shown
        assert "2. import tomato  (python, 2 lines)" in shown
        await pilot.press("down", "enter")  # the second one
        await until(pilot, lambda: not isinstance(app.screen, CodeChoice))
        assert app.clipboard == "import tomato\ntomato.grow()\n"
        assert app.notices[-1].startswith("Copied code block 2 (python, 2 lines)")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CodeChoice))
        await pilot.press("down", "down", "enter")  # All 2 blocks
        await until(pilot, lambda: not isinstance(app.screen, CodeChoice))
        assert app.clipboard == "pip install tomato\n\nimport tomato\ntomato.grow()\n"
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CodeChoice))
        await pilot.press("escape")  # cancelled: nothing copied
        await until(pilot, lambda: not isinstance(app.screen, CodeChoice))
        assert app.clipboard == "pip install tomato\n\nimport tomato\ntomato.grow()\n"


async def test_the_palette_copies_the_last_answer(chat_server: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "How do I grow tomatoes?")
        await pilot.press("ctrl+p")
        await pilot.press(*"Copy last answer")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.clipboard))
        assert "Keep the soil moist" in app.clipboard


def test_code_blocks_are_found_as_the_markdown_renderer_sees_them() -> None:
    text = "a\n\n~~~\ntilde\n~~~\n\n    indented\n\n```js extra\nx()\n```\n`inline` is not one"
    blocks = code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [
        ("", "tilde\n"),
        ("", "indented\n"),
        ("js", "x()\n"),
    ]
    assert code_blocks("\x1b]52;c;ZXZpbA==\x07```\nrm -rf /tmp/x\n```")[0].code == "rm -rf /tmp/x\n"


async def test_redo_in_the_box_moved_to_ctrl_shift_z(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press(*"abc")
        await pilot.press("ctrl+z")
        assert app.prompt.text == ""
        await pilot.press("ctrl+shift+z")
        assert app.prompt.text == "abc"
        await pilot.press("ctrl+y")  # copies (nothing yet) instead of redoing
        assert app.notices[-1] == "Nothing to copy yet: no answer in this session."

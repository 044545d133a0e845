"""Bad input for the Textual app, and screen checks at fixed sizes.

The screen checks read the rendered screen as text (pytest-textual-snapshot is not installed):
they assert what a user sees at a fixed size, with the cursor blink off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.tui_app import (
    QUESTION,
    idle_passes,
    loaded,
    make_app,
    make_config,
    reply,
    screen_text,
    until,
)
from textual import events

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.store import Store
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.memory_views import NoteList
from sleepchat.tui.transcript import AssistantMessage

HOSTILE = (
    "\x1b[31mRED\x1b[0m and [bold]not bold[/bold] and [link=http://evil.example]a link[/link] "
    "\x1b]8;;http://evil.example\x07osc\x1b]8;;\x07 end\x1b[2J"
)


def hostile_reply(request: dict[str, Any]) -> str:
    fmt = request.get("format")
    if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
        return json.dumps({"facts": ["Grows [b]tomatoes[/b] and \x1b[mpeppers"]})
    if isinstance(fmt, dict):
        return reply(request)
    return HOSTILE


@pytest.fixture
def srv() -> Iterator[FakeOllama]:
    with FakeOllama(reply=reply) as server:
        yield server


def _still_fine(app: SleepchatApp) -> None:
    assert app.is_running and app.return_code is None


async def test_model_escapes_and_markup_are_shown_as_text(tmp_path: Path) -> None:
    with FakeOllama(reply=hostile_reply) as srv:
        app, clock = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=(140, 30)) as pilot:
            await loaded(pilot, app)
            app.prompt.load_text("I grow tomatoes and peppers; say something odd")
            await pilot.press("enter")
            await until(pilot, lambda: not app.streaming and len(app.query(AssistantMessage)) == 1)
            await pilot.pause()
            view = app.query(AssistantMessage).last()
            assert "\x1b" not in view.text
            text = screen_text(app)
            assert "[bold]not bold[/bold]" in text
            assert "[link=http://evil.example]a link[/link]" in text
            assert "RED" in text and "[31m" not in text and "\x1b" not in text
            # Memory from the model is shown literally too.
            await idle_passes(app, clock)
            await until(pilot, lambda: app.panel.query_one(NoteList).option_count == 1)
            await pilot.pause()
            assert "Grows [b]tomatoes[/b] and peppers" in screen_text(app)
            _still_fine(app)


async def test_a_one_megabyte_paste_is_sent_and_stored_whole(
    srv: FakeOllama, tmp_path: Path
) -> None:
    big = ("tomato " * 150_000)[:1_000_000]
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        app.post_message(events.Paste(big))  # as the terminal delivers it
        await until(pilot, lambda: len(app.prompt.text) == len(big))
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(app.assistant.history) == 2)  # type: ignore[union-attr]
        await pilot.pause()
        assert app.assistant.history[0].content == big  # type: ignore[union-attr]
        assert "more characters, kept in full" in screen_text(app)
        await pilot.press(*"still typing")
        assert app.prompt.text == "still typing"
        _still_fine(app)


async def test_a_tiny_terminal_keeps_working(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert not app.panel.display  # too narrow for the side panel
        app.prompt.load_text("small screen question")
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(app.assistant.history) == 2)  # type: ignore[union-attr]
        await pilot.pause()
        text = screen_text(app)
        assert len(text.splitlines()) == 10
        assert "llama3.2" in text  # the status line is still there
        await pilot.press("ctrl+b")  # the panel can still be forced open
        await pilot.pause()
        assert app.panel.display
        screen_text(app)
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        _still_fine(app)


async def test_ctrl_c_twice_during_a_reply_quits_and_keeps_everything(
    srv: FakeOllama, tmp_path: Path
) -> None:
    srv.configure(token_delay=0.05)
    config = make_config(tmp_path / "d", srv.url)
    app, _clock = make_app(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        app.prompt.load_text("a long story please")
        await pilot.press("enter")
        views = lambda: app.query(AssistantMessage)  # noqa: E731
        await until(pilot, lambda: bool(views()) and len(views().last().text) > 5)
        await pilot.press("ctrl+c", "ctrl+c")
        await until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    store = await Store.open(config.resolved_data_dir())
    try:
        session = await store.last_session()
        assert session is not None
        messages = await store.messages(session.id)
    finally:
        await store.close()
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].content == "a long story please"
    assert messages[1].interrupted and messages[1].content


async def test_ctrl_c_once_only_warns(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        assert any("Ctrl+C again" in n for n in app.notices)


async def test_screen_at_100x30_after_a_precomputed_answer(srv: FakeOllama, tmp_path: Path) -> None:
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        app.prompt.cursor_blink = False
        app.prompt.load_text("I grow tomatoes on my balcony")
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(app.assistant.history) == 2)  # type: ignore[union-attr]
        await idle_passes(app, clock)
        await until(pilot, lambda: not app.assistant.reflecting)  # type: ignore[union-attr]
        app.prompt.load_text(QUESTION)
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(app.assistant.history) == 4)  # type: ignore[union-attr]
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert len(lines) == 30 and all(len(line) <= 100 for line in lines)
        text = "\n".join(lines)
        assert "╭─ You" in text and "╭─ sleepchat" in text
        assert "⚡ precomputed while idle" in text and "Regenerate" in text
        assert lines[-2].lstrip().startswith("llama3.2 · ")  # status line
        assert "Memory" in lines[-1] and "Sessions" in lines[-1]  # footer bindings
        assert "Notes 1" in text and "Next 0" in text  # the one prediction was served
        app.save_screenshot(path=str(tmp_path), filename="tui-100x30.svg")


async def test_command_palette_lists_the_app_actions(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for wanted in (
            "Stop the reply",
            "Regenerate answer",
            "Toggle memory panel",
            "Edit note",
            "Forget note",
            "Undo memory change",
            "Reflect now",
            "Sessions",
            "New chat",
            "Export session",
            "Theme",
        ):
            assert any(wanted in t for t in titles), wanted
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"export session")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: any("Exported to" in n for n in app.notices))
        note = next(n for n in app.notices if "Exported" in n)
        path = Path(note.split()[-1])
        assert path.read_text().startswith("# ")
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_importing_the_tui_package_stays_cheap() -> None:
    """``sleepchat.tui`` is imported by the CLI on every start: Textual loads only in run_app."""
    import subprocess
    import sys

    code = "import sys, sleepchat.tui; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Start-up: the first frame is painted before the config is loaded; a bad config still ends
the app with exit code 2 and its one-line message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from support.tui_app import chat_server, loaded, make_app, make_config, screen_text, until

from sleepchat.config import Config, ConfigError
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.errors import StartupError
from sleepchat.runtime import Runtime
from sleepchat.tui.app import SleepchatApp

__all__ = ["chat_server"]  # a fixture, imported for pytest


async def test_a_bad_config_found_after_the_first_frame_exits_2() -> None:
    def loader():
        raise ConfigError("config error in /x/config.yaml: unknown key 'sleep.idle_secs'")

    app = SleepchatApp(None, config_loader=loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 2
    assert app.exit_message == "config error in /x/config.yaml: unknown key 'sleep.idle_secs'"


async def test_the_config_is_loaded_after_the_first_frame(tmp_path: Path) -> None:
    calls: list[str] = []
    config = make_config(tmp_path / "d", "http://127.0.0.1:9")

    def loader():
        calls.append(screen_text(app))  # what was on screen when the config was asked for
        themes.append(app.theme)
        return config

    themes: list[str] = []
    app = SleepchatApp(None, config_loader=loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(calls) and "llama3.2" in screen_text(app))
        await loaded(pilot, app)
    assert "Ask anything" in calls[0]  # the chat was already painted
    assert themes == ["sleepchat-dark"]  # ... in the shipped theme, not Textual's own


async def test_quitting_while_it_starts_is_clean(tmp_path: Path) -> None:
    config = make_config(tmp_path / "d", "http://127.0.0.1:9")
    app = SleepchatApp(None, config_loader=lambda: config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+q")
    assert app.return_code == 0


def test_the_app_needs_a_config_or_a_loader() -> None:
    with pytest.raises(ValueError):
        SleepchatApp(None)


SIZE = (110, 30)


async def test_enter_before_the_app_is_ready_sends_once_it_is(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    srv = chat_server
    gate = asyncio.Event()
    app, _clock = make_app(make_config(tmp_path / "d", srv.url), gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.prompt.has_focus)
        await pilot.press(*"first question")
        await pilot.press("enter")
        await pilot.press(*"second one")
        await pilot.press("enter")
        assert app.prompt.text == ""  # taken: the box is free for the next one
        shown = screen_text(app)
        assert "queued, sends when ready: first question" in shown
        assert "queued, sends when ready: second one" in shown
        assert srv.chat_requests == []  # nothing could be sent yet
        gate.set()  # the store and the backend are open now
        await until(pilot, lambda: app.assistant is not None and len(app.assistant.history) == 4)
        await until(pilot, lambda: not app.streaming)
        history = app.assistant.history
        assert [m.content for m in history if m.role == "user"] == ["first question", "second one"]
        assert history[1].role == "assistant" and "first question" in history[1].content
        assert "queued" not in screen_text(app)
        await pilot.press("up")
        assert app.prompt.text == "second one"  # queued messages are in the recall history


async def test_a_message_queued_when_start_up_fails_is_handed_back(tmp_path: Path) -> None:
    gate = asyncio.Event()

    def loader() -> Config:
        return make_config(tmp_path / "d", "http://127.0.0.1:9")

    async def failing(
        cfg: Config, warn: Callable[[str], None], step: Callable[[str], None]
    ) -> Runtime:
        await gate.wait()
        raise StartupError("data dir /x is in use by another sleepchat (PID 1)")

    app = SleepchatApp(None, config_loader=loader, runtime_factory=failing)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.prompt.has_focus)
        await pilot.press(*"do not lose me")
        await pilot.press("enter")
        gate.set()
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    assert app.unsent == ["do not lose me"]  # printed on stderr by run_app after the app closes

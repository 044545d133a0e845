"""Start-up: the first frame is painted before the config is loaded; a bad config still ends
the app with exit code 2 and its one-line message."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tui_app import loaded, make_config, screen_text, until

from sleepchat.config import ConfigError
from sleepchat.tui.app import SleepchatApp


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
        return config

    app = SleepchatApp(None, config_loader=loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(calls) and "llama3.2" in screen_text(app))
        await loaded(pilot, app)
    assert "Ask anything" in calls[0]  # the chat was already painted


async def test_quitting_while_it_starts_is_clean(tmp_path: Path) -> None:
    config = make_config(tmp_path / "d", "http://127.0.0.1:9")
    app = SleepchatApp(None, config_loader=lambda: config)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+q")
    assert app.return_code == 0


def test_the_app_needs_a_config_or_a_loader() -> None:
    with pytest.raises(ValueError):
        SleepchatApp(None)

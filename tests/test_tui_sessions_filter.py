"""The sessions screen's filter box: titles and message text, as you type."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import ask, chat_server, loaded, make_app, make_config, screen_text, until
from textual.widgets import Input, OptionList

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.sessions import SessionsScreen
from sleepchat.tui.transcript import AssistantMessage

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (120, 36)


async def test_the_filter_finds_sessions_by_title_and_by_message(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        a = app.assistant
        assert a is not None
        await ask(pilot, app, "Why does my sourdough collapse?")
        await a.new_session("Balcony plans")
        await until(pilot, lambda: not app.query(AssistantMessage))  # the new one is shown
        await ask(pilot, app, "When should I repot the basil?")
        await a.new_session("Empty one")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await until(pilot, lambda: len(screen.sessions) == 3)
        screen.query_one("#session-filter", Input).focus()
        await pilot.press(*"basi")  # a word start, inside a message
        await until(pilot, lambda: [s.title for s in screen.sessions] == ["Balcony plans"])
        # the newest matching message of the session, under it
        assert "sleepchat: About *When should I repot the basil?*" in screen_text(app)
        await pilot.press(*"l plans")  # "basil plans": "plans" is in the title only
        await until(pilot, lambda: [s.title for s in screen.sessions] == [])
        assert "nothing matches 'basil plans'" in screen_text(app)
        screen.query_one("#session-filter", Input).value = "balcony"  # the title
        await until(pilot, lambda: [s.title for s in screen.sessions] == ["Balcony plans"])
        screen.query_one("#session-filter", Input).value = ""
        await until(pilot, lambda: len(screen.sessions) == 3)
        screen.query_one("#session-filter", Input).value = "SOURDOUGH"
        await until(pilot, lambda: len(screen.sessions) == 1)
        await pilot.press("enter")  # to the list
        assert isinstance(app.focused, OptionList)
        await pilot.press("enter")  # opens it
        await until(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        await until(pilot, lambda: a.session is not None and a.session.title.startswith("Why"))

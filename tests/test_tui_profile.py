"""The session's model (Ctrl+L, palette) and system prompt and options (palette) in the app."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import (
    ask,
    chat_server,
    loaded,
    make_app,
    make_config,
    reply,
    screen_text,
    until,
)
from textual.widgets import Input, TextArea

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.profile_screens import ModelPicker, ProfileEditor
from sleepchat.tui.transcript import Notice

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (140, 40)


def last_chat(srv: FakeOllama) -> dict:
    return next(r.body for r in reversed(srv.chat_requests) if r.body and not r.body.get("format"))


def notices(app: SleepchatApp) -> list[str]:
    return [str(n.render()) for n in app.query(Notice)]


async def palette(pilot, app: SleepchatApp, entry: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await pilot.press(*entry)
    await pilot.pause()
    await pilot.press("enter")


async def test_ctrl_l_picks_the_sessions_model_from_the_servers(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        await until(pilot, lambda: "3 on http" in screen_text(app))
        shown = screen_text(app)
        assert "▶ llama3.2:latest" in shown and "qwen2.5:0.5b" in shown
        await pilot.press("escape")  # nothing changes
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        await palette(pilot, app, "Choose model")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        await until(pilot, lambda: "3 on http" in screen_text(app))
        await pilot.press("down", "enter")  # from llama3.2:latest to qwen2.5:0.5b
        await until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        await until(
            pilot, lambda: any(t.startswith("New model for this session") for t in notices(app))
        )
        assert app.status_text().startswith("qwen2.5:0.5b ·")
        await ask(pilot, app, "Which soil?")
        assert last_chat(chat_server)["model"] == "qwen2.5:0.5b"
        assert app.assistant is not None and app.assistant.session is not None
        assert app.assistant.session.model == "qwen2.5:0.5b"

    # Resumed later: the session's model again.
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.status_text().startswith("qwen2.5:0.5b ·")


async def test_a_model_the_server_lost_is_said_in_the_transcript(tmp_path: Path) -> None:
    with FakeOllama(reply=reply) as srv:
        app, _clock = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            assert app.assistant is not None
            await app.assistant.configure(model="qwen2.5:0.5b")
    with FakeOllama(reply=reply, models=["llama3.2:latest"]) as srv:
        app, _clock = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            await until(pilot, lambda: any("does not have" in t for t in notices(app)))
            assert "using 'llama3.2'" in " ".join(notices(app))
            assert app.status_text().startswith("llama3.2 ·")


async def test_the_system_prompt_and_options_editor(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await palette(pilot, app, "System prompt and options")
        await until(pilot, lambda: isinstance(app.screen, ProfileEditor))
        screen = app.screen
        editor = screen.query_one(TextArea)
        # 1 MB: refused, said in the screen, the text kept
        editor.load_text("x" * (1 << 20))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "1,048,576 characters" in screen_text(app))
        assert isinstance(app.screen, ProfileEditor) and len(editor.text) == 1 << 20
        editor.load_text("You are terse.")
        screen.query_one("#option-temperature", Input).value = "hot"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "'hot' is not a number" in screen_text(app))
        screen.query_one("#option-temperature", Input).value = "5"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "temperature must be a number from 0 to 2" in screen_text(app))
        screen.query_one("#option-temperature", Input).value = "0.3"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ProfileEditor))
        said = [t for t in notices(app) if t.startswith("New system prompt and model options")]
        assert said and "warms it again" in said[0]
        assert "system: “You are terse.”" in app.status_text()
        await ask(pilot, app, "Which pot?")
        body = last_chat(chat_server)
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}
        assert body["options"]["temperature"] == 0.3
        await palette(pilot, app, "System prompt and options")  # shows what is set
        await until(pilot, lambda: isinstance(app.screen, ProfileEditor))
        assert app.screen.query_one(TextArea).text == "You are terse."
        assert app.screen.query_one("#option-temperature", Input).value == "0.3"
        await pilot.press("escape")

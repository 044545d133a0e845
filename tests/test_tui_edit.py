"""Edit and resend: e on a question writes it again; the old reply stays, folded, reachable."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import ask, chat_server, loaded, make_app, make_config, screen_text, until

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.transcript import AssistantMessage, UserMessage

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (120, 40)


def last_question(srv: FakeOllama) -> list[str]:
    body = next(r.body for r in reversed(srv.chat_requests) if r.body and not r.body.get("format"))
    return [m["content"] for m in body["messages"] if m["role"] != "system"]


async def select_question(pilot, app: SleepchatApp, n: int) -> UserMessage:  # type: ignore[no-untyped-def]
    """Focus the ``n``-th question of the transcript (as Shift+Tab and Up would)."""
    view = list(app.query(UserMessage))[n]
    view.focus()
    await pilot.pause()
    return view


async def test_e_edits_a_question_and_asks_again_from_there(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "How do I grow tomatoes?")
        await ask(pilot, app, "And basil?")
        app.prompt.load_text("a draft I was typing")
        first = await select_question(pilot, app, 0)
        await until(pilot, lambda: "Edit & resend" in screen_text(app))  # in the footer
        await pilot.press("e")
        assert app.focused is app.prompt and app.prompt.text == "How do I grow tomatoes?"
        assert "Editing your message" in screen_text(app)
        await pilot.press("escape")  # cancelled: the draft is back, nothing sent
        assert app.prompt.text == "a draft I was typing"
        assert "Editing your message" not in screen_text(app)
        first = await select_question(pilot, app, 0)
        await pilot.press("e")
        app.prompt.load_text("How do I grow peppers?")
        before = len(app.query(AssistantMessage))
        await pilot.press("enter")
        await until(pilot, lambda: len(app.query(AssistantMessage)) > before and not app.streaming)
        assert app.prompt.text == "a draft I was typing"  # given back after the edit
        assert last_question(chat_server) == ["How do I grow peppers?"]  # the old branch left
        views = list(app.query(".message"))
        folded = [v for v in views if v.has_class("replaced")]
        assert len(folded) == 4 and all(v.has_class("folded") for v in folded)
        assert folded[0] is first and first.border_subtitle == "edited below · Enter shows it"
        assert views[-2].border_title == "You · edited"
        # reachable: Enter on a folded reply shows it whole, and folds it again
        reply = folded[1]
        reply.focus()
        await pilot.press("enter")
        assert not reply.has_class("folded")
        assert reply.border_subtitle == "replaced below · Enter folds it"
        await pilot.press("enter")
        assert reply.has_class("folded")
        await pilot.press("o")  # o does the same
        assert not reply.has_class("folded")
        await pilot.press("k")  # k / j move up and down, as Up / Down
        assert app.focused is first
        await pilot.press("j")
        assert app.focused is reply
        assert app.assistant is not None
        assert next(m.content for m in app.assistant.history if not m.replaced_by) == (
            "How do I grow peppers?"
        )

    # Resumed: the old branch is still there, folded.
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        folded = [v for v in app.query(".message") if v.has_class("replaced")]
        assert len(folded) == 4


async def test_editing_while_a_reply_streams_is_refused_and_loses_nothing(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "How do I grow tomatoes?")
        chat_server.configure(token_delay=0.2)
        app.prompt.load_text("Tell me a long story")
        await pilot.press("enter")
        await until(pilot, lambda: app.streaming)
        await select_question(pilot, app, 0)
        await pilot.press("e")
        assert app.notices[-1] == "A reply is streaming: press Esc to stop it first."
        assert app.chat.editing is None and app.prompt.text == ""
        await pilot.press("escape")  # Esc on a message stops the reply too
        await until(pilot, lambda: not app.streaming)
        assert app.assistant is not None
        assert [m.replaced_by for m in app.assistant.history] == [None] * 4

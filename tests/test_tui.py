"""The Textual app through Pilot, against the loopback fake Ollama with the real client."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.tui_app import (
    ANSWER,
    NOTE,
    QUESTION,
    ask,
    idle_passes,
    loaded,
    make_app,
    make_config,
    reply,
    screen_text,
    until,
)

from sleepchat.core.drafts import PAUSE
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.memory_views import NoteEditor, NoteList, PredictionList
from sleepchat.tui.transcript import AssistantMessage, Badge, Notice, UserMessage

SIZE = (120, 36)


@pytest.fixture
def srv() -> Iterator[FakeOllama]:
    with FakeOllama(reply=reply) as server:
        yield server


def _streamed(app: SleepchatApp, chars: int = 1) -> bool:
    """A reply view exists and shows at least ``chars`` characters."""
    views = app.query(AssistantMessage)
    return bool(views) and len(views.last().text) >= chars


def _idle_workers(app: SleepchatApp, group: str) -> bool:
    return not [w for w in app.workers if w.group == group and w.is_running]


def _assistant(app: SleepchatApp):  # type: ignore[no-untyped-def]
    assert app.assistant is not None
    return app.assistant


async def _reflect(pilot, app: SleepchatApp, clock) -> None:  # type: ignore[no-untyped-def]
    a = _assistant(app)
    await idle_passes(app, clock)  # the sleep cycle starts by itself after the idle time
    await until(pilot, lambda: not a.reflecting)
    await pilot.pause()


async def test_send_streams_markdown_and_stores_both_messages(
    srv: FakeOllama, tmp_path: Path
) -> None:
    srv.configure(token_delay=0.03)
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press(*"How do I grow tomatoes?")
        seen: list[tuple[bool, int]] = []  # (still streaming, characters shown)

        async def watch() -> None:
            while True:
                views = app.query(AssistantMessage)
                if views:
                    seen.append((app.streaming, len(views.last().text)))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        await pilot.press("enter")
        assert app.prompt.text == ""  # sent: the box is clear for the next question
        await until(pilot, lambda: _streamed(app) and not app.streaming)
        watcher.cancel()
        view = app.query(AssistantMessage)[-1]
        # Streamed: text was on screen while the reply was still coming, in several steps.
        assert any(streaming and n > 0 for streaming, n in seen)
        assert len({n for _streaming, n in seen}) > 3
        assert "Keep the soil moist" in view.text
        assert "tok/s" in str(view.meta.render())
        history = _assistant(app).history
        assert [m.role for m in history] == ["user", "assistant"]
        assert history[0].content == "How do I grow tomatoes?"
        text = screen_text(app)
        assert "You" in text and "sleepchat" in text
        assert "print('water')" in text  # the code block is rendered
        assert "tok/s" in text.splitlines()[-2]  # status line: speed of the last answer


async def test_multiline_input_and_history_recall(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("a", "ctrl+j", "b")
        assert app.prompt.text == "a\nb"
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(_assistant(app).history) == 2)
        assert _assistant(app).history[0].content == "a\nb"
        await pilot.press(*"draft")
        await pilot.press("up")
        assert app.prompt.text == "a\nb"
        await pilot.press("down", "down")
        assert app.prompt.text == "draft"


async def test_idle_reflection_fills_the_panel_and_prediction_answers_instantly(
    srv: FakeOllama, tmp_path: Path
) -> None:
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.panel.display  # wide terminal: the panel shows by default
        await ask(pilot, app, "I grow tomatoes on my balcony. Any tips?")
        await _reflect(pilot, app, clock)
        await until(pilot, lambda: app.panel.query_one(PredictionList).option_count == 1)
        notes = app.panel.query_one(NoteList)
        assert notes.option_count == 1
        assert "1 prediction ready" in app.status_text()
        assert "recall: lexical" in app.status_text()  # no embedding model in this app
        text = screen_text(app)
        assert NOTE[:30] in text
        # Enter on the prediction: answered from the cache, no model request.
        chats = len(srv.chat_requests)
        app.action_focus_predictions()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: len(_assistant(app).history) == 4 and not app.streaming)
        served = _assistant(app).history[-1]
        assert served.source == "prediction" and served.content == ANSWER
        assert len(srv.chat_requests) == chats
        view = app.query(AssistantMessage)[-1]
        badge = view.query_one(Badge)
        badge_text = str(badge.query_one(".badge-text").render())
        assert "precomputed" in badge_text and served.reflection_id in badge_text
        assert "old" in badge_text or "just now" in badge_text
        assert view.query(".regenerate")  # the one-key way to ask the model instead
        assert _assistant(app).history[-2].content == QUESTION
        # Regenerate asks the model; the cached answer is marked replaced.
        await pilot.press("ctrl+r")
        await until(pilot, lambda: len(_assistant(app).history) == 5 and not app.streaming)
        assert _assistant(app).history[-1].source == "model"
        assert len(srv.chat_requests) == chats + 1
        assert "replaced" in str(view.meta.render())


async def test_a_question_still_without_its_answer_is_listed_as_question_only(
    srv: FakeOllama, tmp_path: Path
) -> None:
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "I grow tomatoes on my balcony. Any tips?")
        await _reflect(pilot, app, clock)
        a = _assistant(app)
        listed = app.panel.query_one(PredictionList)

        def first() -> str:
            return str(listed.get_option_at_index(0).prompt) if listed.option_count else ""

        await until(pilot, lambda: first().startswith("● "))
        # A reflection cut between its questions and answers steps leaves exactly this.
        assert a.conversation is not None
        await a.conversation.memory.update_prediction(a.fresh_predictions[0].id, answer="")
        a.conversation.memory_changed()
        await until(pilot, lambda: first().startswith("◌ question only · "))
        assert "predictions ready" not in app.status_text()


async def test_a_key_cancels_a_running_reflection(srv: FakeOllama, tmp_path: Path) -> None:
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "Tell me about tomatoes")
        a = _assistant(app)
        before = len(srv.chat_requests)
        srv.then(hang=True)  # the reflection's first request never answers
        await idle_passes(app, clock)
        await until(pilot, lambda: any(r.hung for r in srv.chat_requests[before:]))
        [hung] = [r for r in srv.chat_requests[before:] if r.hung]
        assert a.reflecting
        assert "reflecting" in app.status_text()
        await pilot.press("x")
        await until(pilot, lambda: not a.reflecting)
        await until(pilot, lambda: [r.status for r in a.reflections][-1:] == ["cancelled"])
        # The request was dropped (the message names every request, should another take the hang).
        dropped = await asyncio.to_thread(srv.wait_until, lambda _: hung.disconnected, 5.0)
        assert dropped, "\n".join(r.describe() for r in srv.recorded(None))
        assert app.prompt.text == "x"
        await until(pilot, lambda: "reflecting" not in app.status_text())
        assert not a.reflecting


async def test_a_question_typed_in_the_box_is_prefilled_before_it_is_sent(
    srv: FakeOllama, tmp_path: Path
) -> None:
    """Once the keys rest, the question in the box is sent to the server as a warm-up (its
    reply's request, all but the answer): sent, its request finds its whole prompt cached."""
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "Tell me about tomatoes")
        before = len(srv.chat_requests)
        await pilot.press(*"Why do they crack?")
        clock.advance(PAUSE)
        await until(pilot, lambda: len(srv.chat_requests) > before)
        [warm] = srv.chat_requests[before:]
        assert (warm.body or {})["messages"][-1]["content"] == "Why do they crack?"
        await pilot.press("enter")
        await until(pilot, lambda: not app.streaming and len(_assistant(app).history) == 4)
        [sent] = srv.chat_requests[before + 1 :]
        assert (sent.body or {})["messages"] == (warm.body or {})["messages"]
        # Nothing left to prefill but the last token, which a server evaluates again for its
        # logits (the question alone is four of the fake's tokens).
        assert sent.cached_tokens == sent.prompt_tokens - 1


async def test_nothing_typed_is_readied_while_a_reply_streams(
    srv: FakeOllama, tmp_path: Path
) -> None:
    """While a reply streams the model is busy: what is typed then is readied only later."""
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        a = _assistant(app)
        drafts: list[str] = []
        touch = a.touch

        def recorded(draft: str | None = None) -> None:
            if draft is not None:
                drafts.append(draft)
            touch(draft)

        a.touch = recorded  # type: ignore[method-assign]
        await pilot.press(*"Why not")
        assert drafts[-1] == "Why not"
        srv.then(hang=True)  # the reply streams until stopped
        await pilot.press("enter")
        await until(pilot, lambda: app.streaming)
        drafts.clear()
        await pilot.press(*"next")
        assert drafts == []
        await pilot.press("escape")
        await until(pilot, lambda: not app.streaming)


async def test_note_edit_forget_undo(srv: FakeOllama, tmp_path: Path) -> None:
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "I grow tomatoes on my balcony")
        await _reflect(pilot, app, clock)
        a = _assistant(app)
        notes = app.panel.query_one(NoteList)
        await until(pilot, lambda: notes.option_count == 1)
        app.action_focus_notes()
        await pilot.pause()
        detail = str(app.panel.query_one("#note-detail").render())
        assert "Reflection: r" in detail and "From messages" in detail and "insert" in detail
        note_id = a.notes[0].id
        await pilot.press("e")
        editor = app.panel.query_one(NoteEditor)
        assert editor.display and editor.has_focus and editor.value == NOTE
        await pilot.press(*" and peppers")
        await pilot.press("enter")
        await until(pilot, lambda: a.notes[0].text == NOTE + " and peppers")
        await until(pilot, lambda: "and peppers" in str(notes.get_option_at_index(0).prompt))
        assert not editor.display and notes.has_focus
        await pilot.press("d")
        await until(pilot, lambda: not [n for n in a.notes if n.active])
        await until(pilot, lambda: notes.option_count == 0)
        await pilot.press("u")
        await until(pilot, lambda: [n.id for n in a.notes if n.active] == [note_id])
        await until(pilot, lambda: notes.option_count == 1)


async def test_sessions_switch_new_rename_delete(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        a = _assistant(app)
        await ask(pilot, app, "first session question")
        first = a.session.id  # type: ignore[union-attr]
        await pilot.press("ctrl+n")
        await until(pilot, lambda: a.session is not None and a.session.id != first)
        await until(pilot, lambda: not app.query(UserMessage))
        await ask(pilot, app, "second session question")
        second = a.session.id  # type: ignore[union-attr]
        await pilot.press("ctrl+o")
        await until(pilot, lambda: app.screen.__class__.__name__ == "SessionsScreen")
        await pilot.pause()
        screen = app.screen
        ids = [s.id for s in screen.sessions]  # type: ignore[attr-defined]
        # rename the first session
        screen.query_one("#session-list").highlighted = ids.index(first)  # type: ignore[attr-defined]
        await pilot.press("r")
        title = screen.query_one("#session-title")
        title.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Tomatoes")
        await pilot.press("enter")
        await until(pilot, lambda: any(s.title == "Tomatoes" for s in screen.sessions))  # type: ignore[attr-defined]
        # open it
        ids = [s.id for s in screen.sessions]  # type: ignore[attr-defined]
        screen.query_one("#session-list").highlighted = ids.index(first)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: a.session is not None and a.session.id == first)
        shown = lambda: [str(u.render()) for u in app.query(UserMessage)]  # noqa: E731
        await until(pilot, lambda: any("first session" in t for t in shown()))
        assert "Tomatoes" in app.status_text()
        # delete the second one (press d twice)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: app.screen.__class__.__name__ == "SessionsScreen")
        await pilot.pause()
        screen = app.screen
        ids = [s.id for s in screen.sessions]  # type: ignore[attr-defined]
        screen.query_one("#session-list").highlighted = ids.index(second)  # type: ignore[attr-defined]
        await pilot.press("d")
        assert len(await a.list_sessions()) == 2  # one press only asks to confirm
        await pilot.press("d")
        await until(pilot, lambda: len(screen.sessions) == 1)  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert a.session is not None and a.session.id == first


async def test_server_down_then_back_keeps_text_and_retries(tmp_path: Path) -> None:
    from support.ollama_server import refused_port

    port = refused_port()
    app, _clock = make_app(make_config(tmp_path / "d", f"http://127.0.0.1:{port}"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        app.prompt.load_text("Are you there?")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.query(Notice).filter(".error")))
        notice = str(app.query(Notice).filter(".error").last().render())
        assert "not reachable" in notice and "ollama serve" in notice
        assert "back in the box" in notice
        assert app.prompt.text == "Are you there?"  # nothing typed is lost
        assert not app.streaming and app.is_running
        with FakeOllama(reply=reply, port=port):
            await pilot.press("enter")  # the next send retries
            last = lambda: _assistant(app).history[-1]  # noqa: E731
            await until(pilot, lambda: not app.streaming and last().role == "assistant")
        assert "Keep the soil moist" in _assistant(app).history[-1].content


async def test_missing_model_and_cut_stream_are_reported(srv: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", srv.url, model="nosuchmodel"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        app.prompt.load_text("hello")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.query(Notice).filter(".error")))
        assert "ollama pull nosuchmodel" in str(app.query(Notice).filter(".error").last().render())

    app, _clock = make_app(make_config(tmp_path / "d2", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        srv.then(error_after=3)
        app.prompt.load_text("tell me a long story")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.query(Notice).filter(".error")))
        notice = str(app.query(Notice).filter(".error").last().render())
        assert "partial reply is kept" in notice
        last = _assistant(app).history[-1]
        assert last.role == "assistant" and last.interrupted
        assert "interrupted" in str(app.query(AssistantMessage).last().meta.render())


async def test_escape_stops_the_reply_and_keeps_the_partial(
    srv: FakeOllama, tmp_path: Path
) -> None:
    # Long enough (400 chunks, 20 s) that Esc lands mid-reply however busy the machine is.
    srv.configure(token_delay=0.05, reply="and more " * 400)
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        app.prompt.load_text("a long answer please")
        await pilot.press("enter")
        await until(pilot, lambda: _streamed(app, 6))
        await pilot.press("escape")
        await until(pilot, lambda: not app.streaming)
        last = _assistant(app).history[-1]
        assert last.role == "assistant" and last.interrupted and last.content
        assert "stopped" in str(app.query(AssistantMessage).last().meta.render())
        assert await asyncio.to_thread(srv.wait_for_disconnect, 5.0)


async def test_theme_switch_is_remembered_until_the_config_changes(
    srv: FakeOllama, tmp_path: Path
) -> None:
    config = make_config(tmp_path / "d", srv.url)
    app, _clock = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.theme == "sleepchat-dark"
        assert {"sleepchat-light", "sleepchat-dusk"} <= set(app.available_themes)
        app.theme = "sleepchat-light"
        await until(pilot, lambda: _idle_workers(app, "theme"))
        await pilot.pause()
    app, _clock = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.theme == "sleepchat-light"
        assert not app.current_theme.dark
    app, _clock = make_app(make_config(tmp_path / "d", srv.url, theme="sleepchat-dusk"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.theme == "sleepchat-dusk"  # the config changed since: it wins


async def test_bad_theme_files_are_reported_together_and_fallback_used(
    srv: FakeOllama, tmp_path: Path
) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "broken.yaml").write_text("name: broken\nprimary: '#zzzzzz'\n")
    (themes / "typo.yaml").write_text("name: typo\nprimry: '#112233'\n")
    (themes / "mine.yaml").write_text("name: mine\nprimary: '#336699'\ndark: true\n")
    config = make_config(tmp_path / "d", srv.url, theme="broken")
    config = dataclasses.replace(config, themes_dir=themes)
    app, _clock = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.theme == "sleepchat-dark"  # the fallback
        assert "mine" in app.available_themes and "broken" not in app.available_themes
        messages = app.notices
        together = [m for m in messages if "broken.yaml" in m and "typo.yaml" in m]
        assert together and "did you mean 'primary'" in together[0]
        assert any("theme 'broken' is not available" in m for m in messages)
        app.theme = "mine"  # a valid user theme works at runtime
        await pilot.pause()
        assert app.current_theme.primary == "#336699"


def _no_facts(request: dict[str, Any]) -> str:
    """A model whose notes step finds nothing: the user's statement is kept in their words."""
    fmt = request.get("format")
    if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
        return json.dumps({"facts": []})
    return reply(request)


async def test_the_users_own_words_show_as_a_quotation(tmp_path: Path) -> None:
    with FakeOllama(reply=_no_facts) as srv:
        app, clock = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            await ask(pilot, app, "I grow tomatoes on my balcony. Any tips?")
            await _reflect(pilot, app, clock)
            await until(pilot, lambda: app.panel.query_one(NoteList).option_count == 1)
            [note] = _assistant(app).notes
            assert note.verbatim and note.text == "I grow tomatoes on my balcony."
            assert "“I grow tomatoes on my balcony.”" in screen_text(app)


async def test_ctrl_f_queues_the_box_for_idle_time_and_asking_it_is_served(
    srv: FakeOllama, tmp_path: Path
) -> None:
    later = "Should I prune the lower leaves of the tomatoes?"
    app, clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await ask(pilot, app, "I grow tomatoes on my balcony. Any tips?")
        app.chat.prompt.load_text(later)
        await pilot.press("ctrl+f")
        a = _assistant(app)
        await until(pilot, lambda: any(p.queued for p in a.predictions))
        assert app.chat.prompt.text == ""  # queued, not sent: the box is free again
        listed = app.panel.query_one(PredictionList)

        def prompts() -> list[str]:
            return [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]

        await until(pilot, lambda: any(p.startswith("◌ queued, waiting · ") for p in prompts()))
        assert "1 queued for idle time" in app.status_text()
        chats = len(srv.chat_requests)
        await _reflect(pilot, app, clock)
        await until(pilot, lambda: "1 queued answer ready" in app.status_text())
        assert any(p.startswith("● queued · ") for p in prompts())
        assert len(srv.chat_requests) > chats  # answered while idle
        chats = len(srv.chat_requests)
        await ask(pilot, app, later)
        served = a.history[-1]
        assert served.source == "prediction" and len(srv.chat_requests) == chats
        await pilot.press("ctrl+f")  # an empty box: said, nothing queued
        await pilot.pause()
        assert len([p for p in a.predictions if p.queued]) == 1


async def test_alt_a_attaches_the_file_in_the_box_and_a_bad_path_stays_in_it(
    srv: FakeOllama, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("# Launch\n\nThe launch is on 12 May in Lisbon.\n")
    app, _clock = make_app(make_config(tmp_path / "d", srv.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        a = _assistant(app)
        app.chat.prompt.load_text(str(plan))
        await pilot.press("alt+a")
        await until(pilot, lambda: [d.name for d in a.documents] == ["plan.md"])
        assert app.chat.prompt.text == ""
        missing = str(tmp_path / "missing.md")
        app.chat.prompt.load_text(missing)
        await pilot.press("alt+a")
        await until(pilot, lambda: app.chat.prompt.text == missing)  # nothing typed is lost
        assert len(a.documents) == 1
        await ask(pilot, app, "When is the launch?")
        body = srv.chat_requests[-1].body
        assert body is not None and "12 May in Lisbon" in body["messages"][0]["content"]


async def test_files_given_at_start_are_attached_once_the_session_opens(
    srv: FakeOllama, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("# Launch\n\nThe launch is on 12 May in Lisbon.\n")
    app, _clock = make_app(
        make_config(tmp_path / "d", srv.url), files=[str(plan), str(tmp_path / "gone.md")]
    )
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        a = _assistant(app)
        await until(pilot, lambda: [d.name for d in a.documents] == ["plan.md"])
        await ask(pilot, app, "When is the launch?")  # the missing one was said, not fatal
        body = srv.chat_requests[-1].body
        assert body is not None and "12 May in Lisbon" in body["messages"][0]["content"]

"""A history trimmed to fit the context is said in the transcript, not silently dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from support.tui_app import loaded, make_config, screen_text, until

from sleepchat.config import Config
from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.llm.fake import FakeBackend
from sleepchat.runtime import Runtime
from sleepchat.store import Store
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.transcript import AssistantMessage

NOTICE = "history longer than num_ctx: dropped the 4 oldest messages"


class TrimmingBackend(FakeBackend):
    async def chat_stream(self, messages, **kw):  # type: ignore[override]
        async for chunk in super().chat_stream(messages, **kw):
            if chunk.stats is not None:
                chunk.stats.notice = NOTICE
            yield chunk


def app_on(backend: FakeBackend, tmp_path: Path, **settings: Any) -> SleepchatApp:
    """The app on ``backend``, with core settings changed by ``settings``."""

    async def factory(
        cfg: Config, warn: Callable[[str], None], step: Callable[[str], None]
    ) -> Runtime:
        store = await Store.open(cfg.resolved_data_dir(), on_warning=warn)
        core = replace(cfg.core_settings(), **settings)
        assistant = Assistant(backend=backend, store=store, settings=core, clock=FakeClock())
        return Runtime(cfg, store, backend, assistant)

    config = make_config(tmp_path / "d", "http://127.0.0.1:9")
    return SleepchatApp(config, runtime_factory=factory)


async def test_trimmed_history_notice_is_shown(tmp_path: Path) -> None:
    app = app_on(TrimmingBackend(lambda m: "Short reply."), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        await pilot.press(*"hello")
        await pilot.press("enter")
        await until(pilot, lambda: "dropped the 4 oldest" in screen_text(app))
        assert "Short reply." in screen_text(app)


async def test_a_cut_reply_says_so_and_ctrl_g_continues_it_in_place(tmp_path: Path) -> None:
    replies = iter(["alpha beta gamma delta epsilon", "zeta eta."])

    app = app_on(FakeBackend(lambda m: next(replies)), tmp_path, max_reply_tokens=3)
    async with app.run_test(size=(110, 30)) as pilot:
        await loaded(pilot, app)
        # No "?": a question mark readies the draft at once, and its warm-up would take the
        # first of the scripted replies.
        await pilot.press(*"letters")
        await pilot.press("enter")
        await until(pilot, lambda: "cut at 3 tokens (the reply cap)" in screen_text(app))
        assert "Ctrl+G continues" in screen_text(app)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "alpha beta gamma zeta eta." in screen_text(app))
        assert len(app.chat.transcript.query(AssistantMessage)) == 1  # the same reply grew
        assert "cut at" not in screen_text(app)

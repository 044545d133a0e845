"""A history trimmed to fit the context is said in the transcript, not silently dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

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


async def test_trimmed_history_notice_is_shown(tmp_path: Path) -> None:
    async def factory(cfg: Config, warn: Callable[[str], None]) -> Runtime:
        store = await Store.open(cfg.resolved_data_dir(), on_warning=warn)
        backend = TrimmingBackend(lambda m: "Short reply.")
        assistant = Assistant(
            backend=backend, store=store, settings=cfg.core_settings(), clock=FakeClock()
        )
        return Runtime(cfg, store, backend, assistant)

    config = make_config(tmp_path / "d", "http://127.0.0.1:9")
    app = SleepchatApp(config, runtime_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        await pilot.press(*"hello")
        await pilot.press("enter")
        await until(pilot, lambda: "dropped the 4 oldest" in screen_text(app))
        assert "Short reply." in screen_text(app)


async def test_a_cut_reply_says_so_and_ctrl_g_continues_it_in_place(tmp_path: Path) -> None:
    replies = iter(["alpha beta gamma delta epsilon", "zeta eta."])

    async def factory(cfg: Config, warn: Callable[[str], None]) -> Runtime:
        store = await Store.open(cfg.resolved_data_dir(), on_warning=warn)
        backend = FakeBackend(lambda m: next(replies))
        settings = replace(cfg.core_settings(), max_reply_tokens=3)
        assistant = Assistant(backend=backend, store=store, settings=settings, clock=FakeClock())
        return Runtime(cfg, store, backend, assistant)

    config = make_config(tmp_path / "d", "http://127.0.0.1:9")
    app = SleepchatApp(config, runtime_factory=factory)
    async with app.run_test(size=(110, 30)) as pilot:
        await loaded(pilot, app)
        await pilot.press(*"letters?")
        await pilot.press("enter")
        await until(pilot, lambda: "cut at 3 tokens (the reply cap)" in screen_text(app))
        assert "Ctrl+G continues" in screen_text(app)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "alpha beta gamma zeta eta." in screen_text(app))
        assert len(app.chat.transcript.query(AssistantMessage)) == 1  # the same reply grew
        assert "cut at" not in screen_text(app)

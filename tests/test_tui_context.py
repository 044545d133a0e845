"""The context gauge: tokens used of the window in the status line, a warning before trimming."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import ask, chat_server, loaded, make_app, make_config, screen_text

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.tui.transcript import Notice

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (140, 36)


async def test_the_gauge_fills_and_warns_once_before_the_history_is_trimmed(
    chat_server: FakeOllama, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("options:\n  num_ctx: 512\n")
    config = make_config(tmp_path / "d", chat_server.url, config=str(config_file))
    app, _clock = make_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        status = screen_text(app).splitlines()[-2]
        assert "ctx ~" in status and "/512" in status and "⚠" not in status
        await ask(pilot, app, "Short question?")
        assert not any("context" in str(n.render()) for n in app.query(Notice))
        await ask(pilot, app, "Tell me more about " + "the soil and the sun " * 60)
        status = screen_text(app).splitlines()[-2]
        assert "⚠ ctx" in status
        warnings = [str(n.render()) for n in app.query(Notice) if "context" in str(n.render())]
        assert len(warnings) == 1
        assert "of the model's context" in warnings[0] and "of 512 tokens" in warnings[0]
        await ask(pilot, app, "And the water?")
        again = [n for n in app.query(Notice) if "of the model's context" in str(n.render())]
        assert len(again) == 1  # said once a session

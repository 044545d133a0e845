"""Progress where work is long: start-up steps (a model loading) and the wait for a first token
are timed in the status line; the runtime says which step it is in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from support.ollama_server import refused_port
from support.tui_app import chat_server, loaded, make_app, make_config, until

from sleepchat.config import Config, load_config
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.errors import SleepchatError
from sleepchat.runtime import Runtime, open_runtime
from sleepchat.tui.app import SleepchatApp

__all__ = ["chat_server"]  # a fixture, imported for pytest

SIZE = (120, 30)


async def test_a_start_up_step_is_shown_with_its_time(tmp_path: Path) -> None:
    gate = asyncio.Event()
    config = make_config(tmp_path / "d", "http://127.0.0.1:9")

    async def factory(
        cfg: Config, warn: Callable[[str], None], step: Callable[[str], None]
    ) -> Runtime:
        step("loading the embedded model smollm2")
        await gate.wait()
        raise SleepchatError("stopped by the test")

    app = SleepchatApp(config, runtime_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "loading the embedded model smollm2…" in app.status_text())
        assert app.status_text() == "llama3.2 · starting: loading the embedded model smollm2…"
        await until(pilot, lambda: app.status_text().endswith("smollm2… 1 s"), timeout=15)
        gate.set()
        await until(pilot, lambda: app.return_code is not None)


async def test_the_wait_for_a_first_token_is_timed(chat_server: FakeOllama, tmp_path: Path) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        chat_server.configure(first_byte_delay=4.0)  # as a server loading the model
        app.prompt.load_text("hello?")
        await pilot.press("enter")
        await until(pilot, lambda: "answering…" in app.status_text())
        # from 2 s on it counts the seconds (a busy machine may show the line first at 3 s)
        waiting = re.compile(r"waiting for the model… [23] s")
        await until(pilot, lambda: waiting.search(app.status_text()) is not None, timeout=15)
        await until(pilot, lambda: not app.streaming, timeout=30)
        assert "waiting for the model" not in app.status_text()


async def test_the_runtime_says_what_takes_time(chat_server: FakeOllama, tmp_path: Path) -> None:
    steps: list[str] = []
    flags = {"data_dir": str(tmp_path / "d"), "host": chat_server.url, "model": "llama3.2"}
    config = load_config({**flags, "backend": "auto"}, {})
    rt = await open_runtime(config, on_warning=lambda _m: None, on_step=steps.append)
    await rt.close()
    assert steps == ["opening the data dir", f"checking Ollama at {chat_server.url}"]

    steps.clear()
    down = f"http://127.0.0.1:{refused_port()}"
    missing = str(tmp_path / "missing.gguf")
    config = load_config(
        {**flags, "backend": "auto", "host": down}, {"SLEEPCHAT_LOCAL_MODEL": missing}
    )
    with pytest.raises(SleepchatError):
        await open_runtime(config, on_warning=lambda _m: None, on_step=steps.append)
    assert steps == [
        "opening the data dir",
        f"checking Ollama at {down}",
        f"loading the embedded model {missing}",
    ]

"""Building the Textual app for Pilot tests: real store, real Ollama client, loopback fake server.

The app gets its runtime through ``runtime_factory`` (no monkeypatching) and a FakeClock, so
idle time passes only when a test says so; ``poll_interval=None`` means the app never starts a
reflection on its own: tests call ``app.poll_sleep()``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sleepchat.config import Config, load_config
from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.devtools.json_example import example_from_schema
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.runtime import Runtime
from sleepchat.store import Store
from sleepchat.tui.app import SleepchatApp

MODEL = "llama3.2"
IDLE = 5.0
NOTE = "The user grows tomatoes on a balcony"
QUESTION = "How often should I water the tomatoes?"
ANSWER = "Water them **deeply** every two or three days."


def reply(request: dict[str, Any]) -> str:
    """The fake model: schema'd reflection steps get fixed JSON, chat gets Markdown."""
    fmt = request.get("format")
    if isinstance(fmt, dict):
        props = fmt.get("properties", {})
        if "ops" in props:
            return json.dumps({"ops": [{"op": "insert", "text": NOTE}]})
        if "questions" in props:
            return json.dumps({"keep": [], "drop": [], "questions": [QUESTION]})
        return json.dumps(example_from_schema(fmt))
    messages = request.get("messages") or []
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if last == QUESTION:
        return ANSWER
    return (
        f"About *{last[:40]}*: here is a plan.\n\n```python\nprint('water')\n```\n\n"
        "Keep the soil moist and give them sun."
    )


def make_config(data_dir: Path, host: str, **flags: Any) -> Config:
    base: dict[str, Any] = {
        "data_dir": str(data_dir),
        "backend": "ollama",
        "host": host,
        "model": MODEL,
        "idle_seconds": IDLE,
    }
    base.update(flags)
    return load_config(base, dict(os.environ))


def make_app(
    config: Config, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[SleepchatApp, FakeClock]:
    clock = clock or FakeClock()

    async def factory(cfg: Config, warn: Callable[[str], None]) -> Runtime:
        store = await Store.open(cfg.resolved_data_dir(), on_warning=warn)
        backend = OllamaBackend(cfg.host, cfg.model, connect_timeout=2.0, read_timeout=10.0)
        assistant = Assistant(
            backend=backend, store=store, settings=cfg.core_settings(), clock=clock
        )
        return Runtime(cfg, store, backend, assistant)

    app = SleepchatApp(config, runtime_factory=factory, poll_interval=None, **kwargs)
    return app, clock


async def until(pilot: Any, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds (the timeout only catches a hang).

    Polls on the event loop rather than ``pilot.pause``: that waits for every widget's queue
    to drain, which a streaming reply keeps busy, so it would only return after the stream.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def loaded(pilot: Any, app: SleepchatApp) -> None:
    await asyncio.wait_for(app.loaded.wait(), 10)
    await pilot.pause()


def screen_text(app: SleepchatApp) -> str:
    """The screen as plain text, what a user sees (the same render as ``export_screenshot``)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()

"""Building the Textual app for Pilot tests: real store, real Ollama client, loopback fake server.

The app gets its runtime through ``runtime_factory`` (no monkeypatching) and a FakeClock, so
idle time passes only when a test says so: the core's sleep loop, which the app runs, is timed
by that clock (``idle_passes`` moves it and waits for the reflection to start on its own).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from sleepchat.config import Config, load_config
from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import Event, SleepChanged
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.devtools.json_example import example_from_schema
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.runtime import Runtime
from sleepchat.store import Store
from sleepchat.tui.app import SleepchatApp
from sleepchat.tui.transcript import AssistantMessage

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
        if "facts" in props:
            return json.dumps({"facts": [NOTE]})
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


@pytest.fixture
def chat_server() -> Iterator[FakeOllama]:
    """The fake Ollama answering with ``reply`` (import it into a test module to use it)."""
    with FakeOllama(reply=reply) as server:
        yield server


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


class RecordingApp(SleepchatApp):
    """The app, keeping every notification it showed (``notices``) for tests to read."""

    CSS_PATH = str(
        Path(sys.modules[SleepchatApp.__module__].__file__ or "").with_name("sleepchat.tcss")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notices: list[str] = []

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notices.append(message)
        super().notify(message, *args, **kwargs)


def make_app(
    config: Config,
    clock: FakeClock | None = None,
    *,
    gate: asyncio.Event | None = None,
    **kwargs: Any,
) -> tuple[RecordingApp, FakeClock]:
    """The app on a real store and Ollama client; with ``gate``, start-up waits for it (an app
    that is painted but not ready yet)."""
    clock = clock or FakeClock()

    async def factory(
        cfg: Config, warn: Callable[[str], None], step: Callable[[str], None]
    ) -> Runtime:
        if gate is not None:
            await gate.wait()
        store = await Store.open(cfg.resolved_data_dir(), on_warning=warn)
        backend = OllamaBackend(cfg.host, cfg.model, connect_timeout=2.0, read_timeout=10.0)
        assistant = Assistant(
            backend=backend, store=store, settings=cfg.core_settings(), clock=clock
        )
        return Runtime(cfg, store, backend, assistant)

    app = RecordingApp(config, runtime_factory=factory, **kwargs)
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


async def ask(pilot: Any, app: SleepchatApp, text: str) -> AssistantMessage:
    """Send ``text`` from the box and wait for the whole reply; returns its view."""
    before = len(app.query(AssistantMessage))
    app.prompt.focus()
    app.prompt.load_text(text)
    await pilot.press("enter")
    await until(pilot, lambda: len(app.query(AssistantMessage)) > before and not app.streaming)
    return list(app.query(AssistantMessage))[-1]


async def loaded(pilot: Any, app: SleepchatApp) -> None:
    await asyncio.wait_for(app.loaded.wait(), 10)
    await pilot.pause()


async def idle_passes(app: SleepchatApp, clock: FakeClock, seconds: float = IDLE + 1) -> None:
    """Move the clock past the idle period and wait until the app's sleep loop starts a
    reflection by itself (the timeout only catches a loop that does not)."""
    assert app.assistant is not None
    started = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, SleepChanged) and event.reflecting:
            started.set()

    unsubscribe = app.assistant.subscribe(on_event)
    try:
        clock.advance(seconds)
        await asyncio.wait_for(started.wait(), 10)
    finally:
        unsubscribe()


_SVG_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>'
)


def screen_text(app: SleepchatApp) -> str:
    """The screen as plain text, what a user sees: read back from ``export_screenshot``'s SVG."""
    return svg_text(app.export_screenshot(), app.size.height)


def svg_text(svg: str, height: int) -> str:
    """The text of a Textual SVG screenshot of ``height`` lines (each run of text sits at
    x = column * cell width, y = row * line height + 20)."""
    rows: list[list[tuple[int, str]]] = [[] for _ in range(height)]
    for x, y, length, raw in _SVG_TEXT.findall(svg):
        text = html.unescape(raw).replace("\xa0", " ")
        if text == "\n":  # the line break Rich exports after each line
            continue
        cell = float(length) / len(text)
        row = round((float(y) - 20) / (20 * 1.22))
        if 0 <= row < height:
            rows[row].append((round(float(x) / cell), text))
    lines = []
    for runs in rows:
        line = ""
        for column, text in sorted(runs):
            line += " " * (column - cell_len(line)) + text
        lines.append(line)
    return "\n".join(lines)

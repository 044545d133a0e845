"""The README's pictures: SVG screenshots of a real session, made by the app itself.

    python bench/readme_pictures.py [--out docs]

The real app (its store, the real Ollama client, its sleep loop) runs headless against the
loopback fake Ollama (``sleepchat.devtools.fake_ollama``), whose model answers with canned text
and canned reflection JSON: two questions are asked, the keyboard goes idle, the sleep cycle
writes notes and predicts the next questions, and a predicted question is then asked and
answered at once. ``Textual``'s ``save_screenshot`` writes each step. ``tests/test_readme.py``
renders them again and fails when the committed pictures no longer match the app: run this
script then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

SIZE = (130, 36)
START = 1_795_000_000.0  # a fixed moment (UTC), so the pictures' times do not move
FIRST = "My tomato seedlings on the balcony get tall and thin. What should I do?"
SECOND = "They get about four hours of sun a day. Is that enough?"
PREDICTED = "Which grow light would you suggest for the balcony seedlings?"
ANSWERS = {
    FIRST: (
        "They are **leggy**: stretching for light. Three things help:\n\n"
        "1. More light: a south-facing spot, or a grow light 10 cm above them.\n"
        "2. A cooler room at night (16–18 °C) slows the stretching.\n"
        "3. Brush your hand over them daily; the stems thicken.\n\n"
        "When you repot, bury the stem up to the first leaves: it grows roots there."
    ),
    SECOND: (
        "Four hours is on the short side: seedlings want 12–16 hours of bright light. "
        "Keep them in that sun and add a light for the evening."
    ),
    PREDICTED: (
        "A full-spectrum LED bar of 20–30 W is plenty for a tray of seedlings. Hang it "
        "10–15 cm above the leaves and run it 14 hours a day on a timer:\n\n"
        "```text\n06:00 on · 20:00 off\n```"
    ),
    "Should I fertilise the seedlings on the balcony yet?": (
        "Not until they have their first true leaves; then a quarter-strength liquid feed "
        "once a week."
    ),
    "When can the tomato seedlings stay out on the balcony at night?": (
        "Once nights stay above 10 °C, after a week of hardening them off."
    ),
}
FACTS = [
    "The user grows tomato seedlings on the balcony",
    "The seedlings get about four hours of sun a day",
]
QUESTIONS = [
    PREDICTED,
    "Should I fertilise the seedlings on the balcony yet?",
    "When can the tomato seedlings stay out on the balcony at night?",
]


def model(request: dict[str, Any]) -> str:
    """The fake model: the reflection's steps get their JSON, chat gets the answers above."""
    fmt = request.get("format")
    if isinstance(fmt, dict):
        props = fmt.get("properties", {})
        if "facts" in props:
            return json.dumps({"facts": FACTS})
        if "questions" in props:
            return json.dumps({"questions": QUESTIONS, "keep": [], "drop": []})
        return json.dumps(example_from_schema(fmt))
    messages = request.get("messages") or []
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return ANSWERS.get(last, "Good question.")


async def reflected(app: SleepchatApp, clock: FakeClock) -> None:
    """Let the idle time pass and wait for the sleep loop's reflection to start and end."""
    assert app.assistant is not None
    a: Assistant = app.assistant
    ended = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, SleepChanged) and not event.reflecting:
            ended.set()

    unsubscribe = a.subscribe(on_event)
    try:
        clock.advance(a.settings.idle_seconds + 1)
        await asyncio.wait_for(ended.wait(), 60)
    finally:
        unsubscribe()


async def until(pilot: Any, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.01)
    await pilot.pause()


async def ask(pilot: Any, app: SleepchatApp, text: str) -> None:
    assert app.assistant is not None
    before = len(app.assistant.history)
    app.prompt.load_text(text)
    await pilot.press("enter")
    await until(pilot, lambda: len(app.assistant.history) >= before + 2 and not app.streaming)


async def render(out: Path) -> list[Path]:
    """Write the pictures into ``out``; returns their paths."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    out.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(start=START)
    # ~40 tokens/s, as a small model on a laptop CPU
    with tempfile.TemporaryDirectory() as tmp, FakeOllama(reply=model, token_delay=0.025) as srv:
        flags = {"data_dir": str(Path(tmp) / "data"), "backend": "ollama", "host": srv.url}
        config = load_config({**flags, "model": "llama3.2", "idle_seconds": 20}, {})

        async def runtime(cfg: Config, warn: Callable[[str], None], step: Any) -> Runtime:
            store = await Store.open(cfg.resolved_data_dir(), clock=clock)
            backend = OllamaBackend(cfg.host, cfg.model)
            assistant = Assistant(
                backend=backend, store=store, settings=cfg.core_settings(), clock=clock
            )
            return Runtime(cfg, store, backend, assistant)

        app = SleepchatApp(config, runtime_factory=runtime)
        app.animation_level = "none"  # a tab's underline mid-slide would differ run to run
        paths = [out / "sleepchat-notes.svg", out / "sleepchat-next.svg"]
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, app.loaded.is_set)
            await ask(pilot, app, FIRST)
            await ask(pilot, app, SECOND)
            await reflected(app, clock)
            await until(pilot, lambda: len(app.panel.notes) == len(FACTS))
            app.prompt.focus()
            await pilot.pause()
            app.save_screenshot(paths[0].name, str(out))
            clock.advance(90)  # a minute and a half later, a question they had predicted
            await ask(pilot, app, PREDICTED)  # answered at once from the precomputed answer
            app.action_focus_predictions()
            await until(pilot, lambda: bool(app.panel.predictions))
            await pilot.pause()  # the layout settles first (a busy machine drew it half-done)
            app.save_screenshot(paths[1].name, str(out))
            await app.action_quit()
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    args = parser.parse_args()
    for path in asyncio.run(render(Path(args.out))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Preemption over the wire: a keystroke closes the reflection's stream and the server sees it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from sleepchat.core.assistant import Assistant
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.store import Store


async def test_touch_cancels_the_reflection_and_the_server_sees_the_disconnect(
    tmp_path: Path,
) -> None:
    with FakeOllama() as srv:
        store = await Store.open(tmp_path / "d")
        backend = OllamaBackend(srv.url, "llama3.2")
        a = Assistant(backend=backend, store=store, settings=CoreSettings(cooldown_seconds=0))
        try:
            await a.start()
            async for _ in a.ask("Tell me about bread."):
                pass
            srv.configure(token_delay=0.2)  # slow: the reflection is mid-stream when we type
            srv.clear()
            task = a.reflect()
            assert await asyncio.to_thread(srv.wait_for_started, 1, 10)
            a.touch()  # a keystroke
            reflection = None
            with contextlib.suppress(asyncio.CancelledError):
                reflection = await task
            assert reflection is None and task.cancelled()
            assert await asyncio.to_thread(srv.wait_for_disconnect, 5)
            (stored,) = [r for r in a.reflections if r.status != "skipped"]
            assert stored.status == "cancelled"
            # the next question is served at once, the server idle again
            srv.configure(token_delay=0.0)
            events = [e async for e in a.ask("And rye?")]
            assert events[-1].message.source == "model"  # type: ignore[union-attr]
        finally:
            await a.close()
            await backend.aclose()
            await store.close()

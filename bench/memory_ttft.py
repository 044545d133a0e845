"""Does the user's memory slow a miss? Time to first token on the embedded chat model (the
configured local_model), memory on (remembered facts quoted in the system message) vs off, the
arms taking turns in one run with the same questions:

- "after idle": a session with two exchanges, then the idle period's warm-up, then a question
  (what the issue's target, miss TTFT with memory on <= 1.1x off, is about);
- "first question": the first question of a new session, where the quote is chosen by the
  question itself and nothing of it is cached yet.

Usage: python bench/memory_ttft.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from sleepchat.config import load_config
from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import SystemClock
from sleepchat.core.events import ReplyChunk
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.user_memory import UserMemory
from sleepchat.importer import Imported, store_all
from sleepchat.runtime import build_assistant, build_backend, build_embedder, open_store

FACTS = [
    "I live in Porto with my partner Rui and our two cats.",
    "I work as a nurse on night shifts at the city hospital.",
    "I started learning the cello last spring with a teacher called Ana.",
    "My daughter Mia studies marine biology in Aveiro.",
    "I drive an old electric Nissan Leaf to work.",
    "I am allergic to peanuts and shellfish.",
    "We adopted a greyhound called Pixel from a shelter in Braga.",
    "I run a small bakery stall at the Saturday market.",
    "I prefer metric units and short answers.",
    "I keep bees on the roof of our building.",
]
WARM = ["How do I keep bread fresh longer?", "What is a good stretch after a long shift?"]
QUESTIONS = [
    "What should I cook for a dinner with friends?",
    "How do I fix a squeaky door hinge?",
    "Which flowers grow well in pots?",
    "How can I sleep better during the day?",
    "What is a good beginner piece for cello?",
    "How often should I walk a greyhound?",
]


async def first_token(a: Assistant, question: str) -> float:
    start = time.perf_counter()
    async for event in a.ask(question):
        if isinstance(event, ReplyChunk):
            return (time.perf_counter() - start) * 1000
    raise AssertionError("no token")


async def after_idle(a: Assistant, question: str) -> float:
    await a.new_session()
    for text in WARM:
        async for _ in a.ask(text):
            pass
    await a.warm_up()  # what the idle period leaves in the server's cache
    return await first_token(a, question)


async def first_question(a: Assistant, question: str) -> float:
    await a.new_session()
    await a.warm_up()
    return await first_token(a, question)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sleepchat-memttft-") as tmp:
        config = load_config({"backend": "local", "data_dir": tmp}, dict(os.environ))
        backend = await build_backend("local", config)
        store = await open_store(Path(tmp))
        conv = Imported("past", "past", time.time() - 86_400)
        for n, fact in enumerate(FACTS):
            conv.messages += [
                ("user", fact, conv.created + n),
                ("assistant", "Noted.", conv.created),
            ]
        await store_all(store, [conv])
        await Consolidator(store, memory := UserMemory(store, SystemClock())).run()
        settings = dataclasses.replace(config.core_settings(), max_reply_tokens=8)
        embedder = await build_embedder(config, None)
        on = build_assistant(backend, store, settings, embedder=embedder)
        off = build_assistant(
            backend, store, dataclasses.replace(settings, memory_enabled=False), embedder=embedder
        )
        arms = {"on": on, "off": off}
        times: dict[tuple[str, str], list[float]] = {}
        try:
            for i in range(args.rounds):
                question = QUESTIONS[i % len(QUESTIONS)]
                for name in ["on", "off"] if i % 2 == 0 else ["off", "on"]:
                    for case, run in (
                        ("after idle", after_idle),
                        ("first question", first_question),
                    ):
                        times.setdefault((case, name), []).append(await run(arms[name], question))
        finally:
            for a in arms.values():
                await a.close()
            if embedder is not None:
                await embedder.aclose()
            await backend.aclose()
            await store.close()
    print(f"{len(memory.items)} remembered facts, memory.max_tokens {settings.memory_max_tokens}")
    for case in ("after idle", "first question"):
        on_ms = statistics.median(times[(case, "on")])
        off_ms = statistics.median(times[(case, "off")])
        print(
            f"{case:<15} TTFT median: memory on {on_ms:7.1f} ms, off {off_ms:7.1f} ms, "
            f"on/off {on_ms / off_ms:.2f}  ({len(times[(case, 'on')])} misses each)"
        )


if __name__ == "__main__":
    asyncio.run(main())

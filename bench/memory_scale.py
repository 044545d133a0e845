"""The user's memory at 10,000 items: retrieval time per question (p50/p95) with the built-in
embedding model, its matrix path beside the pure-Python cosine, and the store's cost of keeping
the items (TinyDB index value, as shipped) beside an SQLite table of the same rows.

    .venv/bin/python bench/memory_scale.py [--items 10000] [--queries 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sleepchat.core.clock import SystemClock
from sleepchat.core.memory.user_memory import MemoryItem, UserMemory
from sleepchat.core.recall import Recall
from sleepchat.llm.minilm import MiniLMEmbedder
from sleepchat.store import Store

PLACES = [
    "park",
    "museum",
    "gym",
    "beach",
    "market",
    "library",
    "bakery",
    "station",
    "clinic",
    "office",
    "garden",
    "lake",
]
PEOPLE = [
    "sister",
    "brother",
    "dog",
    "kids",
    "friend",
    "partner",
    "mother",
    "father",
    "neighbour",
    "colleague",
    "coach",
]
DOINGS = (
    "went to the {p} with my {w}",
    "I play tennis at the {p} every {d}",
    "my {w} works at the {p} near our flat",
    "I took my {w} to the {p} on {d}",
    "I am learning to paint landscapes of the {p}",
    "we adopted a cat from the shelter by the {p}",
    "I prefer tea to coffee when I visit the {p}",
    "my {w} and I are planning a trip to the {p} in {d}",
)
DAYS = ["Monday", "Tuesday", "Friday", "Sunday", "spring", "summer", "autumn", "winter"]
QUESTIONS = (
    "Where do I play tennis?",
    "What did I adopt?",
    "Who works at the bakery?",
    "What am I learning?",
    "Where are we planning a trip?",
)


def sentences(n: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        text = rng.choice(DOINGS).format(
            p=rng.choice(PLACES), w=rng.choice(PEOPLE), d=rng.choice(DAYS)
        )
        out.append(f"{text[0].upper()}{text[1:]} ({i}).")
    return out


class PlainEmbedder:
    """The same model without its ranking matrix: the core's cosine over lists."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        pass


async def retrieval(memory: UserMemory, recall: Recall, queries: int) -> list[float]:
    items = memory.items
    texts = [i.text for i in items]
    times = []
    for n in range(queries):
        question = QUESTIONS[n % len(QUESTIONS)] + f" ({n})"
        started = time.perf_counter()
        found = await recall.similarities(question, texts)
        assert found is not None
        scores = {i.id: s for i, s in zip(items, found, strict=True)}
        memory.relevant([question], 300, scores=scores)
        times.append((time.perf_counter() - started) * 1000)
    return times


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = sentences(args.items, rng)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "data")
        memory = UserMemory(store, SystemClock())
        now = time.time()
        rows = [
            MemoryItem(f"u{n + 1}", t, "s1", [f"m{n}"], now, now, kind="event", said=now)
            for n, t in enumerate(texts)
        ]
        memory._items = {i.id: i for i in rows}
        started = time.perf_counter()
        await memory.save()
        tiny_save = time.perf_counter() - started
        started = time.perf_counter()
        await memory.load()
        tiny_load = time.perf_counter() - started
        await store.close()
        db = sqlite3.connect(Path(tmp) / "memory.sqlite")
        db.execute("create table memory (id text primary key, doc text)")
        started = time.perf_counter()
        with db:
            db.executemany(
                "insert into memory values (?, ?)", [(i.id, json.dumps(i.to_dict())) for i in rows]
            )
        lite_save = time.perf_counter() - started
        started = time.perf_counter()
        loaded = [
            MemoryItem.from_dict(json.loads(d)) for (d,) in db.execute("select doc from memory")
        ]
        lite_load = time.perf_counter() - started
        started = time.perf_counter()
        with db:
            db.execute(
                "update memory set doc = ? where id = ?", (json.dumps(rows[0].to_dict()), "u1")
            )
        lite_one = time.perf_counter() - started
        db.close()
        assert len(loaded) == args.items

    model = MiniLMEmbedder()
    recall = Recall(model)
    started = time.perf_counter()
    await recall.similarities("warm", [i.text for i in memory.items])
    index_s = time.perf_counter() - started
    fast = await retrieval(memory, recall, args.queries)
    plain = await retrieval(memory, Recall(PlainEmbedder(model)), max(5, args.queries // 20))
    await model.aclose()
    print(f"memory at {args.items:,} items (built-in {model.name})")
    print(f"  first ranking (every item embedded once): {index_s:.1f} s")
    print(
        f"  retrieval per question, matrix: p50 {pct(fast, 0.5):.1f} ms, p95 "
        f"{pct(fast, 0.95):.1f} ms, max {max(fast):.1f} ms ({len(fast)} questions)"
    )
    print(
        f"  retrieval per question, pure-Python cosine: p50 {pct(plain, 0.5):.0f} ms "
        f"({len(plain)} questions); matrix/pure-Python = "
        f"{statistics.median(fast) / statistics.median(plain):.3f}"
    )
    print(
        f"  keeping them: TinyDB index value save {tiny_save * 1000:.0f} ms, load "
        f"{tiny_load * 1000:.0f} ms; SQLite rows save {lite_save * 1000:.0f} ms, load "
        f"{lite_load * 1000:.0f} ms, one row changed {lite_one * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())

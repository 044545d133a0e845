"""Search benchmark: `sleepchat search` over 2,000 sessions × 50 messages (target ≤ 200 ms).

    python bench/search_bench.py [--sessions 2000] [--messages 50] [--dir PATH]

The sessions are laid down as message files with the store closed (as an old data dir would be:
no search index yet), then the store is opened and timed:

* **first search**: the index is built from every session's files (once per data dir);
* **search**: the median and p95 of queries that are rare, common, short (< 3 characters: a
  scan) and absent, each a real ``Store.search`` (the index checked against the store first);
* **after an append**: a search right after a new message, which it must find.

For comparison, the cost of what the store offered before (read every session's messages and
look for the text) is timed once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinydb import TinyDB

from sleepchat.core.models import Message
from sleepchat.store import SEGMENT_SIZE, AtomicJSONStorage, Store

TARGET_MS = 200.0
WORDS = [
    "tomato",
    "balcony",
    "water",
    "soil",
    "seed",
    "compost",
    "pepper",
    "basil",
    "sun",
    "shade",
    "pot",
    "drain",
    "leaf",
    "root",
    "python",
    "function",
    "error",
    "list",
    "loop",
    "class",
    "import",
    "string",
    "parse",
    "file",
    "folder",
    "test",
    "train",
    "ticket",
    "lyon",
    "paris",
    "station",
    "budget",
    "hotel",
    "museum",
    "dinner",
    "walk",
    "river",
]


def fill(data: Path, sessions: int, per_session: int) -> list[str]:
    """``sessions`` sessions of ``per_session`` varied messages; returns their ids."""
    rng = random.Random(7)

    async def create() -> list[str]:
        store = await Store.open(data)
        try:
            return [(await store.create_session(f"chat {i}")).id for i in range(sessions)]
        finally:
            await store.close()

    ids = asyncio.run(create())
    for n, sid in enumerate(ids):
        folder = data / "sessions" / sid
        msgs = [
            Message(
                id=f"m{n:05d}{i:03d}",
                session_id=sid,
                role="user" if i % 2 == 0 else "assistant",
                content=" ".join(rng.choice(WORDS) for _ in range(12 if i % 2 == 0 else 80))
                + (f" zebra{n}" if i == 7 else ""),
                created=1_700_000_000.0 + n * 1000 + i,
            )
            for i in range(per_session)
        ]
        for seg, start in enumerate(range(0, len(msgs), SEGMENT_SIZE)):
            docs = {
                str(k + 1): m.to_dict() for k, m in enumerate(msgs[start : start + SEGMENT_SIZE])
            }
            AtomicJSONStorage(folder / f"messages-{seg:04d}.json").write({"messages": docs})
    index = TinyDB(storage=lambda: AtomicJSONStorage.open(data / "index.json"))
    table = index.table("sessions")
    table.update_multiple(
        [({"message_count": per_session}, lambda d, i=i: d["id"] == i) for i in ids]
    )
    return ids


async def measure(data: Path, rounds: int) -> dict[str, object]:
    store = await Store.open(data)
    try:
        t = time.perf_counter()
        first = await store.search("zebra1999", limit=50)
        first_ms = (time.perf_counter() - t) * 1000
        queries = {"rare": "zebra1234", "common": "tomato", "short": "py", "absent": "qwxzv"}
        times: dict[str, list[float]] = {name: [] for name in queries}
        found: dict[str, int] = {}
        for _ in range(rounds):
            for name, q in queries.items():
                t = time.perf_counter()
                hits = await store.search(q, limit=50)
                times[name].append((time.perf_counter() - t) * 1000)
                found[name] = len(hits)
        sid = (await store.list_sessions())[-1].id
        await store.append_message(
            Message(id="mnew", session_id=sid, role="user", content="a fresh okapi", created=2e9)
        )
        t = time.perf_counter()
        fresh = await store.search("okapi", limit=50)
        after_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        naive = 0
        for s in await store.list_sessions():
            naive += sum("zebra1234" in m.content.lower() for m in await store.messages(s.id))
        naive_ms = (time.perf_counter() - t) * 1000
    finally:
        await store.close()
    all_times = [v for vs in times.values() for v in vs]
    return {
        "first_search_ms (builds the index)": round(first_ms),
        "first_search_found": len(first),
        **{f"{name}_median_ms": round(statistics.median(vs), 1) for name, vs in times.items()},
        "found": found,
        "p95_ms (all queries)": round(sorted(all_times)[int(0.95 * (len(all_times) - 1))], 1),
        "after_append_ms": round(after_ms, 1),
        "after_append_found": len(fresh),
        "read_every_session_ms (before)": round(naive_ms),
        "read_every_session_found": naive,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--dir", help="keep the data dir here, or reuse it if it exists (default: a temporary one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.dir) if args.dir else Path(tmp) / "data"
        if (data / "index.json").exists():  # laid down by an earlier run: only the index goes
            for old in data.glob("search.sqlite*"):
                old.unlink()
        else:
            t = time.perf_counter()
            fill(data, args.sessions, args.messages)
            print(
                f"laid down {args.sessions} sessions × {args.messages} messages "
                f"in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
        results = asyncio.run(measure(data, args.rounds))
    for name, value in results.items():
        print(f"{name:40} {value}")
    worst = max(v for k, v in results.items() if k.endswith("median_ms"))  # type: ignore[type-var]
    print(f"{'worst median vs target':40} {worst} ms vs ≤ {TARGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

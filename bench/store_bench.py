"""Store benchmark: append latency as a session grows, and time to resume the latest session.

    python bench/store_bench.py [--quick] [--dir PATH] [--check]

Large histories are laid down directly as segment files (fast); every timed append is a real
``Store.append_message`` with fsync. Targets (issue 2): the 10,000th append ≤ 25 ms median,
resume (open + last_session + messages) with 50 sessions × 200 messages ≤ 300 ms.

Big messages (issue 11): 20 questions and replies after one 10 MB reply, with segments bounded
by count only (as before) and by bytes too (now), side by side in one run: time and bytes written.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinydb import Query, TinyDB

from sleepchat.core.models import Message
from sleepchat.store import SEGMENT_BYTES, SEGMENT_SIZE, AtomicJSONStorage, Store

# Why tests/ goes on the path: this script runs from a checkout, not the package, and drives
# the very harnesses the tests use (tests/support), so the bench and the tests measure one code
# path. They are test code (one imports a test module), so they do not move into sleepchat/,
# which ships.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.files import Meter

APPEND_TARGET_MS = 25.0
RESUME_TARGET_MS = 300.0
USER_TEXT = "How should I water the tomato seedlings on the balcony this week? " * 2
REPLY_TEXT = "Water them in the morning, deeply and less often, so the roots grow down. " * 10


def message(session_id: str, i: int) -> Message:
    user = i % 2 == 0
    return Message(
        id=f"m{i:06d}",
        session_id=session_id,
        role="user" if user else "assistant",
        content=USER_TEXT if user else REPLY_TEXT,
        created=1_700_000_000.0 + i,
        source="user" if user else "model",
        model=None if user else "qwen2.5:0.5b",
        prompt_tokens=None if user else 900 + i,
        completion_tokens=None if user else 160,
        ttft_ms=None if user else 210.0,
        total_ms=None if user else 5400.0,
    )


def lay_down(data_dir: Path, session_id: str, count: int) -> None:
    """Write ``count`` messages as full segments (store closed), and fix the index count."""
    folder = data_dir / "sessions" / session_id
    for seg, start in enumerate(range(0, count, SEGMENT_SIZE)):
        docs = {
            str(k + 1): message(session_id, start + k).to_dict()
            for k in range(min(SEGMENT_SIZE, count - start))
        }
        AtomicJSONStorage(folder / f"messages-{seg:04d}.json").write({"messages": docs})
    index = TinyDB(storage=lambda: AtomicJSONStorage.open(data_dir / "index.json"))
    index.table("sessions").update({"message_count": count}, Query().id == session_id)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def append_latency(root: Path, around: int, window: int) -> list[float]:
    """Latencies (ms) of real appends of messages ``around - window//2`` … onwards."""
    data = root / f"append-{around}"
    store = await Store.open(data)
    session = await store.create_session("bench")
    await store.close()
    first = max(0, around - window // 2)
    lay_down(data, session.id, first)
    store = await Store.open(data)
    try:
        await store.messages(session.id)  # a resumed session, as the app has it
        times = []
        for i in range(first, first + window):
            m = message(session.id, i)
            t = time.perf_counter()
            await store.append_message(m)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await store.close()
    return times


async def full_tail_latency(root: Path, samples: int) -> list[float]:
    """The dearest append: the last free slot of a segment (it rewrites the fullest file)."""
    data = root / "full-tail"
    store = await Store.open(data)
    ids = [(await store.create_session(f"s{k}")).id for k in range(samples)]
    await store.close()
    for sid in ids:
        lay_down(data, sid, SEGMENT_SIZE - 1)
    store = await Store.open(data)
    try:
        times = []
        for sid in ids:
            await store.messages(sid)
            t = time.perf_counter()
            await store.append_message(message(sid, SEGMENT_SIZE - 1))
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await store.close()
    return times


async def resume_latency(root: Path, sessions: int, per_session: int, repeat: int) -> list[float]:
    data = root / "resume"
    store = await Store.open(data)
    ids = [(await store.create_session(f"chat {k}")).id for k in range(sessions)]
    await store.close()
    for sid in ids:
        lay_down(data, sid, per_session)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        store = await Store.open(data)
        last = await store.last_session()
        assert last is not None
        history = await store.messages(last.id)
        times.append((time.perf_counter() - t) * 1000)
        assert len(history) == per_session
        await store.close()
    return times


async def after_big_reply(
    root: Path, name: str, segment_bytes: int, turns: int, reply_mb: int
) -> tuple[float, int]:
    """Seconds and bytes written by ``turns`` questions and replies after one huge reply."""
    meter = Meter()
    store = await Store.open(root / name, file_ops=meter.ops, segment_bytes=segment_bytes)
    try:
        session = await store.create_session("big")
        await store.append_message(message(session.id, 0))
        huge = Message(**{**message(session.id, 1).to_dict(), "content": "z" * reply_mb * 2**20})
        await store.append_message(huge)
        meter.cost()
        t = time.perf_counter()
        for i in range(2, 2 + 2 * turns):
            await store.append_message(message(session.id, i))
        return time.perf_counter() - t, meter.cost()
    finally:
        await store.close()


def row(name: str, times: list[float], target: float | None) -> tuple[str, bool]:
    med = statistics.median(times)
    ok = target is None or med <= target
    goal = f"≤ {target:.0f} ms {'ok' if ok else 'MISSED'}" if target else ""
    line = (
        f"{name:<34}{len(times):>5}{med:>11.2f}{pct(times, 0.95):>10.2f}"
        f"{max(times):>10.2f}   {goal}"
    )
    return line, ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--dir", type=Path, help="where to build the data dirs (default: temp)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    window, repeat = (20, 3) if args.quick else (60, 7)

    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-", dir=args.dir) as tmp:
        root = Path(tmp)
        print(f"store benchmark — fsync on, data under {root}", file=sys.stderr)
        results = []
        for around, target in ((100, None), (1_000, None), (10_000, APPEND_TARGET_MS)):
            times = await append_latency(root, around, window)
            results.append(row(f"append around message #{around:,}", times, target))
        times = await full_tail_latency(root, window // 2)
        results.append(row(f"append as #{SEGMENT_SIZE} of a segment", times, None))
        times = await resume_latency(root, 50, 200, repeat)
        results.append(row("resume latest of 50 × 200 messages", times, RESUME_TARGET_MS))

        turns, reply_mb = (10, 10) if args.quick else (20, 10)
        big = {
            label: await after_big_reply(root, label, bound, turns, reply_mb)
            for label, bound in (("before", 2**62), ("now", SEGMENT_BYTES))
        }

    print(f"{'case':<34}{'n':>5}{'median ms':>11}{'p95 ms':>10}{'max ms':>10}   target")
    for line, _ in results:
        print(line)
    (t0, b0), (t1, b1) = big["before"], big["now"]
    print(f"\n{turns} questions and replies after one {reply_mb} MB reply, segments bounded by:")
    print(f"  {'count only (before)':<28}{t0:8.2f} s {b0 / 2**20:10.1f} MB written")
    now = f"count and {SEGMENT_BYTES // 1024} KB (now)"
    print(f"  {now:<28}{t1:8.2f} s {b1 / 2**20:10.1f} MB written")
    print(f"  {'before / now':<28}{t0 / t1:8.1f} x {b0 / max(b1, 1):10.0f} x")
    missed = not all(ok for _, ok in results)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

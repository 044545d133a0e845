"""Big histories (issue 11.11): an append rewrites at most one bounded segment, whatever the size
of earlier messages. One 10 MB reply used to be rewritten by every later question."""

from __future__ import annotations

import json
from pathlib import Path

from support.files import Meter

from sleepchat.core.models import Message
from sleepchat.store import SEGMENT_BYTES, Store


def msg(sid: str, i: int, text: str) -> Message:
    return Message(f"m{i:04d}", sid, "user" if i % 2 == 0 else "assistant", text, 1000.0 + i)


async def test_appends_after_a_huge_reply_do_not_rewrite_it(tmp_path: Path) -> None:
    meter = Meter()
    store = await Store.open(tmp_path / "d", file_ops=meter.ops)
    s = await store.create_session("big")
    huge = "x" * (3 * SEGMENT_BYTES)
    sent = [msg(s.id, 0, "question"), msg(s.id, 1, huge)]
    for m in sent:
        await store.append_message(m)
    meter.cost()
    costs = []
    for i in range(2, 42):
        sent.append(msg(s.id, i, f"small message {i}"))
        await store.append_message(sent[-1])
        costs.append(meter.cost())
    # Each append rewrites only small segments: not the 1.5 MB reply, not even once.
    assert max(costs) < 16 * 1024, costs
    assert await store.messages(s.id) == sent
    await store.close()

    store = await Store.open(tmp_path / "d", file_ops=meter.ops)  # resumed, as the app does
    try:
        assert await store.messages(s.id) == sent
        meter.cost()
        sent.append(msg(s.id, 99, "after a restart"))
        await store.append_message(sent[-1])
        assert meter.cost() < 16 * 1024
        changed = Message(**{**sent[1].to_dict(), "interrupted": True})
        await store.update_message(changed)  # the big one is still reachable
        sent[1] = changed
        assert await store.messages(s.id) == sent
    finally:
        await store.close()


async def test_segments_are_bounded_by_bytes_as_well_as_count(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d", segment_size=100, segment_bytes=4096)
    s = await store.create_session("t")
    sent = [msg(s.id, i, f"{i:03d} " + "y" * 500) for i in range(30)]
    for m in sent:
        await store.append_message(m)
    folder = store.data_dir / "sessions" / s.id
    segments = sorted(folder.glob("messages-*.json"))
    counts = [len(json.loads(p.read_text())["messages"]) for p in segments]
    assert sum(counts) == 30 and len(segments) >= 4 and max(counts) < 100
    # A segment closes once it reaches the bound: only its last message may cross it.
    # (the slack is one message as the store writes it, plus the file's own framing)
    one = max(len(json.dumps(m.to_dict(), separators=(",", ":"))) for m in sent)
    assert all(p.stat().st_size < 4096 + one + 64 for p in segments)
    assert await store.messages(s.id) == sent
    await store.close()

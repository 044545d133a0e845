"""Fault suite, corrupt files: generated variants of index.json, meta.json and message segments.

Every start must go on (no exception, a normal exit), move an unreadable file aside as
``NAME.corrupt-TIMESTAMP`` with its bytes, say which file and what was kept, and lose nothing
stored in the other files. ``bench/faults.py --corrupt N`` runs many more variants.
"""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest
from support.corrupt import (
    KINDS,
    Template,
    build_template,
    check_variant,
    is_store_file,
    run_cli_after,
)

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.store import Store

QUICK_VARIANTS = 120  # ≥ 100 even in CI: in-process they cost a few ms each


def _assistant_available() -> bool:
    try:
        import sleepchat.core.assistant  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
async def template(tmp_path: Path) -> Template:
    return await build_template(tmp_path / "template")


async def test_generated_variants_never_crash_and_are_quarantined(
    template: Template, tmp_path: Path
) -> None:
    rng = random.Random(20240601)
    failures: list[str] = []
    tried: collections.Counter[str] = collections.Counter()
    quarantined = 0
    for i in range(QUICK_VARIANTS):
        kind = KINDS[i % len(KINDS)]
        out = await check_variant(
            template, tmp_path / "work", kind, rng, chat=_assistant_available()
        )
        tried[f"{kind}/{out.mutation}"] += 1
        quarantined += out.quarantined
        failures += [f"#{i} {kind}/{out.mutation} ({out.file}): {p}" for p in out.problems]
    assert not failures, "\n".join(failures[:20])
    assert len(tried) >= 15  # the mix covers most mutation kinds for each file
    assert quarantined >= QUICK_VARIANTS // 4


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("integer too long to parse", b'{"messages":{"1":{"id":' + b"9" * 5000 + b"}}}"),
        (
            "nesting beyond the recursion limit",
            b'{"messages":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ),
        ("UTF-16 with a BOM", '{"messages":{}}'.encode("utf-16")),
    ],
)
async def test_unparseable_segment_is_quarantined(
    name: str, raw: bytes, template: Template
) -> None:
    seg = template.path / "sessions" / template.target / "messages-0000.json"
    seg.write_bytes(raw)
    warnings: list[str] = []
    store = await Store.open(template.path, segment_size=4, on_warning=warnings.append)
    try:
        msgs = await store.messages(template.target)
    finally:
        await store.close()
    assert [m.content for m in msgs] == template.messages[template.target][4:], name
    (moved,) = seg.parent.glob("messages-0000.json.corrupt-*")
    assert moved.read_bytes() == raw
    assert any(str(seg) in w and "2 messages" in w and "kept" in w for w in warnings), warnings


async def test_index_without_a_session_still_lists_its_folder(template: Template) -> None:
    """A readable index that lost a session record (a flipped key, a dropped field) must not hide
    the session: its folder still holds every message."""
    index = template.path / "index.json"
    data = json.loads(index.read_bytes())
    for doc_id, doc in list(data["sessions"].items()):
        if doc["id"] == template.target:
            del doc["title"]
        else:
            del data["sessions"][doc_id]
    index.write_text(json.dumps(data))
    warnings: list[str] = []
    store = await Store.open(template.path, segment_size=4, on_warning=warnings.append)
    try:
        sessions = {s.id: s for s in await store.list_sessions()}
        assert set(sessions) == {template.target, template.other}
        for sid, contents in template.messages.items():
            assert [m.content for m in await store.messages(sid)] == contents
        assert sessions[template.target].title == "Target"  # from the copy in meta.json
    finally:
        await store.close()
    assert any("index.json" in w and "2 sessions" in w for w in warnings), warnings


async def test_wrong_types_in_records_are_skipped_not_loaded(template: Template) -> None:
    seg = template.path / "sessions" / template.target / "messages-0001.json"
    data = json.loads(seg.read_bytes())
    first, second = data["messages"].values()
    first["content"] = ["not", "text"]
    second["created"] = "yesterday"
    seg.write_text(json.dumps(data))
    index = template.path / "index.json"
    idx = json.loads(index.read_bytes())
    for doc in idx["sessions"].values():
        if doc["id"] == template.other:
            doc["updated"] = "soon"
            doc["seq"] = [1]
    index.write_text(json.dumps(idx))
    warnings: list[str] = []
    store = await Store.open(template.path, segment_size=4, on_warning=warnings.append)
    try:
        sessions = await store.list_sessions()
        assert {s.id for s in sessions} == {template.target, template.other}
        assert all(isinstance(s.updated, float | int) for s in sessions)
        msgs = await store.messages(template.target)
    finally:
        await store.close()
    assert [m.content for m in msgs] == template.messages[template.target][:4]
    assert any("skipped 2 malformed messages" in w for w in warnings), warnings


@pytest.mark.parametrize("kind", KINDS)
def test_cli_start_after_corruption_exits_0_and_names_the_file(
    kind: str, template: Template, tmp_path: Path
) -> None:
    rng = random.Random(kind)
    path = {
        "index": template.path / "index.json",
        "meta": template.path / "sessions" / template.target / "meta.json",
        "segment": template.path / "sessions" / template.target / "messages-0001.json",
    }[kind]
    raw = path.read_bytes()
    cut = raw[: rng.randrange(1, len(raw) - 1)]
    assert not is_store_file(cut)
    path.write_bytes(cut)
    with FakeOllama() as srv:
        proc = run_cli_after(template.path, srv.url, template.target)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert str(path) in err and ".corrupt-" in err
    assert "kept" in err or "rebuilt" in err or "start empty" in err
    assert [json.loads(line)["type"] for line in proc.stdout.decode().splitlines()] == ["reply"]
    (moved,) = path.parent.glob(path.name + ".corrupt-*")
    assert moved.read_bytes() == cut

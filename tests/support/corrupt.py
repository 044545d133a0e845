"""Corrupt-file fault injection: generated variants of store files and the check of one start.

Shared by ``tests/test_faults_corrupt.py`` (a quick sample) and ``bench/faults.py`` (the full run).
A variant is the bytes put in place of ``index.json``, a session's ``meta.json`` or a message
segment; the check opens the data dir the way sleepchat does and drives a chat turn through it.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sleepchat.core.models import Change, Message, Note, Prediction, Reflection, Session
from sleepchat.store import Store

KINDS = ("index", "meta", "segment")
SEGMENT_SIZE = 4  # small, so a session spans several segment files
MESSAGES = 6  # segment 0000 holds 4, the tail segment 0001 holds 2
CLOCK_T0 = 1_700_000_000.0


# -- the data dir every variant starts from ------------------------------------------------------
@dataclass
class Template:
    path: Path
    target: str  # id of the session whose files are corrupted
    other: str  # a second session that must come through untouched
    messages: dict[str, list[str]]  # session id -> message contents, in order


def _msg(sid: str, i: int) -> Message:
    role: Literal["user", "assistant"] = "user" if i % 2 == 0 else "assistant"
    return Message(
        id=f"m{sid}{i:03d}",
        session_id=sid,
        role=role,
        content=f"message {i} of {sid}",
        created=CLOCK_T0 + i,
        source="user" if role == "user" else "model",
    )


async def build_template(path: Path) -> Template:
    store = await Store.open(path, segment_size=SEGMENT_SIZE, on_warning=lambda _m: None)
    contents: dict[str, list[str]] = {}
    try:
        sessions = [await store.create_session(t) for t in ("Target", "Other")]
        for s in sessions:
            for i in range(MESSAGES):
                m = _msg(s.id, i)
                await store.append_message(m)
                contents.setdefault(s.id, []).append(m.content)
        sid = sessions[0].id
        note = Note("n0001", sid, "the user likes tomatoes", CLOCK_T0, CLOCK_T0, ["m0"], "r0001")
        refl = Reflection("r0001", sid, "k", CLOCK_T0, "done", CLOCK_T0 + 1, 1, 1, 10, 5.0)
        pred = Prediction("p0001", sid, "when to water?", "every morning", CLOCK_T0, "r0001", None)
        await store.apply(
            sid,
            [
                Change("reflections", "upsert", refl.to_dict()),
                Change("notes", "upsert", note.to_dict()),
                Change("predictions", "upsert", pred.to_dict()),
            ],
        )
    finally:
        await store.close()
    return Template(path, sessions[0].id, sessions[1].id, contents)


def target_file(data: Path, tpl: Template, kind: str, rng: random.Random) -> Path:
    if kind == "index":
        return data / "index.json"
    folder = data / "sessions" / tpl.target
    if kind == "meta":
        return folder / "meta.json"
    return folder / rng.choice(["messages-0000.json", "messages-0001.json"])


# -- variants ----------------------------------------------------------------------------------
_WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    [],
    [1, 2],
    {},
    {"a": 1},
    10**30,
    "\x00\x1b[31m",
]


def _flip(raw: bytes, rng: random.Random) -> bytes:
    buf = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(buf))
        buf[i] = rng.randrange(256)
    return bytes(buf)


def _truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw))]


def _records(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [doc for table in data.values() for doc in table.values() if isinstance(doc, dict)]


def _wrong_type(raw: bytes, rng: random.Random) -> bytes:
    data = json.loads(raw)
    doc = rng.choice(_records(data))
    key = rng.choice(sorted(doc))
    wrong = rng.choice([v for v in _WRONG_VALUES if type(v) is not type(doc[key])])
    doc[key] = wrong
    return json.dumps(data).encode()


def _missing_field(raw: bytes, rng: random.Random) -> bytes:
    data = json.loads(raw)
    doc = rng.choice(_records(data))
    del doc[rng.choice(sorted(doc))]
    return json.dumps(data).encode()


def _huge(raw: bytes, rng: random.Random) -> bytes:
    data = json.loads(raw)
    doc = rng.choice(_records(data))
    key = rng.choice(sorted(doc))
    choice = rng.randrange(4)
    if choice == 0:
        doc[key] = "y" * rng.randint(1_000_000, 3_000_000)  # a few MB of text
        return json.dumps(data).encode()
    if choice == 1:  # an integer too long for Python's int parser
        text = json.dumps(data)
        return text.replace(json.dumps(doc[key]), "9" * 5000, 1).encode()
    if choice == 2:  # nesting deeper than the parser's recursion limit
        depth = rng.randint(50_000, 200_000)
        doc[key] = "@@"
        return json.dumps(data).replace('"@@"', "[" * depth + "]" * depth, 1).encode()
    doc[key] = 1e308 * 10 if rng.random() < 0.5 else float("nan")  # Infinity / NaN literals
    return json.dumps(data).encode()


_SHAPES: list[Any] = [
    [],
    None,
    42,
    "text",
    True,
    {"messages": []},
    {"messages": {"1": "a string"}},
    {"messages": {"one": {"id": "x"}}},
    {"sessions": {"1": [1, 2]}},
    {"notes": 5},
    [{"id": "m1", "content": "hi"}],
    {"": {}},
]


def _wrong_shape(_raw: bytes, rng: random.Random) -> bytes:
    return json.dumps(rng.choice(_SHAPES)).encode()


def _empty(_raw: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"", b" ", b"\n\n", b"\x00" * 64])


def _binary(_raw: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"\xff\xfe{\x00}\x00", bytes(rng.randrange(256) for _ in range(200))])


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": _flip,
    "truncate": _truncate,
    "wrong_type": _wrong_type,
    "missing_field": _missing_field,
    "huge": _huge,
    "wrong_shape": _wrong_shape,
    "empty": _empty,
    "binary": _binary,
}


def make_variant(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    name = rng.choice(sorted(MUTATIONS))
    return name, MUTATIONS[name](raw, rng)


# -- the independent judge of what the store must treat as unreadable --------------------------
def is_store_file(raw: bytes) -> bool:
    """TinyDB's shape: a JSON object of tables, each an object of integer-keyed objects."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    for docs in data.values():
        if not isinstance(docs, dict):
            return False
        for key, doc in docs.items():
            if not key.isdigit() or not isinstance(doc, dict):
                return False
            try:
                int(key)  # what TinyDB does with each id (a 5,000-digit one is refused)
            except ValueError:
                return False
    return True


# -- the check -----------------------------------------------------------------------------------
_MESSAGE_TYPES: dict[str, Any] = {
    "id": str,
    "session_id": str,
    "role": str,
    "content": str,
    "created": (int, float),
}
_SESSION_TYPES: dict[str, Any] = {
    "id": str,
    "title": str,
    "created": (int, float),
    "updated": (int, float),
    "message_count": int,
}


def _typed(obj: Any, types: dict[str, Any]) -> bool:
    return all(
        isinstance(getattr(obj, k), t) and not isinstance(getattr(obj, k), bool)
        for k, t in types.items()
    )


@dataclass
class Outcome:
    kind: str
    mutation: str
    file: str
    quarantined: bool
    warnings: list[str] = field(default_factory=list)
    lost_elsewhere: int = 0  # messages lost outside the corrupted file (must be 0)
    problems: list[str] = field(default_factory=list)


async def check_variant(
    tpl: Template, work: Path, kind: str, rng: random.Random, *, chat: bool = True
) -> Outcome:
    """Put one variant in place in a copy of ``tpl``; open, read, chat, reopen; judge."""
    data = work / "data"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(tpl.path, data)
    path = target_file(data, tpl, kind, rng)
    mutation, raw = make_variant(path.read_bytes(), rng)
    path.write_bytes(raw)
    out = Outcome(kind, mutation, str(path.relative_to(data)), quarantined=False)
    broken = not is_store_file(raw)
    try:
        await _exercise(tpl, data, out, chat=chat)
    except Exception as exc:  # the fault under test: any escape is a crash of the app
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out.problems.append(
            f"crashed: {type(exc).__name__}: {str(exc)[:300]} "
            f"(at {Path(where.filename).name}:{where.lineno} {where.line})"
        )
        return out
    moved = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".corrupt-")]
    out.quarantined = bool(moved)
    if broken:
        if len(moved) != 1 or moved[0].read_bytes() != raw:
            out.problems.append(f"an unreadable {path.name} was not quarantined with its bytes")
        told = [w for w in out.warnings if path.name in w and str(data) in w]
        if not told:
            out.problems.append(f"no warning named {path}: {out.warnings}")
        elif not any(("kept" in w or "rebuilt" in w or "start empty" in w) for w in told):
            out.problems.append(f"the warning does not say what was kept: {told}")
    elif moved:
        out.problems.append(f"a readable {path.name} was quarantined")
    return out


async def _exercise(tpl: Template, data: Path, out: Outcome, *, chat: bool) -> None:
    from sleepchat.export import to_json, to_markdown

    store = await Store.open(data, segment_size=SEGMENT_SIZE, on_warning=out.warnings.append)
    try:
        sessions = await store.list_sessions()
        by_id = {s.id: s for s in sessions}
        for s in sessions:
            if not _typed(s, _SESSION_TYPES):
                out.problems.append(f"a session record with wrong field types was loaded: {s}")
            msgs = await store.messages(s.id)
            for m in msgs:
                if not _typed(m, _MESSAGE_TYPES):
                    out.problems.append(f"a message with wrong field types was loaded: {m!r:.200}")
            to_json(s, msgs)
            to_markdown(s, msgs)
            for table in ("notes", "predictions", "reflections", "note_ops", "kv"):
                await store.load_table(s.id, table)
        # What lies outside the corrupted file must come through whole.
        out.lost_elsewhere += _lost(
            tpl, out, by_id, {s.id: await store.messages(s.id) for s in sessions}
        )
        if chat:
            await _chat(store, tpl, out)
    finally:
        await store.close()
    # A second start is clean: the quarantine happened once, the turn was saved.
    again: list[str] = []
    store = await Store.open(data, segment_size=SEGMENT_SIZE, on_warning=again.append)
    try:
        if chat and (found := await store.get_session(tpl.target)) is not None:
            contents = [m.content for m in await store.messages(found.id)]
            if "after the fault" not in contents:
                out.problems.append("the question asked after the fault was not saved")
    finally:
        await store.close()
    if moved_again := [w for w in again if "moved to" in w]:
        out.problems.append(f"the second start quarantined again: {moved_again}")


def _lost(
    tpl: Template, out: Outcome, by_id: dict[str, Session], msgs: dict[str, list[Message]]
) -> int:
    lost = 0
    for sid, expected in tpl.messages.items():
        got = [m.content for m in msgs.get(sid, [])]
        if sid == tpl.target and out.file.endswith(".json") and "messages-" in out.file:
            seg = int(out.file.rsplit("-", 1)[1].split(".")[0])
            keep = expected[: seg * SEGMENT_SIZE] + expected[(seg + 1) * SEGMENT_SIZE :]
            expected = keep  # only the corrupted segment's messages may be missing
        missing = [c for c in expected if c not in got]
        if sid not in by_id:
            missing = expected
        lost += len(missing)
        if missing:
            out.problems.append(f"session {sid} lost {len(missing)} messages outside {out.file}")
    return lost


async def _chat(store: Store, tpl: Template, out: Outcome) -> None:
    """One turn through the Assistant, as a user would after the warning."""
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.clock import FakeClock
    from sleepchat.core.events import ReplyDone
    from sleepchat.llm.fake import FakeBackend

    assistant = Assistant(
        backend=FakeBackend(lambda _m: "fine"), store=store, clock=FakeClock(CLOCK_T0 + 100)
    )
    session = await assistant.start(tpl.target if await store.get_session(tpl.target) else None)
    events = [e async for e in assistant.ask("after the fault")]
    if not any(isinstance(e, ReplyDone) for e in events):
        out.problems.append(f"no reply after the fault: {events}")
    _views = (assistant.notes, assistant.predictions)  # reading them must not raise
    await assistant.reflect()
    await assistant.close()
    del session


# -- the same through a real process -------------------------------------------------------------
def run_cli_after(
    data: Path, host: str, session: str, *, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """``sleepchat --json --session ID`` with one question, as a user's next start would be."""
    cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--model", "llama3.2"]
    cmd += ["--session", session]
    cmd += ["--backend", "ollama", "--host", host, "--json"]
    return subprocess.run(cmd, input=b"after the fault\n", capture_output=True, timeout=timeout)


def run(coro: Any) -> Any:
    return asyncio.run(coro)

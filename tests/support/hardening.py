"""Fault classes from the hardening pass (issue 11), generated at random and checked.

Shared by ``bench/faults.py`` (the full runs) and ``tests/test_faults_hardening.py`` (a quick
sample). Each ``run_*`` tries ``n`` generated cases and returns an :class:`Outcome`: how many
tries, how many faults were injected, what was lost or seen crash (``problems``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import random
import re
import shutil
import signal
import stat
import string
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sleepchat.core.models import Message
from sleepchat.store import DataDirError, Store, StoreError
from support.disk import fill
from support.files import Meter, tree

RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Outcome:
    tries: int = 0
    faults: int = 0
    problems: list[str] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)

    @property
    def losses(self) -> int:
        return len(self.problems)

    def figures(self) -> dict[str, Any]:
        return {"tries": self.tries, "faults injected": self.faults, **self.seen}


def _msg(sid: str, i: int, text: str) -> Message:
    role = "user" if i % 2 == 0 else "assistant"
    return Message(f"m{i:05d}", sid, role, text, 1000.0 + i)  # type: ignore[arg-type]


One = Callable[[random.Random, Path, Outcome], Coroutine[Any, Any, None]]


def _repeat(work: Path, n: int, seed: int, *ones: One) -> Outcome:
    """``n`` tries, taking turns through ``ones``: ``one(rng, folder, outcome)`` in a folder and
    an event loop of its own; a crash is a problem, not the end of the run."""
    rng, out = random.Random(seed), Outcome()
    for i in range(n):
        folder = work / f"try-{i}"
        folder.mkdir(parents=True)
        out.tries += 1
        try:
            asyncio.run(ones[i % len(ones)](rng, folder, out))
        except Exception as exc:
            out.problems.append(f"#{i} crashed: {type(exc).__name__}: {exc}")
        shutil.rmtree(folder, ignore_errors=True)
    return out


# -- 11.4: the user's folders ----------------------------------------------------------------------
def _users_folder(rng: random.Random, path: Path, outside: Path) -> None:
    path.mkdir()
    names = [".swap.tmp", ".index.json.abcd1234.tmp", "notes.txt", ".bashrc", "index.JSON", "x"]
    for name in rng.sample(names, rng.randint(1, len(names))):
        (path / name).write_text(rng.choice(["mine", "", "x" * 100]))
    if rng.random() < 0.5:
        (path / "link-out").symlink_to(outside)
    if rng.random() < 0.3:
        (path / "sub").mkdir()
    path.chmod(rng.choice([0o1777, 0o755, 0o700, 0o775, 0o2770]))


async def _one_folder(rng: random.Random, root: Path, out: Outcome) -> None:
    outside = root / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    folder = root / "folder"
    _users_folder(rng, folder, outside)
    via_link = rng.random() < 0.3
    target = folder
    if via_link:
        target = root / "link"
        target.symlink_to(folder)
    before, outside_before = tree(folder), tree(outside)
    mode_before = stat.S_IMODE(os.lstat(folder).st_mode)
    read_only = rng.random() < 0.3
    out.faults += 1
    try:
        store = await Store.open(target, read_only=read_only, on_warning=lambda _m: None)
        await store.close()
        out.problems.append(f"a folder holding other things was used ({sorted(before)})")
    except DataDirError as exc:
        if "\n" in exc.message or str(target) not in exc.message:
            out.problems.append(f"unclear refusal: {exc.message}")
        out.seen["refused with one line"] += 1
    if tree(folder) != before or stat.S_IMODE(os.lstat(folder).st_mode) != mode_before:
        out.problems.append("the user's folder was changed")
    if tree(outside) != outside_before:
        out.problems.append("something outside was changed through a link")


async def _one_sleepchat_dir(rng: random.Random, root: Path, out: Outcome) -> None:
    data = root / "data"
    store = await Store.open(data, on_warning=lambda _m: None)
    s = await store.create_session("t")
    await store.append_message(_msg(s.id, 0, "hello"))
    await store.close()
    folder = data / "sessions" / s.id
    outside = root / "outside"
    outside.mkdir()
    precious = outside / "precious"
    precious.write_text("keep")
    precious.chmod(0o644)
    ours = [data / ".index.json.k2j4h5g6.tmp", folder / ".messages-0000.json.a1b2c3d4.tmp"]
    strays = [data / ".swap.tmp", folder / ".notes.tmp", data / ".index.json.tmp"]
    placed_ours = rng.sample(ours, rng.randint(0, len(ours)))
    placed_strays = rng.sample(strays, rng.randint(1, len(strays)))
    for p in placed_ours + placed_strays:
        p.write_text("x")
    links = [data / ".index.json.zzzzzzzz.tmp", folder / "messages-0009.json", folder / "meta.json"]
    linked = rng.sample(links[:2], rng.randint(0, 2))
    for p in linked:
        p.symlink_to(precious)
    out.faults += len(placed_strays) + len(linked)
    try:
        store = await Store.open(data, on_warning=lambda _m: None)
        try:
            texts = [m.content for m in await store.messages(s.id)]
        finally:
            await store.close()
        if texts != ["hello"]:
            out.problems.append(f"messages changed: {texts}")
    except StoreError as exc:
        out.problems.append(f"our own data dir was refused: {exc.message}")
    if any(p.exists() for p in placed_ours):
        out.problems.append("a leftover of ours was not swept")
    if not all(p.exists() for p in placed_strays):
        out.problems.append("a stray file we did not create was deleted")
    if precious.read_text() != "keep" or stat.S_IMODE(precious.stat().st_mode) != 0o644:
        out.problems.append("a file outside was changed through a symlink")
    out.seen["own data dirs reopened"] += 1


def run_folders(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_folder, _one_sleepchat_dir)


# -- 11.10: reading without writing ----------------------------------------------------------------
async def _one_read_only(rng: random.Random, data: Path, out: Outcome) -> None:
    store = await Store.open(data, segment_size=4, on_warning=lambda _m: None)
    expected: dict[str, list[str]] = {}
    for k in range(rng.randint(1, 4)):
        s = await store.create_session(f"session {k}")
        expected[s.id] = [f"{s.id} {i}" for i in range(rng.randint(0, 11))]
        for i, text in enumerate(expected[s.id]):
            await store.append_message(_msg(s.id, i, text))
    owner: Store | None = store
    state = rng.choice(["closed", "owned", "crashed"])
    if state != "owned":
        await store.close()
        owner = None
    if state == "crashed":  # a PID left in the lock: the index counts may be behind
        (data / "lock").write_text("999999\n")
    out.faults += state != "closed"
    try:
        before = tree(data)
        reader = await Store.open(data, read_only=True, on_warning=lambda _m: None)
        try:
            got = {
                s.id: ([m.content for m in await reader.messages(s.id)], s.message_count)
                for s in await reader.list_sessions()
            }
            with contextlib.suppress(StoreError):
                await reader.create_session("x")
                out.problems.append("a change was accepted read-only")
        finally:
            await reader.close()
        if tree(data) != before:
            out.problems.append(f"reading wrote to the data dir ({state})")
        for sid, texts in expected.items():
            if got.get(sid, ([], -1))[0] != texts:
                out.problems.append(f"{state}: messages of {sid} read back wrong")
            elif got[sid][1] != len(texts):
                out.problems.append(f"{state}: count of {sid} is {got[sid][1]}, not {len(texts)}")
        out.seen[f"read while {state}"] += 1
    finally:
        if owner is not None:
            await owner.close()


def run_read_only(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_read_only)


BIG_SEGMENT_BYTES = 256 * 1024


# -- 11.11: big messages ---------------------------------------------------------------------------
async def _one_big(rng: random.Random, data: Path, out: Outcome) -> None:
    segment_bytes = BIG_SEGMENT_BYTES
    meter = Meter()
    store = await Store.open(data / "d", file_ops=meter.ops, segment_bytes=segment_bytes)
    s = await store.create_session("big")
    sent: list[str] = []
    try:
        for i in range(rng.randint(8, 24)):
            size = rng.choice([10, 200, 5_000]) if rng.random() > 0.3 else rng.randint(1, 4) << 20
            out.faults += size > segment_bytes
            text = rng.choice(string.ascii_letters) * size
            meter.cost()
            await store.append_message(_msg(s.id, i, text))
            sent.append(text)
            # An append rewrites at most one bounded segment plus its own message.
            if (written := meter.cost()) > segment_bytes + size + 4096:
                out.problems.append(f"append #{i} of {size} bytes wrote {written} bytes")
        out.seen["appends"] += len(sent)
    finally:
        await store.close()
    store = await Store.open(data / "d")
    try:
        if [m.content for m in await store.messages(s.id)] != sent:
            out.problems.append("messages read back differ after a restart")
    finally:
        await store.close()


def run_big_messages(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_big)


# -- 11.2: text that is not valid Unicode ----------------------------------------------------------
def _broken_text(rng: random.Random) -> str:
    parts = [rng.choice(["ok", "日本", "naïve", " ", "\n", "🌙"]) for _ in range(rng.randint(1, 8))]
    for _ in range(rng.randint(1, 3)):
        bad = chr(rng.randint(0xD800, 0xDFFF))
        parts.insert(rng.randint(0, len(parts)), bad)
    return "".join(parts)


async def _one_unicode(rng: random.Random, data: Path, out: Outcome) -> None:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.clock import FakeClock
    from sleepchat.core.events import ReplyDone
    from sleepchat.core.settings import CoreSettings
    from sleepchat.llm.fake import FakeBackend

    replies = [_broken_text(rng) for _ in range(6)]
    backend = FakeBackend(lambda _m: replies.pop() if replies else _broken_text(rng))
    store = await Store.open(data)
    a = Assistant(
        backend=backend, store=store, settings=CoreSettings(cooldown_seconds=0), clock=FakeClock()
    )
    asked = 0
    try:
        await a.new_session(_broken_text(rng))
        for _ in range(rng.randint(1, 4)):
            q = _broken_text(rng)
            out.faults += 2  # a broken question and a broken reply
            done = [e async for e in a.ask(q) if isinstance(e, ReplyDone)]
            asked += 1
            if not done:
                out.problems.append("a question with broken text got no reply")
            if rng.random() < 0.3:
                await a.reflect()
        stored = await store.messages(a.session.id)  # type: ignore[union-attr]
        for m in stored:
            m.content.encode("utf-8")  # raises if anything invalid got in
        if len(stored) != 2 * asked:
            out.problems.append(f"{2 * asked} messages expected, {len(stored)} stored")
        out.seen["messages checked"] += len(stored)
    finally:
        await a.close()
        await store.close()


def run_unicode(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_unicode)


# -- 11.3: stop signals while a reply streams ------------------------------------------------------
def run_signals(work: Path, n: int, seed: int) -> Outcome:
    from sleepchat.devtools.fake_ollama import FakeOllama

    rng, out = random.Random(seed), Outcome()
    words = " ".join(f"w{i}" for i in range(300))
    with FakeOllama(reply=words, token_delay=0.01) as srv:
        for i in range(n):
            data = work / f"sig-{i}"
            sig = rng.choice([signal.SIGTERM, signal.SIGHUP])
            out.tries += 1
            cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--backend"]
            cmd += ["ollama", "--host", srv.url, "--model", "llama3.2"]
            cmd += ["--json"] if rng.random() < 0.5 else []
            srv.clear()
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            assert proc.stdin is not None
            proc.stdin.write(f"question {i}\n".encode())
            proc.stdin.flush()
            chunks = rng.randint(1, 250)
            srv.wait_until(
                lambda s, k=chunks: bool(s.chat_requests) and s.chat_requests[0].chunks_sent >= k,
                timeout=60,
            )
            proc.send_signal(sig)
            out.faults += 1
            try:
                _stdout, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _stdout, err = proc.communicate()
                out.problems.append(f"#{i}: still running 60 s after {sig.name}")
                continue
            if proc.returncode != 128 + sig:
                out.problems.append(f"#{i}: exit {proc.returncode} after {sig.name}")
            if b"Traceback" in err:
                out.problems.append(f"#{i}: traceback: {err.decode()[-300:]}")
            if (data / "lock").read_text():
                out.problems.append(f"#{i}: the lock was not released")
            stored = _export(data)
            roles = [m["role"] for m in stored]
            if [m["content"] for m in stored][:1] != [f"question {i}"] or roles[1:] not in (
                [],
                ["assistant"],
            ):
                out.problems.append(f"#{i}: stored {roles}")
            elif roles[1:] and not stored[1]["interrupted"] and len(stored[1]["content"]) < 300:
                out.problems.append(f"#{i}: a cut reply was not marked interrupted")
            out.seen[f"{sig.name} kept the reply" if roles[1:] else f"{sig.name} before text"] += 1
            shutil.rmtree(data, ignore_errors=True)
    return out


def _export(data: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "sleepchat", "export", "--format", "json", "--data-dir", str(data)],
        capture_output=True,
        timeout=60,
    )
    if proc.returncode != 0:
        return []
    messages: list[dict[str, Any]] = json.loads(proc.stdout)["messages"]
    return messages


# -- 11.5: export to hostile paths -----------------------------------------------------------------
def run_export(work: Path, n: int, seed: int, full_disk: Path | None = None) -> Outcome:
    """``full_disk``: a filled filesystem to write to now and then (a tiny tmpfs), if any."""
    from sleepchat.export import ExportError, write_export

    rng, out = random.Random(seed), Outcome()
    for i in range(n):
        base = full_disk if full_disk is not None and rng.random() < 0.25 else work
        folder = base / f"exp-{i}"
        if base is full_disk:
            with contextlib.suppress(OSError):
                (full_disk / "filler").unlink()
            folder.mkdir()
        else:
            folder.mkdir(parents=True)
        outside = work / f"exp-out-{i}"
        outside.mkdir()
        target_file = outside / "precious"
        target_file.write_text("keep")
        path = folder / "out.md"
        state = rng.choice(["missing", "file", "link", "dangling", "folder"])
        if state == "file":
            path.write_text("old export")
            path.chmod(0o644)
        elif state == "link":
            path.symlink_to(target_file)
        elif state == "dangling":
            path.symlink_to(outside / "nowhere")
        elif state == "folder":
            path.mkdir()
        if base is full_disk:
            fill(full_disk)
            out.faults += 1
        force = rng.random() < 0.5
        out.faults += state != "missing"
        before = tree(folder)
        text = "export " * rng.randint(1, 50_000)
        out.tries += 1
        try:
            write_export(path, text, replace=force)
            ok = True
        except ExportError as exc:
            ok = False
            if "\n" in exc.message or str(path) not in exc.message:
                out.problems.append(f"unclear: {exc.message}")
        except Exception as exc:
            out.problems.append(f"crashed: {type(exc).__name__}: {exc}")
            continue
        if target_file.read_text() != "keep" or (outside / "nowhere").exists():
            out.problems.append(f"{state}: written through a link")
        if ok:
            if state not in ("missing",) and not force:
                out.problems.append(f"{state}: replaced without --force")
            if path.is_symlink() or path.read_text() != text:
                out.problems.append(f"{state}: the export is not what was written")
            elif stat.S_IMODE(path.stat().st_mode) != 0o600:
                out.problems.append(f"{state}: the export is not private")
            out.seen["written"] += 1
        else:
            if tree(folder) != before:
                out.problems.append(f"{state}: a failed export changed {path}")
            out.seen["refused, nothing changed"] += 1
        if base is full_disk:
            shutil.rmtree(folder, ignore_errors=True)
    return out


# -- 11.7: escape sequences in stored and server text ----------------------------------------------
_SEQUENCES = [
    "\x1b[31m",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1b]8;;file:///etc/passwd\x1b\\",
    "\x1bP1$r\x1b\\",
    "\x9b2J",
    "\x9d0;x\x9c",
    "\x07",
    "\x1b",
    "\x08\x08",
    "\r",
    "\x00",
]


def _hostile(rng: random.Random) -> str:
    parts = [rng.choice(["Trip", "plans", "日本", "[bold]", "[/]", " "]) for _ in range(4)]
    for _ in range(rng.randint(1, 4)):
        parts.insert(rng.randint(0, len(parts)), rng.choice(_SEQUENCES))
    return "".join(parts)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


async def _one_escapes(rng: random.Random, data: Path, out: Outcome) -> None:
    from sleepchat.commands import export, list_sessions
    from sleepchat.config import load_config
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.clock import FakeClock
    from sleepchat.errors import SleepchatError
    from sleepchat.llm.fake import FakeBackend
    from sleepchat.script import ScriptRunner

    store = await Store.open(data)
    s = await store.create_session(_hostile(rng))
    for i in range(4):
        await store.append_message(_msg(s.id, i, _hostile(rng)))
    out.faults += 5
    a = Assistant(backend=FakeBackend(lambda _m: _hostile(rng)), store=store, clock=FakeClock())
    shown = _Tty()
    runner = ScriptRunner(a, out=shown, err=shown)
    try:
        await a.start(s.id)
        for line in ("/sessions", "/help", _hostile(rng), "/notes", "/predictions"):
            await runner.handle(line)
        runner.diag(SleepchatError(f"quoting {_hostile(rng)}").message)
    finally:
        await a.close()
        await store.close()
    config = load_config({"data_dir": str(data)}, {})
    stdout = sys.stdout
    try:
        for call in (
            lambda: list_sessions(config, json_mode=False),
            lambda: list_sessions(config, json_mode=True),
            lambda: export(config, "last", "md", None),
            lambda: export(config, "last", "json", None),
            lambda: export(config, _hostile(rng), "md", None),
        ):
            sys.stdout = _Tty()
            try:
                await call()
            except SleepchatError as exc:
                sys.stdout.write(exc.message)
            shown.write(sys.stdout.getvalue())
    finally:
        sys.stdout = stdout
    raw = RAW_CONTROLS.findall(shown.getvalue().replace("\n", "").replace("\t", ""))
    if raw:
        out.problems.append(f"raw controls reached the terminal: {sorted(set(raw))!r}")
    out.seen["printing paths checked"] += 11


def run_escapes(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_escapes)


# -- 11.8: session lookups and stdout closed early -------------------------------------------------
async def _one_lookup(rng: random.Random, data: Path, out: Outcome) -> None:
    from sleepchat.core.errors import UnknownSessionError
    from sleepchat.core.session_lookup import find_session

    store = await Store.open(data)
    try:
        ids = [(await store.create_session(f"t{k}")).id for k in range(rng.randint(1, 30))]
        for _ in range(20):
            key = rng.choice(
                [
                    rng.choice(ids)[: rng.randint(1, 8)],
                    rng.choice(ids)[: rng.randint(1, 2)],
                    _hostile(rng),
                    "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(0, 9))),
                    "x" * rng.randint(0, 5000),
                ]
            )
            out.faults += 1
            matches = [i for i in ids if key and i.startswith(key)]
            try:
                found = await find_session(store, key)
                if found.id not in matches or (len(matches) > 1 and found.id != key):
                    out.problems.append(f"{key!r} found {found.id} among {matches}")
            except UnknownSessionError as exc:
                msg = exc.message
                if "\n" in msg or len(msg) > 600 or RAW_CONTROLS.search(msg):
                    out.problems.append(f"not one safe line: {msg[:200]!r}")
                if len(matches) == 1:
                    out.problems.append(f"{key!r} is one session's prefix, yet: {msg}")
                listed = [i for i in matches if i in msg]
                if len(matches) > 1 and (
                    len(listed) != min(5, len(matches)) or f"{len(matches)} session ids" not in msg
                ):
                    out.problems.append(f"ambiguous {key!r} did not list its candidates: {msg}")
                out.seen["ambiguous" if len(matches) > 1 else "unknown"] += 1
    finally:
        await store.close()


def run_lookups(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_lookup)


def run_closed_stdout(work: Path, n: int, seed: int) -> Outcome:
    """`sleepchat sessions | head -c K` and `export | head -c K` for random K."""
    rng, out = random.Random(seed), Outcome()
    data = work / "pipes"

    async def populate() -> None:  # more output than a pipe holds (64 KB), by far
        store = await Store.open(data)
        for k in range(600):
            await store.create_session(f"a long enough title number {k} " * 10)
        s = await store.create_session("the last one")
        await store.append_message(_msg(s.id, 0, "text " * 60_000))
        await store.close()

    asyncio.run(populate())
    for i in range(n):
        args = rng.choice(
            [["sessions"], ["sessions", "--json"], ["export"], ["export", "--format", "json"]]
        )
        keep = rng.randint(0, 100_000)
        out.tries += 1
        out.faults += 1
        proc = subprocess.Popen(
            [sys.executable, "-m", "sleepchat", *args, "--data-dir", str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(keep)
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait(timeout=60)
        if code not in (0, 141) or "Traceback" in err or "Error" in err:
            out.problems.append(f"#{i} {args} after {keep} bytes: exit {code}: {err[-300:]}")
        out.seen["exit 141 (pipe closed)" if code == 141 else "finished first"] += 1
    return out


# -- 11.8: hostile config files --------------------------------------------------------------------
def _bomb(rng: random.Random) -> str:
    width, levels = rng.randint(2, 12), rng.randint(2, 12)
    items = ["&b0 [" + ", ".join(["lol"] * width) + "]"]
    for k in range(1, levels):
        items.append(f"&b{k} [" + ", ".join([f"*b{k - 1}"] * width) + "]")
    if rng.random() < 0.5:  # mappings too
        items.append(f"&m {{a: *b{levels - 1}, b: *b{levels - 1}}}")
    return "[" + ", ".join(items) + "]"


def _hostile_config(rng: random.Random, folder: Path) -> Path:
    kind = rng.choice(["bomb", "recursive", "big", "fifo", "device", "huge", "binary", "deep"])
    path = folder / "config.yaml"
    key = rng.choice(["system_prompt", "headers", "options", "sleep", "model", "nope"])
    if kind == "bomb":
        path.write_text(f"{key}: {_bomb(rng)}\n")
    elif kind == "recursive":
        path.write_text(f"{key}: &r [{'*r, ' * rng.randint(0, 3)}*r]\n")
    elif kind == "big":
        path.write_text("#" * rng.randint(1_000_001, 3_000_000) + "\n")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        return Path(rng.choice(["/dev/zero", "/dev/null", "/dev/urandom"]))
    elif kind == "huge":
        path.write_text(f"{key}: [" + ", ".join(["x" * 50] * rng.randint(100, 9000)) + "]\n")
    elif kind == "binary":
        path.write_bytes(rng.randbytes(rng.randint(1, 5000)))
    else:
        depth = rng.randint(100, 50_000)
        path.write_text(f"{key}: " + "[" * depth + "]" * depth + "\n")
    return path


async def _one_config(rng: random.Random, folder: Path, out: Outcome) -> None:
    from sleepchat.config import ConfigError, load_config

    for _ in range(5):
        sub = folder / f"c{out.faults}"
        sub.mkdir()
        path = _hostile_config(rng, sub)
        out.faults += 1
        try:
            load_config({"config": str(path)}, {})
            out.seen["loaded (/dev/null is an empty config)"] += 1
        except ConfigError as exc:
            if "\n" in exc.message or len(exc.message) > 600:
                out.problems.append(f"not one bounded line: {exc.message[:200]!r}")
            out.seen["refused in one line"] += 1


def run_configs(work: Path, n: int, seed: int) -> Outcome:
    return _repeat(work, n, seed, _one_config)


# -- 11.9: secrets in log lines --------------------------------------------------------------------
def run_secrets(work: Path, n: int, seed: int) -> Outcome:
    from sleepchat.errors import SleepchatError, shown
    from sleepchat.logs import LOGGER_NAME, setup_logging

    rng, out = random.Random(seed), Outcome()
    log_file = work / "secrets" / "sleepchat.log"
    setup_logging(log_file, debug=True)
    log = logging.getLogger(f"{LOGGER_NAME}.faults")
    secrets: list[str] = []
    shown_lines: list[str] = []
    try:
        for i in range(n):
            secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14))
            secrets.append(secret)
            forms = [
                f"http://user{i}:{secret}@10.0.0.{i % 250}:11434/api/chat",
                f"https://{secret}@api.example/v1",
                f"Authorization: Bearer {secret}",
                f"api_key={secret}",
                f"password: {secret}",
                f"sk-{secret}",
            ]
            carrier = rng.choice(forms)
            out.tries += 1
            out.faults += 1
            how = rng.choice(["args", "message", "exception", "error", "warning"])
            if how == "args":
                log.warning("talking to %s failed", carrier)
            elif how == "message":
                log.info(f"request went to {carrier}")
            elif how == "exception":
                try:
                    raise ConnectionError(f"POST {carrier}")
                except ConnectionError:
                    log.exception("sending failed")
            elif how == "error":
                shown_lines.append(SleepchatError(f"cannot reach {carrier}").message)
            else:
                shown_lines.append(shown(f"warning about {carrier}"))
            out.seen[how] += 1
    finally:
        for handler in list(logging.getLogger(LOGGER_NAME).handlers):
            handler.close()
            logging.getLogger(LOGGER_NAME).removeHandler(handler)
    text = log_file.read_text() + "\n".join(shown_lines)
    for secret in secrets:
        if secret in text:
            out.problems.append(
                f"a secret was written out: …{text[text.index(secret) - 40 :][:80]}"
            )
    return out


RUNNERS: dict[str, Callable[..., Outcome]] = {
    "folders": run_folders,
    "read_only": run_read_only,
    "big_messages": run_big_messages,
    "unicode": run_unicode,
    "signals": run_signals,
    "export": run_export,
    "escapes": run_escapes,
    "lookups": run_lookups,
    "closed_stdout": run_closed_stdout,
    "configs": run_configs,
    "secrets": run_secrets,
}

"""kill -9 fault injection: a script-mode sleepchat is killed at a random moment, then reopened.

Shared by ``tests/test_faults_kill.py`` (a quick run) and ``bench/faults.py`` (the full run).
One data dir lives through all iterations, so every start after the first takes over the lock of
a process that was killed, and the history each check looks at keeps growing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sleepchat.store import Store

MODEL = "llama3.2"
FINAL = ("done", "cancelled", "skipped", "failed")
TOPICS = ["tomatoes", "basil", "compost", "watering", "pruning", "seeds", "pots", "sunlight"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sleepchat", *args]


@dataclass
class KillTotals:
    iterations: int = 0
    kills: int = 0  # iterations in which the process was still running when killed
    inputs: int = 0  # lines written to stdin
    replies_seen: int = 0
    reflections_seen: int = 0
    reflecting_at_kill: int = 0  # a reflection was running in the store when the kill landed
    streaming_at_kill: int = 0  # a reply was streaming (the fake had an open chat request)
    takeovers: int = 0  # starts that reported taking over a dead process's lock
    stale_locks: int = 0  # kills that left the dead process's PID in the lock file
    losses: int = 0  # answered questions missing or duplicated, torn records, failed opens
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["problems"] = self.problems[:20]
        return d


@dataclass
class Harness:
    data: Path
    url: str
    config: Path
    rng: random.Random
    totals: KillTotals = field(default_factory=KillTotals)
    cli_export: bool = True
    max_kill_after: float = 3.0
    _asked: collections.Counter[str] = field(default_factory=collections.Counter)
    _answered: set[str] = field(default_factory=set)
    _running: set[str] = field(default_factory=set)  # reflection ids left running by kills
    _new_running: int = 0

    def script_lines(self, i: int) -> list[str]:
        lines: list[str] = []
        for k in range(self.rng.randint(2, 6)):
            roll = self.rng.random()
            if roll < 0.25:
                lines.append("/idle")
            elif roll < 0.35:
                lines.append(
                    f"/idle {self.rng.choice([0.2, 0.5, 1.0])}"
                )  # preempted by the next line
            elif roll < 0.40:
                lines.append(f"/new kill {i}")
            else:
                topic = self.rng.choice(TOPICS)
                lines.append(f"q{i}-{k}: how do I look after {topic} in week {k}?")
        return lines

    def iteration(self, i: int, fake: Any) -> None:
        t = self.totals
        t.iterations += 1
        lines = self.script_lines(i)
        t.inputs += len(lines)
        questions = [ln for ln in lines if not ln.startswith("/")]
        cmd = cli("--config", str(self.config), "--data-dir", str(self.data), "--model", MODEL)
        cmd += ["--backend", "ollama", "--host", self.url, "--json"]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [
            threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, b""))),  # type: ignore[union-attr]
            threading.Thread(target=lambda: err.append(proc.stderr.read())),  # type: ignore[union-attr]
        ]
        for r in readers:
            r.start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(("\n".join(lines) + "\n").encode())
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        # stdin stays open: the process waits for more input, so the kill always lands.
        # Half the kills are timed from the start of the process (start-up, the store opening),
        # half from its first model request: on a loaded machine a start-up can outlast the
        # whole window, and then no kill would ever land mid-reply.
        if self.rng.random() < 0.5:
            before = len(fake.recorded(None))
            fake.wait_until(lambda f: len(f.requests) > before, timeout=10)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=self.rng.uniform(0.05, self.max_kill_after))
        alive = proc.poll() is None
        streaming = alive and any(r.finished_at is None for r in fake.recorded())
        if alive:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        for r in readers:
            r.join()
        with_pid = (self.data / "lock").exists() and (self.data / "lock").read_text().strip()
        t.kills += alive
        t.streaming_at_kill += streaming
        t.stale_locks += bool(with_pid)
        events = [json.loads(b) for b in out if b.endswith(b"\n")]
        if b"Traceback" in b"".join(err):
            self._problem(f"iteration {i}: traceback before the kill: {b''.join(err)[-400:]!r}")
        replies = [e for e in events if e["type"] == "reply"]
        errors = [e for e in events if e["type"] == "error"]
        if errors:
            self._problem(f"iteration {i}: error events from a healthy server: {errors}")
        t.replies_seen += len(replies)
        t.reflections_seen += sum(e["type"] == "reflection" for e in events)
        self._asked.update(questions)
        answered = list(zip(questions, replies, strict=False))
        self._answered.update(q for q, _ in answered)
        asyncio.run(self.verify(i, answered, bool(with_pid)))
        fake.clear()

    def _problem(self, text: str, loss: bool = True) -> None:
        self.totals.problems.append(text)
        self.totals.losses += loss

    async def verify(self, i: int, answered: list[tuple[str, dict[str, Any]]], stale: bool) -> None:
        t = self.totals
        warnings: list[str] = []
        try:
            store = await Store.open(self.data, on_warning=warnings.append)
        except Exception as exc:
            self._problem(f"iteration {i}: the data dir does not open: {exc}")
            return
        try:
            took = [w for w in warnings if "took over" in w]
            t.takeovers += bool(took)
            if stale and not took:
                self._problem(f"iteration {i}: a dead process's lock was not reported: {warnings}")
            if other := [w for w in warnings if "took over" not in w]:
                self._problem(f"iteration {i}: unexpected warnings on reopen: {other}", loss=False)
            stored: dict[str, list[Any]] = {}
            self._new_running = 0
            for s in await store.list_sessions():
                stored[s.id] = await store.messages(s.id)
                await self._check_sleep_tables(store, s.id, i)
        finally:
            await store.close()
        if self._new_running > 1:
            self._problem(
                f"iteration {i}: {self._new_running} reflections left running by one kill"
            )
        users = collections.Counter(
            m.content for msgs in stored.values() for m in msgs if m.role == "user"
        )
        for q, n in users.items():
            if n > 1:
                self._problem(f"iteration {i}: question stored {n} times: {q!r}")
            if n and q not in self._asked:
                self._problem(f"iteration {i}: a stored question nobody asked: {q!r}")
        for q in self._answered:
            if users[q] != 1:
                self._problem(f"iteration {i}: answered question stored {users[q]} times: {q!r}")
        for q, reply in answered:
            msgs = stored.get(reply["session"], [])
            idx = next((k for k, m in enumerate(msgs) if m.content == q), None)
            after = msgs[idx + 1] if idx is not None and idx + 1 < len(msgs) else None
            if after is None or after.role != "assistant" or after.content != reply["text"]:
                self._problem(f"iteration {i}: the reply to {q!r} is not stored after it")
        if self.cli_export and answered:
            self._compare_export(i, answered[-1][1]["session"], stored)

    async def _check_sleep_tables(self, store: Store, sid: str, i: int) -> None:
        reflections = {str(d.get("id")): d for d in await store.load_table(sid, "reflections")}
        for rid, r in reflections.items():
            status = r.get("status")
            if status == "running":
                if rid not in self._running:  # left by this kill: at most one per process
                    self._running.add(rid)
                    self.totals.reflecting_at_kill += 1
                    self._new_running += 1
            elif status not in FINAL:
                self._problem(f"iteration {i}: reflection {rid} has status {status!r}")
        for p in await store.load_table(sid, "predictions"):
            q, a = p.get("question"), p.get("answer")
            # A question is stored before its answer (the answer step may be cut): an empty
            # answer is a question-only prediction, never served; a blank one would be torn.
            answered_ok = isinstance(a, str) and (a == "" or a.strip())
            if not (isinstance(q, str) and q.strip() and answered_ok):
                self._problem(f"iteration {i}: prediction {p.get('id')} is torn: {p}")
            if p.get("reflection_id") not in reflections:
                self._problem(f"iteration {i}: prediction {p.get('id')} has no reflection")
        for n in await store.load_table(sid, "notes"):
            note_by = n.get("reflection_id")
            if note_by is not None and note_by not in reflections:
                self._problem(f"iteration {i}: note {n.get('id')} has no reflection {note_by}")
            if not isinstance(n.get("text"), str) or not n["text"].strip():
                self._problem(f"iteration {i}: note {n.get('id')} is torn: {n}")

    def _compare_export(self, i: int, sid: str, stored: dict[str, list[Any]]) -> None:
        proc = subprocess.run(
            cli("export", sid, "--format", "json", "--data-dir", str(self.data)),
            capture_output=True,
            timeout=60,
        )
        if proc.returncode != 0:
            self._problem(f"iteration {i}: export failed: {proc.stderr.decode()[-300:]}")
            return
        doc = json.loads(proc.stdout)
        ids = [m["id"] for m in doc["messages"]]
        if ids != [m.id for m in stored.get(sid, [])]:
            self._problem(f"iteration {i}: export differs from the store for session {sid}")


def write_config(path: Path) -> Path:
    path.write_text(
        "timeouts:\n  read: 10\n"
        "sleep:\n  idle_seconds: 0.1\n  cooldown_seconds: 0\n  warm_up: true\n"
    )
    return path


def run_kills(
    work: Path,
    iterations: int,
    *,
    seed: int = 1,
    token_delay: float = 0.03,
    cli_export: bool = True,
) -> KillTotals:
    from sleepchat.devtools.fake_ollama import FakeOllama

    work.mkdir(parents=True, exist_ok=True)
    with FakeOllama(token_delay=token_delay) as fake:
        h = Harness(
            work / "data",
            fake.url,
            write_config(work / "config.yaml"),
            random.Random(seed),
            cli_export=cli_export,
        )
        start = time.monotonic()
        for i in range(iterations):
            h.iteration(i, fake)
        h.totals.seconds = time.monotonic() - start
    return h.totals

"""Closing the terminal under a running sleepchat: the app runs on a real pseudo-terminal, is
brought into a state, and the terminal goes away (its master side closed, as when a window or
a tmux session is killed). Then: did every process of it exit, how soon, was the data dir's
lock given back, and what was kept.

Tries run side by side (threads, each with its own pty and data dir) against one fake Ollama.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import json
import os
import random
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pexpect

from sleepchat.devtools.fake_ollama import FakeOllama
from support.cli import stored_messages

MODEL = "llama3.2"
QUESTION = "Count slowly"
CHAT_WORDS = 60  # a reply: ~1.2 s at the server's pace, so it is caught streaming
REFLECTION_WORDS = 400  # a reflection step: long, so it is caught running
IDLE_S = 0.5
ENDED_WITHIN_S = 20.0  # a process still there after this is a hang (it gets SIGKILL)
STATES = ("starting", "streaming", "reflecting", "modal", "notification", "idle")
# The line modes on a terminal: --plain (prompt-toolkit), and a script file printing to it.
LINE_STATES = ("plain-streaming", "plain-idle", "script-streaming")


def _reply(request: dict[str, Any]) -> str:
    if isinstance(request.get("format"), dict):  # a reflection step
        return json.dumps({"facts": [" ".join(f"f{i}" for i in range(REFLECTION_WORDS))]})
    return " ".join(f"w{i}" for i in range(CHAT_WORDS))


def fake_server() -> FakeOllama:
    return FakeOllama(reply=_reply, token_delay=0.02, serialize=False)  # apps side by side


@dataclass
class Closed:
    state: str
    code: int | None = None  # exit code; None: a hang (killed)
    seconds: float = 0.0  # from closing the terminal to the exit
    survivors: list[int] = field(default_factory=list)  # processes of its session still alive
    lock_free: bool = False
    lock_clean: bool = False  # released by sleepchat, not only dropped by the kernel
    messages: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    log: str = ""  # its log file

    def problems(self) -> list[str]:
        found = []
        if self.code is None:
            found.append(f"{self.state}: still running {ENDED_WITHIN_S:g} s after the close")
        elif self.code != 129 and not (self.state == "starting" and self.code == 0):
            # (0: the terminal was gone before sleepchat could see one: an empty script)
            found.append(f"{self.state}: exit code {self.code}: {self.log[-600:]!r}")
        if self.survivors:
            found.append(f"{self.state}: processes left behind: {self.survivors}")
        if "still stopping" in self.log:
            found.append(f"{self.state}: ended by the stop watchdog")
        if not self.lock_free:
            found.append(f"{self.state}: the data dir is still locked")
        return found


def _session_members(sid: int) -> list[int]:
    """Processes whose session is ``sid`` (the app and anything it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
                members.append(int(entry.name))
    return members


def _lock_state(data: Path) -> tuple[bool, bool]:
    path = data / "lock"
    if not path.exists():
        return True, True
    with path.open("r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False, False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True, f.read() == ""


_CONTROLS = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])")


class _Screen:
    """What a child has drawn, as text without escape sequences, read as it comes; each
    ``expect`` looks after the previous match (text drawn meanwhile is not lost)."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.text = b""
        self.pos = 0
        self._pending = b""  # an escape sequence cut at the end of a read

    def _read(self) -> None:
        with contextlib.suppress(pexpect.TIMEOUT):
            raw = self._pending + self.child.read_nonblocking(1 << 16, timeout=0.2)
            cut = raw.rfind(b"\x1b")
            if cut >= 0 and len(raw) - cut < 32 and not _CONTROLS.match(raw, cut):
                raw, self._pending = raw[:cut], raw[cut:]
            else:
                self._pending = b""
            self.text += _CONTROLS.sub(b"", raw)

    def expect(self, text: str, timeout: float = 60, *, key: str | None = None) -> None:
        """Wait until ``text`` is drawn. ``key``: pressed now, and again every few seconds
        while nothing shows (a key pressed while the app was still busy loading)."""
        end = time.monotonic() + timeout
        pressed = 0.0
        while (found := self.text.find(text.encode(), self.pos)) < 0:
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} never shown; last: {self.text[-300:]!r}")
            if key is not None and time.monotonic() - pressed > 5:
                self.child.send(key)
                pressed = time.monotonic()
            self._read()
        self.pos = found + len(text.encode())


def _into_state(
    child: pexpect.spawn, srv: FakeOllama, state: str, rng: random.Random, tag: str
) -> None:
    screen = _Screen(child)
    if state.startswith(("plain-", "script-")):
        if state.startswith("plain-"):
            screen.expect("›")  # the prompt
            child.send(f"{QUESTION} {tag}\r")
        last = CHAT_WORDS - 1 if state.endswith("idle") else rng.randint(1, CHAT_WORDS // 2)
        screen.expect(f"w{last}")
        if state.endswith("idle"):
            screen.expect("›")  # the reply ended: the prompt is back
        return
    if state == "starting":  # somewhere between the start and the session on screen
        time.sleep(rng.uniform(0.0, 1.5))
        return
    screen.expect("idle in")  # the status line: the session is loaded
    if state == "modal":
        screen.expect("Filter: words in titles", key="\x0f")  # Ctrl+O: the sessions
    elif state == "notification":
        screen.expect("Press Ctrl+C again", key="\x03")  # Ctrl+C once
    elif state in ("streaming", "reflecting", "idle"):
        child.send(f"{QUESTION} {tag}\r")
        if state == "streaming":
            screen.expect(f"w{rng.randint(1, CHAT_WORDS // 2)} ")
        elif state == "idle":
            screen.expect(f"w{CHAT_WORDS - 1}")
            screen.expect("idle in")  # the reply ended (the status said "answering")
        else:  # the sleep cycle, asked for from the command palette
            screen.expect(f"w{CHAT_WORDS - 1}")
            screen.expect("Search for commands", key="\x10")  # Ctrl+P
            child.send("Reflect now")
            screen.expect("instead of waiting")
            child.send("\r")
            started = srv.wait_until(
                lambda s: any(
                    isinstance((r.body or {}).get("format"), dict) and r.chunks_sent > 0
                    for r in s.chat_requests
                    if r.finished_at is None and tag in json.dumps(r.body)
                ),
                timeout=60,
            )
            assert started, "no reflection started"


def close_terminal(srv: FakeOllama, work: Path, state: str, rng: random.Random) -> Closed:
    """Start sleepchat on a pty, bring it into ``state``, close the terminal, watch it end."""
    tag = f"{rng.getrandbits(32):08x}"
    data = work / f"{state}-{tag}"
    args = ["-m", "sleepchat", "--backend", "ollama", "--host", srv.url, "--model", MODEL]
    config = work / "config.yaml"
    config.write_text("sleep:\n  cooldown_seconds: 0\n")  # a reflection after each reply
    args += ["--data-dir", str(data), "--idle-seconds", str(IDLE_S), "--config", str(config)]
    if state.startswith("plain-"):
        args.append("--plain")
    elif state.startswith("script-"):
        script = work / f"{state}-{tag}.txt"
        script.write_text(f"{QUESTION} {tag}\n")
        args += ["--script", str(script)]
    log = work / f"{state}-{tag}.log"
    env = {**os.environ, "SLEEPCHAT_LOG_FILE": str(log)}
    child = pexpect.spawn(sys.executable, args, timeout=60, dimensions=(30, 120), env=env)
    out = Closed(state)
    try:
        _into_state(child, srv, state, rng, tag)
    finally:
        with contextlib.suppress(OSError, pexpect.ExceptionPexpect):
            child.read_nonblocking(1 << 20, timeout=0)  # what it showed last (for a message)
        out.output = (child.before or b"").decode(errors="replace")
        child.ptyproc.fileobj.close()  # the terminal is gone
        closed_at = time.monotonic()
        while child.isalive() and time.monotonic() - closed_at < ENDED_WITHIN_S:
            time.sleep(0.01)
        out.seconds = time.monotonic() - closed_at
        out.survivors = _session_members(child.pid)
        if child.isalive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            while child.isalive():
                time.sleep(0.01)
        else:
            status = child.exitstatus
            out.code = status if status is not None else 128 + (child.signalstatus or 0)
        child.ptyproc.closed = True
        child.closed = True
    out.lock_free, out.lock_clean = _lock_state(data)
    out.log = log.read_text(errors="replace") if log.exists() else ""
    if any((data / "sessions").glob("*")):  # (a start cut short may have made none)
        out.messages = stored_messages(data)
    return out


def close_terminals(
    work: Path, tries: dict[str, int], seed: int, parallel: int = 4
) -> list[Closed]:
    """``tries[state]`` closes in each state, ``parallel`` at a time."""
    rng = random.Random(seed)
    jobs = [(state, random.Random(rng.random())) for state, n in tries.items() for _ in range(n)]
    rng.shuffle(jobs)
    with fake_server() as srv, concurrent.futures.ThreadPoolExecutor(parallel) as pool:

        def run(job: tuple[str, random.Random]) -> Closed:
            return close_terminal(srv, work, *job)

        return list(pool.map(run, jobs))

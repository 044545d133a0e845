"""One-line errors everywhere (issue 11.8): each bad input below ends with one line naming the
problem and the fix, a non-zero exit and no traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.store import Store


def sleepchat(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sleepchat", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)


def one_line(proc: subprocess.CompletedProcess[str], *words: str, fails: bool = True) -> str:
    assert (proc.returncode != 0) == fails, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


# -- --session: unknown, and a prefix of several ids ----------------------------------------------
async def _sessions_sharing_a_prefix(data: Path) -> tuple[str, list[str]]:
    """Sessions until two ids start alike; returns that prefix and the ids that have it."""
    store = await Store.open(data)
    try:
        by_first: dict[str, list[str]] = {}
        while True:
            s = await store.create_session(f"title {len(by_first)}")
            by_first.setdefault(s.id[0], []).append(s.id)
            if len(by_first[s.id[0]]) == 2:
                return s.id[0], by_first[s.id[0]]
    finally:
        await store.close()


@pytest.mark.parametrize("where", ["--session", "export", "/session"])
def test_unknown_and_ambiguous_sessions(tmp_path: Path, where: str) -> None:
    data = tmp_path / "d"
    prefix, ids = asyncio.run(_sessions_sharing_a_prefix(data))
    with FakeOllama(reply="ok") as srv:
        base = ["--data-dir", str(data), "--backend", "ollama", "--host", srv.url]
        base += ["--model", "llama3.2"]

        def attempt(key: str) -> subprocess.CompletedProcess[str]:
            if where == "export":
                return sleepchat("export", key, *base)
            if where == "--session":
                return sleepchat(*base, "--session", key, stdin="hello\n")
            return sleepchat(*base, stdin=f"/session {key}\n")

        unknown = attempt("zzzz")
        ambiguous = attempt(prefix)
    fails = where != "/session"  # in a script, a slip is reported and the script goes on
    one_line(unknown, "no session 'zzzz'", "sessions", fails=fails)
    line = one_line(ambiguous, f"'{prefix}'", "2 session ids", "give more of the id", fails=fails)
    assert all(i in line for i in ids)

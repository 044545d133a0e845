"""One-line errors everywhere (issue 11.8): each bad input below ends with one line naming the
problem and the fix, a non-zero exit and no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.disk import fill, tiny_tmpfs

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


# -- stdout closed early, stdout that is not UTF-8 ------------------------------------------------
async def _many_sessions(data: Path, title: str, n: int) -> None:
    store = await Store.open(data)
    for i in range(n):
        await store.create_session(f"{title} {i}")
    await store.close()


def test_stdout_closed_early_is_quiet(tmp_path: Path) -> None:
    data = tmp_path / "d"
    asyncio.run(_many_sessions(data, "a title long enough to fill the pipe " * 20, 400))
    with FakeOllama(reply="word " * 20000) as srv:
        chat = ["--data-dir", str(data), "--backend", "ollama", "--host", srv.url]
        chat += ["--model", "llama3.2", "--new"]
        for args, stdin in (
            (["sessions", "--data-dir", str(data)], b""),
            (["export", "--data-dir", str(data)], b""),
            (chat, b"a long answer please\nand another\n"),
        ):
            proc = subprocess.Popen(
                [sys.executable, "-m", "sleepchat", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert proc.stdout is not None and proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
            proc.stdout.readline()  # `| head -1`
            proc.stdout.close()
            err = proc.stderr.read().decode()  # type: ignore[union-attr]
            assert proc.wait(timeout=60) in (0, 141)  # 141: stopped by the pipe, as a shell says
            assert "Traceback" not in err and "BrokenPipe" not in err, err[-1500:]
    # The question asked before the pipe closed is kept.
    listed = sleepchat("export", "--format", "json", "--data-dir", str(data))
    assert "a long answer please" in listed.stdout


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_stdout_that_cannot_encode_the_text(tmp_path: Path, encoding: str) -> None:
    data = tmp_path / "d"
    title = "東京の天気 🌧"
    asyncio.run(_many_sessions(data, title, 1))
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    with FakeOllama(reply="晴れ、気温は二十度です。") as srv:
        chat = ["--data-dir", str(data), "--backend", "ollama", "--host", srv.url]
        chat += ["--model", "llama3.2"]
        runs = [
            ["sessions", "--data-dir", str(data)],
            ["sessions", "--json", "--data-dir", str(data)],
            ["export", "--data-dir", str(data)],
            ["export", "--format", "json", "--data-dir", str(data)],
            chat,
            [*chat, "--json"],
        ]
        procs = [
            subprocess.run(
                [sys.executable, "-m", "sleepchat", *args],
                input=b"weather in T\xc5\x8dky\xc5\x8d?\n",
                capture_output=True,
                env=env,
                timeout=60,
            )
            for args in runs
        ]
    for args, proc in zip(runs, procs, strict=True):
        err = proc.stderr.decode(errors="replace")
        assert proc.returncode == 0 and "Traceback" not in err, (args, err[-1500:])
        out = proc.stdout.decode(encoding)
        if "json" in args:  # JSON stays exact: non-ASCII is \u-escaped
            assert json.loads(out)["session"]["title"] == f"{title} 0"
        elif "--json" in args:
            docs = [json.loads(line) for line in out.splitlines()]
            assert f"{title} 0" in [d.get("title") for d in docs] or any(
                d.get("text") == "晴れ、気温は二十度です。" for d in docs
            ), docs
    stored = sleepchat("export", "--format", "json", "--data-dir", str(data))
    assert "晴れ、気温は二十度です。" in stored.stdout and "Tōkyō" in stored.stdout


# -- a full disk under the log file ----------------------------------------------------------------
def test_a_full_disk_under_the_log_file_is_one_warning(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "mnt", size="1m") as mnt, FakeOllama(reply="fine") as srv:
        log = mnt / "sleepchat.log"
        fill(mnt)
        args = ["--data-dir", str(tmp_path / "d"), "--log-file", str(log), "--debug"]
        args += ["--backend", "ollama", "--host", srv.url, "--model", "llama3.2", "--json"]
        proc = sleepchat(*args, stdin="one?\ntwo?\n/idle\nthree?\n")
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["text"] for r in replies if r["type"] == "reply"] == ["fine"] * 3
    warned = [line for line in proc.stderr.splitlines() if "log file" in line]
    assert len(warned) == 1 and str(log) in warned[0] and "No space left" in warned[0]
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr, proc.stderr


# -- a server that accepts connections but never answers -----------------------------------------
@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that takes every connection and never sends a byte."""
    sock = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


@pytest.mark.parametrize("backend", ["openai", "auto"])
def test_a_server_that_never_answers_is_said_at_start(
    tmp_path: Path, silent_server: str, backend: str
) -> None:
    config = tmp_path / "config.yaml"
    # The read timeout is long (as by default, 120 s): the start must not wait for it. Only the
    # question after a start that went on (openai) waits for it, so it is short there.
    read = 2 if backend == "openai" else 60
    config.write_text(f"timeouts:\n  read: {read}\nlocal_model: /nonexistent/model.gguf\n")
    host = f"{silent_server}/v1" if backend == "openai" else silent_server
    args = ["--config", str(config), "--data-dir", str(tmp_path / "d"), "--backend", backend]
    proc = sleepchat(*args, "--host", host, "--model", "m", stdin="hello?\n", timeout=90)
    doctor = sleepchat("doctor", *args, "--host", host, "--model", "m", timeout=90)
    assert "waiting for the server" in doctor.stdout and "did not answer in 10 s" in doctor.stdout
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr, doctor.stderr
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "waiting for the server" in lines[0] and silent_server in lines[0], lines
    assert "did not answer in 10 s" in lines[1], lines
    if backend == "openai":  # the start goes on; the question says what happened and is kept
        assert "the first question will try again" in lines[1]
        assert proc.returncode == 1 and len(lines) == 3, lines
        stored = sleepchat("export", "--format", "json", "--data-dir", str(tmp_path / "d"))
        assert json.loads(stored.stdout)["messages"][0]["content"] == "hello?"
    else:  # no server, no embedded model: one line naming both
        assert proc.returncode != 0 and len(lines) == 2 and "embedded model" in lines[1], lines


# -- hostile config files -------------------------------------------------------------------------
def _alias_bomb(levels: int = 9) -> str:
    """A few hundred bytes that expand to 9**levels strings through YAML aliases."""
    items = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for k in range(1, levels):
        items.append(f"&a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
    return "[" + ", ".join(items) + "]"


CONFIGS = {
    "an alias bomb where a string goes": f"system_prompt: {_alias_bomb()}\n",
    "an alias bomb in the options": f"options:\n  extra:\n    top_p: {_alias_bomb()}\n",
    "an alias bomb in a list": f"headers: {{x-a: {_alias_bomb()}}}\n",
    "a recursive alias": "system_prompt: &r [*r]\n",
    "a file over 1 MB": "# padding\n" * 110_000 + "model: llama3.2\n",
    "a huge value": "system_prompt: [" + ", ".join(f"item{i}" for i in range(9000)) + "]\n",
}


@pytest.mark.parametrize("content", CONFIGS.values(), ids=CONFIGS.keys())
def test_a_hostile_config_file_is_one_bounded_line(tmp_path: Path, content: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(content)
    proc = sleepchat("sessions", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    line = one_line(proc, f"config error in {config}")
    assert proc.returncode == 2 and len(line) < 400, line


@pytest.mark.parametrize("kind", ["a FIFO nobody writes to", "/dev/zero", "a folder"])
def test_config_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    """A pipe must not hang the start, an endless device must not fill memory."""
    if kind == "a FIFO nobody writes to":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    elif kind == "a folder":
        path = tmp_path
    else:
        path = Path("/dev/zero")
    proc = sleepchat("sessions", "--config", str(path), "--data-dir", str(tmp_path / "d"))
    one_line(proc, f"config error in {path}")
    assert proc.returncode == 2


def test_dev_null_is_still_an_empty_config(tmp_path: Path) -> None:
    proc = sleepchat("sessions", "--config", "/dev/null", "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0 and "no sessions yet" in proc.stderr, proc.stderr

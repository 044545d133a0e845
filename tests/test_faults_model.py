"""Fault suite, model server: every way Ollama fails, through the Assistant and script mode.

Each fault gives one clear line, a reply cut mid-stream is kept and marked interrupted, and the
next question works once the server is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.ollama_server import refused_port

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.store import Store

MODEL = "llama3.2"
REPLY = "one two three four five six seven eight"
READ_TIMEOUT = 0.5


@dataclass(frozen=True)
class Fault:
    name: str
    behaviour: dict[str, Any]  # a one-off FakeOllama behaviour for the failing request
    message: Callable[[str], str]  # the line the user reads, given the server URL
    partial: str | None  # the text kept, marked interrupted (None: nothing came)


FAULTS = [
    Fault(
        "http 500",
        {"status": 500, "status_text": "llama runner process has terminated"},
        lambda url: (
            f"Ollama at {url} answered HTTP 500: llama runner process has terminated "
            "— check the server log (`ollama serve` output)"
        ),
        None,
    ),
    Fault(
        "stream cut",
        {"drop_after": 3},
        lambda _url: "the model server closed the connection mid-reply — is it still running?",
        "one two three",
    ),
    Fault(
        "error line",
        {"error_after": 3, "error_text": "out of memory"},
        lambda _url: "the model server reported an error mid-reply: out of memory",
        "one two three",
    ),
    Fault("garbage line", {"garbage_after": 2}, lambda _url: "not Ollama's JSON", "one two"),
    Fault(
        "hung server",
        {"hang": True},
        lambda url: f"Ollama at {url} did not answer within {READ_TIMEOUT} s",
        None,
    ),
    Fault(
        "slow first byte",
        {"first_byte_delay": READ_TIMEOUT * 4},
        lambda url: f"Ollama at {url} did not answer within {READ_TIMEOUT} s",
        None,
    ),
]


def _assistant(srv_url: str, store: Store) -> tuple[Any, OllamaBackend]:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.settings import CoreSettings

    backend = OllamaBackend(srv_url, MODEL, connect_timeout=1.0, read_timeout=READ_TIMEOUT)
    settings = CoreSettings(sleep_enabled=False)
    return Assistant(backend=backend, store=store, settings=settings), backend


async def _ask(assistant: Any, text: str) -> list[Any]:
    return [e async for e in assistant.ask(text)]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_assistant_survives_the_fault_and_answers_after_it(
    fault: Fault, tmp_path: Path
) -> None:
    from sleepchat.core.events import ReplyDone, ReplyFailed

    with FakeOllama(reply=REPLY) as srv:
        store = await Store.open(tmp_path / "d")
        a, backend = _assistant(srv.url, store)
        try:
            await a.start()
            srv.then(**fault.behaviour)
            failed = [e for e in await _ask(a, "first?") if isinstance(e, ReplyFailed)]
            assert len(failed) == 1
            (fail,) = failed
            assert fault.message(srv.url) in fail.error and "\n" not in fail.error
            if fault.partial is None:
                assert fail.partial is None
            else:
                assert fail.partial is not None and fail.partial.interrupted
                assert fail.partial.content == fault.partial
            # the server is back: the next question is answered in full
            done = [e for e in await _ask(a, "second?") if isinstance(e, ReplyDone)]
            assert [d.message.content for d in done] == [REPLY]
            assert not done[0].message.interrupted
            stored = [
                (m.role, m.content, m.interrupted) for m in await store.messages(a.session.id)
            ]
        finally:
            await a.close()
            await backend.aclose()
            await store.close()
    expected = [("user", "first?", False)]
    if fault.partial is not None:
        expected.append(("assistant", fault.partial, True))
    expected += [("user", "second?", False), ("assistant", REPLY, False)]
    assert stored == expected


async def test_assistant_refused_then_server_starts(tmp_path: Path) -> None:
    from sleepchat.core.events import ReplyDone, ReplyFailed

    port = refused_port()
    url = f"http://127.0.0.1:{port}"
    store = await Store.open(tmp_path / "d")
    a, backend = _assistant(url, store)
    try:
        await a.start()
        (fail,) = [e for e in await _ask(a, "anyone?") if isinstance(e, ReplyFailed)]
        assert fail.unreachable and fail.partial is None
        assert fail.error == (
            f"Ollama is not reachable at {url} — start it with `ollama serve` or set OLLAMA_HOST"
        )
        with FakeOllama(port=port, reply=REPLY):
            done = [e for e in await _ask(a, "now?") if isinstance(e, ReplyDone)]
        assert [d.message.content for d in done] == [REPLY]
    finally:
        await a.close()
        await backend.aclose()
        await store.close()


async def test_assistant_missing_model_names_the_pull_then_works(tmp_path: Path) -> None:
    from sleepchat.core.events import ReplyDone, ReplyFailed

    with FakeOllama(models=["qwen2.5:0.5b"], reply=REPLY) as srv:
        store = await Store.open(tmp_path / "d")
        a, backend = _assistant(srv.url, store)
        try:
            await a.start()
            (fail,) = [e for e in await _ask(a, "hi?") if isinstance(e, ReplyFailed)]
            assert f"ollama pull {MODEL}" in fail.error and "\n" not in fail.error
            srv.any_model = True  # the user ran `ollama pull`
            done = [e for e in await _ask(a, "hi again?") if isinstance(e, ReplyDone)]
            assert [d.message.content for d in done] == [REPLY]
        finally:
            await a.close()
            await backend.aclose()
            await store.close()


# -- the same through script mode, in one process: each fault, then a good answer ----------------
def _script(
    data: Path, url: str, config: Path, lines: bytes, timeout: float = 90
) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "sleepchat", "--config", str(config), "--data-dir", str(data)]
    cmd += ["--backend", "ollama", "--host", url, "--model", MODEL, "--json"]
    return subprocess.run(
        cmd, input=lines, capture_output=True, timeout=timeout, env=os.environ.copy()
    )


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"timeouts:\n  read: {READ_TIMEOUT}\nsleep:\n  enabled: false\n")
    return cfg


def test_script_mode_reports_each_fault_and_goes_on(tmp_path: Path) -> None:
    with FakeOllama(reply=REPLY) as srv:
        lines = []
        for i, fault in enumerate(FAULTS):
            srv.then(**fault.behaviour)
            srv.then()  # the server is back for the next line
            lines += [f"fault {i}?", f"after {i}?"]
        data = tmp_path / "d"
        proc = _script(data, srv.url, _config(tmp_path), "\n".join(lines).encode())
        url = srv.url
    err = proc.stderr.decode()
    assert proc.returncode == 1, err  # some lines could not be answered
    assert "Traceback" not in err
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    for fault in FAULTS:  # each fault: [reply marked interrupted], error; then a full reply
        if fault.partial is not None:
            cut = events.pop(0)
            assert cut["type"] == "reply" and cut["interrupted"], (fault.name, cut)
            assert cut["text"] == fault.partial
        error = events.pop(0)
        assert error["type"] == "error" and fault.message(url) in error["message"], fault.name
        good = events.pop(0)
        assert good["type"] == "reply" and good["text"] == REPLY and not good["interrupted"]
    assert events == []
    exported = subprocess.run(
        [sys.executable, "-m", "sleepchat", "export", "--format", "json", "--data-dir", str(data)],
        capture_output=True,
    )
    doc = json.loads(exported.stdout)
    users = [m["content"] for m in doc["messages"] if m["role"] == "user"]
    assert users == lines  # every question is on record, exactly once
    cut = [m for m in doc["messages"] if m["interrupted"]]
    assert len(cut) == sum(f.partial is not None for f in FAULTS)
    assert all(m["error"] for m in cut)  # the reason is kept with the cut reply


def test_script_mode_refused_then_server_starts(tmp_path: Path) -> None:
    port = refused_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "sleepchat", "--config", str(_config(tmp_path))]
    cmd += ["--data-dir", str(tmp_path / "d"), "--backend", "ollama", "--host", url]
    cmd += ["--model", MODEL, "--json"]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"anyone?\n")
        proc.stdin.flush()
        error = json.loads(proc.stdout.readline())
        assert error == {
            "type": "error",
            "message": f"Ollama is not reachable at {url} — start it with `ollama serve` "
            "or set OLLAMA_HOST",
        }
        with FakeOllama(port=port, reply=REPLY):
            proc.stdin.write(b"now?\n")
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
            proc.stdin.close()
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert reply["type"] == "reply" and reply["text"] == REPLY
    assert b"Traceback" not in proc.stderr.read()  # type: ignore[union-attr]

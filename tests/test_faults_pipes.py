"""stdout closed under a scripted session (issue 21.3): ``printf 'one\\ntwo\\n' | sleepchat ... |
head -c 1``. Whatever was on its way out — a reply streaming, one just ended, an answer served
from a prediction — sleepchat ends quietly (exit 0 or 141, no traceback), and the store has
every question it asked and every reply, a cut one marked interrupted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import stored_messages

from sleepchat.devtools.fake_ollama import FakeOllama

MODEL = "llama3.2"
WORDS = 300  # a reply: ~3 s at the server's pace
PREDICTED = "Should I lower the hydration?"
ANSWER = "Yes, try 70% for a few bakes."


def _model(request: dict[str, Any]) -> str:
    fmt = request.get("format")
    if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
        return json.dumps({"facts": ["The sourdough bread is dense"]})
    if isinstance(fmt, dict):
        return json.dumps({"questions": [PREDICTED]})
    if request["messages"][-1]["content"] == PREDICTED:
        return ANSWER
    # (about the bread, so that the predicted follow-up is grounded in it)
    return "Dense loaves mean low hydration: " + " ".join(f"w{i}" for i in range(WORDS))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama(reply=_model, token_delay=0.01, serialize=False) as srv:
        yield srv


def _closed_after(
    server: FakeOllama, data: Path, lines: str, until: bytes, *flags: str
) -> tuple[int, str]:
    """Run a script, read its stdout until ``until`` has come, close it; exit code, stderr."""
    cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--model", MODEL]
    cmd += ["--backend", "ollama", "--host", server.url, *flags]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(lines.encode())
    proc.stdin.close()
    seen = b""
    while until not in seen:
        byte = proc.stdout.read(1)
        assert byte, f"the output ended before {until!r}: {seen[-200:]!r}"
        seen += byte
    proc.stdout.close()  # `| head`: the reader leaves
    err = proc.stderr.read().decode(errors="replace")
    code = proc.wait(timeout=60)
    assert code in (0, 141), (code, err[-1500:])
    assert "Traceback" not in err and "Error" not in err, err[-1500:]
    return code, err


def _shape(messages: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    return [(m["role"], m["source"], m["interrupted"]) for m in messages]


@pytest.mark.parametrize("mode", ["text", "json"])
def test_closed_while_a_reply_streams(server: FakeOllama, tmp_path: Path, mode: str) -> None:
    data = tmp_path / "d"
    flags = ["--json"] if mode == "json" else []
    until = b"w1 " if mode == "text" else b"{"
    code, _err = _closed_after(server, data, "one\ntwo\n", until, *flags)
    messages = stored_messages(data)
    if mode == "json":  # nothing is printed until the reply ends: it ended, whole
        assert code in (0, 141)
        assert [m["content"] for m in messages if m["role"] == "user"][:1] == ["one"]
        return
    assert code == 141
    assert _shape(messages) == [("user", "user", False), ("assistant", "model", True)]
    assert messages[0]["content"] == "one"
    assert messages[1]["content"].startswith("Dense loaves")
    assert len(messages[1]["content"].split()) < WORDS


def test_closed_just_after_a_reply_ended(server: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    code, _err = _closed_after(server, data, "one\ntwo\n", f"w{WORDS - 1}\n".encode())
    assert code == 141
    messages = stored_messages(data)
    assert _shape(messages) == [
        ("user", "user", False),
        ("assistant", "model", False),  # whole: it ended before the reader left
        ("user", "user", False),
        ("assistant", "model", True),  # cut where its first words met the closed pipe
    ]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["one", "two"]


def test_closed_as_a_precomputed_answer_is_served(server: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    lines = f"My sourdough is dense.\n/idle\n{PREDICTED}\n"
    code, _err = _closed_after(server, data, lines, f"w{WORDS - 1}\n".encode())
    assert code == 141
    messages = stored_messages(data)
    # The served answer is whole when it meets the closed pipe: stored as it was served.
    assert _shape(messages)[2:] == [("user", "user", False), ("assistant", "prediction", False)]
    assert messages[3]["content"] == ANSWER

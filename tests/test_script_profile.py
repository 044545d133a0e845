"""Script mode's /model and /system end to end: a real process, the fake Ollama, a data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import events, sleepchat

from sleepchat.devtools.fake_ollama import FakeOllama


@pytest.fixture
def srv() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


def chats(srv: FakeOllama) -> list[tuple[str, str, str]]:
    """(model, system prompt, last user message) of each chat request that was not a warm-up."""
    out = []
    for r in srv.chat_requests:
        body = r.body or {}
        msgs = body.get("messages") or []
        user = [m["content"] for m in msgs if m["role"] == "user"]
        if user and not body.get("format"):
            out.append((body["model"], msgs[0]["content"], user[-1]))
    return out


def test_model_and_system_prompt_per_session_in_a_script(srv: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    huge = "x" * (1 << 20)
    script = (
        "hello\n/model qwen2.5:0.5b\n/system You are terse.\nwhat now?\n"
        f"/model nope:1b\n/system {huge}\n/model\n"
    )
    proc = sleepchat(data=data, host=srv.url, stdin=script.encode())
    err = proc.stderr.decode()
    assert proc.returncode == 0, err  # refused choices are slips, not lost lines
    lines = err.splitlines()
    assert (
        lines.count(
            "sleepchat: New model for this session: the next question is read from the start "
            "(the server's cache held the old one); the next idle period warms it again, and "
            "the predicted questions will be made again."
        )
        == 1
    )
    assert any(line.startswith("sleepchat: New system prompt for this session") for line in lines)
    assert "sleepchat: model 'nope:1b' is not on " in err
    assert "pick one of: all-minilm:latest, llama3.2:latest, qwen2.5:0.5b" in err
    assert "the system prompt is 1,048,576 characters; at most 16,000 fit" in err
    assert proc.stdout.decode().splitlines()[-1] == (
        "model: qwen2.5:0.5b (available: all-minilm:latest, llama3.2:latest, qwen2.5:0.5b)"
    )
    sent = chats(srv)
    assert sent[0][0] == "llama3.2" and sent[0][2] == "hello"
    assert sent[-1] == ("qwen2.5:0.5b", "You are terse.", "what now?")

    # Restored when the session resumes; --json says what the session uses.
    proc = sleepchat("--json", data=data, host=srv.url, stdin=b"/model\n/system\nand then?\n")
    assert proc.returncode == 0, proc.stderr.decode()
    profile = [e for e in events(proc.stdout) if e["type"] == "profile"]
    assert profile[0]["model"] == "qwen2.5:0.5b"
    assert profile[1]["system_prompt"] == "You are terse." and profile[1]["custom_system_prompt"]
    assert chats(srv)[-1] == ("qwen2.5:0.5b", "You are terse.", "and then?")

    proc = sleepchat("--json", data=data, host=srv.url, stdin=b"/system --reset\nok?\n")
    profile = [e for e in events(proc.stdout) if e["type"] == "profile"]
    assert not profile[0]["custom_system_prompt"]
    assert chats(srv)[-1][1].startswith("You are sleepchat")

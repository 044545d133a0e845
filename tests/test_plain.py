"""`sleepchat --plain`: the line REPL on a real pseudo-terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pexpect

from sleepchat.devtools.fake_ollama import FakeOllama


def spawn(srv: FakeOllama, data: Path) -> pexpect.spawn:
    args = ["-m", "sleepchat", "--plain", "--backend", "ollama", "--host", srv.url]
    args += ["--model", "llama3.2", "--data-dir", str(data), "--idle-seconds", "600"]
    return pexpect.spawn(sys.executable, args, timeout=20, dimensions=(30, 120), encoding="utf-8")


def stored(data: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "sleepchat", "export", "--format", "json", "--data-dir", str(data)],
        capture_output=True,
        timeout=30,
    )
    return json.loads(out.stdout)["messages"]


def test_reply_multiline_input_and_ctrl_c_at_the_prompt_exits_130(tmp_path: Path) -> None:
    with FakeOllama(reply="The answer is forty-two.") as srv:
        child = spawn(srv, tmp_path / "d")
        child.expect("›")
        child.sendline("What is the answer?")
        child.expect("forty-two")
        child.expect("›")
        child.send("first line")
        child.send("\x1b\r")  # Esc-Enter: a newline, not a send
        child.send("second line\r")
        child.expect("forty-two")
        child.expect("›")
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130
        # Typed questions are warmed once the keys rest (a request for one token): the replies
        # are the requests for more.
        replies = [b for b in srv.bodies() if b.get("options", {}).get("num_predict") != 1]
        sent = [b["messages"][-1]["content"] for b in replies]
    assert sent == ["What is the answer?", "first line\nsecond line"]


def test_ctrl_c_during_a_reply_keeps_the_partial_text(tmp_path: Path) -> None:
    words = " ".join(f"w{i}" for i in range(200))
    with FakeOllama(reply=words, token_delay=0.05) as srv:
        child = spawn(srv, tmp_path / "d")
        child.expect("›")
        child.sendline("Count slowly")
        child.expect("w5 ")
        child.sendintr()
        child.expect("partial reply is kept")
        child.expect("›")  # still running, back at the prompt
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    messages = stored(tmp_path / "d")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert reply["interrupted"] and reply["content"].startswith("w0 w1 w2 w3 w4 w5")
    assert len(reply["content"].split()) < 200

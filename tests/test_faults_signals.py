"""SIGTERM and SIGHUP while a reply streams (issue 11.3): the question and the partial reply are
kept exactly as Ctrl-C keeps them, the data dir's lock is released, and the exit code says which
signal it was (143, 129) — in script, JSON, plain and full-screen modes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from support.cli import stored_messages

from sleepchat.devtools.fake_ollama import FakeOllama

WORDS = " ".join(f"w{i}" for i in range(400))
SIGNALS = {
    "SIGTERM": (signal.SIGTERM, 143),
    "SIGHUP": (signal.SIGHUP, 129),
    "Ctrl-C": (signal.SIGINT, 130),
}


def _args(srv: FakeOllama, data: Path, *extra: str) -> list[str]:
    args = ["-m", "sleepchat", "--backend", "ollama", "--host", srv.url, "--model", "llama3.2"]
    return [*args, "--data-dir", str(data), "--idle-seconds", "600", *extra]


def _check_kept(data: Path) -> None:
    """The question and the partial reply, marked interrupted; the lock given back cleanly."""
    messages = stored_messages(data)
    assert [(m["role"], m["content"]) for m in messages][:1] == [("user", "Count slowly")]
    assert len(messages) == 2, messages
    reply = messages[1]
    assert reply["interrupted"] is True
    assert reply["content"].startswith("w0") and len(reply["content"].split()) < 400
    assert (data / "lock").read_text() == ""  # released, not left for a takeover


@pytest.mark.parametrize("name", SIGNALS)
@pytest.mark.parametrize("mode", ["script", "json"])
def test_script_modes(tmp_path: Path, mode: str, name: str) -> None:
    sig, code = SIGNALS[name]
    data = tmp_path / "d"
    with FakeOllama(reply=WORDS, token_delay=0.03) as srv:
        extra = ["--json"] if mode == "json" else []
        proc = subprocess.Popen(
            [sys.executable, *_args(srv, data, *extra)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"Count slowly\n")
        proc.stdin.flush()  # stdin stays open: the next line never comes
        assert srv.wait_for_started(1, timeout=60)
        if mode == "script":
            assert proc.stdout.read(12).startswith(b"w0 w1 w2 w3")  # the reply is streaming
        else:
            # Ten chunks out means the first ones reached the client a few hundred ms ago.
            assert srv.wait_until(lambda s: s.chat_requests[0].chunks_sent >= 10, timeout=30)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()[-1500:]
    assert b"Traceback" not in err
    if mode == "json":
        assert out == b""  # as with Ctrl-C: the cut reply is in the store, no event is half out
    _check_kept(data)


def _pty(srv: FakeOllama, data: Path, *extra: str) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, _args(srv, data, *extra), timeout=60, dimensions=(30, 120))


@pytest.mark.parametrize("name", SIGNALS)
def test_plain_mode(tmp_path: Path, name: str) -> None:
    sig, code = SIGNALS[name]
    data = tmp_path / "d"
    with FakeOllama(reply=WORDS, token_delay=0.03) as srv:
        child = _pty(srv, data, "--plain")
        child.expect("›".encode())
        child.sendline("Count slowly")
        child.expect(b"w8 ")
        child.kill(sig)
        if name == "Ctrl-C":  # Ctrl-C stops the reply; the REPL goes on until asked to leave
            child.expect("›".encode())
            child.sendline("/quit")
            code = 0
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == code, (child.signalstatus, child.before)
    _check_kept(data)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_full_screen_app(tmp_path: Path, name: str) -> None:
    sig, code = SIGNALS[name]
    data = tmp_path / "d"
    with FakeOllama(reply=WORDS, token_delay=0.03) as srv:
        child = _pty(srv, data)
        child.expect(b"idle in")  # the status line: the session is loaded
        child.send("Count slowly\r")
        child.expect(b"w8")
        child.kill(sig)
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == code, (child.signalstatus, child.before)
    _check_kept(data)

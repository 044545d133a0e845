"""Text that is not valid Unicode never crashes anything (issue 11.2).

A model server can send a lone surrogate (``"\\ud800"`` is valid JSON, not valid Unicode) in a
reply, a structured reply or a precomputed answer; a terminal can deliver invalid UTF-8. Both are
made valid at the edge (U+FFFD), in every mode, before anything is stored or printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyDone
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

BAD = "\ud800"  # a lone high surrogate
BAD_LOW = "\udfff"
R = "\ufffd"


def _broken_server(request: dict[str, Any]) -> str:
    """Every string the server sends carries a lone surrogate (JSON-escaped on the wire)."""
    fmt = request.get("format")
    if isinstance(fmt, dict) and "facts" in fmt.get("properties", {}):
        return json.dumps({"facts": [f"The sourdough{BAD} bread is dense"]})
    if isinstance(fmt, dict):
        return json.dumps({"questions": ["Should I lower the hydration?"]})
    last = request["messages"][-1]["content"]
    if last == "Should I lower the hydration?":
        return f"Yes, try 70%{BAD} for a few bakes."
    return f"Dense loaves{BAD_LOW} usually mean {BAD}under-fermentation."


def _run(data: Path, url: str, *args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "sleepchat", "--data-dir", str(data), "--model", "llama3.2"]
    cmd += ["--backend", "ollama", "--host", url, *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=90)


def _stored(data: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "sleepchat", "export", "--format", "json", "--data-dir", str(data)],
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr.decode()
    return [m["content"] for m in json.loads(out.stdout)["messages"]]


@pytest.mark.parametrize("mode", ["text", "json"])
def test_lone_surrogates_from_the_server_in_replies_and_precomputed_answers(
    tmp_path: Path, mode: str
) -> None:
    data = tmp_path / "d"
    stdin = b"My sourdough is dense.\n/idle\n/predictions\nshould i lower the hydration\nlast?\n"
    with FakeOllama(reply=_broken_server) as srv:
        proc = _run(data, srv.url, *(["--json"] if mode == "json" else []), stdin=stdin)
    err = proc.stderr.decode()
    assert proc.returncode == 0 and "Traceback" not in err, err[-1500:]
    out = proc.stdout.decode("utf-8")  # strict: what was printed is valid UTF-8
    reply = f"Dense loaves{R} usually mean {R}under-fermentation."
    answer = f"Yes, try 70%{R} for a few bakes."
    if mode == "json":
        evs = [json.loads(line) for line in out.splitlines()]
        replies = [e for e in evs if e["type"] == "reply"]
        assert [e["text"] for e in replies] == [reply, answer, reply]
        assert replies[1]["source"] == "prediction"  # served from the precomputed answer
    else:
        assert out.count(reply) == 2 and answer in out
        assert "precomputed answer" in err
    stored = _stored(data)
    assert stored == [
        "My sourdough is dense.",
        reply,
        "should i lower the hydration",
        answer,
        "last?",
        reply,
    ]


async def test_the_core_stores_valid_text_whatever_a_front_end_hands_it(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d")
    a = Assistant(backend=FakeBackend(lambda _m: "ok"), store=store, clock=FakeClock())
    try:
        await a.new_session(f"title {BAD}")
        done = [e async for e in a.ask(f"caf\udce9 {BAD} au lait") if isinstance(e, ReplyDone)]
        assert done and a.session is not None
        assert a.session.title == f"title {R}"
        assert [m.content for m in await store.messages(a.session.id)] == [
            f"caf{R} {R} au lait",
            "ok",
        ]
    finally:
        await a.close()
        await store.close()


def test_invalid_utf8_typed_in_plain_mode_is_kept_as_replacement_characters(
    tmp_path: Path,
) -> None:
    data = tmp_path / "d"
    with FakeOllama(reply="Noted.") as srv:
        args = ["-m", "sleepchat", "--plain", "--backend", "ollama", "--host", srv.url]
        args += ["--model", "llama3.2", "--data-dir", str(data), "--idle-seconds", "600"]
        child = pexpect.spawn(sys.executable, args, timeout=30, dimensions=(30, 120))
        child.expect("›".encode())
        os.write(child.child_fd, b"caf\xe9 \xff\xfe ok\r")
        child.expect(b"Noted.")
        child.expect("›".encode())
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        child.close()
        output = child.before or b""
    assert child.exitstatus == 0, output.decode(errors="replace")
    assert b"Traceback" not in output
    [question, reply] = _stored(data)
    assert question.startswith("caf") and question.endswith(" ok") and R in question
    assert reply == "Noted."

"""Streams that never end a line, never send text, or never stop (issue 21.1), on both wires
(Ollama's NDJSON, OpenAI's SSE): each ends with a one-line error in bounded time and memory,
the words that came first are kept, and a scripted session stores the question and them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import stored_messages
from support.hostile_server import (
    MODEL,
    Body,
    base_url,
    blank_lines,
    endless_event,
    endless_line,
    endless_text,
    handler,
    keepalive_only,
    measure_memory,
)
from support.http_stub import Stub

from sleepchat.core.ports import Backend
from sleepchat.llm.base import BackendError, BackendStreamError, BackendTimeout
from sleepchat.llm.bounds import MAX_REPLY_CHARS
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.llm.openai import OpenAIBackend

WIRES = ["ollama", "openai"]
READ_S = 1.0  # timeouts.read in these tests


def _backend(wire: str, url: str, read: float = READ_S) -> Backend:
    if wire == "ollama":
        return OllamaBackend(url, MODEL, read_timeout=read)
    return OpenAIBackend(url, MODEL, read_timeout=read)


async def _reply(wire: str, body: Body, read: float = READ_S) -> tuple[str, BackendError, Stub]:
    """The text streamed before the error, the error, and the stub (its requests)."""
    with Stub(handler(wire, body)) as stub:
        backend = _backend(wire, base_url(wire, stub.url), read)
        text = ""
        try:
            with pytest.raises(BackendError) as info:
                async for chunk in backend.chat_stream([{"role": "user", "content": "hi"}]):
                    text += chunk.text
        finally:
            await backend.aclose()
        # The connection was closed: the server's next write failed.
        assert stub.wait(lambda rs: all(r.finished for r in rs), timeout=10)
    return text, info.value, stub


def _one_line(error: BackendError) -> str:
    assert "\n" not in error.message and "Traceback" not in error.message
    return error.message


@pytest.mark.parametrize("wire", WIRES)
async def test_a_line_without_end_is_cut_at_a_megabyte(wire: str) -> None:
    start = time.monotonic()
    text, error, stub = await _reply(wire, endless_line())
    assert text == "w0 w1 w2 w3 w4 "
    assert isinstance(error, BackendStreamError)
    assert "1 MB without a line end" in _one_line(error) and "127.0.0.1" in error.message
    chat = stub.requests[-1]
    assert chat.disconnected  # the server still had 199 MB to send
    assert time.monotonic() - start < 30  # not the read timeout's wait, not 200 MB


async def test_an_sse_event_that_never_ends_is_cut_at_a_megabyte() -> None:
    text, error, stub = await _reply("openai", endless_event())
    assert text == "w0 w1 w2 w3 w4 "
    assert "an event of more than 1 MB" in _one_line(error)
    assert stub.requests[-1].disconnected


@pytest.mark.parametrize("wire", WIRES)
async def test_keepalives_without_text_are_no_answer(wire: str) -> None:
    """SSE comments and blank lines (OpenAI), parts with empty text (Ollama): bytes keep
    coming, text does not; timeouts.read counts from the last text."""
    start = time.monotonic()
    text, error, _stub = await _reply(wire, keepalive_only())
    waited = time.monotonic() - start
    assert text == "w0 w1 w2 w3 w4 "
    assert isinstance(error, BackendTimeout)
    assert f"no reply text for {READ_S:g} s" in _one_line(error)
    assert "timeouts.read" in error.message
    assert READ_S <= waited < READ_S + 20


async def test_blank_lines_on_ollamas_wire_end_the_reply() -> None:
    text, error, _stub = await _reply("ollama", blank_lines())
    assert text == "w0 w1 w2 w3 w4 "
    assert isinstance(error, BackendStreamError)
    _one_line(error)


@pytest.mark.parametrize("wire", WIRES)
async def test_a_reply_that_never_stops_is_cut(wire: str) -> None:
    text, error, _stub = await _reply(wire, endless_text(), read=30.0)
    assert "1 MB of text" in _one_line(error)
    assert MAX_REPLY_CHARS - 50_000 < len(text) <= MAX_REPLY_CHARS
    assert text.startswith("t0xxx") and " t1xxx" in text


@pytest.mark.parametrize("wire", WIRES)
def test_memory_stays_flat_while_a_server_streams_200_mb_without_a_line_end(wire: str) -> None:
    """Before the bounds: +500 MB (Ollama's client) and +600 MB (SSE) resident; now a few."""
    figures = measure_memory(wire, megabytes=200)
    assert "without a line end" in figures["error"]
    assert figures["peak_mb"] - figures["start_mb"] < 100, figures


# -- the whole way: a scripted session keeps the question and the words ------------------------
@pytest.fixture(params=WIRES)
def hostile(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    wire = request.param
    with Stub(handler(wire, keepalive_only())) as stub:
        yield wire, base_url(wire, stub.url)


def test_a_script_keeps_the_question_and_the_words(
    tmp_path: Path, hostile: tuple[str, str]
) -> None:
    wire, url = hostile
    data = tmp_path / "d"
    config = tmp_path / "c.yaml"
    config.write_text("timeouts:\n  read: 1\nsleep:\n  enabled: false\n")
    cmd = [sys.executable, "-m", "sleepchat", "--config", str(config), "--data-dir", str(data)]
    cmd += ["--backend", wire, "--host", url, "--model", MODEL]
    proc = subprocess.run(cmd, input=b"Tell me\n", capture_output=True, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "no reply text for 1 s" in err
    assert proc.stdout.decode().startswith("w0 w1 w2 w3 w4")
    messages = stored_messages(data)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "Tell me"
    assert messages[1]["content"] == "w0 w1 w2 w3 w4 " and messages[1]["interrupted"]

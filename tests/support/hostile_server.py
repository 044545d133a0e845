"""Model servers that never end a line, never send text, or never stop: the bodies, and a stub
(``http_stub``) that serves one of them on either wire (Ollama's NDJSON, OpenAI's SSE).

A body is an iterator of byte chunks, written as it comes; it ends when the client leaves (the
stub's write fails) or after ``seconds`` at most, so a test that fails does not hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from support.http_stub import Reply, Request, Stub, json_reply

MODEL = "llama3.2"
Body = Callable[[str], Iterator[bytes]]  # wire ("ollama" | "openai") -> chunks
LIMIT_S = 60.0  # no body runs longer


def part(wire: str, text: str, *, done: bool = False) -> bytes:
    """One piece of reply text, as the wire sends it."""
    if wire == "ollama":
        obj: dict[str, Any] = {
            "model": MODEL,
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text},
            "done": done,
        }
        if done:
            obj.update(done_reason="stop", eval_count=1, prompt_eval_count=1)
        return json.dumps(obj).encode() + b"\n"
    delta = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(delta)}\n\n".encode()


def words(wire: str, n: int = 5) -> Iterator[bytes]:
    for i in range(n):
        yield part(wire, f"w{i} ")


def endless_line(megabytes: int = 200) -> Body:
    """A few words, then ``megabytes`` without a line end (in 64 KB writes)."""

    def body(wire: str) -> Iterator[bytes]:
        yield from words(wire)
        yield b'{"message": {"content": "' if wire == "ollama" else b"data: "
        chunk = b"x" * 65536
        for _ in range(megabytes * 16):
            yield chunk

    return body


def endless_event(megabytes: int = 50) -> Body:
    """SSE: a few words, then data lines that never meet a blank line (one event, growing)."""

    def body(wire: str) -> Iterator[bytes]:
        yield from words(wire)
        line = b"data: " + b"y" * 4000 + b"\n"
        for _ in range(megabytes * 256):
            yield line

    return body


def keepalive_only(period: float = 0.05) -> Body:
    """A few words, then what is not text, forever: SSE comments and blank lines (OpenAI), parts
    with empty text (Ollama)."""

    def body(wire: str) -> Iterator[bytes]:
        yield from words(wire)
        nothing = part("ollama", "") if wire == "ollama" else b": ping\n\n\n"
        end = time.monotonic() + LIMIT_S
        while time.monotonic() < end:
            time.sleep(period)
            yield nothing

    return body


def blank_lines(period: float = 0.05) -> Body:
    """A few words, then blank lines forever (Ollama's NDJSON has no keep-alive of its own)."""

    def body(wire: str) -> Iterator[bytes]:
        yield from words(wire)
        end = time.monotonic() + LIMIT_S
        while time.monotonic() < end:
            time.sleep(period)
            yield b"\n"

    return body


def endless_text(word_chars: int = 2000, words_per_part: int = 20) -> Body:
    """Reply text that never stops and never repeats (big deltas of long words: what costs
    time here is the text, not the loop guard's work per word)."""

    def body(wire: str) -> Iterator[bytes]:
        end, n = time.monotonic() + LIMIT_S, 0
        while time.monotonic() < end:
            pieces = (f"t{n + i}".ljust(word_chars, "x") for i in range(words_per_part))
            yield part(wire, " ".join(pieces) + " ")
            n += words_per_part

    return body


def handler(wire: str, body: Body) -> Callable[[Request], Reply]:
    """Everything a backend asks before a chat answered as a real server would; each chat with
    ``body``."""

    def handle(request: Request) -> Reply:
        path = request.path
        if path in ("/api/chat", "/v1/chat/completions"):
            kind = "application/x-ndjson" if wire == "ollama" else "text/event-stream"
            return Reply(200, body(wire), {"Content-Type": kind})
        if wire == "openai" and path == "/v1/models":
            return json_reply({"object": "list", "data": [{"id": MODEL, "owned_by": "vllm"}]})
        if wire == "openai":
            return json_reply({"error": "not found"}, 404)
        if path == "/api/tags":
            return json_reply({"models": [{"name": f"{MODEL}:latest", "model": f"{MODEL}:latest"}]})
        if path == "/api/version":
            return json_reply({"version": "0.6.5"})
        return json_reply({"error": "not found"}, 404)

    return handle


def base_url(wire: str, stub_url: str) -> str:
    return stub_url + "/v1" if wire == "openai" else stub_url


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: of this program, where ru_maxrss also
    counts the parent it was forked from)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def memory_child(wire: str, url: str) -> None:
    """Run in a fresh process: stream one reply from ``url`` and print, as JSON, the resident
    memory at start (everything imported, the backend built) and at its peak, and the error."""
    import asyncio

    from sleepchat.llm.base import BackendError
    from sleepchat.llm.ollama import OllamaBackend
    from sleepchat.llm.openai import OpenAIBackend

    async def main() -> str:
        backend = (OllamaBackend if wire == "ollama" else OpenAIBackend)(url, MODEL)
        try:
            async for _chunk in backend.chat_stream([{"role": "user", "content": "hi"}]):
                pass
        except BackendError as exc:
            return exc.message
        finally:
            await backend.aclose()
        return ""

    start = _rss_mb()
    error = asyncio.run(main())
    peak = _peak_mb()
    print(json.dumps({"start_mb": start, "peak_mb": peak, "error": error}))


def measure_memory(wire: str, megabytes: int = 200) -> dict[str, Any]:
    """``memory_child`` against a server sending ``megabytes`` without a line end."""
    with Stub(handler(wire, endless_line(megabytes))) as stub:
        code = (
            "import sys; sys.path.insert(0, 'tests'); from support.hostile_server import "
            f"memory_child; memory_child({wire!r}, {base_url(wire, stub.url)!r})"
        )
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=300, cwd=root
        )
        assert out.returncode == 0, out.stderr.decode()[-2000:]
        sent = sum(r.finished for r in stub.requests)
    figures: dict[str, Any] = json.loads(out.stdout)
    figures["requests_finished"] = sent
    return figures

"""A scripted OpenAI-compatible server on loopback (on ``http_stub``): /v1/models, streamed
/v1/chat/completions, /v1/embeddings, llama-server's /props, and the failures a real one
shows (a key refused, 429 with Retry-After, HTML, a cut stream, a rejected response_format).

Use: ``from support.openai_stub import fake_openai`` (a fixture) and set attributes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from support.http_stub import Reply, Request, Stub, json_reply

MODEL = "smollm2"


@dataclass
class FakeOpenAI:
    models: list[str] = field(default_factory=lambda: [MODEL])
    owned_by: str = "me"
    slots: int | None = None  # served at /props (llama-server) when set
    key: str | None = None  # required as a bearer token when set
    reply: str = "Hello from the server"
    structured: str = '{"answer": "yes"}'
    accepts: tuple[str, ...] = ("json_schema", "json_object")  # response_format types taken
    cut_after: int | None = None  # close the stream after this many deltas
    usage: bool = True
    hold: threading.Event | None = None  # set: the stream waits for it after the first delta
    embedding_model: str | None = None
    once: list[Reply] = field(default_factory=list)  # replies to send first, one per request
    once_chat: list[Reply] = field(default_factory=list)  # the same, for chat requests only
    stub: Stub | None = None

    @property
    def url(self) -> str:
        assert self.stub is not None
        return self.stub.url + "/v1"

    @property
    def requests(self) -> list[Request]:
        assert self.stub is not None
        return self.stub.requests

    def chats(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def handle(self, request: Request) -> Reply:
        if self.key is not None and request.headers.get("authorization") != f"Bearer {self.key}":
            return json_reply({"error": {"message": "Incorrect API key provided"}}, 401)
        if self.once:
            return self.once.pop(0)
        path = request.path
        if path == "/props" and self.slots is not None:
            return json_reply({"total_slots": self.slots})
        if path == "/v1/models":
            data = [{"id": m, "object": "model", "owned_by": self.owned_by} for m in self.models]
            return json_reply({"object": "list", "data": data})
        if path == "/v1/embeddings":
            return self._embed(request)
        if path == "/v1/chat/completions":
            return self.once_chat.pop(0) if self.once_chat else self._chat(request)
        return json_reply({"detail": "Not Found"}, 404)

    def _embed(self, request: Request) -> Reply:
        body = request.json()
        if body["model"] != self.embedding_model:
            return json_reply({"error": {"message": "model cannot embed"}}, 500)
        rows = [
            {"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(body["input"])
        ]
        return json_reply({"data": rows})

    def _chat(self, request: Request) -> Reply:
        body = request.json()
        fmt = body.get("response_format")
        if fmt is not None and fmt["type"] not in self.accepts:
            message = f"response_format.type: Input should be {self.accepts}"
            return json_reply({"error": {"message": message}}, 500)
        text = self.structured if fmt is not None else self.reply
        return Reply(200, self._sse(text, body), {"Content-Type": "text/event-stream"})

    def _sse(self, text: str, body: dict) -> Iterator[bytes]:
        words = text.split(" ")
        limit = body.get("max_tokens")
        cut = limit is not None and len(words) > limit
        words = words[:limit] if limit is not None else words
        for i, word in enumerate(words):
            if self.cut_after is not None and i >= self.cut_after:
                return
            delta = {"content": word if i == 0 else " " + word}
            yield _event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            if i == 0 and self.hold is not None:
                self.hold.wait(30)
        finish = {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "length" if cut else "stop"}]
        }
        yield _event(finish)
        if self.usage:
            usage = {"prompt_tokens": 7, "completion_tokens": len(words)}
            yield _event({"choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"


def _event(obj: object) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    with Stub(fake.handle) as stub:
        fake.stub = stub
        yield fake

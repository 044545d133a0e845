"""A scripted in-process backend for tests, demos and the quick benchmark.

It models what matters to sleepchat: streamed chunks, token stats, a one-slot server
(requests serialise), and a KV cache for a shared prompt prefix (prefill cost applies to the
uncached tokens only). Delays are zero unless asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from sleepchat.llm.base import (
    BackendError,
    BackendStreamError,
    BaseBackend,
    Capabilities,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatStats,
    HealthInfo,
)

Responder = Callable[[Sequence[ChatMessage]], str]
StructuredResponder = Callable[[Sequence[ChatMessage], type[BaseModel]], str]


def echo_responder(messages: Sequence[ChatMessage]) -> str:
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return f"You said: {last}"


@dataclass
class FakeCall:
    kind: str  # "stream" | "structured" | "embed"
    messages: list[ChatMessage]
    num_predict: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    keep_alive: str | float | None = None
    schema: str | None = None
    background: bool = False
    prefix: str = ""  # the reply's start it was asked to continue
    cancelled: bool = False
    finished: bool = False


class FakeBackend(BaseBackend):
    name = "fake"

    def __init__(
        self,
        responder: Responder = echo_responder,
        structured: StructuredResponder | None = None,
        *,
        model: str = "fake-model",
        prefill_s_per_token: float = 0.0,
        decode_s_per_token: float = 0.0,
        error: BackendError | None = None,
        fail_after_chunks: int | None = None,
        embedder: Callable[[str], list[float]] | None = None,
        parallel_slots: int = 1,
        sets_window: bool = False,
    ) -> None:
        self.responder = responder
        self.structured = structured
        self.model = model
        self.host: str | None = None
        self.prefill_s_per_token = prefill_s_per_token
        self.decode_s_per_token = decode_s_per_token
        self.error = error  # raised on every request while set
        self.fail_after_chunks = fail_after_chunks
        self.embedder = embedder
        self.capabilities = Capabilities(
            structured="schema",
            embeddings=embedder is not None,
            prefix_cache=True,
            parallel_slots=parallel_slots,
            continues=True,
            sets_window=sets_window,
        )
        self.calls: list[FakeCall] = []
        # Released to let a held stream continue; tests use it to freeze a request mid-way.
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()  # set when any request starts
        # One request at a time by default, like Ollama's default; more with parallel_slots.
        self._slot = asyncio.Semaphore(parallel_slots)
        self._cached: list[str] = []  # token list of the last processed prompt

    # -- helpers -----------------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[str]:
        toks: list[str] = []
        for m in messages:
            toks.append(f"<{m['role']}>")
            toks.extend(m["content"].split())
        return toks

    def _prefill(self, tokens: list[str]) -> int:
        """Return how many tokens needed computing (not in the cached prefix)."""
        shared = 0
        for a, b in zip(self._cached, tokens, strict=False):
            if a != b:
                break
            shared += 1
        self._cached = tokens
        return len(tokens) - shared

    def _record(self, kind: str, request: ChatRequest) -> FakeCall:
        """Record a request (raising the configured error, as a down server would)."""
        schema = request.schema.__name__ if request.schema is not None else None
        call = FakeCall(
            kind,
            list(request.messages),
            request.num_predict,
            request.options.to_dict(),
            request.keep_alive,
            schema=schema,
            background=request.background,
            prefix=request.prefix,
        )
        self.calls.append(call)
        if self.error is not None:
            raise self.error
        return call

    async def _prompt_ms(self, messages: Sequence[ChatMessage]) -> float:
        """Prefill: only the tokens not already in the cache cost time."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        new = self._prefill(self._prompt_tokens(messages))
        await self._delay(new * self.prefill_s_per_token)
        return (loop.time() - t0) * 1000

    async def _delay(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _reply(self, request: ChatRequest) -> str:
        if request.schema is None:
            return self.responder(request.messages)
        return self.structured(request.messages, request.schema) if self.structured else "{}"

    # -- the primitive -----------------------------------------------------------------------
    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        call = self._record("stream" if request.schema is None else "structured", request)
        async with self._slot:
            self.started.set()
            try:
                loop = asyncio.get_running_loop()
                prompt_ms = await self._prompt_ms(request.messages)
                words = self._reply(request).split(" ")
                if request.prefix:  # a continuation: the words after those already given
                    done = request.prefix.split(" ")
                    if words[: len(done)] == done:
                        words = words[len(done) :]
                cut = request.num_predict is not None and len(words) > request.num_predict
                if request.num_predict is not None:
                    words = words[: max(request.num_predict, 0)]
                t1 = loop.time()
                for i, word in enumerate(words):
                    if self.gate is not None:
                        await self.gate.wait()
                    if self.fail_after_chunks is not None and i >= self.fail_after_chunks:
                        raise BackendStreamError("the model server closed the stream mid-reply")
                    await self._delay(self.decode_s_per_token)
                    yield ChatChunk(text=word if i == 0 and not request.prefix else " " + word)
                eval_ms = (loop.time() - t1) * 1000
                yield ChatChunk(
                    stats=ChatStats(
                        prompt_tokens=len(self._cached),
                        completion_tokens=len(words),
                        prompt_ms=prompt_ms,
                        eval_ms=eval_ms,
                        total_ms=prompt_ms + eval_ms,
                        done_reason="length" if cut else "stop",
                    )
                )
                call.finished = True
            except (asyncio.CancelledError, GeneratorExit):
                call.cancelled = True
                raise

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        self.calls.append(FakeCall("embed", [{"role": "user", "content": t} for t in texts]))
        if self.error is not None:
            raise self.error
        if self.embedder is None:
            raise BackendError("the fake backend has no embedding model")
        return [self.embedder(t) for t in texts]

    async def list_models(self) -> list[str]:
        return [self.model]

    async def health(self) -> HealthInfo:
        if self.error is not None:
            raise self.error
        return HealthInfo(backend="fake", host=None, version="fake", models=[self.model])

    async def ensure_model(self) -> None:
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        return None


def json_responder(payload: dict[str, Any]) -> StructuredResponder:
    """A structured responder that always returns ``payload`` as JSON."""
    text = json.dumps(payload)
    return lambda _messages, _schema: text

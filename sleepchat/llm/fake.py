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
    ChatChunk,
    ChatMessage,
    ChatStats,
    HealthInfo,
    M,
    ModelOptions,
    validate_reply,
)

Responder = Callable[[Sequence[ChatMessage]], str]
StructuredResponder = Callable[[Sequence[ChatMessage], type[BaseModel]], str]


def count_tokens(text: str) -> int:
    """A crude tokenizer: whitespace words (good enough for relative figures)."""
    return len(text.split())


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
    cancelled: bool = False
    finished: bool = False


class FakeBackend:
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
        self.calls: list[FakeCall] = []
        # Released to let a held stream continue; tests use it to freeze a request mid-way.
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()  # set when any request starts
        self._slot = asyncio.Lock()  # one request at a time, like Ollama's default
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

    def _record(
        self,
        kind: str,
        messages: Sequence[ChatMessage],
        num_predict: int | None,
        options: ModelOptions | None,
        keep_alive: str | float | None,
        schema: str | None = None,
    ) -> FakeCall:
        """Record a request (raising the configured error, as a down server would)."""
        opts = (options or ModelOptions()).to_dict()
        call = FakeCall(kind, list(messages), num_predict, opts, keep_alive, schema=schema)
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

    # -- protocol ----------------------------------------------------------------------------
    async def chat_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncGenerator[ChatChunk, None]:
        call = self._record("stream", messages, num_predict, options, keep_alive)
        async with self._slot:
            self.started.set()
            try:
                loop = asyncio.get_running_loop()
                prompt_ms = await self._prompt_ms(messages)
                text = self.responder(messages)
                words = text.split(" ")
                if num_predict is not None:
                    words = words[: max(num_predict, 0)]
                t1 = loop.time()
                for i, word in enumerate(words):
                    if self.gate is not None:
                        await self.gate.wait()
                    if self.fail_after_chunks is not None and i >= self.fail_after_chunks:
                        from sleepchat.llm.base import BackendStreamError

                        raise BackendStreamError("the model server closed the stream mid-reply")
                    await self._delay(self.decode_s_per_token)
                    yield ChatChunk(text=word if i == 0 else " " + word)
                eval_ms = (loop.time() - t1) * 1000
                yield ChatChunk(
                    stats=ChatStats(
                        prompt_tokens=len(self._cached),
                        completion_tokens=len(words),
                        prompt_ms=prompt_ms,
                        eval_ms=eval_ms,
                        total_ms=prompt_ms + eval_ms,
                        done_reason="stop",
                    )
                )
                call.finished = True
            except (asyncio.CancelledError, GeneratorExit):
                call.cancelled = True
                raise

    async def chat_structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> tuple[M, ChatStats]:
        call = self._record(
            "structured", messages, num_predict, options, keep_alive, schema.__name__
        )
        async with self._slot:
            self.started.set()
            try:
                loop = asyncio.get_running_loop()
                t0 = loop.time()
                prompt_ms = await self._prompt_ms(messages)
                if self.gate is not None:
                    await self.gate.wait()
                raw = self.structured(messages, schema) if self.structured else "{}"
                await self._delay(count_tokens(raw) * self.decode_s_per_token)
                stats = ChatStats(
                    prompt_tokens=len(self._cached),
                    completion_tokens=count_tokens(raw),
                    prompt_ms=prompt_ms,
                    eval_ms=(loop.time() - t0) * 1000 - prompt_ms,
                    done_reason="stop",
                )
                call.finished = True
            except asyncio.CancelledError:
                call.cancelled = True
                raise
        return validate_reply(schema, raw, stats), stats

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

"""The shared base of every model server: it implements the core's ``Backend`` port
(``core/ports.py``, with the types and errors a backend speaks in, named here too).

A backend is small: ONE streaming primitive (``stream``: a request in, text chunks out, the
last one carrying the stats), listing and health, and a declaration of what it can do
(``Capabilities``). Structured output, the warm-up and collecting a reply are built once, here,
on that primitive. (Shaped after simonw/llm's model plugins: one ``execute()`` generator,
capability flags, an options class.)

Front ends and the core only ever see the port's types; ``ollama`` and ``llama_cpp`` are
imported by their own modules alone.
"""

from __future__ import annotations

import contextlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from sleepchat.core.errors import (
    BackendError,
    BackendServerError,
    BackendStreamError,
    BackendTimeout,
    BackendUnavailable,
    BackendUnreachable,
    EmbeddingError,
    ModelNotFound,
    SchemaError,
)
from sleepchat.core.ports import (
    WARM_UP_TOKENS,
    Capabilities,
    ChatChunk,
    ChatMessage,
    ChatStats,
    ModelOptions,
    StructuredMode,
    settled,
)
from sleepchat.llm.loops import LoopGuard
from sleepchat.text import valid_text

# The port's types and errors (defined in the core), named here too for the backends.
__all__ = [
    "WARM_UP_TOKENS",
    "BackendError",
    "BackendServerError",
    "BackendStreamError",
    "BackendTimeout",
    "BackendUnavailable",
    "BackendUnreachable",
    "BaseBackend",
    "Capabilities",
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatStats",
    "EmbeddingError",
    "HealthInfo",
    "ModelNotFound",
    "ModelOptions",
    "SchemaError",
    "StructuredMode",
    "grammar_schema",
    "json_body",
    "schema_instructions",
    "validate_reply",
]


@dataclass(frozen=True)
class HealthInfo:
    backend: str
    host: str | None
    version: str | None
    models: list[str]


M = TypeVar("M", bound=BaseModel)

YES_NO_TOKENS = 3  # "Yes." is one to three tokens on every tokenizer here


def first_word(text: str) -> str:
    """The reply's first word, lowercased, without markup or punctuation ("**Yes.**": "yes")."""
    match = re.search(r"[A-Za-z]+", text)
    return match.group(0).lower() if match else ""


# "\ud800"-style escapes: valid JSON, but a lone one decodes to text nothing can encode.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _valid_strings(data: Any) -> Any:
    """Decoded JSON with every string made valid Unicode (lone surrogates replaced)."""
    if isinstance(data, str):
        return valid_text(data)
    if isinstance(data, list):
        return [_valid_strings(v) for v in data]
    if isinstance(data, dict):
        return {valid_text(k): _valid_strings(v) for k, v in data.items()}
    return data


def validate_reply(schema: type[M], raw: str, stats: ChatStats, *, lenient: bool = False) -> M:
    """A structured reply validated against ``schema``, or SchemaError naming where it failed.

    ``lenient`` admits raw control characters inside JSON strings (a llama.cpp grammar lets
    newlines through that strict JSON forbids)."""
    try:
        if not lenient and not _SURROGATE_ESCAPE.search(raw):
            return schema.model_validate_json(raw)
        try:
            data: Any = _valid_strings(json.loads(raw, strict=not lenient))
        except ValueError:
            data = raw  # not JSON at all: let validation say so
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        detail = f"{where or 'reply'}: {errors[0]['msg']}" if errors else str(exc)
        if stats.done_reason == "length":
            detail = f"cut short by the token limit; {detail}"
        raise SchemaError(
            f"the model's reply does not match the {schema.__name__} schema ({detail})", raw
        ) from None


# Length bounds unrolled into grammar rules blow past llama.cpp's limits (a 2,000-char string
# is 2,000 nested rules): the grammar then fails to parse and the sampler crashes the process.
# pydantic checks these bounds after generation instead.
_UNROLLED = frozenset({"maxLength", "minLength", "pattern"})
MAX_UNROLLED_ITEMS = 10


def grammar_schema(schema: Any) -> Any:
    """The JSON schema without the bounds a grammar cannot afford."""
    if isinstance(schema, dict):
        return {
            k: grammar_schema(v)
            for k, v in schema.items()
            if k not in _UNROLLED and not (k == "maxItems" and v > MAX_UNROLLED_ITEMS)
        }
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    return schema


@dataclass(frozen=True)
class ChatRequest:
    """One request to the streaming primitive."""

    messages: Sequence[ChatMessage]
    options: ModelOptions = field(default_factory=ModelOptions)
    num_predict: int | None = None  # tokens at most; None: the backend's default
    keep_alive: str | float | None = None  # how long the server keeps the model loaded after
    # Constrain the reply to this schema (set only when capabilities.structured allows it).
    schema: type[BaseModel] | None = None
    # Work nobody is waiting for (reflection): a backend may give it fewer resources so the
    # app stays responsive (the embedded model leaves a core free).
    background: bool = False
    # The reply's start, already generated (a precomputed answer cut by a key): the model
    # continues it; only backends with ``capabilities.continues`` are sent one.
    prefix: str = ""


def schema_instructions(
    messages: Sequence[ChatMessage], schema: type[BaseModel]
) -> list[ChatMessage]:
    """The messages with the schema described in the last one (the tail: the prefix before it
    stays cacheable), for servers that cannot constrain their output."""
    described = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    tail = f"\n\nReply with one JSON object only, no prose, matching this JSON schema: {described}"
    out = [dict(m) for m in messages]
    if out and out[-1]["role"] == "user":
        out[-1]["content"] += tail
    else:
        out.append({"role": "user", "content": tail.strip()})
    return out


def json_body(text: str) -> str:
    """The JSON object in a reply that wraps it in a Markdown fence or a sentence."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


class BaseBackend(ABC):
    """A chat model server: the core's ``Backend`` port. Implementations: OllamaBackend,
    OpenAIBackend, LlamaCppBackend, FakeBackend.

    A subclass implements ``stream``, ``list_models`` and ``health`` and sets ``capabilities``;
    it overrides ``ensure_model``, ``embed`` and ``aclose`` where the server has more to say.
    """

    name: ClassVar[str]  # "ollama" | "local" | "fake"
    model: str
    host: str | None = None
    capabilities: Capabilities = Capabilities()

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream one reply: text chunks, then a last chunk with the stats. Consumers close it
        with ``contextlib.aclosing``; closing it (or cancelling the consumer) must stop the
        server generating when ``capabilities.stops_on_close``. Errors are BackendErrors."""

    @abstractmethod
    async def list_models(self) -> list[str]: ...

    @abstractmethod
    async def health(self) -> HealthInfo:
        """The server's version and models; BackendUnreachable/Unavailable when it is not there."""

    async def ensure_model(self) -> None:
        """Raises ModelNotFound (saying how to get it) when the model is missing."""
        if self.model not in await self.list_models():
            raise ModelNotFound(
                f"model '{self.model}' is not available on {self.host or self.name}"
            )

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        raise BackendError(
            f"the {self.name} backend has no embedding model; recall uses lexical matching"
        )

    async def aclose(self) -> None:
        return None

    # -- built on the primitive ------------------------------------------------------------
    def chat_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
        prefix: str = "",
    ) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply (``stream`` with keyword arguments)."""
        opts = options or ModelOptions()
        if prefix and not self.capabilities.continues:
            raise BackendError(f"the {self.name} backend cannot continue a reply")
        request = ChatRequest(
            list(messages), opts, num_predict, keep_alive, background=background, prefix=prefix
        )
        return self.guarded(request)

    async def guarded(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """``stream`` made safe: its text valid Unicode (a server may send a lone surrogate,
        ``"\\ud800"``, which no file, JSON dump or terminal could take), and stopped when the
        reply starts looping: the stream is closed (the server stops) and a last chunk says so
        (``done_reason`` "repetition"). Closing this closes the server's stream."""
        guard = LoopGuard()
        chunks_seen = 0
        async with contextlib.aclosing(self.stream(request)) as chunks:
            async for chunk in chunks:
                if chunk.text:
                    chunk.text = valid_text(chunk.text)
                yield chunk
                chunks_seen += 1
                if chunk.stats is None and guard.feed(chunk.text):
                    break
            else:
                return
        # The server's own figures never came: a chunk is about a token on every server here.
        yield ChatChunk(stats=ChatStats(completion_tokens=chunks_seen, done_reason="repetition"))

    async def complete(self, request: ChatRequest) -> tuple[str, ChatStats]:
        """The whole reply of one request and its stats. Cancellable at any await: the stream
        is closed on the way out."""
        pieces: list[str] = []
        stats = ChatStats()
        async with contextlib.aclosing(self.guarded(request)) as chunks:
            async for chunk in chunks:
                pieces.append(chunk.text)
                if chunk.stats is not None:
                    stats = chunk.stats
        return "".join(pieces), stats

    async def chat_structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
    ) -> tuple[M, ChatStats]:
        """One JSON reply held to ``schema`` as well as the server can (capabilities.structured),
        validated by pydantic. Raises SchemaError when the text does not validate."""
        mode = self.capabilities.structured
        opts = options or ModelOptions()
        if mode == "instructions":
            sent, constrain = schema_instructions(messages, schema), None
        else:
            sent, constrain = list(messages), schema
        request = ChatRequest(sent, opts, num_predict, keep_alive, constrain, background)
        raw, stats = await self.complete(request)
        if mode == "instructions":
            raw = json_body(raw)
        # A grammar or plain instructions let raw control characters into JSON strings.
        return validate_reply(schema, raw, stats, lenient=mode != "schema"), stats

    async def keep_judge_starts(
        self,
        groups: Sequence[Sequence[Sequence[ChatMessage]]],
        *,
        options: ModelOptions | None = None,
        background: bool = True,
    ) -> None:
        """Have the judge questions' starts ready (core/recall/judge.py): nothing to do for a
        server, which is asked for one token per question and keeps its own prefix cache."""
        return None

    async def yes_margins(
        self,
        questions: Sequence[Sequence[ChatMessage]],
        *,
        options: ModelOptions | None = None,
        stop_outside: tuple[float, float] | None = None,
    ) -> list[float]:
        """The recall judge's yes/no questions (core/recall/judge.py): +1 for a reply that
        starts with "yes", -1 for any other, stopping after the first that settles the pair
        (``stop_outside``: ports.settled). A backend that can read the model's log-probabilities
        returns the log-odds of "yes" over "no" instead."""
        opts = options or ModelOptions()
        greedy = ModelOptions(opts.num_ctx, 0.0, opts.seed, dict(opts.extra))
        margins: list[float] = []
        for messages in questions:
            request = ChatRequest(list(messages), greedy, YES_NO_TOKENS)
            text, _stats = await self.complete(request)
            margins.append(1.0 if first_word(text) == "yes" else -1.0)
            if settled(margins[-1], stop_outside):
                break
        return margins

    async def warm_up(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
    ) -> ChatStats:
        """Have the server process ``messages`` now, so that the next request starting with them
        prefills only its own tokens (worth it only with ``capabilities.prefix_cache``)."""
        opts = options or ModelOptions()
        request = ChatRequest(
            list(messages), opts, WARM_UP_TOKENS, keep_alive, background=background
        )
        _text, stats = await self.complete(request)
        return stats

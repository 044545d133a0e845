"""The backend protocol every model server implements, and its typed errors.

Front ends and the core only ever see these types; ``ollama`` and ``llama_cpp`` are imported
by their own modules alone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from sleepchat.errors import SleepchatError

ChatMessage = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ModelOptions:
    """Model options sent with *every* request; identical options keep the server's cache valid
    (a different ``num_ctx`` makes Ollama reload the model)."""

    num_ctx: int | None = None
    temperature: float | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, num_predict: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self.extra.items()}
        for key in ("num_ctx", "temperature", "seed"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if num_predict is not None:
            out["num_predict"] = num_predict
        return out


@dataclass
class ChatStats:
    """What the server reported about one request (None where it said nothing)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_ms: float | None = None  # prefill time
    eval_ms: float | None = None  # generation time
    load_ms: float | None = None
    total_ms: float | None = None
    done_reason: str | None = None
    # Something the user should know about this request, e.g. that old turns were dropped.
    notice: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if self.completion_tokens and self.eval_ms:
            return self.completion_tokens / (self.eval_ms / 1000.0)
        return None


@dataclass
class ChatChunk:
    """A piece of streamed text; the last chunk of a stream carries ``stats``."""

    text: str = ""
    stats: ChatStats | None = None


@dataclass(frozen=True)
class HealthInfo:
    backend: str
    host: str | None
    version: str | None
    models: list[str]


class BackendError(SleepchatError):
    """A model-server failure with a one-line, user-facing message that names the fix."""


class BackendUnreachable(BackendError):
    """The server cannot be reached (refused, DNS, no route)."""


class ModelNotFound(BackendError):
    """The configured model is not available on the server."""


class BackendStreamError(BackendError):
    """The stream broke: an ``{"error": ...}`` line, a dropped connection, garbage."""


class BackendServerError(BackendError):
    """The server answered with an HTTP error (5xx or unexpected 4xx)."""


class BackendTimeout(BackendError):
    """The server stopped answering within the configured timeout."""


class BackendUnavailable(BackendError):
    """The backend cannot be used here at all (e.g. llama-cpp-python not installed)."""


class SchemaError(BackendError):
    """Structured output did not validate against the requested schema."""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


def validate_reply(schema: type[M], raw: str, stats: ChatStats, *, lenient: bool = False) -> M:
    """A structured reply validated against ``schema``, or SchemaError naming where it failed.

    ``lenient`` admits raw control characters inside JSON strings (a llama.cpp grammar lets
    newlines through that strict JSON forbids)."""
    try:
        if not lenient:
            return schema.model_validate_json(raw)
        try:
            data: Any = json.loads(raw, strict=False)
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


class Backend(Protocol):
    """A chat model server. Implementations: OllamaBackend, LlamaCppBackend, FakeBackend."""

    name: str  # "ollama" | "local" | "fake"
    model: str
    host: str | None

    def chat_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply. Consume with ``contextlib.aclosing`` so a cancel closes the stream
        (the server must see the disconnect and stop generating)."""
        ...

    async def chat_structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> tuple[M, ChatStats]:
        """One JSON reply constrained by ``schema`` (``format=``), validated by pydantic.
        Raises SchemaError when the text does not validate. Cancellable at any await."""
        ...

    async def embed(
        self, texts: Sequence[str], *, model: str | None = None
    ) -> list[list[float]]: ...

    async def list_models(self) -> list[str]: ...

    async def health(self) -> HealthInfo:
        """Raises BackendUnreachable when the server is down."""
        ...

    async def ensure_model(self) -> None:
        """Raises ModelNotFound (with the pull command) when the model is missing."""
        ...

    async def aclose(self) -> None: ...

"""OllamaBackend: the Backend base on ``ollama.AsyncClient`` (the only module importing it).

Every failure leaves here as a typed BackendError with a one-line message naming the fix;
httpx, ollama and JSON exceptions never escape. Streams are iterated inside
``contextlib.aclosing`` so a cancelled or abandoned reply closes the HTTP response, and Ollama
(which stops generating when its client leaves) frees its one slot at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, cast

import httpx
import ollama
from pydantic import ValidationError

from sleepchat.hosts import display_host
from sleepchat.llm.base import (
    BackendError,
    BackendServerError,
    BackendStreamError,
    BackendTimeout,
    BackendUnreachable,
    BaseBackend,
    Capabilities,
    ChatChunk,
    ChatRequest,
    ChatStats,
    HealthInfo,
    ModelNotFound,
)
from sleepchat.llm.bounds import ReplyWatch
from sleepchat.llm.http import guarded_client_options


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / 1_000_000


def _stats(part: Any) -> ChatStats:
    return ChatStats(
        prompt_tokens=part.prompt_eval_count,
        completion_tokens=part.eval_count,
        prompt_ms=_ms(part.prompt_eval_duration),
        eval_ms=_ms(part.eval_duration),
        load_ms=_ms(part.load_duration),
        total_ms=_ms(part.total_duration),
        done_reason=part.done_reason,
    )


def _same_model(wanted: str, listed: str) -> bool:
    return wanted == listed or wanted.removesuffix(":latest") == listed.removesuffix(":latest")


class OllamaBackend(BaseBackend):
    name = "ollama"
    # Ollama serves one request at a time unless OLLAMA_NUM_PARALLEL says otherwise, and stops
    # generating when its client disconnects. Embeddings need an embedding model (recall).
    capabilities = Capabilities(
        structured="schema", embeddings=True, prefix_cache=True, parallel_slots=1, sets_window=True
    )

    def __init__(
        self,
        host: str,
        model: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        headers: Mapping[str, str] | None = None,
        parallel_slots: int | None = None,
        client: ollama.AsyncClient | None = None,
    ) -> None:
        self.host: str | None = display_host(host)
        if parallel_slots:  # OLLAMA_NUM_PARALLEL on the server: it does not say so itself
            slots = parallel_slots
            self.capabilities = dataclasses.replace(self.capabilities, parallel_slots=slots)
        self.model = model
        self.read_timeout = read_timeout
        self._owns_client = client is None
        # ``headers`` reach Ollama behind an authenticating proxy; the client adds
        # ``Authorization: Bearer $OLLAMA_API_KEY`` itself when none is given.
        self._client = client or ollama.AsyncClient(
            host=self.host,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers=dict(headers or {}),
            **guarded_client_options(self.host),
        )

    # errors ----------------------------------------------------------------------------

    def _unreachable(self) -> BackendUnreachable:
        return BackendUnreachable(
            f"Ollama is not reachable at {self.host} — start it with `ollama serve` "
            "or set OLLAMA_HOST"
        )

    def _require_model(self, name: str) -> None:
        if not name.strip():
            raise ModelNotFound(
                "no model is configured — set `model` in the config or pass --model"
            )

    def _translate(self, exc: BaseException, *, model: str | None = None) -> BackendError:
        """Map an httpx / ollama / JSON failure to a typed error with a user-facing line."""
        if isinstance(exc, BackendError):
            return exc
        if isinstance(exc, ollama.RequestError):  # rejected by the client before sending
            return BackendError(f"invalid request to Ollama: {exc.error}")
        if isinstance(exc, ValidationError) and not exc.title.endswith("Response"):
            errors = exc.errors()
            detail = errors[0]["msg"] if errors else str(exc)
            return BackendError(f"invalid request to Ollama ({exc.title}): {detail}")
        if isinstance(exc, ollama.ResponseError):
            code, text = exc.status_code, str(exc.error).strip()
            if code == -1:  # an {"error": ...} line after the stream had begun
                return BackendStreamError(f"the model server reported an error mid-reply: {text}")
            name = model or self.model
            if code == 404 and "model" in text.lower():
                return ModelNotFound(f"model '{name}' is not available — run `ollama pull {name}`")
            if code >= 500:
                return BackendServerError(
                    f"Ollama at {self.host} answered HTTP {code}: {text} — check the server log "
                    "(`ollama serve` output)"
                )
            return BackendServerError(
                f"Ollama at {self.host} rejected the request (HTTP {code}: {text}) — check the "
                "host, model and options in the config"
            )
        # httpx.ConnectError from a stream; ollama turns it into the builtin ConnectionError
        # elsewhere. A connect timeout is "unreachable" too (host down, packets dropped).
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | ConnectionError):
            return self._unreachable()
        if isinstance(exc, httpx.TimeoutException):
            return BackendTimeout(
                f"Ollama at {self.host} did not answer within {self.read_timeout:g} s — the model "
                "may still be loading; try again or raise timeouts.read"
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return BackendStreamError(
                "the model server closed the connection mid-reply — is it still running?"
            )
        if isinstance(exc, json.JSONDecodeError | ValidationError | ValueError):
            return BackendStreamError(
                f"the server at {self.host} sent a reply that is not Ollama's JSON — is "
                "OLLAMA_HOST pointing at Ollama?"
            )
        return BackendStreamError(f"talking to Ollama at {self.host} failed: {exc}")

    async def _explained(self, exc: BaseException, *, model: str | None = None) -> BackendError:
        """``_translate``, and when the server is up but does not speak Ollama's API, whether
        it is an OpenAI-compatible server (the other backend's address given to this one)."""
        error = self._translate(exc, model=model)
        not_found = isinstance(exc, ollama.ResponseError) and exc.status_code in (404, 405)
        foreign = not_found and not isinstance(error, ModelNotFound)
        if not (foreign or "not Ollama's JSON" in error.message):
            return error
        http: httpx.AsyncClient = self._client._client
        base = (self.host or "").rstrip("/")
        for url in (f"{base}/models", f"{base}/v1/models"):
            with contextlib.suppress(*_FAILURES):
                listing = (await http.get(url, timeout=5.0)).json()
                if isinstance(listing, dict) and isinstance(listing.get("data"), list):
                    api = url.removesuffix("/models")
                    return BackendServerError(
                        f"the server at {self.host} speaks the OpenAI API, not Ollama's — use "
                        f"backend openai with host {api}"
                    )
        return error

    # chat ------------------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """One reply; the HTTP response closes with the generator (Ollama then stops)."""
        self._require_model(self.model)
        opts = request.options.to_dict(request.num_predict)
        try:
            response = await self._client.chat(
                model=self.model,
                messages=[dict(m) for m in request.messages],
                stream=True,
                format=request.schema.model_json_schema() if request.schema else None,
                options=opts or None,
                keep_alive=request.keep_alive,
            )
            # ollama's stream is an async generator; closing it closes the HTTP response
            parts = cast(AsyncGenerator[Any, None], response)
            # Only reply text counts as an answer: empty parts keep nothing alive.
            watch = ReplyWatch(
                self.host or "", self.read_timeout, lambda: self._translate(httpx.ReadTimeout(""))
            )
            async with contextlib.aclosing(parts) as stream:
                while True:
                    try:
                        part = await watch.next(stream)
                    except StopAsyncIteration:
                        break
                    text = part.message.content or ""
                    watch.text(text)
                    if part.done:
                        yield ChatChunk(text=text, stats=_stats(part))
                    elif text:
                        yield ChatChunk(text=text)
        except _FAILURES as exc:
            raise await self._explained(exc) from None

    # the rest --------------------------------------------------------------------------

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        if not texts:
            return []
        name = model or self.model
        self._require_model(name)
        try:
            response = await self._client.embed(model=name, input=list(texts))
            return [[float(x) for x in vector] for vector in response.embeddings]
        except _FAILURES as exc:
            raise await self._explained(exc, model=name) from None

    async def list_models(self) -> list[str]:
        try:
            response = await self._client.list()
            return [m.model for m in response.models if m.model]
        except _FAILURES as exc:
            raise await self._explained(exc) from None

    async def _version(self) -> str | None:
        # ollama 0.6.3 has no version() call: ask /api/version through its own httpx client,
        # so host, headers and timeouts stay the same.
        http: httpx.AsyncClient = self._client._client
        try:
            response = await http.get("/api/version")
            response.raise_for_status()
            version = response.json().get("version")
        except httpx.HTTPStatusError:
            return None  # an old server without the endpoint is still a server
        except _FAILURES as exc:
            raise await self._explained(exc) from None
        return str(version) if version is not None else None

    async def health(self) -> HealthInfo:
        version = await self._version()
        return HealthInfo(
            backend=self.name, host=self.host, version=version, models=await self.list_models()
        )

    async def ensure_model(self) -> None:
        self._require_model(self.model)
        models = await self.list_models()
        if not any(_same_model(self.model, listed) for listed in models):
            raise ModelNotFound(
                f"model '{self.model}' is not available — run `ollama pull {self.model}`"
            )

    async def aclose(self) -> None:
        if self._owns_client:
            with contextlib.suppress(httpx.HTTPError, OSError):
                await self._client.close()  # type: ignore[no-untyped-call]


# Everything the client stack raises for a failed exchange (ValueError covers json and
# pydantic validation errors; OSError covers sockets failing outside httpx's mapping).
_FAILURES: tuple[type[BaseException], ...] = (
    ollama.ResponseError,
    ollama.RequestError,
    httpx.HTTPError,
    httpx.InvalidURL,
    ConnectionError,
    OSError,
    ValueError,
)

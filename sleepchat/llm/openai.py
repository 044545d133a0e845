"""OpenAIBackend: the Backend base on any OpenAI-compatible server (llama.cpp's llama-server,
llama-cpp-python's server, vLLM, LM Studio, Ollama's /v1).

httpx talks to the server (the client every backend here is built with: redirects, proxies
and timeouts under our control, see llm/http.py); httpx-sse parses the event stream. Closing
a stream closes its connection, which every one of these servers takes as "stop generating".

Before the first request the server is asked once what it serves (``/models``): a model it
does not list is an error naming the models it has (some servers answer with whatever model
they loaded, whatever name the request carries), and what kind of server it is decides the
rest: llama.cpp servers get ``cache_prompt`` and say how many slots they have (``/props``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse
from pydantic import BaseModel

from sleepchat.hosts import display_host
from sleepchat.llm.base import (
    BackendError,
    BackendServerError,
    BackendStreamError,
    BaseBackend,
    Capabilities,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatStats,
    HealthInfo,
    M,
    ModelNotFound,
    ModelOptions,
    grammar_schema,
)
from sleepchat.llm.bounds import ReplyWatch
from sleepchat.llm.http import guarded_client_options
from sleepchat.llm.openai_errors import (
    AuthRefused,
    BackendBusy,
    FormatRejected,
    http_error,
    looks_like_html,
    scrub,
    transport_error,
)
from sleepchat.llm.openai_wire import events, parse_event, reply_stats, sampling_fields

PROBE_TIMEOUT = 10.0  # seconds for the listing and /props: they answer at once when up
# /models "owned_by" -> the kind of server (what it supports beyond the common API)
KINDS = {"llamacpp": "llama.cpp", "me": "llama-cpp-python", "vllm": "vLLM", "library": "Ollama"}
LLAMA_CPP = ("llama.cpp", "llama-cpp-python")
# Ways of asking for JSON held to a schema, tried in order until the server takes one:
# OpenAI's (llama-server, vLLM, LM Studio, Ollama), then llama-cpp-python's own.
FORMATS = ("json_schema", "json_object")
_FAILURES = (httpx.HTTPError, httpx.InvalidURL, OSError, SSEError)


@dataclass(frozen=True)
class ServerInfo:
    kind: str  # "llama.cpp", "vLLM", ... or "OpenAI-compatible" when it does not say
    models: list[str]
    slots: int | None  # parallel requests it reports, where it does


def _same_model(wanted: str, listed: str) -> bool:
    return wanted == listed or wanted.removesuffix(":latest") == listed.removesuffix(":latest")


def _response_format(style: str, schema: type[BaseModel]) -> dict[str, Any]:
    # llama.cpp servers turn the schema into a grammar: bounds it cannot afford are checked
    # after, by validate_reply (a grammar that fails to parse drops the connection).
    described = grammar_schema(schema.model_json_schema())
    if style == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": described},
        }
    return {"type": "json_object", "schema": described}


class OpenAIBackend(BaseBackend):
    name = "openai"

    def __init__(
        self,
        host: str,
        model: str,
        *,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        parallel_slots: int | None = None,
    ) -> None:
        self.host: str | None = display_host(host).rstrip("/")
        self.model = model
        self.read_timeout = read_timeout
        self._base = self.host or ""
        self._slots_setting = parallel_slots
        # Grammar-like servers let raw newlines into JSON strings: validated leniently.
        self.capabilities = Capabilities(
            structured="grammar",
            embeddings=True,
            prefix_cache=True,
            parallel_slots=parallel_slots or 1,
        )
        all_headers = {str(k): str(v) for k, v in (headers or {}).items()}
        if api_key:
            all_headers["Authorization"] = f"Bearer {api_key}"
        self._had_key = any(k.lower() == "authorization" for k in all_headers)
        # Never printed: scrubbed from anything the server echoes back.
        self._secrets = tuple(v for v in (api_key, *all_headers.values()) if v)
        self._client = httpx.AsyncClient(
            base_url=self._base + "/",
            headers=all_headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            **guarded_client_options(self._base),
        )
        self._server: ServerInfo | None = None
        self._probing = asyncio.Lock()
        self._formats = list(FORMATS)

    def __repr__(self) -> str:  # no headers, no key
        return f"OpenAIBackend({self.host!r}, {self.model!r})"

    # -- errors ------------------------------------------------------------------------------
    async def _error(self, response: httpx.Response) -> BackendError:
        await response.aread()
        return http_error(
            response,
            response.text,
            host=self._base,
            model=self.model,
            secrets=self._secrets,
            had_key=self._had_key,
        )

    def _failed(self, exc: BaseException) -> BackendError:
        error = transport_error(exc, host=self._base, read_timeout=self.read_timeout)
        return type(error)(scrub(error.message, self._secrets))

    # -- what the server is ------------------------------------------------------------------
    async def _get_json(self, url: str) -> Any:
        """GET ``url`` (relative to the base URL, or absolute); BackendError if it fails."""
        try:
            response = await self._client.get(url, timeout=PROBE_TIMEOUT)
            if response.status_code >= 300:
                raise await self._error(response)
            if looks_like_html(response, response.text):
                raise await self._error(response)
            return response.json()
        except ValueError:
            raise BackendServerError(
                f"the server at {self._base} did not answer with JSON — is host the base URL "
                "of an OpenAI-compatible API (usually ending in /v1)?"
            ) from None
        except _FAILURES as exc:
            raise self._failed(exc) from None

    def _root(self) -> str:
        return self._base.removesuffix("/v1")

    async def _wrong_address(self, first: BackendError) -> BackendError:
        """Why ``/models`` failed when the server is up: the base URL lacks /v1, or it is an
        Ollama server (its own API), or it is not a model server at all."""
        if not self._base.endswith("/v1"):
            with contextlib.suppress(BackendError):
                listing = await self._get_json(self._base + "/v1/models")
                if isinstance(listing, dict) and isinstance(listing.get("data"), list):
                    return BackendServerError(
                        f"{self._base} is not the API's base URL — set host to {self._base}/v1"
                    )
        with contextlib.suppress(BackendError):
            version = await self._get_json(self._root() + "/api/version")
            if isinstance(version, dict) and "version" in version:
                return BackendServerError(
                    f"{self._root()} is an Ollama server — use backend ollama, or host "
                    f"{self._root()}/v1 for its OpenAI-compatible API"
                )
        return first

    async def _probe(self) -> ServerInfo:
        try:
            listing = await self._get_json("models")
        except (AuthRefused, BackendBusy):
            raise
        except (BackendServerError, ModelNotFound) as exc:
            raise await self._wrong_address(exc) from None
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, list):
            raise await self._wrong_address(
                BackendServerError(
                    f"the server at {self._base} does not list models the OpenAI way — is host "
                    "an OpenAI-compatible API?"
                )
            )
        entries = [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)]
        owners = {str(e.get("owned_by", "")) for e in entries}
        kind = next((KINDS[o] for o in owners if o in KINDS), "OpenAI-compatible")
        slots = await self._slots() if kind == "llama.cpp" else None
        return ServerInfo(kind, [e["id"] for e in entries], slots)

    async def _slots(self) -> int | None:
        """The slots llama-server runs (``--parallel N``), from its /props."""
        with contextlib.suppress(BackendError):
            props = await self._get_json(self._root() + "/props")
            total = props.get("total_slots") if isinstance(props, dict) else None
            if isinstance(total, int) and total >= 1:
                return total
        return None

    async def server(self) -> ServerInfo:
        """What the server is and serves (asked once; a failure is asked again next time)."""
        async with self._probing:
            if self._server is None:
                info = await self._probe()
                slots = self._slots_setting or info.slots or 1
                self.capabilities = dataclasses.replace(self.capabilities, parallel_slots=slots)
                self._server = info
            return self._server

    async def ensure_model(self) -> None:
        info = await self.server()
        if not self.model.strip():
            raise ModelNotFound(
                f"no model is configured — pass --model (the server has: {', '.join(info.models)})"
            )
        if not any(_same_model(self.model, listed) for listed in info.models):
            have = ", ".join(info.models) if info.models else "none"
            raise ModelNotFound(
                f"model '{self.model}' is not served at {self._base} (it serves: {have}) — set "
                "--model to one of them"
            )

    async def list_models(self) -> list[str]:
        listing = await self._get_json("models")
        data = listing.get("data") if isinstance(listing, dict) else None
        return [e["id"] for e in data or [] if isinstance(e, dict) and isinstance(e.get("id"), str)]

    async def health(self) -> HealthInfo:
        info = await self.server()
        return HealthInfo(backend=self.name, host=self.host, version=info.kind, models=info.models)

    # -- chat --------------------------------------------------------------------------------
    def _body(self, request: ChatRequest, info: ServerInfo) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        body.update(sampling_fields(request.options))
        if request.num_predict is not None:
            body["max_tokens"] = request.num_predict
        if info.kind in LLAMA_CPP:
            body["cache_prompt"] = True  # keep the prefix in the slot (llama-server)
        if request.schema is not None:
            body["response_format"] = _response_format(self._formats[0], request.schema)
        return body

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """One reply; closing the generator closes the connection (the server stops)."""
        await self.ensure_model()
        info = await self.server()
        while True:
            body = self._body(request, info)
            try:
                # Nested generators are closed explicitly: a close must reach the connection.
                async with contextlib.aclosing(self._exchange(body)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                return
            except FormatRejected:
                # Nothing was streamed yet: try the next way of asking for JSON.
                self._formats.pop(0)
                if request.schema is None or not self._formats:
                    raise

    async def _exchange(self, body: dict[str, Any]) -> AsyncGenerator[ChatChunk, None]:
        started = time.monotonic()
        first: float | None = None
        count = 0
        finish: str | None = None
        usage: dict[str, Any] = {}
        timings: dict[str, Any] = {}
        done = False
        # Only reply text counts as an answer: comments and empty deltas keep nothing alive.
        watch = ReplyWatch(
            self._base, self.read_timeout, lambda: self._failed(httpx.ReadTimeout(""))
        )
        try:
            async with aconnect_sse(self._client, "POST", "chat/completions", json=body) as source:
                response = source.response
                if response.status_code >= 300:
                    raise await self._error(response)
                async with contextlib.aclosing(events(source, response, self._base)) as data:
                    while True:
                        try:
                            event = await watch.next(data)
                        except StopAsyncIteration:
                            break
                        if event == "[DONE]":
                            done = True
                            break
                        part = parse_event(event, self._base, self._secrets)
                        usage = part.get("usage") or usage
                        timings = part.get("timings") or timings
                        for choice in part.get("choices") or []:
                            delta = choice.get("delta") or choice.get("message") or {}
                            text = delta.get("content") or ""
                            finish = choice.get("finish_reason") or finish
                            if text:
                                watch.text(text)
                                count += 1
                                first = first or time.monotonic()
                                yield ChatChunk(text=text)
        except _FAILURES as exc:
            raise self._failed(exc) from None
        if finish is None:
            raise BackendStreamError(
                f"the server at {self._base} ended the reply early"
                + (" (another request may have interrupted it)" if done else "")
                + " — ask again"
            )
        end = time.monotonic()
        yield ChatChunk(stats=reply_stats(usage, timings, count, started, first, end, finish))

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
        """As the base; a server that takes no ``response_format`` at all gets the schema
        described in the prompt from then on (and the reply validated the same way)."""
        call = functools.partial(
            super().chat_structured,
            messages,
            schema,
            options=options,
            num_predict=num_predict,
            keep_alive=keep_alive,
            background=background,
        )
        try:
            return await call()
        except FormatRejected:
            self.capabilities = dataclasses.replace(self.capabilities, structured="instructions")
        return await call()

    # -- embeddings --------------------------------------------------------------------------
    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        if not texts:
            return []
        name = model or self.model
        try:
            response = await self._client.post(
                "embeddings", json={"model": name, "input": list(texts)}
            )
            if response.status_code >= 300:
                error = await self._error(response)
                raise BackendError(
                    f"the server at {self._base} cannot embed with '{name}' ({error.message}) — "
                    "serve an embedding model (llama-server --embeddings, vLLM --task embed) and "
                    "set recall.embed_model, or use recall.method: lexical"
                )
            rows = sorted(response.json()["data"], key=lambda row: row.get("index", 0))
            return [[float(x) for x in row["embedding"]] for row in rows]
        except (ValueError, KeyError, TypeError):
            raise BackendStreamError(
                f"the server at {self._base} sent embeddings in an unknown shape"
            ) from None
        except _FAILURES as exc:
            raise self._failed(exc) from None

    async def aclose(self) -> None:
        with contextlib.suppress(httpx.HTTPError, OSError):
            await self._client.aclose()

"""OllamaBackend through the real ``ollama`` client against the fake Ollama on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

import ollama
import pytest
from pydantic import BaseModel, Field
from support.ollama_server import MODEL, fake_ollama, ollama_backend, refused_port

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import (
    BackendServerError,
    BackendStreamError,
    BackendTimeout,
    BackendUnreachable,
    ChatChunk,
    ModelNotFound,
    ModelOptions,
    SchemaError,
)
from sleepchat.llm.ollama import OllamaBackend

__all__ = ["fake_ollama", "ollama_backend"]  # fixtures, imported for pytest

ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
LONG_REPLY = " ".join(f"word{i}" for i in range(400))


class Step(BaseModel):
    kind: Literal["insert", "merge", "forget"]
    text: str = Field(min_length=3)
    ids: list[int]


class Plan(BaseModel):
    steps: list[Step] = Field(min_length=1)
    confidence: float = Field(ge=0.5, le=1.0)
    title: str | None


async def collect(
    backend: OllamaBackend,
    *,
    options: ModelOptions | None = None,
    num_predict: int | None = None,
    keep_alive: str | float | None = None,
) -> list[ChatChunk]:
    stream = backend.chat_stream(
        ASK, options=options, num_predict=num_predict, keep_alive=keep_alive
    )
    async with contextlib.aclosing(stream) as chunks:
        return [chunk async for chunk in chunks]


async def wait_thread(predicate: Callable[..., bool], *args: object) -> bool:
    """Wait on one of the fake's blocking waits without blocking the event loop."""
    return await asyncio.to_thread(predicate, *args)


# streaming -------------------------------------------------------------------------------


async def test_stream_yields_the_reply_then_stats(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="Hello there, my friend.")
    chunks = await collect(ollama_backend)
    assert "".join(c.text for c in chunks) == "Hello there, my friend."
    assert len(chunks) == 5  # four tokens, then the final chunk with the stats
    assert all(c.stats is None for c in chunks[:-1])
    stats = chunks[-1].stats
    assert stats is not None
    assert stats.completion_tokens == 4
    assert stats.prompt_tokens is not None and stats.prompt_tokens > 0
    assert stats.done_reason == "stop"
    assert stats.eval_ms is not None and stats.eval_ms > 0
    assert stats.total_ms is not None and stats.total_ms >= stats.eval_ms
    assert stats.tokens_per_second is not None


async def test_options_num_predict_and_keep_alive_reach_the_server(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="one two three four five")
    options = ModelOptions(num_ctx=4096, temperature=0.2, seed=7, extra={"top_k": 20})
    chunks = await collect(ollama_backend, options=options, num_predict=2, keep_alive="30m")
    body = fake_ollama.bodies()[-1]
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["keep_alive"] == "30m"
    assert body["options"] == {
        "num_ctx": 4096,
        "temperature": 0.2,
        "seed": 7,
        "top_k": 20,
        "num_predict": 2,
    }
    assert body["messages"] == ASK
    assert "".join(c.text for c in chunks) == "one two"
    assert chunks[-1].stats is not None and chunks[-1].stats.done_reason == "length"


async def test_no_options_and_no_keep_alive_are_left_out(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    await collect(ollama_backend)
    body = fake_ollama.bodies()[-1]
    assert "options" not in body and "keep_alive" not in body


async def test_numeric_keep_alive_passes_through(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    await collect(ollama_backend, keep_alive=0)
    assert fake_ollama.bodies()[-1]["keep_alive"] == 0


# structured output -----------------------------------------------------------------------


async def test_structured_output_is_constrained_streamed_and_validated(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    plan, stats = await ollama_backend.chat_structured(ASK, Plan, num_predict=300)
    assert isinstance(plan, Plan) and plan.steps
    assert 0.5 <= plan.confidence <= 1.0
    body = fake_ollama.bodies()[-1]
    assert body["format"] == Plan.model_json_schema()
    assert body["stream"] is True  # streamed, so a cancel closes it
    assert stats.completion_tokens is not None and stats.completion_tokens > 0


async def test_fake_answers_non_streaming_structured_requests(fake_ollama: FakeOllama) -> None:
    client = ollama.AsyncClient(host=fake_ollama.url)
    response = await client.chat(
        model=MODEL, messages=ASK, stream=False, format=Plan.model_json_schema()
    )
    await client._client.aclose()
    assert Plan.model_validate_json(response.message.content or "")
    assert response.done is True and response.eval_count
    assert fake_ollama.bodies()[-1]["stream"] is False


@pytest.mark.parametrize(
    "reply",
    ['{"steps": [], "confidence": 0.9, "title": null}', "Sure! Here is the plan: step one"],
    ids=["fails-validation", "not-json"],
)
async def test_structured_reply_that_does_not_validate_is_a_schema_error(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend, reply: str
) -> None:
    fake_ollama.configure(reply=reply)
    with pytest.raises(SchemaError) as caught:
        await ollama_backend.chat_structured(ASK, Plan)
    assert caught.value.raw == reply
    assert "Plan schema" in caught.value.message
    assert "\n" not in caught.value.message


async def test_structured_reply_cut_by_the_token_limit_says_so(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    with pytest.raises(SchemaError, match="token limit"):
        await ollama_backend.chat_structured(ASK, Plan, num_predict=3)


# errors ----------------------------------------------------------------------------------


async def test_missing_model_names_the_pull_command(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend(fake_ollama.url, "mistral")
    expected = "model 'mistral' is not available — run `ollama pull mistral`"
    with pytest.raises(ModelNotFound) as caught:
        await collect(backend)
    assert caught.value.message == expected
    with pytest.raises(ModelNotFound, match=re.escape(expected)):
        await backend.chat_structured(ASK, Plan)
    with pytest.raises(ModelNotFound, match=re.escape(expected)):
        await backend.ensure_model()
    await backend.aclose()


async def test_an_empty_model_name_is_a_config_error_not_a_crash(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend(fake_ollama.url, "")
    with pytest.raises(ModelNotFound, match="set `model` in the config"):
        await collect(backend)
    await backend.aclose()
    assert fake_ollama.chat_requests == []  # refused before anything was sent


async def test_ensure_model_accepts_the_implicit_latest_tag(
    ollama_backend: OllamaBackend, fake_ollama: FakeOllama
) -> None:
    await ollama_backend.ensure_model()  # "llama3.2" is listed as "llama3.2:latest"
    tagged = OllamaBackend(fake_ollama.url, "qwen2.5:0.5b")
    await tagged.ensure_model()
    assert await collect(tagged)  # and the model answers under that name
    await tagged.aclose()
    # Only "latest" is implicit: another tag of a listed model is another model.
    other = OllamaBackend(fake_ollama.url, "qwen2.5:1.5b")
    with pytest.raises(ModelNotFound, match=re.escape("run `ollama pull qwen2.5:1.5b`")):
        await other.ensure_model()
    await other.aclose()
    assert [r.path for r in fake_ollama.recorded(None) if r.path == "/api/pull"] == []


@pytest.mark.parametrize("call", ["chat_stream", "chat_structured", "health", "list", "embed"])
async def test_refused_connection_is_unreachable_with_the_fix(call: str) -> None:
    port = refused_port()
    backend = OllamaBackend(f"127.0.0.1:{port}", MODEL, connect_timeout=2.0)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "chat_stream": lambda: collect(backend),
        "chat_structured": lambda: backend.chat_structured(ASK, Plan),
        "health": backend.health,
        "list": backend.list_models,
        "embed": lambda: backend.embed(["hi"]),
    }
    with pytest.raises(BackendUnreachable) as caught:
        await calls[call]()
    assert caught.value.message == (
        f"Ollama is not reachable at http://127.0.0.1:{port} — start it with `ollama serve` "
        "or set OLLAMA_HOST"
    )
    await backend.aclose()


async def test_error_line_mid_stream_keeps_the_text_before_it(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="alpha beta gamma delta", error_after=2, error_text="out of memory")
    received: list[str] = []
    with pytest.raises(BackendStreamError) as caught:
        async with contextlib.aclosing(ollama_backend.chat_stream(ASK)) as stream:
            async for chunk in stream:
                received.append(chunk.text)
    assert "".join(received) == "alpha beta"
    assert caught.value.message == "the model server reported an error mid-reply: out of memory"


async def test_garbage_line_is_a_stream_error(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="alpha beta gamma", garbage_after=1)
    with pytest.raises(BackendStreamError, match="not Ollama's JSON"):
        await collect(ollama_backend)


async def test_dropped_connection_is_a_stream_error(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="alpha beta gamma", drop_after=2)
    with pytest.raises(BackendStreamError) as caught:
        await collect(ollama_backend)
    assert caught.value.message == (
        "the model server closed the connection mid-reply — is it still running?"
    )
    assert fake_ollama.chat_requests[-1].dropped


async def test_http_500_names_the_server_log(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(status=500, status_text="llama runner process has terminated")
    with pytest.raises(BackendServerError) as caught:
        await collect(ollama_backend)
    assert caught.value.message == (
        f"Ollama at {fake_ollama.url} answered HTTP 500: llama runner process has terminated "
        "— check the server log (`ollama serve` output)"
    )


async def test_read_timeout_frees_the_server_for_the_next_request(
    fake_ollama: FakeOllama,
) -> None:
    backend = OllamaBackend(fake_ollama.url, MODEL, read_timeout=0.3)
    fake_ollama.then(hang=True)
    with pytest.raises(BackendTimeout) as caught:
        await collect(backend)
    assert caught.value.message == (
        f"Ollama at {fake_ollama.url} did not answer within 0.3 s — the model may still be "
        "loading; try again or raise timeouts.read"
    )
    assert await wait_thread(fake_ollama.wait_for_disconnect, 5.0)
    fake_ollama.configure(reply="back again")
    chunks = await collect(backend)  # the hung request no longer holds the one slot
    assert "".join(c.text for c in chunks) == "back again"
    await backend.aclose()


async def test_every_failure_is_a_single_line() -> None:
    with FakeOllama(status=503, status_text="server busy\nplease retry") as srv:
        backend = OllamaBackend(srv.url, MODEL)
        with pytest.raises(BackendServerError) as caught:
            await collect(backend)
        await backend.aclose()
    assert "server busy" in caught.value.message
    assert "HTTP 503" in caught.value.message


# cancellation and the one slot -----------------------------------------------------------


async def test_cancelled_stream_is_seen_by_the_server(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply=LONG_REPLY, token_delay=0.02)  # 8 s if nobody stopped it
    first = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(ollama_backend.chat_stream(ASK)) as stream:
            async for _chunk in stream:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_thread(fake_ollama.wait_for_disconnect, 5.0)
    request = fake_ollama.chat_requests[-1]
    assert request.disconnected
    assert request.chunks_sent < 400
    assert fake_ollama.disconnects == 1


async def test_leaving_a_stream_early_closes_it(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply=LONG_REPLY, token_delay=0.02)
    async with contextlib.aclosing(ollama_backend.chat_stream(ASK)) as stream:
        async for _chunk in stream:
            break
    assert await wait_thread(fake_ollama.wait_for_disconnect, 5.0)


async def test_a_cancelled_background_request_lets_the_next_one_start(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    """One slot, as in Ollama: the user's request waits until the reflection's stream closes."""
    fake_ollama.then(reply=LONG_REPLY, token_delay=0.02)  # the background reflection
    fake_ollama.then(reply="the answer")  # the user's question
    started = asyncio.Event()

    async def background() -> None:
        async with contextlib.aclosing(ollama_backend.chat_stream(ASK)) as stream:
            async for _chunk in stream:
                started.set()

    reflection = asyncio.create_task(background())
    await asyncio.wait_for(started.wait(), 5)
    user = asyncio.create_task(collect(ollama_backend))
    assert await wait_thread(fake_ollama.wait_for_requests, 2)
    assert fake_ollama.chat_requests[1].started_at is None  # queued behind the reflection
    reflection.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reflection
    chunks = await asyncio.wait_for(user, 5)
    assert "".join(c.text for c in chunks) == "the answer"
    bg, fg = fake_ollama.chat_requests
    assert bg.disconnected and bg.chunks_sent < 400
    assert fg.started_at is not None and bg.finished_at is not None
    assert fg.started_at >= bg.finished_at


# the fake's prompt cache, which benchmarks rely on --------------------------------------


async def test_fake_reuses_the_cached_prefix_until_num_ctx_changes(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.configure(reply="Hi, how can I help?")
    options = ModelOptions(num_ctx=2048)
    await collect(ollama_backend, options=options)
    history = [*ASK, {"role": "assistant", "content": "Hi, how can I help?"}]
    follow_up = [*history, {"role": "user", "content": "Tell me a joke"}]
    await _collect_messages(ollama_backend, follow_up, options)
    await _collect_messages(ollama_backend, follow_up, ModelOptions(num_ctx=4096))
    cold, warm, reloaded = fake_ollama.chat_requests
    assert cold.reloaded and cold.cached_tokens == 0
    # the whole first exchange (prompt, assistant header, five reply words) is reused
    assert not warm.reloaded and warm.cached_tokens == cold.prompt_tokens + 1 + 5
    assert warm.prompt_tokens - warm.cached_tokens == 5  # only "<user> Tell me a joke" is new
    assert reloaded.reloaded and reloaded.cached_tokens == 0


async def _collect_messages(
    backend: OllamaBackend, messages: list[dict[str, str]], options: ModelOptions
) -> str:
    async with contextlib.aclosing(backend.chat_stream(messages, options=options)) as stream:
        return "".join([c.text async for c in stream])


# embeddings, listing, health -------------------------------------------------------------


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


async def test_embed_returns_one_vector_per_text(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    texts = ["how often should I water tomatoes", "how often to water tomatoes", "bake a cake"]
    vectors = await ollama_backend.embed(texts, model="all-minilm")
    assert len(vectors) == 3 and all(len(v) == fake_ollama.embed_dim for v in vectors)
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])
    body = fake_ollama.bodies("/api/embed")[-1]
    assert body == {"model": "all-minilm", "input": texts}
    assert await ollama_backend.embed([]) == []


async def test_embed_with_a_missing_model_names_that_model(
    ollama_backend: OllamaBackend,
) -> None:
    with pytest.raises(ModelNotFound, match="run `ollama pull nomic-embed-text`"):
        await ollama_backend.embed(["x"], model="nomic-embed-text")


async def test_list_models_and_health(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend
) -> None:
    fake_ollama.models = ["llama3.2:latest", "phi3:mini"]
    assert await ollama_backend.list_models() == ["llama3.2:latest", "phi3:mini"]
    info = await ollama_backend.health()
    assert info.backend == "ollama"
    assert info.host == fake_ollama.url
    assert info.version == fake_ollama.version
    assert info.models == ["llama3.2:latest", "phi3:mini"]


def test_host_is_shown_the_way_ollama_resolves_it() -> None:
    from sleepchat.llm.ollama import display_host

    assert display_host("") == "http://127.0.0.1:11434"
    assert display_host("localhost") == "http://localhost:11434"
    assert display_host("10.0.0.5:8080") == "http://10.0.0.5:8080"
    assert display_host("https://gpu.example") == "https://gpu.example:443"
    assert display_host("http://[::1]:11434/") == "http://[::1]:11434"


class Insert(BaseModel):
    op: Literal["insert"]
    text: str = Field(min_length=5)


class Forget(BaseModel):
    op: Literal["forget"]
    id: int = Field(gt=0)
    reason: str


class Prediction(BaseModel):
    question: str
    answer: str
    made_at: datetime
    score: float = Field(gt=0, lt=1)
    pair: tuple[int, str]
    extra: dict[str, int]
    parent: Prediction | None = None


class Reflection(BaseModel):
    ops: list[Annotated[Insert | Forget, Field(discriminator="op")]]
    predictions: list[Prediction] = Field(max_length=3)


@pytest.mark.parametrize("schema", [Plan, Reflection, Prediction, Forget])
async def test_canned_structured_replies_validate_against_the_schema(
    fake_ollama: FakeOllama, ollama_backend: OllamaBackend, schema: type[BaseModel]
) -> None:
    result, _ = await ollama_backend.chat_structured(ASK, schema)
    assert isinstance(result, schema)


# the demo server -------------------------------------------------------------------------


# Started from a script in the background, a process inherits SIGINT ignored: Ctrl-C's signal
# and a kill must stop the demo server all the same, never leave it running.
@pytest.mark.parametrize(
    "stop, ignoring",
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, True)],
    ids=["ctrl-c", "ctrl-c-in-background", "kill"],
)
async def test_demo_server_streams_and_answers_any_schema(
    stop: signal.Signals, ignoring: bool
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def background() -> None:
        if ignoring:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sleepchat.devtools.fake_ollama",
            "--port",
            "0",
            "--token-delay",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=background,
    )
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 20)
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        backend = OllamaBackend(match.group(0), "any-model-name")
        chunks = await collect(backend)
        assert "Say hello" in "".join(c.text for c in chunks)
        plan, _ = await backend.chat_structured(ASK, Plan)
        assert plan.steps
        await backend.aclose()
    finally:
        proc.send_signal(stop)
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()

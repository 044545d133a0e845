"""OpenAIBackend over loopback against a scripted OpenAI-compatible server: the stream, the
model check, structured output and its fallbacks, slots, embeddings, and every failure as one
line naming the fix (secrets never in it)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel
from support.http_stub import Reply, Stub, json_reply, redirect_to
from support.ollama_server import fake_ollama, refused_port
from support.openai_stub import MODEL, FakeOpenAI, fake_openai

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import (
    BackendError,
    BackendStreamError,
    BackendUnreachable,
    ChatRequest,
    ModelNotFound,
)
from sleepchat.llm.http import RedirectRefused
from sleepchat.llm.openai import OpenAIBackend
from sleepchat.llm.openai_errors import AuthRefused, BackendBusy

__all__ = ["fake_ollama", "fake_openai"]

ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
KEY = "tok-8c1f9e2d77"


class Answer(BaseModel):
    answer: str


@pytest.fixture
async def backend(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIBackend]:
    b = OpenAIBackend(fake_openai.url, MODEL, connect_timeout=2, read_timeout=10)
    yield b
    await b.aclose()


async def reply(backend: OpenAIBackend, **kw: object) -> str:
    text, _stats = await backend.complete(ChatRequest(ASK, **kw))  # type: ignore[arg-type]
    return text


def one_line(exc: BackendError) -> str:
    assert "\n" not in exc.message and len(exc.message) < 400
    return exc.message


async def test_a_streamed_reply_with_its_stats(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    chunks = [c async for c in backend.stream(ChatRequest(ASK, num_predict=50))]
    assert "".join(c.text for c in chunks) == fake_openai.reply
    assert len([c for c in chunks if c.text]) == len(fake_openai.reply.split())  # streamed
    stats = chunks[-1].stats
    assert stats is not None and stats.completion_tokens == 4 and stats.prompt_tokens == 7
    assert stats.done_reason == "stop" and stats.eval_ms is not None
    body = fake_openai.chats()[0].json()
    assert body["model"] == MODEL and body["stream"] is True and body["max_tokens"] == 50
    assert body["messages"] == ASK


async def test_the_token_cap_and_a_server_without_usage(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    fake_openai.usage = False
    text, stats = await backend.complete(ChatRequest(ASK, num_predict=2))
    assert text == "Hello from"
    assert stats.done_reason == "length" and stats.completion_tokens == 2  # counted deltas


async def test_llama_cpp_servers_get_cache_prompt_and_report_slots(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.owned_by, fake_openai.slots = "llamacpp", 4
    b = OpenAIBackend(fake_openai.url, MODEL)
    try:
        assert b.capabilities.parallel_slots == 1  # until the server has said
        await b.warm_up(ASK)
        assert b.capabilities.parallel_slots == 4
        body = fake_openai.chats()[0].json()
        assert body["cache_prompt"] is True and body["max_tokens"] == 1
        assert (await b.health()).version == "llama.cpp"
    finally:
        await b.aclose()
    configured = OpenAIBackend(fake_openai.url, MODEL, parallel_slots=2)
    try:
        await configured.ensure_model()
        assert configured.capabilities.parallel_slots == 2  # the setting wins
    finally:
        await configured.aclose()


async def test_other_servers_get_no_llama_cpp_fields(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    fake_openai.owned_by = "vllm"
    await reply(backend)
    assert "cache_prompt" not in fake_openai.chats()[0].json()
    assert backend.capabilities.parallel_slots == 1
    assert not [r for r in fake_openai.requests if r.path == "/props"]


async def test_a_model_the_server_does_not_list_is_an_error_naming_its_models(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.models = ["qwen2.5-0.5b", "smollm2-135m"]
    b = OpenAIBackend(fake_openai.url, "gpt-4o")
    try:
        with pytest.raises(ModelNotFound) as caught:
            await reply(b)
    finally:
        await b.aclose()
    message = one_line(caught.value)
    assert "'gpt-4o'" in message and "qwen2.5-0.5b, smollm2-135m" in message
    assert "--model" in message
    assert fake_openai.chats() == []  # never asked the wrong model


async def test_structured_output_uses_the_format_the_server_takes(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    fake_openai.accepts = ("json_object",)  # llama-cpp-python's own response_format
    for _ in range(2):
        result, _stats = await backend.chat_structured(ASK, Answer)
        assert result == Answer(answer="yes")
    formats = [r.json()["response_format"]["type"] for r in fake_openai.chats()]
    assert formats == ["json_schema", "json_object", "json_object"]  # learnt once
    sent = fake_openai.chats()[-1].json()["response_format"]["schema"]
    assert sent["properties"]["answer"]["type"] == "string"


async def test_structured_output_without_response_format_falls_back_to_instructions(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    fake_openai.accepts = ()
    fake_openai.reply = 'Sure! ```json\n{"answer": "no"}\n```'
    result, _stats = await backend.chat_structured(ASK, Answer)
    assert result == Answer(answer="no")
    assert backend.capabilities.structured == "instructions"
    last = fake_openai.chats()[-1].json()
    assert "response_format" not in last
    assert "JSON schema" in last["messages"][-1]["content"]


async def test_closing_the_stream_closes_the_connection(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    fake_openai.hold = threading.Event()
    fake_openai.reply = " ".join(f"w{i}" for i in range(200))
    stream = backend.stream(ChatRequest(ASK))
    async with contextlib.aclosing(stream) as chunks:
        async for chunk in chunks:
            assert chunk.text == "w0"
            break
    fake_openai.hold.set()
    assert fake_openai.stub is not None
    assert fake_openai.stub.wait(lambda rs: any(r.disconnected for r in rs))


async def test_embeddings(fake_openai: FakeOpenAI, backend: OpenAIBackend) -> None:
    fake_openai.embedding_model = "minilm"
    assert await backend.embed(["ab", "abcd"], model="minilm") == [[2.0, 1.0], [4.0, 1.0]]
    with pytest.raises(BackendError) as caught:
        await backend.embed(["x"])  # the chat model cannot embed
    message = one_line(caught.value)
    assert "recall.embed_model" in message and "lexical" in message


# -- failures: one line naming the fix --------------------------------------------------------


async def test_a_bad_key_and_an_expired_one(fake_openai: FakeOpenAI) -> None:
    fake_openai.key = "the-right-key"
    b = OpenAIBackend(fake_openai.url, MODEL, api_key=KEY)
    try:
        with pytest.raises(AuthRefused) as caught:
            await reply(b)
        assert "refused the API key" in one_line(caught.value)
        assert "SLEEPCHAT_API_KEY" in caught.value.message
        # A server that echoes the key back: it never reaches the message.
        fake_openai.key = None
        echo = f"API key {KEY} has expired"
        fake_openai.once = [json_reply({"error": {"message": echo}}, 401)]
        with pytest.raises(AuthRefused) as caught:
            await reply(b)
        assert "has expired" in one_line(caught.value) and KEY not in caught.value.message
        assert await reply(b) == fake_openai.reply  # the next one works
        assert KEY not in repr(b)
    finally:
        await b.aclose()
    none = OpenAIBackend(fake_openai.url, MODEL)
    try:
        fake_openai.key = "k"
        with pytest.raises(AuthRefused) as caught:
            await reply(none)
        assert "needs an API key" in one_line(caught.value)
    finally:
        await none.aclose()


async def test_rate_limited_with_retry_after(
    fake_openai: FakeOpenAI, backend: OpenAIBackend
) -> None:
    await backend.ensure_model()
    fake_openai.once = [
        json_reply({"error": {"message": "Rate limit reached"}}, 429, **{"Retry-After": "20"})
    ]
    with pytest.raises(BackendBusy) as caught:
        await reply(backend)
    assert "try again in 20 s" in one_line(caught.value) and caught.value.retry_after == 20
    assert await reply(backend) == fake_openai.reply


async def test_html_instead_of_the_api(fake_openai: FakeOpenAI, backend: OpenAIBackend) -> None:
    page = b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"
    fake_openai.once = [Reply(200, page, {"Content-Type": "text/html"})]
    with pytest.raises(BackendError) as caught:
        await reply(backend)
    assert "web page (HTML" in one_line(caught.value) and "/v1" in caught.value.message
    await backend.ensure_model()
    fake_openai.once = [Reply(200, page, {"Content-Type": "text/html"})]
    with pytest.raises(BackendError) as caught:  # the chat endpoint itself
        await reply(backend)
    assert "web page (HTML" in one_line(caught.value)
    assert await reply(backend) == fake_openai.reply


async def test_a_base_url_without_v1(fake_openai: FakeOpenAI) -> None:
    root = fake_openai.url.removesuffix("/v1")
    b = OpenAIBackend(root, MODEL)
    try:
        with pytest.raises(BackendError) as caught:
            await reply(b)
    finally:
        await b.aclose()
    assert f"set host to {root}/v1" in one_line(caught.value)


async def test_an_ollama_url_given_to_openai(fake_ollama: FakeOllama) -> None:
    b = OpenAIBackend(fake_ollama.url, MODEL)
    try:
        with pytest.raises(BackendError) as caught:
            await reply(b)
    finally:
        await b.aclose()
    message = one_line(caught.value)
    assert "is an Ollama server" in message and "backend ollama" in message


async def test_refused_cut_and_garbage(fake_openai: FakeOpenAI, backend: OpenAIBackend) -> None:
    down = OpenAIBackend(f"http://127.0.0.1:{refused_port()}/v1", MODEL, connect_timeout=2)
    try:
        with pytest.raises(BackendUnreachable) as caught:
            await reply(down)
        assert "no server answers" in one_line(caught.value)
    finally:
        await down.aclose()
    fake_openai.cut_after = 2
    with pytest.raises(BackendStreamError) as stream_cut:
        await reply(backend)
    assert "ended the reply early" in one_line(stream_cut.value)
    fake_openai.cut_after = None
    garbage = Reply(200, b"data: {not json\n\n", {"Content-Type": "text/event-stream"})
    fake_openai.once = [garbage]
    with pytest.raises(BackendStreamError) as bad:
        await reply(backend)
    assert "not the OpenAI stream format" in one_line(bad.value)
    assert await reply(backend) == fake_openai.reply


async def test_a_redirect_to_another_origin_is_refused(fake_openai: FakeOpenAI) -> None:
    with Stub(redirect_to(fake_openai.url.removesuffix("/v1"))) as redirector:
        b = OpenAIBackend(redirector.url + "/v1", MODEL)
        try:
            with pytest.raises(RedirectRefused) as caught:
                await reply(b)
        finally:
            await b.aclose()
    assert fake_openai.url.removesuffix("/v1").removeprefix("http://") in one_line(caught.value)
    assert fake_openai.requests == []


async def test_an_openai_url_given_to_ollama(fake_openai: FakeOpenAI) -> None:
    from sleepchat.llm.ollama import OllamaBackend

    for host in (fake_openai.url, fake_openai.url.removesuffix("/v1")):
        b = OllamaBackend(host, MODEL, connect_timeout=2, read_timeout=10)
        try:
            for call in (b.list_models(), b.complete(ChatRequest(ASK))):
                with pytest.raises(BackendError) as caught:
                    await call
                message = one_line(caught.value)
                assert "speaks the OpenAI API" in message
                assert f"backend openai with host {fake_openai.url}" in message
        finally:
            await b.aclose()

"""The real-server tier: sleepchat against llama-cpp-python's OpenAI-compatible server (a server
nobody here wrote) with the embedded SmolLM2 on loopback. One server for the whole session;
structure and ratios are asserted, never wording. Skipped only where the server extra or the
model package is missing."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from support.llama_server import ALIAS, KEY, LlamaServer, Proxy, missing, start_server
from support.ollama_server import refused_port
from support.realmodel import MODEL_THREADS

from sleepchat.core.assistant import Assistant
from sleepchat.core.events import ReplyDone
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import (
    BackendStreamError,
    BackendUnreachable,
    ChatMessage,
    ChatRequest,
    ModelNotFound,
    ModelOptions,
)
from sleepchat.llm.openai import OpenAIBackend
from sleepchat.llm.openai_errors import AuthRefused
from sleepchat.store import Store

pytestmark = [
    pytest.mark.realserver,
    # One worker runs them all (make test runs with pytest-xdist): one server per run.
    pytest.mark.xdist_group("realserver"),
    pytest.mark.skipif(missing() is not None, reason=f"real-server tier: {missing()}"),
]

CONTEXT = (
    "My sourdough loaves come out dense and flat. I use 75% hydration and bake at 230C in a "
    "dutch oven. The starter doubles in about 8 hours at room temperature."
)
LONG = [{"role": "user", "content": "Write a very long story about a dragon and a knight."}]


@pytest.fixture(scope="session")
def server() -> Iterator[LlamaServer]:
    s = start_server(threads=MODEL_THREADS)
    yield s
    s.stop()


@pytest.fixture
async def backend(server: LlamaServer) -> AsyncIterator[OpenAIBackend]:
    b = OpenAIBackend(server.url, ALIAS, api_key=KEY, read_timeout=60)
    yield b
    await b.aclose()


def settings() -> CoreSettings:
    return CoreSettings(
        options=ModelOptions(temperature=0.2, seed=7),
        cooldown_seconds=0,
        budget_tokens=600,
        max_reply_tokens=60,
        max_predictions=2,  # short: the whole suite shares two cores
    )


async def test_a_streamed_reply(backend: OpenAIBackend) -> None:
    chunks = [c async for c in backend.stream(ChatRequest(LONG, num_predict=24))]
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 3 and "".join(texts).strip()  # it streamed, token by token
    stats = chunks[-1].stats
    assert stats is not None and stats.done_reason == "length" and stats.completion_tokens
    assert (await backend.health()).version == "llama-cpp-python"
    assert backend.capabilities.parallel_slots == 1  # one model, one lock: it says nothing more


async def test_a_scripted_session_reflects_and_the_next_start_serves_a_hit(
    server: LlamaServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "max_reply_tokens: 60\noptions: {temperature: 0.2, seed: 7}\n"
        # an idle period long enough for the plan to fit questions on a machine slowed by the
        # suite's other workers (at 16 tok/s a 20 s period fits notes only)
        "sleep: {cooldown_seconds: 0, budget_tokens: 600, max_predictions: 2, "
        "idle_seconds: 120}\n"
    )
    cmd = [sys.executable, "-m", "sleepchat", "--script", "-", "--json", "--config", str(config)]
    cmd += ["--backend", "openai", "--host", server.url, "--model", ALIAS]
    proc = subprocess.run(
        [*cmd, "--data-dir", str(tmp_path / "d")],
        input=f"{CONTEXT}\n/idle\n",
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SLEEPCHAT_API_KEY": KEY},
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    # /idle goes on while a reflection leaves more to do (a slow or busy machine's plan fits
    # fewer answers into each): one reflection or several, all done.
    reply, *reflections = events
    assert reply["type"] == "reply" and reflections, events
    assert all(r["type"] == "reflection" and r["status"] == "done" for r in reflections), events
    assert reply["text"].strip() and reply["completion_tokens"] > 3  # streamed
    assert sum(r["predictions"] for r in reflections) >= 1, reflections
    # The predictions were stored: the next start serves one instantly, no model call.
    store = await Store.open(tmp_path / "d")
    a = Assistant(backend=backend, store=store, settings=settings())
    try:
        await a.start()
        fresh = a.fresh_predictions
        assert fresh and all(p.question and p.answer.strip() for p in fresh)
        async for event in a.ask(fresh[0].question):
            if isinstance(event, ReplyDone):
                hit = event.message
        assert hit.source == "prediction" and hit.content == fresh[0].answer
    finally:
        await a.close()
        await store.close()


async def test_closing_the_stream_stops_the_server(
    server: LlamaServer, backend: OpenAIBackend
) -> None:
    await backend.ensure_model()
    mark = server.mark()
    stream = backend.stream(ChatRequest(LONG, num_predict=1500))
    async with contextlib.aclosing(stream) as chunks:
        async for chunk in chunks:
            if chunk.text:
                break
    # The server itself says it dropped the generation (before any other request could
    # interrupt it), and never finished it: no timing report for that request.
    assert server.wait_for("Disconnected from client", after=mark, timeout=30)
    assert not any("eval time" in line for line in server.log(mark))


async def test_the_warm_up_shortens_the_next_time_to_first_token(
    server: LlamaServer, backend: OpenAIBackend
) -> None:
    history: list[ChatMessage] = [{"role": "system", "content": "You are a helpful assistant."}]
    for i in range(4):  # ~400 tokens: a prefill that shows, cheap on two shared cores
        history.append({"role": "user", "content": f"Tell me fact {i} about bread. " * 5})
        history.append({"role": "assistant", "content": f"Bread fact {i}: it rises. " * 6})
    question = [*history, {"role": "user", "content": "Summarise that."}]
    other: list[ChatMessage] = [{"role": "user", "content": "Something else entirely."}]

    async def ttft(messages: Sequence[ChatMessage]) -> tuple[float, int]:
        """Time to the first token, and the prompt tokens the server says it had to eval."""
        mark = server.mark()
        start = time.perf_counter()
        async with contextlib.aclosing(backend.stream(ChatRequest(messages, num_predict=2))) as s:
            async for chunk in s:
                if chunk.text:
                    break
        took = time.perf_counter() - start
        said = [line for line in server.log(mark) if "prefix-match hit" in line]
        return took, int(said[0].split("remaining ")[1].split()[0]) if said else -1

    colds, warms = [], []
    for _ in range(2):  # the best of two each: a busy machine slows a single run
        await backend.warm_up(other)  # evicts the history from the one cache
        colds.append(await ttft(question))
        await backend.warm_up(other)
        await backend.warm_up(history)  # what the sleep cycle ends with
        warms.append(await ttft(question))
    # The server prefilled only the question after the warm-up (its own log says so) ...
    assert all(0 <= tokens < 30 for _t, tokens in warms), warms
    assert all(tokens > 300 for _t, tokens in colds), colds
    # ... and the first token came sooner.
    assert min(t for t, _ in warms) * 1.5 < min(t for t, _ in colds), (colds, warms)


async def test_server_errors_are_one_line(server: LlamaServer) -> None:
    cases = [
        (OpenAIBackend(server.url, "gpt-4o", api_key=KEY), ModelNotFound, f"serves: {ALIAS}"),
        (OpenAIBackend(server.url, ALIAS, api_key="wrong"), AuthRefused, "SLEEPCHAT_API_KEY"),
        (
            OpenAIBackend(f"http://127.0.0.1:{refused_port()}/v1", ALIAS),
            BackendUnreachable,
            "no server answers",
        ),
    ]
    for b, kind, words in cases:
        try:
            with pytest.raises(kind) as caught:
                await b.complete(ChatRequest(LONG, num_predict=4))
        finally:
            await b.aclose()
        assert words in caught.value.message and "\n" not in caught.value.message
        assert "wrong" not in caught.value.message  # the key is never shown


async def test_a_stream_cut_mid_reply(server: LlamaServer) -> None:
    async with Proxy([server.port], cut_after=900) as proxy:
        b = OpenAIBackend(proxy.url, ALIAS, api_key=KEY)
        try:
            await b.ensure_model()
            with pytest.raises(BackendStreamError) as caught:
                await b.complete(ChatRequest(LONG, num_predict=200))
        finally:
            await b.aclose()
    assert "\n" not in caught.value.message and "mid-reply" in caught.value.message

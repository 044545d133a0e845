"""The shared backend base: what a backend gets from its one streaming primitive, and how the
core reads the capabilities it declares (instead of guessing from a backend's name)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pydantic import BaseModel

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import (
    BaseBackend,
    Capabilities,
    ChatChunk,
    ChatRequest,
    ChatStats,
    HealthInfo,
    ModelNotFound,
    SchemaError,
)
from sleepchat.llm.fake import FakeBackend, json_responder
from sleepchat.store import Store


class City(BaseModel):
    name: str
    country: str


class ScriptedServer(BaseBackend):
    """A whole backend in a few lines: the primitive, listing, health and what it can do.
    Its replies are scripted; it records every request it gets."""

    name = "scripted"

    def __init__(self, replies: list[str], capabilities: Capabilities) -> None:
        self.model = "m1"
        self.replies = replies
        self.capabilities = capabilities
        self.requests: list[ChatRequest] = []
        self.closed = 0

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        self.requests.append(request)
        words = self.replies.pop(0).split(" ")
        try:
            for i, word in enumerate(words):
                yield ChatChunk(text=word if i == 0 else " " + word)
            yield ChatChunk(stats=ChatStats(completion_tokens=len(words), done_reason="stop"))
        finally:
            self.closed += 1

    async def list_models(self) -> list[str]:
        return ["m1"]

    async def health(self) -> HealthInfo:
        return HealthInfo(self.name, None, "1", ["m1"])


def convo() -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "A city?"}]


async def test_a_server_without_schema_support_gets_the_schema_in_the_prompt() -> None:
    server = ScriptedServer(
        ['Sure! ```json\n{"name": "Lyon",\n "country": "France"}\n```'], Capabilities()
    )
    city, stats = await server.chat_structured(convo(), City, num_predict=50)
    assert city == City(name="Lyon", country="France") and stats.completion_tokens
    sent = server.requests[0]
    assert sent.schema is None and sent.num_predict == 50
    # The schema goes in the tail; the prefix (system prompt) is untouched, so it stays cached.
    assert sent.messages[0] == convo()[0]
    assert sent.messages[-1]["content"].startswith("A city?")
    assert '"country"' in sent.messages[-1]["content"]
    assert server.closed == 1


async def test_a_server_with_schema_support_gets_the_schema_and_a_clean_prompt() -> None:
    server = ScriptedServer(['{"name": "Lyon", "country": "France"}'], Capabilities("schema"))
    city, _ = await server.chat_structured(convo(), City)
    assert city.name == "Lyon"
    assert server.requests[0].schema is City and server.requests[0].messages == convo()


async def test_a_reply_off_the_schema_is_a_schema_error_with_the_raw_text() -> None:
    server = ScriptedServer(['{"name": "Lyon"}'], Capabilities("schema"))
    with pytest.raises(SchemaError, match="City schema") as info:
        await server.chat_structured(convo(), City)
    assert info.value.raw == '{"name": "Lyon"}'


async def test_the_warm_up_asks_one_token_and_closes_the_stream() -> None:
    server = ScriptedServer(["x"], Capabilities(prefix_cache=True))
    stats = await server.warm_up(convo())
    assert [r.num_predict for r in server.requests] == [1] and server.closed == 1
    assert stats.completion_tokens == 1


async def test_the_defaults_a_backend_inherits() -> None:
    server = ScriptedServer([], Capabilities())
    await server.ensure_model()
    server.model = "m2"
    with pytest.raises(ModelNotFound, match="model 'm2' is not available"):
        await server.ensure_model()
    with pytest.raises(Exception, match="no embedding model"):
        await server.embed(["hi"])
    await server.aclose()


# -- the core reads the capabilities -------------------------------------------------------------


def assistant(store: Store, backend: BaseBackend, **settings: Any) -> Assistant:
    return Assistant(
        backend=backend, store=store, settings=CoreSettings(**settings), clock=FakeClock()
    )


def declaring(capabilities: Capabilities, *args: Any, **kwargs: Any) -> FakeBackend:
    backend = FakeBackend(*args, **kwargs)
    backend.capabilities = capabilities
    return backend


async def test_no_prefix_cache_means_no_warm_up_request(store: Store) -> None:
    plans = json_responder({"ops": [], "questions": ["Which games suit 8-year-olds?"]})
    cached = FakeBackend(structured=plans)
    # A server that forgets each prompt: a warm-up would buy nothing.
    uncached = declaring(Capabilities("schema", prefix_cache=False), structured=plans)
    for backend in (cached, uncached):
        a = assistant(store, backend)
        await a.start()
        await a.new_session()
        async for _ in a.ask("Plan a party for an 8-year-old"):
            pass
        before = len(backend.calls)
        await a.warm_up()  # resuming a session
        await a.reflect()
        warm = [c for c in backend.calls[before:] if c.num_predict == 1]
        assert len(warm) == (2 if backend is cached else 0)


async def test_the_backend_default_reply_cap_applies_unless_the_user_set_one(
    store: Store,
) -> None:
    long_reply = " ".join(f"w{i}" for i in range(100))
    capped = Capabilities("schema", prefix_cache=True, reply_tokens=20)
    for settings, expected in (({}, 20), ({"max_reply_tokens": 50}, 50)):
        backend = declaring(capped, lambda m: long_reply)
        a = assistant(store, backend, **settings)
        await a.start()
        await a.new_session()
        async with contextlib.aclosing(a.ask("Talk")) as events:
            async for _ in events:
                pass
        assert backend.calls[-1].num_predict == expected
        assert a.history[-1].completion_tokens == expected


async def test_replies_and_a_resume_are_foreground_and_reflection_is_background(
    store: Store,
) -> None:
    plans = json_responder({"ops": [], "questions": ["Which games suit 8-year-olds?"]})
    backend = FakeBackend(structured=plans)
    a = assistant(store, backend)
    await a.start()
    async for _ in a.ask("Plan a party for an 8-year-old"):
        pass
    await a.warm_up()
    foreground = len(backend.calls)
    await a.reflect()
    assert [c.background for c in backend.calls[:foreground]] == [False, False]
    assert len(backend.calls) > foreground + 2
    assert all(c.background for c in backend.calls[foreground:])

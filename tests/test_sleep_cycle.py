"""The whole sleep cycle through the Assistant: fake backend, fake clock, real store, no sleeps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReflectionChanged, ReplyDone
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

PREDICTED = "How often should I water the tomatoes in a heatwave?"
ANSWER = "Water them every morning during a heatwave, deeply, until it drains."


def last_user(messages: Sequence[ChatMessage]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def reply(messages: Sequence[ChatMessage]) -> str:
    if last_user(messages) == PREDICTED:
        return ANSWER
    return "Those spots look like early blight; remove the worst leaves."


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": ["The tomato leaves have brown spots"]})
    return json.dumps({"questions": [PREDICTED]})


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(reply, structured)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def make(store: Store, backend: FakeBackend, clock: FakeClock, **kw) -> Assistant:
    settings = CoreSettings(idle_seconds=10, cooldown_seconds=0, **kw)
    a = Assistant(backend=backend, store=store, settings=settings, clock=clock)
    await a.start()
    return a


async def ask(a: Assistant, text: str) -> ReplyDone:
    events = [e async for e in a.ask(text)]
    assert isinstance(events[-1], ReplyDone), events[-1]
    return events[-1]


async def test_idle_reflection_then_instant_hit_without_a_model_call(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    assert not a.sleep_due
    clock.advance(10)
    assert a.sleep_due
    reflection = await a.reflect()
    assert reflection.status == "done" and reflection.predictions == 1
    assert [n.text for n in a.notes] == ["The tomato leaves have brown spots"]
    (prediction,) = a.fresh_predictions
    assert prediction.answer == ANSWER and prediction.reflection_id == reflection.id
    calls_before = len(backend.calls)
    done = await ask(a, "how often should i water the tomatoes in a heatwave")  # form only
    assert len(backend.calls) == calls_before  # answered with no model call
    assert done.message.source == "prediction" and done.message.content == ANSWER
    assert done.prediction is not None and done.message.prediction_id == prediction.id
    assert done.message.reflection_id == reflection.id
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert stored[-1].source == "prediction"
    stats = await a.stats()
    assert stats.hits == 1 and stats.reflections_done == 1 and stats.sleep_tokens > 0
    # served once: asking again goes to the model
    again = await ask(a, PREDICTED)
    assert again.message.source == "model"


async def test_a_look_alike_question_is_not_served_and_gets_notes(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    await a.reflect()
    done = await ask(a, "How often should I fertilize the tomatoes?")
    assert done.message.source == "model"
    sent = backend.calls[-1].messages
    tail = [m for m in sent if m["role"] == "system"][1:]
    assert tail and "The tomato leaves have brown spots" in tail[0]["content"]
    assert sent[-1] == {"role": "user", "content": "How often should I fertilize the tomatoes?"}


async def test_stale_prediction_is_not_served(store, backend, clock) -> None:
    a = await make(store, backend, clock, prediction_ttl_turns=1)
    await ask(a, "My tomato leaves have brown spots.")
    await a.reflect()
    await ask(a, "Thanks. Anything else?")
    await ask(a, "And what about the soil?")
    done = await ask(a, PREDICTED)
    assert done.message.source == "model"


async def test_regen_after_a_hit_asks_the_model(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    await a.reflect()
    hit = await ask(a, PREDICTED)
    assert hit.message.source == "prediction"
    events = [e async for e in a.regenerate()]
    assert isinstance(events[-1], ReplyDone) and events[-1].message.source == "model"
    assert backend.calls[-1].messages[-1]["content"] == PREDICTED


async def test_no_second_run_on_an_unchanged_conversation(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    first = await a.reflect()
    second = await a.reflect()
    assert first.status == "done" and second.status == "skipped"
    assert second.reason == "unchanged"


async def test_no_reflection_while_a_reply_streams(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    backend.gate = asyncio.Event()
    backend.started.clear()
    task = asyncio.create_task(ask(a, "Tell me more"))
    await backend.started.wait()
    clock.advance(1000)
    assert not a.sleep_due  # mid-reply: never
    backend.gate.set()
    await task
    clock.advance(10)
    assert a.sleep_due


async def test_input_cancels_a_running_reflection_and_the_question_goes_first(
    store, backend, clock
) -> None:
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    seen: list[str] = []
    a.subscribe(
        lambda e: seen.append(e.reflection.status) if isinstance(e, ReflectionChanged) else None
    )
    backend.gate = asyncio.Event()
    backend.started.clear()
    task = a.reflect()
    await backend.started.wait()  # the reflection holds the one model slot, frozen
    backend.gate = asyncio.Event()  # the user's request streams freely...
    backend.gate.set()
    # ... and only gets the slot because the frozen reflection is cancelled (else: timeout).
    done = await asyncio.wait_for(ask(a, "Is it safe to eat the fruit?"), 10)
    assert done.message.source == "model"
    assert task.cancelled() or task.done()
    assert seen[-1] == "cancelled"
    (reflection,) = [r for r in a.reflections if r.status != "skipped"]
    assert reflection.status == "cancelled"
    assert all(p.answer for p in a.predictions)  # nothing half-applied


async def test_after_a_reflection_a_question_only_prefills_itself(store, backend, clock) -> None:
    """The reflection leaves exactly what the next chat request starts with in the cache."""
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    await a.reflect()
    cached = backend.calls[-1].messages  # the server's cache holds the last request's prompt
    await ask(a, "Is the fruit still safe to eat?")
    question = backend.calls[-1].messages
    # everything but the question itself is the start of what the cache holds
    assert question[:-1] == cached[: len(question) - 1]
    assert [m["role"] for m in question[-2:]] == ["system", "user"]  # the notes block came too


async def test_with_two_slots_a_question_runs_beside_the_reflection(store, clock) -> None:
    backend = FakeBackend(reply, structured, parallel_slots=2)
    a = await make(store, backend, clock)
    await ask(a, "My tomato leaves have brown spots.")
    held = asyncio.Event()
    backend.gate = held
    backend.started.clear()
    task = a.reflect()
    await backend.started.wait()  # the reflection holds one slot, frozen
    backend.gate = asyncio.Event()
    backend.gate.set()
    a.touch()  # a keystroke: the reflection goes on
    # The question is answered from the second slot while the reflection still runs.
    done = await asyncio.wait_for(ask(a, "Is it safe to eat the fruit?"), 10)
    assert done.message.source == "model"
    assert a.reflecting and not task.done()
    held.set()
    reflection = await task
    assert reflection.status == "done" and reflection.predictions >= 1

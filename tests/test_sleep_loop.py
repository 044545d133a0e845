"""The core's one sleep loop (``Assistant.idle_loop``): when it reflects, what cancels it, and
the events it leaves for views. Fake backend, real store, FakeClock: idle time passes only when
a test moves the clock, and nothing sleeps for real."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import Event, MemoryChanged, ReflectionChanged, ReplyDone, SleepChanged
from sleepchat.core.models import Reflection
from sleepchat.core.reflection.reflect import Reflector
from sleepchat.core.settings import CoreSettings
from sleepchat.errors import SleepchatError
from sleepchat.llm.base import BackendUnreachable, ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

IDLE = 10.0
NOTE = "I grow cherry tomatoes in pots"
STATED = "I grow cherry tomatoes in pots and the leaves have brown spots."
PREDICTED = "How often should I water the tomatoes in a heatwave?"


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": [NOTE]})
    return json.dumps({"questions": [PREDICTED]})


class Seen:
    """Every event the assistant emits, and a way to wait for one without sleeping."""

    def __init__(self, a: Assistant) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        a.subscribe(self._on)

    def _on(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):  # only catches a hang
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    def sleeps(self, reflecting: bool) -> list[SleepChanged]:
        return [
            e for e in self.events if isinstance(e, SleepChanged) and e.reflecting is reflecting
        ]

    @property
    def started(self) -> int:
        return len(self.sleeps(True))

    @property
    def ended(self) -> int:
        return len(self.sleeps(False))


async def settle() -> None:
    """Let ready tasks run (the loop reacts to a clock move within a few steps)."""
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(lambda m: "Remove the worst leaves and water at the base.", structured)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def make(store: Store, backend: FakeBackend, clock: FakeClock, **kw: object) -> Assistant:
    settings = {"idle_seconds": IDLE, "cooldown_seconds": 0.0, **kw}
    a = Assistant(backend=backend, store=store, settings=CoreSettings(**settings), clock=clock)  # type: ignore[arg-type]
    await a.start()
    return a


async def ask(a: Assistant, text: str) -> None:
    events = [e async for e in a.ask(text)]
    assert isinstance(events[-1], ReplyDone), events[-1]


Looping = Callable[..., Awaitable[tuple[Assistant, Seen]]]


@pytest.fixture
async def looping(store, backend, clock) -> AsyncIterator[Looping]:
    """An assistant after one exchange, its events recorded, its idle loop running."""
    tasks: list[asyncio.Task[None]] = []

    async def start(**settings: object) -> tuple[Assistant, Seen]:
        a = await make(store, backend, clock, **settings)
        await ask(a, STATED)
        seen = Seen(a)
        tasks.append(asyncio.create_task(a.idle_loop()))
        return a, seen

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_reflects_once_the_idle_period_passes_then_waits_for_input(
    backend, clock, looping
) -> None:
    a, seen = await looping()
    clock.advance(IDLE - 0.1)
    await settle()
    assert seen.started == 0 and not a.reflecting
    clock.advance(0.1)
    await seen.until(lambda: seen.ended == 1)
    assert a.reflections[-1].status == "done"
    assert [n.text for n in a.notes] == [NOTE]
    # One cycle per idle period: more quiet time starts nothing (no retry of the same state).
    clock.advance(1000)
    await settle()
    assert seen.started == 1
    # Input opens a new idle period; it ends IDLE seconds after the reply.
    await ask(a, "Is the fruit still safe to eat?")
    clock.advance(IDLE - 0.1)
    await settle()
    assert seen.started == 1
    clock.advance(0.1)
    await seen.until(lambda: seen.ended == 2)
    assert [r.status for r in a.reflections] == ["done", "done"]


async def test_never_mid_reply_and_the_idle_period_starts_at_the_turns_end(
    backend, clock, looping
) -> None:
    a, seen = await looping()
    backend.gate = asyncio.Event()
    backend.started.clear()
    reply = asyncio.create_task(ask(a, "Tell me more"))
    await backend.started.wait()
    clock.advance(1000)  # a very long reply
    await settle()
    assert seen.started == 0
    backend.gate.set()
    await reply
    clock.advance(IDLE - 0.1)
    await settle()
    assert seen.started == 0
    clock.advance(0.1)
    await seen.until(lambda: seen.ended == 1)


async def test_input_cancels_the_reflection_at_once_and_a_new_period_reflects_again(
    backend, clock, looping
) -> None:
    a, seen = await looping()
    backend.gate = asyncio.Event()  # the reflection's first request never answers
    backend.started.clear()
    clock.advance(IDLE)
    await backend.started.wait()
    assert a.reflecting and seen.started == 1
    a.touch()  # a keystroke
    await seen.until(lambda: seen.ended == 1)
    assert not a.reflecting
    assert backend.calls[-1].cancelled  # the request was closed, not left generating
    assert a.reflections[-1].status == "cancelled"
    backend.gate = None
    clock.advance(IDLE)
    await seen.until(lambda: seen.ended == 2)
    assert a.reflections[-1].status == "done"


async def test_nothing_when_sleep_is_disabled(clock, looping) -> None:
    a, seen = await looping(sleep_enabled=False)
    clock.advance(1000)
    await settle()
    assert seen.started == 0 and not a.reflections


async def test_a_cooldown_skip_is_retried_one_cooldown_later(backend, clock, looping) -> None:
    a, seen = await looping(cooldown_seconds=60.0)
    backend.gate = asyncio.Event()
    backend.started.clear()
    clock.advance(IDLE)
    await backend.started.wait()
    a.touch()  # a key cuts the reflection; nothing new is said after it
    await seen.until(lambda: seen.ended == 1)
    backend.gate = None
    clock.advance(IDLE)
    await seen.until(lambda: seen.ended == 2)
    assert (a.reflections[-1].status, a.reflections[-1].reason) == ("skipped", "cooldown")
    clock.advance(59)  # the retry comes one cooldown after the skip
    await settle()
    assert seen.started == 2
    clock.advance(1)
    await seen.until(lambda: seen.ended == 3)
    assert a.reflections[-1].status == "done"


async def test_a_new_question_is_reflected_on_in_the_next_idle_period(
    backend, clock, looping
) -> None:
    a, seen = await looping(cooldown_seconds=60.0)
    await a.reflect()
    await ask(a, "Is the fruit still safe to eat?")
    clock.advance(IDLE)  # well inside the cooldown
    await seen.until(lambda: seen.ended == 2)
    assert a.reflections[-1].status == "done"
    # The reflection saw the new question: its requests hold it.
    asked = "Is the fruit still safe to eat?"
    assert any(m["content"] == asked for m in backend.calls[-1].messages)


async def test_a_server_that_is_down_is_not_asked_again_until_input(
    backend, clock, looping
) -> None:
    a, seen = await looping()
    backend.error = BackendUnreachable("the model server is not reachable")
    clock.advance(IDLE)
    await seen.until(lambda: seen.ended == 1)
    assert a.reflections[-1].status == "failed"
    requests = len(backend.calls)
    clock.advance(1000)
    await settle()
    assert seen.started == 1 and len(backend.calls) == requests


async def test_a_fault_in_a_reflection_is_reported_in_the_event_and_not_retried(
    backend, clock, looping, monkeypatch
) -> None:
    _a, seen = await looping()

    async def broken(*args: object) -> None:
        raise SleepchatError("cannot write the data dir: disk full")

    monkeypatch.setattr(Reflector, "run", broken)
    clock.advance(IDLE)
    await seen.until(lambda: seen.ended == 1)
    assert seen.sleeps(False)[-1].error == "cannot write the data dir: disk full"
    clock.advance(1000)
    await settle()
    assert seen.started == 1


async def test_idle_for_n_seconds_returns_on_time_and_leaves_the_reflection_running(
    store, backend, clock
) -> None:
    a = await make(store, backend, clock)
    await ask(a, STATED)
    backend.gate = asyncio.Event()
    backend.started.clear()
    idle = asyncio.create_task(a.idle_loop(IDLE + 5))
    await settle()  # the N seconds count from when the loop starts
    clock.advance(IDLE)
    await backend.started.wait()
    await settle()
    assert not idle.done()
    clock.advance(5)
    await asyncio.wait_for(idle, 10)
    assert a.reflecting  # the next input preempts it, as a real next line would
    await a.preempt()
    assert a.reflections[-1].status == "cancelled"


async def test_events_carry_progress_and_the_memory_itself(store, backend, clock) -> None:
    a = await make(store, backend, clock)
    await ask(a, STATED)
    seen = Seen(a)
    reflection = await a.reflect()
    progress = [e for e in seen.events if isinstance(e, ReflectionChanged)]
    statuses = [e.reflection.status for e in progress]
    assert statuses[0] == "running" and statuses[-1] == "done"
    assert set(statuses[1:-1]) == {"running"}
    # Progress counts only grow, up to the final figures.
    notes = [e.reflection.notes_changed for e in progress[1:]]
    predicted = [e.reflection.predictions for e in progress[1:]]
    assert notes == sorted(notes) and predicted == sorted(predicted)
    assert (notes[-1], predicted[-1]) == (1, 1)
    final = progress[-1]
    assert final.reflection == reflection and final.reflection.tokens > 0
    # The memory travels in the event: the last one is what the memory holds now.
    memory = [e for e in seen.events if isinstance(e, MemoryChanged)]
    assert [n.text for n in memory[0].notes] == [NOTE] and not memory[0].predictions
    last = memory[-1]
    assert [n.text for n in last.notes] == [NOTE]
    assert [p.question for p in last.predictions] == [PREDICTED]
    assert last.fresh_ids == {p.id for p in a.fresh_predictions}
    assert last.stats.reflections_done == 1 and last.stats.sleep_tokens == reflection.tokens
    # A served prediction leaves the fresh list in the next event.
    await ask(a, PREDICTED)
    served = [e for e in seen.events if isinstance(e, MemoryChanged)][-1]
    assert not served.fresh_ids and served.stats.hits == 1


async def test_a_later_idle_cycle_drops_an_outdated_prediction_and_counts_it(
    store, backend, clock
) -> None:
    a = await make(store, backend, clock, prediction_ttl_turns=1)
    await ask(a, STATED)
    await a.reflect()
    await ask(a, "And the soil?")
    await ask(a, "And the pots?")
    seen = Seen(a)
    await a.reflect()
    final = [e for e in seen.events if isinstance(e, ReflectionChanged)][-1]
    assert final.reflection.status == "done" and final.dropped == 1


def test_a_reflection_event_gives_its_speed() -> None:
    r = Reflection(id="r1", session_id="s", state_key="k", started=0.0, tokens=120, ms=2000.0)
    assert ReflectionChanged(r).tokens_per_second == 60.0
    assert ReflectionChanged(dataclasses.replace(r, ms=0.0)).tokens_per_second is None

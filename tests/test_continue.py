"""Idle work is not thrown away: an answer cut short while idle (by a key, or by the idle
period's token budget) is kept with what it had, never served, and continued by the next idle
period from where it stopped, under the very same request; the tokens thrown away are counted."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path

from support.core_assistant import ask, assistant, nothing_to_predict

from sleepchat.core.models import Prediction
from sleepchat.llm.base import ChatChunk, ChatMessage, ChatRequest
from sleepchat.llm.fake import FakeBackend, FakeCall
from sleepchat.store import Store

QUEUED = "How do I keep my sourdough starter alive while I am away for two weeks?"
WORDS = [f"w{i}" for i in range(40)]
ANSWER = " ".join(WORDS)


def reply(messages: Sequence[ChatMessage]) -> str:
    return ANSWER if messages[-1]["content"] == QUEUED else "Noted, a lively starter."


class Freezing(FakeBackend):
    """Holds the answer to QUEUED after ``after`` words until the request is cancelled."""

    def __init__(self, after: int | None = 5) -> None:
        super().__init__(reply, nothing_to_predict)
        self.after = after
        self.frozen = asyncio.Event()

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        words = 0
        async for chunk in super().stream(request):
            yield chunk
            answering = request.messages[-1]["content"] == QUEUED and not request.prefix
            words += bool(chunk.text)
            if answering and self.after is not None and words == self.after:
                self.frozen.set()
                await asyncio.Event().wait()  # a key will cancel it here


async def cut_by_a_key(a, backend: Freezing) -> None:  # type: ignore[no-untyped-def]
    task = a.reflect()
    await backend.frozen.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def answering(backend: FakeBackend) -> list[FakeCall]:
    """The requests that answered QUEUED."""
    return [c for c in backend.calls if c.kind == "stream" and c.messages[-1]["content"] == QUEUED]


def queued(a) -> Prediction:  # type: ignore[no-untyped-def]
    [p] = [p for p in a.predictions if p.queued]
    return p


async def test_an_answer_cut_by_a_key_is_kept_and_continued_not_restarted(store) -> None:
    backend = Freezing(after=5)
    a = await assistant(store, backend, predict="off")
    await ask(a, "My sourdough starter smells like acetone.")
    await a.later(QUEUED)
    await cut_by_a_key(a, backend)
    p = queued(a)
    assert p.answer == "" and p.partial == " ".join(WORDS[:5])  # kept, not served
    backend.after = None
    backend.calls.clear()
    await a.reflect()
    [turn] = answering(backend)
    assert turn.prefix == p.partial  # went on from where it stopped
    done = queued(a)
    assert done.answer == ANSWER and done.partial == ""
    served = await ask(a, QUEUED)
    assert served.message.source == "prediction" and served.message.content == ANSWER
    stats = await a.stats()
    assert stats.sleep_tokens_wasted == 0


async def test_a_cut_answer_is_never_served(store) -> None:
    backend = Freezing(after=5)
    a = await assistant(store, backend, predict="off")
    await ask(a, "My sourdough starter smells like acetone.")
    await a.later(QUEUED)
    await cut_by_a_key(a, backend)
    backend.after = None
    done = await ask(a, QUEUED)
    assert done.message.source != "prediction" and done.message.content == ANSWER


async def test_a_cut_answer_survives_a_restart(store, tmp_path: Path) -> None:
    backend = Freezing(after=7)
    a = await assistant(store, backend, predict="off")
    await ask(a, "My sourdough starter smells like acetone.")
    await a.later(QUEUED)
    await cut_by_a_key(a, backend)
    await a.close()
    await store.close()
    reopened = await Store.open(tmp_path / "data")
    try:
        backend = Freezing(after=None)
        b = await assistant(reopened, backend, predict="off")
        assert queued(b).partial == " ".join(WORDS[:7])
        await b.reflect()
        assert queued(b).answer == ANSWER
        [turn] = answering(backend)
        assert turn.prefix == " ".join(WORDS[:7])
        await b.close()
    finally:
        await reopened.close()


async def test_when_the_conversation_moved_on_a_cut_answer_starts_over(store) -> None:
    # The kept words answered another request: going on from them would serve an answer the
    # model would not give to this one. They are counted as wasted.
    backend = Freezing(after=5)
    a = await assistant(store, backend, predict="off")
    await ask(a, "My sourdough starter smells like acetone.")
    await a.later(QUEUED)
    await cut_by_a_key(a, backend)
    backend.after = None
    await ask(a, "It lives on the counter, by the window.")
    backend.calls.clear()
    await a.reflect()
    [turn] = answering(backend)
    assert turn.prefix == ""
    assert queued(a).answer == ANSWER
    assert (await a.stats()).sleep_tokens_wasted == 5


def asks_one_question(messages: Sequence[ChatMessage], schema: type) -> str:
    fields = schema.model_json_schema().get("properties", {})
    if "questions" in fields:
        return json.dumps({"questions": [QUEUED]})
    return json.dumps({"facts": [], "questions": [], "verdicts": []})


async def test_an_answer_cut_by_the_idle_budget_goes_on_next_idle_period(store) -> None:
    backend = FakeBackend(reply, asks_one_question)
    a = await assistant(store, backend, predict="always", budget_tokens=40, warm_up=False)
    await ask(a, "My sourdough starter smells like acetone and I travel a lot.")
    await a.reflect()
    [p] = [p for p in a.predictions if p.question == QUEUED]
    assert p.answer == "" and p.partial and ANSWER.startswith(p.partial)  # budget spent
    await a.reflect()
    [p] = [p for p in a.predictions if p.question == QUEUED]
    assert p.answer == ANSWER  # finished by the next idle period
    [second] = [c for c in backend.calls if c.prefix]
    assert second.prefix and ANSWER.startswith(second.prefix)
    assert (await a.stats()).sleep_tokens_wasted == 0

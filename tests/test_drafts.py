"""A question readied while it is typed: sent as it is, it waits neither for the recall judge
nor for its request's prefill; sent otherwise, or before typing paused, it is asked as before
and never waits for a draft."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict, reply
from test_doc_sections import FACT, answers_from_prompt, long_document
from test_judge import PREDICTED, REWORDED, Scripted, calibration

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.drafts import PAUSE
from sleepchat.core.ports import WARM_UP_TOKENS, ChatMessage
from sleepchat.core.recall.judge import ModelJudge
from sleepchat.llm.fake import FakeBackend, FakeCall

OTHER = "how do i set up a compost heap in a tiny garden"  # a rewording too, another text


class Slow(Scripted):
    """A judge whose every question takes 1.5 s of the assistant's clock; ``gate``, when set,
    holds each call until it opens."""

    def __init__(self, clock: FakeClock, default: float) -> None:
        super().__init__({}, default=default)
        self.clock = clock
        self.calls = 0
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None
        self.cancelled = 0

    async def yes_margins(
        self, questions: Sequence[Sequence[ChatMessage]], **kwargs: Any
    ) -> list[float]:
        self.calls += 1
        self.entered.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.clock.advance(1.5)
        return await super().yes_margins(questions, **kwargs)


async def planted(store: Any, margin: float) -> tuple[Assistant, Slow]:
    """A session with ``PREDICTED`` answered while idle, judged by a slow model."""
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, predict="off", budget_tokens=0)
    assert isinstance(a.clock, FakeClock)
    model = Slow(a.clock, margin)
    a._recall.judge = ModelJudge(model, calibration(0.5))
    await ask(a, "I have a small garden and lots of kitchen scraps.")
    await a.later(PREDICTED)
    await a.reflect()
    return a, model


async def typed(a: Assistant, text: str, pause: float = PAUSE) -> None:
    """The box holds ``text``, then the keys rest ``pause`` seconds."""
    a.touch(draft=text)
    await asyncio.sleep(0)  # the draft's task starts its pause
    assert isinstance(a.clock, FakeClock)
    a.clock.advance(pause)
    for _ in range(20):  # the draft runs to its end on the fake models (no real waits)
        await asyncio.sleep(0)


async def held_in_judge(a: Assistant, model: Slow, text: str) -> None:
    """``text`` typed, the keys resting, and its draft held inside the judge."""
    model.gate = asyncio.Event()
    a.touch(draft=text)
    await asyncio.sleep(0)
    assert isinstance(a.clock, FakeClock)
    a.clock.advance(PAUSE)
    await asyncio.wait_for(model.entered.wait(), 5)


@pytest.mark.parametrize("margin", [2.0, -3.0])
async def test_a_question_sent_as_typed_does_not_wait_for_the_judge(store, margin: float) -> None:
    a, model = await planted(store, margin)
    await typed(a, REWORDED)
    assert model.calls >= 1  # judged while typed
    calls = model.calls
    done = await ask(a, REWORDED)
    assert model.calls == calls  # not judged again
    assert (done.message.source == "prediction") is (margin > 0)
    # The judge's 1.5 s were spent while the keys rested, not after Enter.
    assert done.message.ttft_ms is not None and done.message.ttft_ms < 1500


async def test_a_question_sent_before_typing_paused_is_judged_as_before(store) -> None:
    a, model = await planted(store, -3.0)
    await typed(a, REWORDED, pause=PAUSE / 2)
    assert model.calls == 0
    done = await ask(a, REWORDED)
    assert model.calls >= 1
    assert done.message.ttft_ms is not None and done.message.ttft_ms >= 1500


async def test_a_draft_changed_before_sending_is_judged_again(store) -> None:
    a, model = await planted(store, -3.0)
    await typed(a, OTHER)
    judged_draft = model.calls
    assert judged_draft >= 1
    done = await ask(a, REWORDED)
    assert model.calls > judged_draft  # the sent text is not the draft: judged now
    assert done.message.ttft_ms is not None and done.message.ttft_ms >= 1500


async def test_a_question_sent_while_its_draft_is_judged_waits_for_that_verdict(store) -> None:
    a, model = await planted(store, 2.0)
    await held_in_judge(a, model, REWORDED)
    sent = asyncio.ensure_future(ask(a, REWORDED))
    await asyncio.sleep(0)
    assert not sent.done()
    model.gate.set()
    done = await asyncio.wait_for(sent, 5)
    assert done.message.source == "prediction"
    assert model.cancelled == 0 and model.calls == 1  # one judging, the draft's


async def test_other_text_sent_while_a_draft_is_judged_cancels_the_draft(store) -> None:
    a, model = await planted(store, -3.0)
    await held_in_judge(a, model, OTHER)
    sent = asyncio.ensure_future(ask(a, REWORDED))
    for _ in range(5):
        await asyncio.sleep(0)
    assert model.cancelled == 1  # dropped at once, not waited for
    model.gate.set()
    done = await asyncio.wait_for(sent, 5)
    assert done.message.source != "prediction"
    assert model.calls >= 2  # the sent question judged on its own


async def test_commands_and_empty_boxes_are_not_judged(store) -> None:
    a, model = await planted(store, 2.0)
    for text in ("", "   ", f"/later {REWORDED}"):
        await typed(a, text)
    assert model.calls == 0


# the reply's request, warmed while typed ---------------------------------------------------------


def warm_ups(backend: FakeBackend) -> list[FakeCall]:
    """The warm-ups sent for a question waiting (the sleep cycle's run in the background)."""
    return [
        c
        for c in backend.calls
        if c.kind == "stream" and c.num_predict == WARM_UP_TOKENS and not c.background
    ]


async def test_a_typed_question_has_its_replys_request_processed_before_it_is_sent(
    store,
) -> None:
    """A long document's sections and the question are what a reply adds to the cached prefix:
    warmed while typed, the reply's request is exactly what the server processed already."""
    backend = FakeBackend(answers_from_prompt, nothing_to_predict)
    a = await assistant(store, backend, documents_max_tokens=1600)
    await ask(a, "I am reading about the history of our town.")
    await a.attach("town-history.md", long_document())
    question = "How many ships did the lighthouse keeper record in the logbook?"
    await typed(a, question)
    [warm] = warm_ups(backend)
    assert any(FACT in m["content"] for m in warm.messages)  # its section, before the question
    assert warm.messages[-1] == {"role": "user", "content": question}
    done = await ask(a, question)
    assert "4,211" in done.message.content
    assert backend.calls[-1].messages == warm.messages  # nothing left to prefill but the reply
    assert len(warm_ups(backend)) == 1


async def test_a_typed_question_a_prediction_answers_is_not_warmed(store) -> None:
    a, _model = await planted(store, 2.0)
    backend = a._backend
    assert isinstance(backend, FakeBackend)
    await typed(a, REWORDED)  # the judge serves it: no reply will be asked for
    assert warm_ups(backend) == []
    await typed(a, "What should I never put in a compost heap?")  # nothing answers it
    assert len(warm_ups(backend)) == 1


async def test_nothing_is_readied_while_a_reply_streams(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    backend.gate = asyncio.Event()
    sent = asyncio.ensure_future(ask(a, "Tell me about compost."))
    await asyncio.wait_for(backend.started.wait(), 5)
    calls = len(backend.calls)
    await typed(a, "And worms?")
    assert len(backend.calls) == calls
    backend.gate.set()
    await asyncio.wait_for(sent, 5)


async def test_with_while_typing_off_nothing_leaves_before_enter(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, ready_typed=False)
    await ask(a, "Tell me about compost.")
    calls = len(backend.calls)
    await typed(a, "And worms?")
    assert len(backend.calls) == calls


async def test_closing_drops_a_draft_being_readied(store) -> None:
    a, model = await planted(store, -3.0)
    await held_in_judge(a, model, OTHER)
    await asyncio.wait_for(a.close(), 5)
    assert model.cancelled == 1


async def test_a_question_mark_readies_the_draft_without_a_pause(store) -> None:
    """People often press Enter right after the "?": its draft starts at once."""
    a, model = await planted(store, -3.0)
    await typed(a, REWORDED + "?", pause=0.0)
    calls = model.calls
    assert calls >= 1
    a.touch(draft=REWORDED + "? and")  # typing goes on: the next draft waits for a pause
    for _ in range(20):
        await asyncio.sleep(0)
    assert model.calls == calls

"""A reflection sized to the idle period from the model's measured speed (issue 20, item 2):
how many questions, how long each precomputed answer may be this time, whether answers fit at
all; what it leaves is continued by the next idle period, and the speeds are kept per model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest
from support.core_assistant import ask, assistant

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock, SystemClock
from sleepchat.core.models import Message, Reflection
from sleepchat.core.reflection.notes_step import finished_facts
from sleepchat.core.reflection.plan import MIN_ANSWER, idle_seconds, plan
from sleepchat.core.settings import CoreSettings
from sleepchat.core.speed import META_KEY, ModelSpeed, SpeedBook, reply_speed
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

PREDICTED = "How often should I feed the sourdough starter in summer?"
LONG = " ".join(f"w{i}" for i in range(200))  # a 200-token answer


def long_reply(messages: Sequence[ChatMessage]) -> str:
    return LONG


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "QuestionList":
        return json.dumps(
            {"questions": [PREDICTED, "Which flour makes a starter rise faster?", "Can I dry it?"]}
        )
    return json.dumps({"facts": [], "verdicts": []})


def fitted(speed: ModelSpeed, seconds: float, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "notes": True,
        "revalidate": False,
        "followups": 0,
        "questions": 3,
        "reply_tokens": 120,
        "notes_ceiling": 250,
        "answering": True,
        "can_continue": True,
        **kw,
    }
    return plan(speed, seconds, **args)  # type: ignore[arg-type]


SLOW = ModelSpeed(decode=15.0, request_s=1.0, step_tokens={"notes": 60.0, "question": 25.0})


def test_a_model_never_measured_is_not_planned() -> None:
    assert fitted(ModelSpeed(), 20.0) is None


def test_a_fast_model_gets_every_question_with_whole_answers() -> None:
    p = fitted(ModelSpeed(decode=200.0, request_s=0.2), 20.0)
    assert (p.notes_tokens, p.questions, p.answer_tokens) == (250, 3, None)
    assert p.describe() == "20 s at 200.0 tok/s: notes ≤ 250 tokens, 3 questions, whole answers"


def test_a_slow_model_asks_only_what_the_idle_period_can_answer() -> None:
    short, long = fitted(SLOW, 20.0), fitted(SLOW, 60.0)
    # 20 s at 15 tok/s: one question, and its answer gets what is left (continued next time).
    assert short.questions == 1 and MIN_ANSWER <= short.answer_tokens < 120
    # A minute holds more questions, each answered whole.
    assert long.questions >= 2 and long.answer_tokens is None
    # The notes' ceiling is what fits, never more than the step's own.
    assert fitted(ModelSpeed(decode=3.0, request_s=1.0), 20.0).notes_tokens < 250


def test_where_a_cut_answer_cannot_be_continued_it_is_not_started_short() -> None:
    p = fitted(SLOW, 20.0, can_continue=False)
    assert p.questions == 1 and p.answer_tokens == 0  # it waits for the next idle period


def test_too_slow_for_any_answer_leaves_them_all_for_the_next_idle_period() -> None:
    p = fitted(ModelSpeed(decode=3.0, request_s=1.0, step_tokens={"notes": 20.0}), 40.0)
    assert p.questions == 1 and p.answer_tokens == 0
    # An idle period over the unchanged conversation then always moves them on.
    going_on = fitted(ModelSpeed(decode=3.0, request_s=1.0), 5.0, continuing=True)
    assert going_on.answer_tokens is not None and going_on.answer_tokens >= MIN_ANSWER


def test_the_questions_only_level_does_not_save_time_for_answers() -> None:
    assert fitted(SLOW, 20.0, answering=False).questions == 3


def _msg(i: int, role: str, at: float) -> Message:
    return Message(id=f"m{i}", session_id="s", role=role, content="x", created=at)  # type: ignore[arg-type]


def _ref(i: int, started: float, seconds: float, status: str) -> Reflection:
    return Reflection(
        id=f"r{i}",
        session_id="s",
        state_key="k",
        started=started,
        status=status,
        ms=seconds * 1000,  # type: ignore[arg-type]
    )


def test_the_idle_period_is_how_long_this_user_stayed_away_before() -> None:
    history = [_msg(0, "user", 0), _msg(1, "assistant", 1)]
    history += [_msg(2, "user", 100), _msg(3, "assistant", 101), _msg(4, "user", 200)]
    history += [_msg(5, "assistant", 201)]
    cut_twice = [
        _ref(1, 10, 30, "done"),  # the first idle period: a reflection, then a second one cut
        _ref(2, 40, 20, "cancelled"),
        _ref(3, 110, 40, "cancelled"),
    ]
    assert idle_seconds(cut_twice, history, 20.0) == pytest.approx(45.0)  # median of 50, 40
    # An idle period whose reflections all finished says only "at least": not counted.
    finished = [_ref(1, 10, 30, "cancelled"), _ref(3, 110, 5, "done")]
    assert idle_seconds(finished, history, 20.0) == 20.0
    # Before any was seen: idle_seconds, but never a few seconds (nothing would fit).
    assert idle_seconds([], history, 60.0) == 60.0
    assert idle_seconds([], history, 0.5) == 20.0


def test_speeds_read_from_replies_and_tolerant_of_a_damaged_record() -> None:
    reply = Message(
        id="m1",
        session_id="s",
        role="assistant",
        content="x",
        created=0,
        model="qwen",
        completion_tokens=100,
        ttft_ms=500.0,
        total_ms=10_500.0,
    )
    assert reply_speed([reply], "qwen") == pytest.approx(10.0)
    assert reply_speed([reply], "another") is None
    broken = ModelSpeed.from_dict({"decode": "fast", "request_s": -1, "step_tokens": [1]})
    assert broken == ModelSpeed()


def test_a_notes_list_cut_by_its_ceiling_keeps_the_facts_it_finished() -> None:
    raw = '{"facts": ["I bake on Sundays", "My oven runs hot", "I use rye fl'
    assert finished_facts(raw).facts == ["I bake on Sundays", "My oven runs hot"]


async def measured(store: Store, **speed: object) -> None:
    await store.set_meta(META_KEY, {"fake-model": speed})


async def test_a_slow_model_asks_one_question_and_the_next_idle_period_answers_it(store) -> None:
    # Measured earlier at 3 tokens/s: a 200-token answer does not fit a 40 s idle period.
    await measured(store, decode=3.0, request_s=1.0, step_tokens={"notes": 20.0})
    backend = FakeBackend(long_reply, structured)
    a = await assistant(store, backend, idle_seconds=40.0, predict="always")
    await ask(a, "My sourdough starter smells like acetone.")
    first = await a.reflect()
    assert first.status == "done" and first.more
    assert first.plan and "1 question, answers next time" in first.plan
    [p] = a.predictions  # one question asked for and kept, of the three the model offered
    assert p.question == PREDICTED and not p.answer and p.deferred
    # The next idle period, over the unchanged conversation, answers it.
    second = await a.reflect()
    assert second.status == "done" and "answers" in second.steps and not second.more
    [p] = a.predictions
    assert p.answer == LONG and not p.deferred
    served = [e async for e in a.ask(PREDICTED)][-1]
    assert served.message.source == "prediction"  # type: ignore[attr-defined]


async def test_the_measured_speed_is_kept_per_model_for_the_next_session(store) -> None:
    backend = FakeBackend(long_reply, structured, decode_s_per_token=0.002)
    settings = CoreSettings(cooldown_seconds=0.0, predict="always")
    # The real clock: the reply's own timing is the first measure of the model's speed.
    a = Assistant(backend=backend, store=store, settings=settings, clock=SystemClock())
    await a.start()
    await ask(a, "My sourdough starter smells like acetone.")
    assert (await a.reflect()).plan is not None  # planned from the reply's speed at once
    await a.close()
    kept = await SpeedBook(store).load("fake-model")
    assert kept.decode is not None and 50 < kept.decode < 1000  # ~500 tokens/s, noisy
    assert "question" in kept.step_tokens
    assert (await SpeedBook(store).load("another-model")) == ModelSpeed()


async def test_the_sleep_loop_goes_on_at_once_while_the_user_stays_away(store) -> None:
    await measured(store, decode=3.0, request_s=1.0, step_tokens={"notes": 20.0})
    clock = FakeClock()
    settings = CoreSettings(idle_seconds=40.0, cooldown_seconds=0.0, predict="always")
    a = Assistant(
        backend=FakeBackend(long_reply, structured), store=store, settings=settings, clock=clock
    )
    await a.start()
    await ask(a, "My sourdough starter smells like acetone.")
    loop = asyncio.create_task(a.idle_loop())
    try:
        clock.advance(40.0)  # no input from here on
        async with asyncio.timeout(10):  # only catches a hang
            while len([r for r in a.reflections if r.status == "done"]) < 2:
                await asyncio.sleep(0)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    first, second = [r for r in a.reflections if r.status == "done"]
    assert first.more and not second.more  # no key between them: the second went on
    assert [p.answer for p in a.predictions] == [LONG]

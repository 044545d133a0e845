"""Sleep compute spent where it pays (`sleep.predict`): when predictions stop hitting or nearly
hitting, reflections precompute fewer answers (questions only, then none) while notes and the
warm-up go on; a hit or a near miss brings answers back. Fake backend, fake clock."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyDone
from sleepchat.core.reflection.predict_policy import (
    KEPT,
    MIN_EVIDENCE,
    NONE_AFTER,
    PROBE_EVERY,
    PolicyState,
    after_reflection,
    level,
)
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

ANSWER_WORDS = 30


def reply(messages: Sequence[ChatMessage]) -> str:
    return " ".join(["word"] * ANSWER_WORDS)


class Questions:
    """Each reflection proposes questions about the topic of the last user message."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, messages: Sequence[ChatMessage], schema: type) -> str:
        if schema.__name__ == "Facts":
            return json.dumps({"facts": ["My tomato plants grow too tall on the balcony"]})
        if schema.__name__ == "Decision":
            return json.dumps({"decision": "same", "id": "n1"})
        if schema.__name__ == "Revalidation":
            return json.dumps({"verdicts": []})
        self.n += 1
        return json.dumps({"questions": [f"How do I prune tomato plant number {self.n}?"]})


@pytest.fixture
async def setup(tmp_path: Path):
    store = await Store.open(tmp_path / "data")
    questions = Questions()
    backend = FakeBackend(reply, questions)

    async def make(**kw: object) -> Assistant:
        settings = CoreSettings(idle_seconds=10, cooldown_seconds=0, max_predictions=1, **kw)  # type: ignore[arg-type]
        a = Assistant(backend=backend, store=store, settings=settings, clock=FakeClock())
        await a.start()
        return a

    yield make, backend, questions
    await store.close()


async def ask(a: Assistant, text: str) -> ReplyDone:
    events = [e async for e in a.ask(text)]
    assert isinstance(events[-1], ReplyDone)
    return events[-1]


def answer_streams(backend: FakeBackend, since: int) -> int:
    return sum(1 for c in backend.calls[since:] if c.kind == "stream" and c.num_predict != 1)


async def cycle(a: Assistant, backend: FakeBackend, question: str) -> tuple[int, list[str]]:
    """A reflection, then a question; returns the answers the reflection precomputed and what
    it requested."""
    before = len(backend.calls)
    await a.reflect()
    calls = backend.calls[before:]
    answers = sum(1 for c in calls if c.kind == "stream" and c.num_predict != 1)
    await ask(a, question)
    return answers, [c.schema or c.kind for c in calls]


def test_the_level_follows_recent_outcomes() -> None:
    state = PolicyState()
    assert level("auto", state) == "answers"  # no evidence yet: spend
    for _ in range(MIN_EVIDENCE):
        state = state.with_outcome("miss")
    assert level("auto", state) == "questions"
    assert level("always", state) == "answers" and level("never", PolicyState()) == "none"
    for _ in range(NONE_AFTER - MIN_EVIDENCE):
        state = state.with_outcome("miss")
    assert level("auto", state) == "none"
    ran = []
    for _ in range(2 * PROBE_EVERY):
        ran.append(level("auto", state))
        state = after_reflection(state, ran[-1])
    # every PROBE_EVERY-th reflection still predicts questions, to notice a change
    assert ran == (["none"] * (PROBE_EVERY - 1) + ["questions"]) * 2
    assert level("auto", state.with_outcome("near")) == "answers"  # a near miss brings it back


async def test_misses_lower_the_spend_and_notes_and_warm_up_go_on(setup) -> None:
    make, backend, _questions = setup
    a = await make()
    await ask(a, "My tomato plants grow too tall on the balcony.")
    spent: list[int] = []
    requested: list[list[str]] = []
    for i in range(MIN_EVIDENCE + 2):
        answers, calls = await cycle(a, backend, f"Unrelated question number {i} about taxes?")
        spent.append(answers)
        requested.append(calls)
    # answers precomputed until the evidence says they do not pay, then questions only
    assert spent == [1] * MIN_EVIDENCE + [0, 0]
    for calls in requested:
        assert calls[0] == "stream"  # the warm-up every time (notes: new facts only)
    assert "QuestionList" in requested[-1]
    stats = await a.stats()
    assert stats.answers_skipped == 2
    assert stats.sleep_tokens_saved == 2 * ANSWER_WORDS  # at this session's answer length
    assert [n.text for n in a.notes] == ["My tomato plants grow too tall on the balcony"]


async def test_a_question_matching_an_unanswered_prediction_is_a_hit_lost_and_answers_return(
    setup,
) -> None:
    make, backend, questions = setup
    a = await make()
    await ask(a, "My tomato plants grow too tall on the balcony.")
    for i in range(MIN_EVIDENCE):
        await cycle(a, backend, f"Unrelated question number {i} about taxes?")
    answers, _calls = await cycle(
        a, backend, f"How do I prune tomato plant number {questions.n + 1}?"
    )
    assert answers == 0  # questions only: the match could not be served...
    stats = await a.stats()
    assert (stats.hits, stats.hits_lost, stats.near_misses) == (0, 1, 1)  # ...and says so
    assert a.history[-1].source == "model"
    answers, _calls = await cycle(a, backend, "Something else entirely about taxes?")
    assert answers == 1  # the near miss brought answers back


async def test_never_predicts_nothing_and_always_ignores_the_evidence(setup) -> None:
    make, backend, _questions = setup
    a = await make(predict="never")
    await ask(a, "My tomato plants grow too tall on the balcony.")
    _answers, calls = await cycle(a, backend, "What about taxes?")
    assert calls == ["stream", "Facts", "stream"]  # warm-up, notes, re-warm with the new note
    assert a.predictions == []

    b = await make(predict="always")
    await b.new_session()
    await ask(b, "My tomato plants grow too tall on the balcony.")
    spent = [(await cycle(b, backend, f"Tax question {i}?"))[0] for i in range(MIN_EVIDENCE + 3)]
    assert spent == [1] * (MIN_EVIDENCE + 3)


async def test_the_evidence_is_kept_with_the_session(setup, tmp_path: Path) -> None:
    make, backend, _questions = setup
    a = await make()
    await ask(a, "My tomato plants grow too tall on the balcony.")
    for i in range(MIN_EVIDENCE):
        await cycle(a, backend, f"Unrelated question number {i} about taxes?")
    assert a.conversation is not None
    assert a.conversation.memory.policy.outcomes == ["miss"] * MIN_EVIDENCE
    again = await make()  # reopens the last session
    assert (
        again.conversation is not None
        and again.conversation.memory.policy.outcomes == ["miss"] * MIN_EVIDENCE
    )


def test_damaged_evidence_and_counts_read_as_what_fits() -> None:
    from sleepchat.core.memory.stats import Stats

    damaged = {"outcomes": ["hit", "bogus", 3, "miss", None], "since_probe": -3, "x": 1}
    assert PolicyState.from_dict(damaged) == PolicyState(["hit", "miss"], 0)
    assert PolicyState.from_dict(["not", "a", "dict"]) == PolicyState()
    assert PolicyState.from_dict({"outcomes": ["miss"] * 50}).outcomes == ["miss"] * KEPT
    damaged = {"hits": 2.0, "misses": "3", "near_misses": True, "latency_saved_ms": 9}
    stats = Stats.from_dict(damaged)
    assert (stats.hits, stats.misses, stats.near_misses, stats.latency_saved_ms) == (2, 0, 0, 9.0)
    assert isinstance(stats.latency_saved_ms, float) and isinstance(stats.hits, int)

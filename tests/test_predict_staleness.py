"""A precomputed answer is served only while it accounts for the conversation: a correction, a
new fact or a question the model answered makes older predictions wait for re-validation
(keep / revise / drop) in the next idle period. Fake backend, fake clock, real store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyDone
from sleepchat.core.models import Prediction
from sleepchat.core.reflection.predict_step import REVALIDATE_TOKENS
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

INSTALL = "How do I install Python on my laptop?"
PATH = "How do I add Python to my PATH?"
VENV = "How do I make a virtual environment for my project?"


def users(messages: Sequence[ChatMessage]) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


def reply(messages: Sequence[ChatMessage]) -> str:
    """Answers from what the user said: the model knows only what it is shown."""
    said = " ".join(users(messages))
    system = "macOS" if "macOS" in said else "Windows"
    return f"On {system}, the steps for '{users(messages)[-1]}' are short."


class Script:
    """The structured replies, changed by each test."""

    def __init__(self) -> None:
        self.questions = [INSTALL]
        self.verdicts: list[dict[str, str]] = []

    def __call__(self, messages: Sequence[ChatMessage], schema: type) -> str:
        doc: dict[str, Any] = {
            "Facts": {"facts": []},
            "QuestionList": {"questions": self.questions},
            "Revalidation": {"verdicts": self.verdicts},
        }[schema.__name__]
        return json.dumps(doc)


@pytest.fixture
async def assistant(tmp_path: Path):
    store = await Store.open(tmp_path / "data")
    script = Script()
    backend = FakeBackend(reply, script)
    settings = CoreSettings(idle_seconds=10, cooldown_seconds=0, max_predictions=3)
    a = Assistant(backend=backend, store=store, settings=settings, clock=FakeClock())
    await a.start()
    yield a, backend, script
    await a.close()
    await store.close()


async def ask(a: Assistant, text: str) -> ReplyDone:
    events = [e async for e in a.ask(text)]
    assert isinstance(events[-1], ReplyDone), events[-1]
    return events[-1]


async def predicted_then(a: Assistant, later: str) -> Prediction:
    """A prediction made while the user said Windows, then ``later`` answered by the model."""
    await ask(a, "I use Windows 11 on my laptop and want to learn Python.")
    await a.reflect()
    (prediction,) = a.fresh_predictions
    assert "Windows" in prediction.answer  # what it assumed
    await ask(a, later)
    return prediction


async def test_a_correction_keeps_an_older_answer_from_being_served(assistant) -> None:
    a, _backend, _script = assistant
    await predicted_then(a, "Correction: I actually use macOS, not Windows.")
    assert a.fresh_predictions == []  # waiting for re-validation
    done = await ask(a, INSTALL)
    assert done.message.source == "model" and done.prediction is None
    assert "macOS" in done.message.content


async def test_after_a_correction_a_keep_is_not_enough_the_answer_is_recomputed(
    assistant,
) -> None:
    a, backend, script = assistant
    old = await predicted_then(a, "Correction: I actually use macOS, not Windows.")
    script.verdicts = [{"id": old.id, "verdict": "keep"}]  # the model missed the correction
    script.questions = [PATH]
    before = len(backend.calls)
    await a.reflect()
    calls = backend.calls[before:]
    # Re-validation runs first in the idle period (after the one-token warm-up), and is cheap:
    # one structured request with a small ceiling.
    assert [(c.kind, c.schema) for c in calls[:2]] == [
        ("stream", None),
        ("structured", "Revalidation"),
    ]
    assert calls[1].num_predict is not None and calls[1].num_predict <= REVALIDATE_TOKENS
    assert old.question in calls[1].messages[-1]["content"]
    assert "Correction: I actually use macOS" in calls[1].messages[-1]["content"]

    by_question = {p.question: p for p in a.fresh_predictions}
    revised = by_question[INSTALL]
    assert revised.revised_from == old.id and "macOS" in revised.answer
    assert a.conversation is not None
    assert a.conversation.memory.prediction(old.id).status == "dropped"  # type: ignore[union-attr]
    done = await ask(a, INSTALL)
    assert done.prediction is not None and done.prediction.id == revised.id
    assert "Windows" not in done.message.content


async def test_a_dropped_prediction_is_never_served(assistant) -> None:
    a, _backend, script = assistant
    old = await predicted_then(a, "Correction: I actually use macOS, not Windows.")
    script.verdicts = [{"id": old.id, "verdict": "drop"}]
    script.questions = [PATH]
    await a.reflect()
    assert [p.question for p in a.fresh_predictions] == [PATH]
    done = await ask(a, INSTALL)
    assert done.message.source == "model"


async def test_a_new_fact_answered_by_the_model_needs_re_validation_and_keep_restores(
    assistant,
) -> None:
    a, backend, script = assistant
    old = await predicted_then(a, "I have about an hour each evening.")  # a new fact
    assert a.fresh_predictions == []

    script.verdicts = [{"id": old.id, "verdict": "keep"}]
    script.questions = [PATH]
    before = len(backend.calls)
    await a.reflect()
    answered = [c for c in backend.calls[before:] if c.kind == "stream" and c.num_predict != 1]
    assert [users(c.messages)[-1] for c in answered] == [PATH]  # the kept one: no new answer
    kept = a.conversation.memory.prediction(old.id)  # type: ignore[union-attr]
    assert kept is not None and kept.validated_by == a.reflections[-1].id
    done = await ask(a, INSTALL)
    assert done.prediction is not None and done.prediction.id == old.id


async def test_questions_served_from_the_same_reflection_keep_its_siblings_current(
    assistant,
) -> None:
    a, _backend, script = assistant
    script.questions = [INSTALL, PATH, VENV]
    await ask(a, "I use Windows 11 on my laptop and want to learn Python.")
    await a.reflect()
    assert len(a.fresh_predictions) == 3
    assert (await ask(a, INSTALL)).message.source == "prediction"
    # the conversation went the way that reflection foresaw: its other answers still hold
    assert (await ask(a, PATH)).message.source == "prediction"
    await ask(a, "Which editor is good for beginners?")  # answered by the model
    assert a.fresh_predictions == []
    assert (await ask(a, VENV)).message.source == "model"


async def test_regenerating_a_served_reply_makes_the_siblings_wait(assistant) -> None:
    a, _backend, script = assistant
    script.questions = [INSTALL, PATH]
    await ask(a, "I use Windows 11 on my laptop and want to learn Python.")
    await a.reflect()
    assert (await ask(a, INSTALL)).message.source == "prediction"
    assert [p.question for p in a.fresh_predictions] == [PATH]
    [e async for e in a.regenerate()]  # the model's own answer replaces the served one
    assert a.fresh_predictions == []


async def test_an_answer_a_later_message_contradicts_is_not_kept_as_it_is(assistant) -> None:
    """No correction word, but the user states another value than the answer assumed."""
    a, _backend, script = assistant
    old = await predicted_then(a, "My laptop runs macOS Sonoma, not Windows.")
    script.verdicts = [{"id": old.id, "verdict": "keep"}]
    await a.reflect()
    assert a.conversation is not None
    assert a.conversation.memory.prediction(old.id).status == "dropped"  # type: ignore[union-attr]
    (revised,) = a.fresh_predictions
    assert revised.revised_from == old.id and "Windows" not in revised.answer

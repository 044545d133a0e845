"""The sleep cycle on a fake backend and a fake clock: what a reflection stores, what it
asks the model, how it stops, and what it refuses to do."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from support.memory_store import MemoryStore

from sleepchat.core import prompts
from sleepchat.core.clock import FakeClock
from sleepchat.core.conversation import Conversation
from sleepchat.core.events import Event, EventBus, MemoryChanged, ReflectionChanged
from sleepchat.core.memory import Memory
from sleepchat.core.models import Message, Prediction, Session
from sleepchat.core.recall import Recall
from sleepchat.core.reflection.facts import Facts
from sleepchat.core.reflection.predict_step import QuestionList
from sleepchat.core.reflection.reflect import Reflector
from sleepchat.core.reflection.reflect_run import state_key
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import BackendUnreachable, ChatMessage, ModelOptions
from sleepchat.llm.fake import FakeBackend

SID = "s1"
OPTIONS = ModelOptions(num_ctx=4096, temperature=0.2, seed=7)


def msg(mid: str, role: str, content: str, created: float) -> Message:
    return Message(id=mid, session_id=SID, role=role, content=content, created=created)  # type: ignore[arg-type]


def conversation(clock: FakeClock, *pairs: tuple[str, str]) -> list[Message]:
    out: list[Message] = []
    for q, a in pairs:
        n = len(out)
        out.append(msg(f"m{n + 1}", "user", q, clock.now()))
        out.append(msg(f"m{n + 2}", "assistant", a, clock.now()))
    return out


PARTY = (
    "I'm planning a birthday party for my daughter, she turns 8. We expect ten kids on Saturday.",
    "Great! For an 8-year-old, plan about two hours with games, cake and a craft.",
)


def structured(**by_schema: Any) -> Callable[[Sequence[ChatMessage], type], str]:
    """Reply per schema name: a dict (sent as JSON), a raw string, or a callable."""

    def reply(messages: Sequence[ChatMessage], schema: type) -> str:
        value = by_schema.get(schema.__name__, {})
        if callable(value):
            value = value(messages)
        return value if isinstance(value, str) else json.dumps(value)

    return reply


def answers(messages: Sequence[ChatMessage]) -> str:
    last = messages[-1]["content"]
    return f"Here is a full answer to: {last}"


QUESTIONS = [
    "Which party games suit 8-year-olds?",
    "How big should the birthday cake be for ten kids?",
    "What craft can the children do at the party?",
]


class Harness:
    def __init__(self, backend: FakeBackend, **settings: Any) -> None:
        self.clock = FakeClock()
        self.store = MemoryStore()
        self.backend = backend
        self.settings = CoreSettings(options=OPTIONS, keep_alive="15m", **settings)
        self.memory = Memory(self.store, SID, self.clock)
        self.events: list[Event] = []
        self.reflector = Reflector(backend, self.clock, Recall())
        self.history = conversation(self.clock, PARTY)

    def conversation(self) -> Conversation:
        """The session as the assistant would hold it (its events go to ``self.events``)."""
        bus = EventBus(logging.getLogger("test"))
        bus.subscribe(self.events.append)
        session = Session(SID, "a party", 0.0, 0.0)
        return Conversation(
            session,
            self.history,
            self.memory,
            self.settings,
            store=self.store,
            clock=self.clock,
            events=bus,
        )

    async def run(self) -> Any:
        return await self.reflector.run(self.conversation())

    def prefix(self) -> list[ChatMessage]:
        return prompts.prefix_messages(self.settings.system_prompt, self.history)


def happy_backend() -> FakeBackend:
    return FakeBackend(
        answers,
        structured(
            Facts={
                "facts": [
                    "Planning a birthday party for an 8-year-old daughter",
                    "Ten kids are expected on Saturday",
                ]
            },
            QuestionList={"questions": QUESTIONS},
        ),
    )


async def test_a_reflection_stores_notes_predictions_with_answers_and_warms_up() -> None:
    h = Harness(happy_backend())
    await h.memory.load()
    r = await h.run()
    assert (r.status, r.notes_changed, r.predictions) == ("done", 2, 3)
    assert [n.text for n in h.memory.notes] == [
        "Planning a birthday party for an 8-year-old daughter",
        "Ten kids are expected on Saturday",
    ]
    note = h.memory.notes[0]
    assert note.reflection_id == r.id and note.source_message_ids == ["m1"]
    assert not note.verbatim
    preds = h.memory.fresh_predictions(1, 3)
    assert [p.question for p in preds] == QUESTIONS
    for p in preds:
        assert p.answer == f"Here is a full answer to: {p.question}"
        assert (p.based_on_message_id, p.based_on_turn, p.reflection_id) == ("m2", 1, r.id)
        assert p.answer_tokens == len(p.answer.split())
    # The answers were requested exactly as a chat turn would ask them (notes in the tail).
    notes = [n.text for n in h.memory.notes]
    streams = [c for c in h.backend.calls if c.kind == "stream"]
    assert [c.messages for c in streams[1:4]] == [
        prompts.chat_messages(h.settings.system_prompt, h.history, q, notes=notes)
        for q in QUESTIONS
    ]
    # The warm-up came first (a cut reflection still leaves a warm cache); every later
    # prediction request starts with the chat prefix and the notes block a next question
    # will use, so the cache ends holding it and no re-warm was needed.
    warm = h.backend.calls[0]
    assert (warm.kind, warm.num_predict, warm.messages) == ("stream", 1, h.prefix())
    notes_block = prompts.memory_block([n.text for n in h.memory.notes])
    start = [*h.prefix(), {"role": "system", "content": notes_block}]
    assert [c.messages[: len(start)] == start for c in h.backend.calls[2:]] == [True] * 4
    assert [c.num_predict for c in h.backend.calls].count(1) == 1
    assert r.steps == ["warm-up", "revalidate", "notes", "questions", "answers"]
    # Tokens asleep: both structured replies (the fake counts words), the answers, the warm-up.
    answered = sum(p.answer_tokens or 0 for p in preds)
    backend_replies = happy_backend().structured
    assert backend_replies is not None
    planning = sum(len(backend_replies([], schema).split()) for schema in (Facts, QuestionList))
    assert r.tokens == planning + answered + 1
    # Events: running at the start, done at the end; in between, after each stored step, the
    # memory as it now is and the progress so far; the stats at the end.
    changes = [e for e in h.events if isinstance(e, ReflectionChanged)]
    # after each of the 8 stored steps (two notes, three questions, three answers)
    assert [e.reflection.status for e in changes] == ["running"] * 9 + ["done"]
    assert [e.reflection.notes_changed for e in changes[1:]] == [1] + [2] * 8
    assert [e.reflection.predictions for e in changes[1:]] == [0, 0, 1, 2, 3, 3, 3, 3, 3]
    memory = [e for e in h.events if isinstance(e, MemoryChanged)]
    assert len(memory) == 9
    assert memory[-1].notes == tuple(h.memory.notes)
    assert memory[-1].stats.reflections_done == 1
    assert memory[-1].fresh_ids == {p.id for p in preds}  # answered: may be served now
    # a question stored before its answer is shown, but not yet servable
    assert [len(m.fresh_ids) for m in memory[2:8]] == [0, 0, 0, 1, 2, 3]
    assert h.memory.stats.reflections_done == 1
    assert h.memory.stats.predictions_made == 3
    assert h.memory.stats.sleep_tokens == r.tokens


async def test_every_request_shares_the_chat_prefix_and_options() -> None:
    h = Harness(happy_backend())
    await h.memory.load()
    await h.run()
    prefix = h.prefix()
    kinds = [c.kind for c in h.backend.calls]
    assert kinds == ["stream", "structured", "structured", "stream", "stream", "stream"]
    for call in h.backend.calls:
        assert call.messages[: len(prefix)] == prefix
        assert {k: v for k, v in call.options.items() if k != "num_predict"} == OPTIONS.to_dict()
        assert call.keep_alive == "15m"
        assert call.background  # idle work: the embedded model leaves a core to the app
    # Instructions live in the tail only (the questions request after the notes block).
    notes_call, questions_call = h.backend.calls[1:3]
    assert len(notes_call.messages) == len(prefix) + 1
    assert len(questions_call.messages) == len(prefix) + 2
    assert questions_call.messages[-2]["role"] == "system"
    for call in (notes_call, questions_call):
        assert call.messages[-1]["role"] == "user"
        assert call.messages[-1]["content"] not in [m["content"] for m in prefix]


async def test_no_warm_up_when_disabled_and_its_token_not_reserved() -> None:
    h = Harness(happy_backend(), warm_up=False, budget_tokens=10_000)
    await h.memory.load()
    await h.run()
    assert all(c.num_predict != 1 for c in h.backend.calls)
    assert [c.kind for c in h.backend.calls].count("stream") == 3  # the answers only
    first_answer = next(c for c in h.backend.calls if c.kind == "stream")
    # The first answer may use all that the two plans left: no token held back for a warm-up.
    spent = sum(
        len((happy_backend().structured or (lambda m, s: ""))([], schema).split())
        for schema in (Facts, QuestionList)
    )
    assert first_answer.num_predict == 10_000 - spent


async def test_cancel_mid_answer_keeps_finished_steps_and_stores_no_partial_answer() -> None:
    answering = asyncio.Event()
    calls = 0

    def responder(messages: Sequence[ChatMessage]) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:  # freeze the second answer (after the warm-up) once it started
            backend.gate = asyncio.Event()
            answering.set()
        return answers(messages)

    backend = FakeBackend(responder, happy_backend().structured)
    h = Harness(backend)
    await h.memory.load()
    task = asyncio.create_task(h.run())
    await answering.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    r = h.memory.last_reflection()
    assert r is not None and r.status == "cancelled"
    assert (r.notes_changed, r.predictions) == (2, 3)
    assert r.steps == ["warm-up", "revalidate", "notes", "questions"]
    assert len(h.memory.notes) == 2  # the notes stay
    # The questions stay (shown, never served without an answer); the frozen answer is not kept.
    assert [(p.question, bool(p.answer)) for p in h.memory.predictions] == [
        (QUESTIONS[0], True),
        (QUESTIONS[1], False),
        (QUESTIONS[2], False),
    ]
    assert backend.calls[-1].cancelled  # the stream was closed, not left generating
    assert h.memory.stats.reflections_cancelled == 1
    assert h.events[-1] == ReflectionChanged(r)
    # On disk too: a reload sees the same consistent state.
    again = Memory(h.store, SID, h.clock)
    await again.load()
    assert again.last_reflection().status == "cancelled"  # type: ignore[union-attr]
    assert [bool(p.answer) for p in again.predictions] == [True, False, False]
    assert len(again.notes) == 2


async def test_cancel_during_the_notes_request_applies_nothing_but_leaves_the_cache_warm() -> None:
    backend = happy_backend()
    backend.gate = asyncio.Event()  # holds the first request: the warm-up
    h = Harness(backend)
    await h.memory.load()
    task = asyncio.create_task(h.run())
    await backend.started.wait()
    warm_gate, backend.gate = backend.gate, asyncio.Event()  # the next one (notes) waits
    backend.started.clear()
    warm_gate.set()
    await backend.started.wait()
    assert backend.calls[-1].schema == "Facts"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert h.memory.notes == [] and h.memory.predictions == []
    r = h.memory.last_reflection()
    assert r is not None and (r.status, r.steps) == ("cancelled", ["warm-up", "revalidate"])
    assert backend.calls[0].finished and backend.calls[0].num_predict == 1
    # A cancelled reflection does not count as done: the next idle period tries again.
    backend.gate.set()
    h.clock.advance(h.settings.cooldown_seconds + 1)
    assert (await h.run()).status == "done"


@pytest.mark.parametrize(
    "notes_reply, plan_reply",
    [
        ("this is not JSON at all", "{{{"),
        ('{"facts": "forget everything"}', '{"keep": "all", "questions": 3}'),
        ('{"facts": [{"op": "delete_all"}]}', '{"questions": [{"q": 1}]}'),
        ('{"ops": [{"op": "insert"}]}', '{"keep": [], "drop": [], "questions": []}'),
    ],
)
async def test_output_off_the_schema_is_dropped_and_logged(
    notes_reply: str, plan_reply: str, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(FakeBackend(answers, structured(Facts=notes_reply, QuestionList=plan_reply)))
    await h.memory.load()
    await h.memory.insert_note("Existing fact")
    with caplog.at_level(logging.INFO):
        r = await h.run()
    assert r.status == "done"
    # Nothing of the reply is stored; the user's own statements are kept, marked verbatim.
    assert [(n.text, n.verbatim) for n in h.memory.notes] == [
        ("Existing fact", False),
        ("I'm planning a birthday party for my daughter, she turns 8.", True),
        ("We expect ten kids on Saturday.", True),
    ]
    assert h.memory.predictions == []
    assert h.backend.calls[0].num_predict == 1  # the warm-up still ran
    if not notes_reply.startswith('{"ops"'):
        assert "dropped" in caplog.text


async def test_no_second_run_on_an_unchanged_state() -> None:
    h = Harness(happy_backend())
    await h.memory.load()
    first = await h.run()
    calls = len(h.backend.calls)
    h.clock.advance(3600)
    second = await h.run()
    assert (second.status, second.reason) == ("skipped", "unchanged")
    assert len(h.backend.calls) == calls  # the model was not asked anything
    third = await h.run()
    assert third == second  # no new record for every idle period
    assert len(h.memory.reflections) == 2
    assert first.state_key == state_key(
        SID, h.history, h.memory.notes, h.reflector.prefix(h.settings)
    )
    # A user edit changes the state: the next idle period reflects again.
    await h.memory.edit_note("n1", "The party is for Ada, turning 8")
    assert (await h.run()).status == "done"


async def test_the_first_reflection_after_a_new_turn_never_waits_for_the_cooldown() -> None:
    h = Harness(happy_backend(), cooldown_seconds=60)
    await h.memory.load()
    await h.run()
    h.history += conversation(h.clock, ("What about food?", "Pizza and fruit work well."))
    h.history[-2].id, h.history[-1].id = "m3", "m4"
    h.clock.advance(5)  # well inside the cooldown
    again = await h.run()
    assert again.status == "done"  # predictions now follow the new answer
    assert h.memory.stats.reflections_skipped == 0


async def cancelled_run(h: Harness, backend: FakeBackend) -> None:
    """A reflection cut by a key while its warm-up runs."""
    backend.gate = asyncio.Event()
    backend.started.clear()
    task = asyncio.create_task(h.run())
    await backend.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    backend.gate.set()
    backend.gate = None


async def test_the_cooldown_throttles_retries_after_a_cancel_over_the_same_conversation() -> None:
    backend = happy_backend()
    h = Harness(backend, cooldown_seconds=60)
    await h.memory.load()
    await cancelled_run(h, backend)
    h.clock.advance(30)
    skipped = await h.run()
    assert (skipped.status, skipped.reason) == ("skipped", "cooldown")
    assert h.memory.stats.reflections_skipped == 1
    h.clock.advance(31)
    assert (await h.run()).status == "done"


async def test_a_new_turn_after_a_cancel_is_reflected_on_at_once() -> None:
    backend = happy_backend()
    h = Harness(backend, cooldown_seconds=60)
    await h.memory.load()
    await cancelled_run(h, backend)
    h.clock.advance(1)
    h.history += conversation(h.clock, ("What about food?", "Pizza and fruit work well."))
    h.history[-2].id, h.history[-1].id = "m3", "m4"
    assert (await h.run()).status == "done"


async def test_nothing_to_reflect_on_without_a_complete_exchange() -> None:
    h = Harness(happy_backend())
    await h.memory.load()
    h.history = [msg("m1", "user", "hello?", h.clock.now())]
    r = await h.run()
    assert (r.status, r.reason) == ("skipped", "nothing to reflect on")
    assert h.backend.calls == []


async def test_the_budget_caps_tokens_and_a_cut_answer_is_not_stored() -> None:
    long_answer = " ".join(f"w{i}" for i in range(40))
    notes, plan = {"facts": []}, {"questions": QUESTIONS}
    backend = FakeBackend(lambda m: long_answer, structured(Facts=notes, QuestionList=plan))
    # The fake counts a structured reply's words as its tokens.
    planning = len(json.dumps(notes).split()) + len(json.dumps(plan).split())
    # The warm-up's token, the plans, one full answer, ten tokens of a second, and one token
    # held back for a re-warm.
    budget = 1 + planning + 40 + 10 + 1
    h = Harness(backend, budget_tokens=budget)
    await h.memory.load()
    r = await h.run()
    # the cut answer is not kept: its question stays unanswered
    assert [p.answer for p in h.memory.predictions] == [long_answer, "", ""]
    streams = [c.num_predict for c in backend.calls if c.kind == "stream"]
    assert streams == [1, budget - 2 - planning, 10]  # the third answer was never started
    # Every token of the budget was spent but the re-warm's, not needed: the last answer's
    # request already started with the chat prefix.
    assert r.tokens == budget - 1
    assert h.memory.stats.sleep_tokens == r.tokens


async def test_stale_and_dropped_predictions_are_not_fresh_and_revisions_linked() -> None:
    h = Harness(FakeBackend(answers))
    await h.memory.load()
    old = await h.memory.save_prediction(
        Prediction(
            id="",
            session_id=SID,
            question="Which party games suit 8-year-olds?",
            answer="Musical chairs.",
            created=h.clock.now(),
            reflection_id="r0",
            based_on_message_id="m0",
            based_on_turn=0,
        )
    )
    ancient = await h.memory.save_prediction(
        Prediction(
            id="",
            session_id=SID,
            question="Should I hire a clown?",
            answer="Maybe.",
            created=h.clock.now(),
            reflection_id="r0",
            based_on_message_id="m0",
            based_on_turn=-5,
        )
    )
    assert [p.id for p in h.memory.fresh_predictions(1, 3)] == [old.id]  # ancient: too old
    h.backend.structured = structured(
        Revalidation={"verdicts": [{"id": old.id, "verdict": "revise"}]},
        QuestionList={
            "questions": [
                "Which outdoor party games suit 8-year-olds?",  # restates the one revised
                "How big should the birthday cake be for ten kids?",
            ]
        },
    )
    await h.run()
    statuses = {p.id: p.status for p in h.memory.predictions}
    assert statuses[old.id] == "dropped" and statuses[ancient.id] == "stale"
    fresh = h.memory.fresh_predictions(1, 3)
    assert [(p.question, p.revised_from) for p in fresh] == [
        ("How big should the birthday cake be for ten kids?", None),
        ("Which party games suit 8-year-olds?", old.id),  # re-answered on today's context
    ]
    assert fresh[1].answer == "Here is a full answer to: Which party games suit 8-year-olds?"
    # The earlier prediction was offered for re-validation in the tail, with its answer.
    check = next(c for c in h.backend.calls if c.schema == "Revalidation")
    assert f"{old.id}: Which party games" in check.messages[-1]["content"]
    assert "Musical chairs." in check.messages[-1]["content"]


async def test_questions_already_asked_or_repeated_are_not_predicted() -> None:
    h = Harness(
        FakeBackend(
            answers,
            structured(
                QuestionList={
                    "questions": [
                        "I'm planning a birthday party for my daughter, she turns 8.",  # asked
                        "How long should the party last?",
                        "How long should the party last exactly?",  # repeat of the previous
                        "   ",
                        "q" * 400,  # too long
                        "What food should I serve?",
                    ]
                }
            ),
        )
    )
    await h.memory.load()
    await h.run()
    assert [p.question for p in h.memory.predictions] == [
        "How long should the party last?",
        "What food should I serve?",
    ]


async def test_at_most_max_predictions_fresh_at_once() -> None:
    h = Harness(happy_backend(), max_predictions=2)
    await h.memory.load()
    r = await h.run()
    assert r.predictions == 2
    plan_call = next(c for c in h.backend.calls if c.schema == "QuestionList")
    assert "up to 2 questions" in plan_call.messages[-1]["content"]


async def test_an_unreachable_server_fails_the_reflection_without_raising() -> None:
    h = Harness(FakeBackend(error=BackendUnreachable("Ollama is not reachable")))
    await h.memory.load()
    r = await h.run()
    assert (r.status, r.reason) == ("failed", "Ollama is not reachable")
    assert h.memory.notes == [] and h.memory.predictions == []


async def test_a_looping_answer_is_stopped_and_never_served() -> None:
    looping = "Games are fun. " + "Musical chairs is a great game. " * 500
    backend = FakeBackend(lambda m: looping, happy_backend().structured)
    h = Harness(backend)
    await h.memory.load()
    r = await h.run()
    assert r.status == "done" and h.memory.predictions  # the questions are kept ...
    assert all(not p.answer for p in h.memory.predictions)  # ... but no looping answer
    answers_asked = [c for c in backend.calls if c.kind == "stream" and c.num_predict != 1]
    assert answers_asked and all(c.cancelled for c in answers_asked)  # each loop was cut off
    assert r.tokens < 3 * 100 + 100  # a few copies each, not the whole budget

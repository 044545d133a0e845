"""/later: questions the user queues for idle time. Answered in the next idle period with exactly
a chat turn's request (whatever the prediction policy or the budget says), served at once when
asked, never aged out by turn count, answered again when the conversation moved on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import events, sleepchat
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat.core.errors import CoreError
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

QUEUED = "How do I keep the starter alive while I am away for two weeks?"


async def test_a_queued_question_is_answered_while_idle_and_served_when_asked(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, predict="off", budget_tokens=0)
    await ask(a, "My sourdough starter smells like acetone.")
    queued = await a.later(QUEUED)
    assert (queued.queued, queued.answer) == (True, "")
    await a.reflect()
    [p] = [p for p in a.predictions if p.queued]
    # Whatever the policy (off) and the budget (0) say: the user asked for it.
    assert p.answer == f"Answer to «{QUEUED}» after 2 user messages."
    calls_before = len(backend.calls)
    done = await ask(a, QUEUED.lower().rstrip("?"))  # the same question, typed casually
    assert done.prediction is not None and done.prediction.id == p.id
    assert done.message.source == "prediction" and done.message.content == p.answer
    assert len(backend.calls) == calls_before  # served from the cache: no model request


async def test_the_queued_answer_is_requested_exactly_as_a_chat_turn(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, max_reply_tokens=300)
    await ask(a, "My sourdough starter smells like acetone.")
    await a.later(QUEUED)
    await a.reflect()
    [idle] = [
        c for c in backend.calls if c.kind == "stream" and c.messages[-1]["content"] == QUEUED
    ]
    backend.calls.clear()
    [e async for e in a.ask(QUEUED, force_model=True)]  # the same question, to the model now
    [turn] = [c for c in backend.calls if c.kind == "stream"]
    assert (idle.messages, idle.num_predict, idle.options) == (
        turn.messages,
        turn.num_predict,
        turn.options,
    )


async def test_several_are_answered_in_order_even_on_an_unchanged_conversation(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "I bake bread on weekends.")
    await a.reflect()
    assert a.reflections[-1].status == "done"
    questions = [
        f"Question number {i}: what flour suits a {kind} loaf?"
        for i, kind in enumerate(("rye", "spelt", "wholemeal"))
    ]
    for q in questions:
        await a.later(q)
    r = await a.reflect()  # nothing new was said: only the queued questions are worked on
    assert r.status == "done" and "queued" in r.steps and "notes" not in r.steps
    answered = [c.messages[-1]["content"] for c in backend.calls if c.kind == "stream"]
    assert answered[-3:] == questions
    assert all(p.answer for p in a.predictions if p.queued)


async def test_a_queued_answer_never_ages_out_and_is_answered_again_when_stale(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, prediction_ttl_turns=1)
    await ask(a, "I keep a rye starter.")
    await a.later(QUEUED)
    await a.reflect()
    for text in ("What is hydration?", "And autolyse?", "Thanks, what about salt?"):
        await ask(a, text)
    [p] = [p for p in a.predictions if p.queued]
    assert p.status == "fresh"  # three turns later (ttl 1): still there, not expired
    assert p.id not in {x.id for x in a.fresh_predictions}  # but stale: not served as is
    await a.reflect()
    [p] = [p for p in a.predictions if p.queued]
    assert p.answer == f"Answer to «{QUEUED}» after 5 user messages."  # the new conversation
    done = await ask(a, QUEUED)
    assert done.prediction is not None and done.prediction.id == p.id


async def test_a_question_queued_twice_is_one_question_answered_once(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "I keep a rye starter.")
    first = await a.later(QUEUED)
    again = await a.later("  " + QUEUED.upper() + " ")
    assert again.id == first.id and [p.id for p in a.predictions if p.queued] == [first.id]
    await a.reflect()
    streamed = [c.messages[-1]["content"] for c in backend.calls if c.kind == "stream"]
    assert streamed.count(QUEUED) == 1
    # Once it has been served, the same question queued again is a new one.
    await ask(a, QUEUED)
    assert (await a.later(QUEUED)).id != first.id


async def test_an_empty_question_is_refused_with_the_usage(store) -> None:
    a = await assistant(store, FakeBackend(reply))
    with pytest.raises(CoreError, match="/later"):
        await a.later("   ")
    assert a.predictions == []


def test_script_later_then_idle_then_asking_serves_it_marked_queued(tmp_path: Path) -> None:
    with FakeOllama() as srv:
        srv.configure(
            reply=lambda request: (
                json.dumps({"facts": [], "questions": []})
                if isinstance(request.get("format"), dict)
                else f"About: {request['messages'][-1]['content']}"
            )
        )
        stdin = (
            b"My starter smells like acetone.\n"
            b"/later Can I feed the starter with rye flour?\n/predictions\n/idle\n"
            b"can i feed the starter with rye flour\n"
        )
        proc = sleepchat("--json", data=tmp_path / "d", host=srv.url, stdin=stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc.stdout)
    assert [e["type"] for e in evs] == ["reply", "queued", "predictions", "reflection", "reply"]
    assert evs[2]["predictions"][0]["queued"] is True and evs[2]["predictions"][0]["fresh"] is False
    hit = evs[-1]
    assert (hit["source"], hit["queued"]) == ("prediction", True)
    assert hit["text"] == "About: Can I feed the starter with rye flour?"


GARDENS = "What are the best gardens to visit in Kyoto in April?"
REWORDED = "Which are the top gardens to visit in Kyoto in April?"  # words differ: no judge here
HINTED = "Answers prepared earlier for similar questions"


async def _miss_request(path: Path, asked: str, **settings: object) -> str:
    """The request a miss sends after a queued question about Kyoto's gardens was answered."""
    backend = FakeBackend(reply, nothing_to_predict)
    s = await Store.open(path)
    try:
        a = await assistant(s, backend, **settings)
        await ask(a, "I am planning a week in Kyoto in April; we like temples and gardens.")
        await a.later(GARDENS)
        await a.reflect()
        backend.calls.clear()
        done = await ask(a, asked)
    finally:
        await s.close()
    assert done.message.source == "model"  # a miss
    [turn] = [c for c in backend.calls if c.kind == "stream"]
    return "\n".join(m["content"] for m in turn.messages)


async def test_a_miss_quotes_no_earlier_answer_by_default(tmp_path: Path) -> None:
    # Each hint is prefilled before the reply's first word: a miss would start later.
    request = await _miss_request(tmp_path, REWORDED)
    assert HINTED not in request and f"Answer to «{GARDENS}»" not in request


async def test_hints_when_asked_for_quote_a_near_answer_but_never_a_look_alikes(
    tmp_path: Path,
) -> None:
    near = await _miss_request(tmp_path / "near", REWORDED, recall_hints=2)
    assert HINTED in near and f"Answer to «{GARDENS}»" in near
    # Another month: the rules veto the pair, so its answer is about something else.
    may = await _miss_request(
        tmp_path / "may", "What are the best gardens to visit in Kyoto in May?", recall_hints=2
    )
    assert HINTED not in may and f"Answer to «{GARDENS}»" not in may

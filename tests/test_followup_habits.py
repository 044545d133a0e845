"""Follow-ups on the last answer: the user's habits counted across sessions, precomputed while
idle with exactly a chat turn's request, served only to a message that is that intent."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import events, sleepchat
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat.core.recall.followups import BY_NAME
from sleepchat.core.reflection.followup_habits import Habits
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.fake import FakeBackend

SHORTER = BY_NAME["shorter"].request
EXAMPLE = BY_NAME["example"].request


def requests(backend: FakeBackend) -> list[str]:
    return [c.messages[-1]["content"] for c in backend.calls if c.kind == "stream"]


async def test_a_habit_is_precomputed_and_served_in_the_users_own_words(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "How do sourdough starters work?")
    first = await ask(a, "make it shorter please")  # not precomputed yet: the model answers
    assert first.prediction is None and first.message.source == "model"
    await ask(a, "And how long does a starter take?")
    await a.reflect()
    [p] = [p for p in a.predictions if p.intent == "shorter"]
    assert p.question == SHORTER and p.answer == f"Answer to «{SHORTER}» after 4 user messages."
    calls = len(backend.calls)
    done = await ask(a, "Could you make your last reply shorter? Thanks!")
    assert done.prediction is not None and done.prediction.id == p.id
    assert done.message.source == "prediction" and done.message.content == p.answer
    assert len(backend.calls) == calls  # no model request
    assert a.history[-2].content == "Could you make your last reply shorter? Thanks!"
    assert (await a.stats()).hits == 1


async def test_the_request_is_exactly_a_chat_turns(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, max_reply_tokens=300)
    await ask(a, "What is a closure?")
    await ask(a, "an example?")
    await a.reflect()
    [idle] = [
        c for c in backend.calls if c.kind == "stream" and c.messages[-1]["content"] == EXAMPLE
    ]
    backend.calls.clear()
    [e async for e in a.ask(EXAMPLE, force_model=True)]
    [turn] = [c for c in backend.calls if c.kind == "stream"]
    assert (idle.messages, idle.num_predict, idle.options) == (
        turn.messages,
        turn.num_predict,
        turn.options,
    )


async def test_habits_outlive_the_session_and_only_the_most_frequent_are_precomputed(
    store,
) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, followups=1)
    await ask(a, "What is a closure?")
    for text in ("Shorter!", "why?", "shorter please"):  # shorter twice, why once
        await ask(a, text)
    await a.new_session()
    # A new assistant on the same store (a later run): the counts are the user's, not the session's.
    b = await assistant(store, backend, followups=1)
    assert await Habits(store).counts() == {"shorter": 2, "why": 1}
    await ask(b, "What is a monad?")
    backend.calls.clear()
    await b.reflect()
    assert [p.intent for p in b.predictions if p.intent] == ["shorter"]
    assert BY_NAME["why"].request not in requests(backend)
    c = await assistant(store, backend, followups=0)  # 0: off
    await c.new_session()
    await ask(c, "What is a functor?")
    backend.calls.clear()
    await c.reflect()
    assert not [p for p in c.predictions if p.intent] and SHORTER not in requests(backend)


async def test_no_habit_no_followup_request(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "shorter")  # the first message answers nothing: not a habit
    await ask(a, "What is a closure?")
    await a.reflect()
    assert await Habits(store).counts() == {}
    assert not any(r in requests(backend) for r in (SHORTER, EXAMPLE))
    assert not [p for p in a.predictions if p.intent]


async def test_only_that_intent_is_served_it(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "Write a function that parses dates.")
    await ask(a, "make it shorter")
    await ask(a, "Now one that parses times.")
    await a.reflect()
    assert [p.intent for p in a.fresh_predictions] == ["shorter"]
    for text in (
        "make the function shorter and add types",
        "Make that shorter.  Also in Rust.",
        "is there a shorter way to parse times?",
        "no, do not shorten it",
    ):
        done = await ask(a, text)
        assert done.prediction is None, text  # asked of the model, in the user's words
        assert requests(backend)[-1] == text


async def test_a_new_answer_makes_it_stale_and_the_next_reflection_replaces_it(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "What is a closure?")
    await ask(a, "shorter")
    await a.reflect()
    [old] = [p for p in a.predictions if p.intent]
    await ask(a, "What is a generator?")
    assert old.id not in {p.id for p in a.fresh_predictions}  # an answer no longer the last
    await a.reflect()
    assert {p.id: p.status for p in a.predictions if p.intent}[old.id] == "stale"
    [new] = [p for p in a.fresh_predictions if p.intent]
    assert new.answer == f"Answer to «{SHORTER}» after 4 user messages."
    done = await ask(a, "shorter pls")
    assert done.prediction is not None and done.prediction.id == new.id


def test_script_a_followup_habit_is_served_from_the_cache(tmp_path: Path) -> None:
    with FakeOllama() as srv:
        srv.configure(
            reply=lambda request: (
                json.dumps({"facts": [], "questions": []})
                if isinstance(request.get("format"), dict)
                else f"About: {request['messages'][-1]['content']}"
            )
        )
        stdin = (
            b"What is a closure?\nGive me an example.\n"  # the habit, answered by the model
            b"What is a decorator?\n/idle\n"
            b"Can I see an example, please?\n"
        )
        proc = sleepchat("--json", data=tmp_path / "d", host=srv.url, stdin=stdin)
        asked = [b["messages"][-1]["content"] for b in srv.bodies() if "format" not in b]
    assert proc.returncode == 0, proc.stderr.decode()
    evs = [e for e in events(proc.stdout) if e["type"] == "reply"]
    assert [e["source"] for e in evs] == ["model", "model", "model", "prediction"]
    assert evs[-1]["text"] == f"About: {EXAMPLE}" and evs[-1]["intent"] == "example"
    assert "Can I see an example, please?" not in asked  # never sent: served


async def test_habits_are_precomputed_whatever_autos_level_but_not_with_never(store) -> None:
    from sleepchat.core.reflection.predict_policy import PolicyState, level

    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await ask(a, "What is a closure?")
    await ask(a, "an example please")
    assert a.conversation is not None
    memory = a.conversation.memory
    # The model's predicted questions kept missing: auto stops precomputing even questions.
    await memory.recorder.set_policy(PolicyState(["miss"] * 8))
    assert level("auto", memory.policy) == "none"
    await a.reflect()
    assert [p.intent for p in a.fresh_predictions] == ["example"]
    b = await assistant(store, backend, predict="never")
    await b.new_session()
    await ask(b, "What is a generator?")
    backend.calls.clear()
    await b.reflect()
    assert not [p for p in b.predictions if p.intent] and EXAMPLE not in requests(backend)

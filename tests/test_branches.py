"""Editing a question: a new branch; the old one stays on record, replaced, out of the prompt."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from sleepchat.core.assistant import Assistant, CoreError
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import Event, ReplyDone, ReplyFailed
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import BackendUnreachable, ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store


def answer(messages: Sequence[ChatMessage]) -> str:
    last = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return f"About {last}"


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": ["The user has a balcony"]})
    return json.dumps({"questions": ["How much sun do tomatoes need?"]})


async def run(events) -> list[Event]:  # type: ignore[no-untyped-def]
    return [e async for e in events]


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(answer, structured)


@pytest.fixture
async def assistant(store: Store, backend: FakeBackend):  # type: ignore[no-untyped-def]
    a = Assistant(
        backend=backend,
        store=store,
        settings=CoreSettings(idle_seconds=10, cooldown_seconds=0),
        clock=FakeClock(),
    )
    await a.start()
    yield a
    await a.close()


async def test_an_edit_branches_and_keeps_the_old_branch_replaced(
    assistant: Assistant, backend: FakeBackend, store: Store
) -> None:
    a = assistant
    await run(a.ask("tomatoes on a balcony?"))
    await run(a.ask("and basil?"))
    first = a.history[0]
    backend.calls.clear()
    events = await run(a.edit(first.id, "peppers on a balcony?"))
    done = events[-1]
    assert isinstance(done, ReplyDone) and done.message.content == "About peppers on a balcony?"
    # The new reply saw only the new question: the old branch left the prompt.
    [call] = backend.calls
    assert [m["role"] for m in call.messages] == ["system", "user"]
    assert call.messages[-1]["content"] == "peppers on a balcony?"
    assert a.session is not None
    stored = await store.messages(a.session.id)
    assert [(m.content, bool(m.replaced_by)) for m in stored] == [
        ("tomatoes on a balcony?", True),
        ("About tomatoes on a balcony?", True),
        ("and basil?", True),
        ("About and basil?", True),
        ("peppers on a balcony?", False),
        ("About peppers on a balcony?", False),
    ]
    new_question = stored[4]
    assert {m.replaced_by for m in stored[:4]} == {new_question.id}
    backend.calls.clear()
    await run(a.ask("and chillies?"))  # the conversation goes on from the new branch
    assert [m["content"] for m in backend.calls[-1].messages[1:]] == [
        "peppers on a balcony?",
        "About peppers on a balcony?",
        "and chillies?",
    ]


async def test_predictions_from_the_old_branch_go_stale(assistant: Assistant) -> None:
    a = assistant
    await run(a.ask("I grow tomatoes on a balcony."))
    await a.reflect()
    assert a.fresh_predictions
    await run(a.edit(a.history[0].id, "I grow peppers on a balcony."))
    assert a.fresh_predictions == []
    assert [p.status for p in a.predictions] == ["stale"]


async def test_what_cannot_be_edited_is_said_and_nothing_changes(assistant: Assistant) -> None:
    a = assistant
    await run(a.ask("first"))
    before = [(m.id, m.replaced_by) for m in a.history]
    reply = a.history[1]
    for target, text, said in [
        ("m-nope", "x", "no message 'm-nope' in this session"),
        (reply.id, "x", "only your own messages can be edited — Ctrl+R asks again for a reply"),
        (a.history[0].id, "  ", "nothing to send: the message is empty"),
    ]:
        with pytest.raises(CoreError) as err:
            await run(a.edit(target, text))
        assert err.value.message == said
    assert [(m.id, m.replaced_by) for m in a.history] == before
    old = a.history[0].id
    await run(a.edit(old, "second try"))
    with pytest.raises(CoreError, match="edited already"):
        await run(a.edit(old, "third try"))


async def test_a_failed_reply_keeps_the_edited_question(
    assistant: Assistant, backend: FakeBackend, store: Store
) -> None:
    a = assistant
    await run(a.ask("first"))
    backend.error = BackendUnreachable("the server is down — start it")
    events = await run(a.edit(a.history[0].id, "first, better"))
    assert isinstance(events[-1], ReplyFailed)
    assert a.session is not None
    stored = await store.messages(a.session.id)
    assert stored[-1].content == "first, better" and not stored[-1].replaced_by

"""Editing a question and asking again: the conversation takes a new branch from there.

The old branch (the question, its reply and any later turns) stays on record, marked replaced
by the new question (so a question that replaced one is an edit), and leaves the prompt; the
new question is stored before anything else, so nothing typed is lost whatever fails next.
Predictions made from the old branch are stale.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sleepchat.core.errors import CoreError
from sleepchat.core.events import Event
from sleepchat.core.models import Message, new_id
from sleepchat.text import clean_input

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant

EDITED = "the conversation was edited before it"


async def edit(a: Assistant, message_id: str, text: str) -> AsyncIterator[Event]:
    """Ask ``text`` in place of the user message ``message_id``; events as ``ask()``."""
    text = clean_input(text)
    if not text.strip():
        raise CoreError("nothing to send: the message is empty")
    if a.reflection_yields():  # the user's request must not queue behind a reflection
        await a.preempt()
    session, memory = await a._current()
    idx = next((i for i, m in enumerate(a.history) if m.id == message_id), None)
    if idx is None:
        raise CoreError(f"no message '{message_id}' in this session")
    old = a.history[idx]
    if old.role != "user":
        raise CoreError("only your own messages can be edited — Ctrl+R asks again for a reply")
    if old.replaced_by:
        raise CoreError("that message was edited already — edit its newer version")
    with a.idle.turn():
        user = Message(
            id=new_id("m", 6),
            session_id=session.id,
            role="user",
            content=text,
            created=a.clock.now(),
        )
        await a.store.append_message(user)  # durable first: nothing typed is lost
        branch = [m for m in a.history[idx:] if not m.replaced_by]
        for m in branch:
            m.replaced_by = user.id
            await a.store.update_message(m)
        a.history.append(user)
        gone = {m.id for m in branch}
        for p in memory.predictions:
            if p.status == "fresh" and p.based_on_message_id in gone:
                await memory.drop_prediction(p.id, EDITED, "stale")
        a._memory_changed()
        async for event in a._reply(user, [], prior=a.history[:-1]):
            yield event

"""Editing a question and asking again: the conversation takes a new branch from there.

The old branch (the question, its reply and any later turns) stays on record, marked replaced
by the new question (so a question that replaced one is an edit), and leaves the prompt; the
new question is stored before anything else, so nothing typed is lost whatever fails next.
Predictions made from the old branch are stale. The reply is asked as for any question
(``Assistant.ask``'s path).
"""

from __future__ import annotations

from sleepchat.core.conversation import Conversation
from sleepchat.core.errors import CoreError
from sleepchat.core.models import Message

EDITED = "the conversation was edited before it"


def editable(conversation: Conversation, message_id: str) -> Message:
    """The user message ``message_id``, or a CoreError saying why it cannot be edited."""
    old = next((m for m in conversation.history if m.id == message_id), None)
    if old is None:
        raise CoreError(f"no message '{message_id}' in this session")
    if old.role != "user":
        raise CoreError("only your own messages can be edited — Ctrl+R asks again for a reply")
    if old.replaced_by:
        raise CoreError("that message was edited already — edit its newer version")
    return old


async def branch(conversation: Conversation, old: Message, text: str) -> Message:
    """Store ``text`` as the question in place of ``old``; the old branch stays, replaced."""
    user = conversation.new_message("user", text)
    idx = conversation.history.index(old)
    await conversation.add(user)  # durable first: nothing typed is lost
    gone = [m for m in conversation.history[idx:-1] if not m.replaced_by]
    await conversation.mark_replaced(gone, user.id)
    await conversation.drop_fresh_predictions(EDITED, based_on={m.id for m in gone})
    conversation.memory_changed()
    return user

"""Whether a precomputed answer still accounts for the conversation (docs/architecture.md,
Staleness).

A prediction is computed on the conversation up to one message. Anything the user said after
it (a correction, a new fact, any question the model answered) is content the answer never
saw: the prediction may not be served until a reflection re-validates it. The one exception is
a question answered *from the same reflection's foresight*: a sibling prediction made on the
same message was served, so the conversation went the way that reflection expected.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from sleepchat.core.models import Message, Prediction

if TYPE_CHECKING:
    from sleepchat.core.memory import Memory


def _replies(history: Sequence[Message], start: int) -> list[tuple[Message, Message | None]]:
    """Each user message from ``start`` on, with its active reply (None when it has none)."""
    out: list[tuple[Message, Message | None]] = []
    for m in history[start:]:
        if m.role == "user":
            out.append((m, None))
        elif out and not m.replaced_by and m.content:
            out[-1] = (out[-1][0], m)
    return out


def accounts_for(
    prediction: Prediction,
    history: Sequence[Message],
    lookup: Callable[[str], Prediction | None],
) -> bool:
    """Whether ``prediction``'s answer accounts for all of ``history`` (the conversation
    before the question being asked now). ``lookup`` finds a served prediction by id."""
    if prediction.based_on_message_id is None:
        at: int | None = -1  # made before the first message (a question queued at the start)
    else:
        at = next(
            (i for i, m in enumerate(history) if m.id == prediction.based_on_message_id), None
        )
    if at is None:
        return False  # based on a message no longer in the conversation
    for _user, reply in _replies(history, at + 1):
        if reply is None or reply.source != "prediction" or reply.prediction_id is None:
            return False  # unanswered, or answered by the model: content it did not see
        served = lookup(reply.prediction_id)
        if served is None or served.based_on_message_id != prediction.based_on_message_id:
            return False
    return True


def current_predictions(
    memory: Memory, history: Sequence[Message], ttl_turns: int
) -> list[Prediction]:
    """Fresh predictions that account for ``history`` (answered or only asked so far)."""
    turn = sum(1 for m in history if m.role == "user")
    fresh = memory.fresh_predictions(turn, ttl_turns)
    return [p for p in fresh if accounts_for(p, history, memory.prediction)]


def servable(memory: Memory, history: Sequence[Message], ttl_turns: int) -> list[Prediction]:
    """What a question asked after ``history`` may be served from: current and answered."""
    return [p for p in current_predictions(memory, history, ttl_turns) if p.answer]


def said_since(prediction: Prediction, history: Sequence[Message]) -> list[str]:
    """What the user said after the message ``prediction`` is based on."""
    at = next((i for i, m in enumerate(history) if m.id == prediction.based_on_message_id), -1)
    return [m.content for m in history[at + 1 :] if m.role == "user"]


def shown_state(prediction: Prediction, servable_ids: Collection[str]) -> str:
    """How a front end labels a listed prediction: "fresh" (may be served now), "question
    only" (its answer step has not run yet) or "stale" (made before what was said since)."""
    if prediction.id in servable_ids:
        return "fresh"
    return "stale" if prediction.answer else "question only"

"""Replies cut short (the token cap, a loop) and continued: what the core records and asks."""

from __future__ import annotations

import dataclasses

from sleepchat.core.models import Cut, Message
from sleepchat.llm.base import ChatStats

# Asked as a user turn after the cut reply: every server understands it (an assistant-prefill
# continuation is not portable). The text it brings is added to the cut reply.
CONTINUE_PROMPT = (
    "Continue your last answer exactly where it stopped. Do not repeat anything you already "
    "wrote and do not start over."
)


def cut_reason(stats: ChatStats | None) -> Cut | None:
    """Why a finished reply stopped short, from what the backend said, or None."""
    reason = stats.done_reason if stats is not None else None
    if reason == "length":
        return "length"
    return "repetition" if reason == "repetition" else None


def joint(before: str, after: str) -> str:
    """What goes between a cut reply and its continuation: a space unless either side has one."""
    if not before or not after or before[-1].isspace() or after[0].isspace():
        return ""
    return " "


def continued(original: Message, more: Message) -> Message:
    """``original`` grown by the continuation ``more`` (its text, tokens, time and outcome)."""
    tokens = [t for t in (original.completion_tokens, more.completion_tokens) if t is not None]
    return dataclasses.replace(
        original,
        content=original.content + more.content,
        completion_tokens=sum(tokens) if tokens else None,
        total_ms=(original.total_ms or 0.0) + (more.total_ms or 0.0),
        interrupted=more.interrupted,
        error=more.error,
        cut=more.cut,
    )

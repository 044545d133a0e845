"""Checks on records read back from disk: a damaged or hand-edited file may hold anything."""

from __future__ import annotations

import math
import re
from typing import Any, TypeGuard

from sleepchat.core.models import Message, Session

# A session id names a folder: nothing like "../x".
SESSION_ID_RE = re.compile(r"^[0-9a-f]{4,64}$")


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def is_time(value: Any) -> TypeGuard[float]:
    """A plausible timestamp: a finite number a date can be made of."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) < 1e11
    )


def valid_session(doc: dict[str, Any]) -> Session | None:
    """The record, if every field has its type (a hand-edited or damaged index may lie)."""
    try:
        s = Session.from_dict(doc)
    except TypeError:
        return None
    ok = (
        isinstance(s.id, str)
        and SESSION_ID_RE.match(s.id) is not None  # it names a folder: nothing like "../x"
        and isinstance(s.title, str)
        and is_time(s.created)
        and is_time(s.updated)
        and isinstance(s.message_count, int)
        and not isinstance(s.message_count, bool)
        and (s.model is None or isinstance(s.model, str))
        and (s.system_prompt is None or isinstance(s.system_prompt, str))
        and isinstance(s.private, bool)
        and (s.source is None or isinstance(s.source, str))
        and isinstance(s.options, dict)
    )
    return s if ok else None


_OPTIONAL: dict[str, Any] = {
    "model": str,
    "prediction_id": str,
    "reflection_id": str,
    "error": str,
    "replaced_by": str,
    "prompt_tokens": int,
    "completion_tokens": int,
    "ttft_ms": int | float,
    "total_ms": int | float,
}


def valid_message(doc: dict[str, Any]) -> Message | None:
    try:
        m = Message.from_dict(doc)
    except TypeError:
        return None
    ok = (
        isinstance(m.id, str)
        and isinstance(m.session_id, str)
        and m.role in ("user", "assistant")
        and isinstance(m.content, str)
        and is_time(m.created)
        and m.source in ("user", "model", "prediction")
        and isinstance(m.interrupted, bool)
        and isinstance(m.memory_ids, list)
        and all(isinstance(i, str) for i in m.memory_ids)
        and all(
            (v := getattr(m, k)) is None or (isinstance(v, t) and not isinstance(v, bool))
            for k, t in _OPTIONAL.items()
        )
    )
    return m if ok else None

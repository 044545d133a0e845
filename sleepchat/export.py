"""Export a session as Markdown or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sleepchat.core.models import Message, Session
from sleepchat.text import when


def to_markdown(session: Session, messages: Sequence[Message]) -> str:
    lines = [
        f"# {session.title}",
        "",
        f"Session `{session.id}`, started {when(session.created)}.",
        "",
    ]
    for m in messages:
        if m.role == "user":
            head = f"## You — {when(m.created)}"
        else:
            head = f"## Assistant — {when(m.created)}"
            if m.source == "prediction":
                head += f" (precomputed: {m.prediction_id}, reflection {m.reflection_id})"
            if m.interrupted:
                head += " (interrupted)"
            if m.replaced_by:
                head += " (replaced by a regenerated reply)"
        lines += [head, "", m.content, ""]
    return "\n".join(lines)


def to_json(session: Session, messages: Sequence[Message]) -> str:
    doc = {"session": session.to_dict(), "messages": [m.to_dict() for m in messages]}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

"""Export a session as Markdown or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sleepchat.core.models import Message, Note, Prediction, Session
from sleepchat.text import when


def note_view(n: Note) -> dict[str, Any]:
    """A note as scripts and exports show it."""
    return {
        "id": n.id,
        "text": n.text,
        "sources": list(n.source_message_ids),
        "updated": n.updated,
        "verbatim": n.verbatim,
        "reflection": n.reflection_id,
    }


def prediction_view(p: Prediction, fresh: bool) -> dict[str, Any]:
    """A predicted question as scripts and exports show it."""
    return {
        "id": p.id,
        "question": p.question,
        "answer": p.answer,
        "fresh": fresh,
        "status": p.status,
        "reflection": p.reflection_id,
        "created": p.created,
        "based_on": p.based_on_message_id,
    }


def to_markdown(session: Session, messages: Sequence[Message], notes: Sequence[Note] = ()) -> str:
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
    if notes:
        lines += ["## Notes", ""]
        lines += [f"- {n.text}" + (" (the user's words)" if n.verbatim else "") for n in notes]
        lines.append("")
    return "\n".join(lines)


def to_json(
    session: Session,
    messages: Sequence[Message],
    notes: Sequence[Note] = (),
    predictions: Sequence[Prediction] = (),
) -> str:
    doc = {
        "session": session.to_dict(),
        "messages": [m.to_dict() for m in messages],
        "notes": [note_view(n) for n in notes],
        # fresh as far as the stored record says (staleness by turns needs the live session)
        "predictions": [prediction_view(p, p.status == "fresh") for p in predictions],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

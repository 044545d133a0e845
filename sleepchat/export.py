"""Export a session as Markdown or JSON, and write an export file safely."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sleepchat.core.memory.doc_sections import studied
from sleepchat.core.models import Document, Message, Note, Prediction, Session
from sleepchat.errors import SleepchatError
from sleepchat.text import safe_json, when


class ExportError(SleepchatError):
    """An export file could not be written; whatever was at that path is untouched."""


class ExportExists(ExportError):
    """The export file exists and replacing it was not asked for."""


def note_view(n: Note) -> dict[str, Any]:
    """A note as scripts and exports show it."""
    return {
        "id": n.id,
        "text": n.text,
        "sources": list(n.source_message_ids),
        "updated": n.updated,
        "verbatim": n.verbatim,
        "reflection": n.reflection_id,
        "document": n.document_id,
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
        "queued": p.queued,
        "intent": p.intent,
    }


def document_view(d: Document) -> dict[str, Any]:
    """An attached document as scripts and exports show it (not its text)."""
    return {
        "id": d.id,
        "name": d.name,
        "tokens": d.tokens,
        "total_tokens": d.total_tokens,
        "whole": d.whole,
        # A long file: the sections idle time has studied, of how many.
        "studied": list(progress) if (progress := studied(d)) else None,
    }


def served_fields(p: Prediction | None) -> dict[str, Any]:
    """What a script's reply says of the prediction it was served from (None: the model's)."""
    return {"queued": p is not None and p.queued, "intent": p.intent if p is not None else None}


def served_label(p: Prediction) -> str:
    """How a reply served from ``p`` is named in diagnostics."""
    if p.intent:
        return f"precomputed follow-up ({p.intent})"
    return "your queued question" if p.queued else "precomputed answer"


def to_markdown(
    session: Session,
    messages: Sequence[Message],
    notes: Sequence[Note] = (),
    documents: Sequence[Document] = (),
) -> str:
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
    for d in documents:  # last: a document is long, the conversation is what is read first
        part = "" if d.whole else f" (the first {d.tokens} of about {d.total_tokens} tokens)"
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", d.text)), default=0))
        lines += [f"## Attached: {d.name}{part}", "", fence, d.text, fence, ""]
    return "\n".join(lines)


def to_json(
    session: Session,
    messages: Sequence[Message],
    notes: Sequence[Note] = (),
    predictions: Sequence[Prediction] = (),
    documents: Sequence[Document] = (),
) -> str:
    doc = {
        "session": session.to_dict(),
        "messages": [m.to_dict() for m in messages],
        "notes": [note_view(n) for n in notes],
        # fresh as far as the stored record says (staleness by turns needs the live session)
        "predictions": [prediction_view(p, p.status == "fresh") for p in predictions],
        "documents": [
            {**document_view(d), "text": d.text, "outline": d.outline} for d in documents
        ],
    }
    return safe_json(doc, indent=2) + "\n"


def write_export(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically: a temp file in
    the same folder, fsynced, then renamed into place. An existing file (or link) is replaced
    only with ``replace``, and a link is replaced itself, never followed; a failure (a full
    disk) leaves what was there as it was."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ExportError(f"cannot write {path}: it is a folder — name a file")
        if not replace:
            raise ExportExists(f"{path} already exists — nothing was written")
    folder = path.parent
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if replace or not _link(tmp, path):
            os.replace(tmp, path)
        tmp = None
    except FileExistsError:
        raise ExportExists(f"{path} already exists — nothing was written") from None
    except OSError as exc:
        raise ExportError(_write_failure(path, exc)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _link(tmp: str, path: Path) -> bool:
    """Put ``tmp`` at ``path`` only if nothing is there (FileExistsError if something appeared
    since we looked); False where the filesystem has no hard links (then: rename)."""
    try:
        os.link(tmp, path)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST)) from None
        return False
    os.unlink(tmp)
    return True


def _write_failure(path: Path, exc: OSError) -> str:
    kept = "the file there is untouched" if os.path.lexists(path) else "nothing was written"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full while writing {path} — free some space; {kept}"
    return f"cannot write {path}: {exc.strerror or exc} — {kept}"

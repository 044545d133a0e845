"""How `sleepchat search` prints its matches: session, time, title, and the matching line with
the match highlighted on a terminal; one JSON object per match with --json."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO

from sleepchat.core.models import SearchHit
from sleepchat.text import matching_line, terminal_safe, when

HIGHLIGHT = ("\x1b[1;7m", "\x1b[0m")  # bold, reversed
ROLE = {"user": "you", "assistant": "sleepchat"}


def highlighted(line: str, spans: Sequence[tuple[int, int]]) -> str:
    """``line`` (already terminal-safe) with each span marked for the terminal."""
    out, at = [], 0
    for start, end in spans:
        out += [line[at:start], HIGHLIGHT[0], line[start:end], HIGHLIGHT[1]]
        at = end
    return "".join([*out, line[at:]])


def print_hits(
    hits: Sequence[SearchHit],
    query: str,
    *,
    json_mode: bool,
    more: bool,
    out: IO[str] | None = None,
    color: bool | None = None,
) -> int:
    out = out or sys.stdout
    if color is None:
        color = out.isatty() and "NO_COLOR" not in os.environ
    for hit in hits:
        line, spans = matching_line(hit.text, query)
        if json_mode:
            doc = {
                "session": hit.session_id,
                "title": hit.session_title,
                "message": hit.message_id,
                "role": hit.role,
                "created": hit.created,
                "line": line,
            }
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            continue
        title = terminal_safe(hit.session_title)
        shown = highlighted(line, spans) if color else line
        out.write(
            f"{hit.session_id}  {when(hit.created)}  {title}\n    {ROLE[hit.role]}: {shown}\n"
        )
    out.flush()
    if not hits:
        print(f"no messages match '{terminal_safe(query)}'", file=sys.stderr)
    elif more:
        print(f"the newest {len(hits)} shown — --limit N shows more", file=sys.stderr)
    return 0

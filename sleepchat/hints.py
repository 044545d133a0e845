"""What the command line and script mode add to an error: the flag or command that fixes it.

Core and store messages are front-end neutral; each front end names its own means.
"""

from __future__ import annotations

from sleepchat.core.errors import UnknownNoteError, UnknownSessionError
from sleepchat.errors import SleepchatError, with_hint
from sleepchat.export import ExportExists
from sleepchat.store import DataDirError

CLI_HINTS: dict[type[SleepchatError], str] = {
    DataDirError: "--data-dir DIR",
    UnknownSessionError: "`sleepchat sessions` or /sessions lists them",
    UnknownNoteError: "/notes lists them",
    ExportExists: "add --force to replace it",
}


def cli_message(exc: SleepchatError) -> str:
    return with_hint(exc, CLI_HINTS)

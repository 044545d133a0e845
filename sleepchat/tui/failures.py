"""How the app tells that an operation failed: one notification, never a traceback on screen."""

from __future__ import annotations

import logging

from textual.notifications import SeverityLevel
from textual.widget import Widget

from sleepchat.core.errors import CoreError
from sleepchat.errors import SleepchatError

log = logging.getLogger("sleepchat.tui")


def report(widget: Widget, exc: Exception, doing: str, *, slip: SeverityLevel = "warning") -> None:
    """A request the core refused (a slip) says so; a store fault or a bug says what failed
    (a bug's traceback goes to the log)."""
    if isinstance(exc, CoreError):
        widget.notify(exc.message, severity=slip)
    elif isinstance(exc, SleepchatError):
        widget.notify(f"could not {doing}: {exc.message}", severity="error")
    else:
        log.error("could not %s", doing, exc_info=exc)
        widget.notify(f"could not {doing}: {exc}", severity="error")

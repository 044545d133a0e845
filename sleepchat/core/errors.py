"""The core's user-facing errors: a request it cannot do (kept apart from ``assistant`` so a front
end can catch them without importing the whole core at start-up)."""

from __future__ import annotations

from sleepchat.errors import SleepchatError


class CoreError(SleepchatError):
    """A user-facing problem with a request (unknown session, nothing to undo, ...)."""


class UnknownSessionError(CoreError):
    """No session has that id or prefix."""


class UnknownNoteError(CoreError):
    """No active note has that id."""


class AmbiguousSessionError(UnknownSessionError):
    """Several sessions' ids start with the prefix given."""

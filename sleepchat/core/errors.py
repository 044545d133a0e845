"""The core's user-facing errors: a request it cannot do, and what a model server (the
``Backend`` port) raises (kept apart from ``assistant`` so a front end can catch them without
importing the whole core at start-up)."""

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


class BackendError(SleepchatError):
    """A model-server failure with a one-line, user-facing message that names the fix."""


class BackendUnreachable(BackendError):
    """The server cannot be reached (refused, DNS, no route)."""


class ModelNotFound(BackendError):
    """The configured model is not available on the server."""


class BackendStreamError(BackendError):
    """The stream broke: an ``{"error": ...}`` line, a dropped connection, garbage."""


class BackendServerError(BackendError):
    """The server answered with an HTTP error (5xx or unexpected 4xx)."""


class BackendTimeout(BackendError):
    """The server stopped answering within the configured timeout."""


class BackendUnavailable(BackendError):
    """The backend cannot be used here at all (e.g. llama-cpp-python not installed)."""


class EmbeddingError(SleepchatError):
    """The recall embedding model cannot run (missing, broken, or its server failed)."""


class SchemaError(BackendError):
    """Structured output did not validate against the requested schema."""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw

"""The one error root: every problem a user can see is a :class:`SleepchatError`.

A message says what happened and what to do, in words any front end can show (no flags, no
slash commands: a front end adds its own hint, see :func:`with_hint`). Messages are made safe
here, once, whoever raises them: one line, bounded in length, credentials masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sleepchat.text import terminal_safe, valid_text

MAX_MESSAGE_CHARS = 600  # an error quoting a huge value must not flood the screen

# scheme://user:password@host -> scheme://user:***@host (and a bare token before @)
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]*):[^/\s@]*@"
)
_URL_TOKEN = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+@")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_KEY_VALUE = re.compile(
    r"(?i)\b(api[_-]?key|token|password|passwd|secret|authorization)(\s*[=:]\s*)[^\s,;&'\"]+"
)
_API_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def mask_secrets(text: str) -> str:
    """``text`` with credentials in URLs, bearer tokens and ``key=value`` secrets masked."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _URL_TOKEN.sub(lambda m: f"{m['scheme']}***@", text)
    text = _BEARER.sub(lambda m: f"{m[1]} ***", text)
    text = _KEY_VALUE.sub(lambda m: f"{m[1]}{m[2]}***", text)
    return _API_KEY.sub("sk-***", text)


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Line breaks shown as ``\\n``, escape sequences and other controls dropped (a message
    quotes server and stored text, and is printed on a terminal), lone surrogates replaced, at
    most ``limit`` characters."""
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    text = valid_text(terminal_safe(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A line made safe to show as the root makes its messages (secrets masked, one line,
    bounded): for warnings and notices that are not raised as errors."""
    return one_line(mask_secrets(text), limit)


class SleepchatError(Exception):
    """A problem stated in one line a user can act on, with the exit code a command uses."""

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        message = one_line(mask_secrets(message))
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class StartupError(SleepchatError):
    """sleepchat cannot start (or a command cannot run) for the reason given."""


def with_hint(exc: SleepchatError, hints: Mapping[type[SleepchatError], str]) -> str:
    """The message plus a front end's own hint for this kind of error (e.g. a flag to use)."""
    for kind in type(exc).__mro__:
        hint = hints.get(kind)
        if hint:
            return f"{exc.message} ({hint})"
    return exc.message

"""What an OpenAI-compatible server's failures mean to the user: one line naming the fix.

Server text is quoted short, with the configured secrets scrubbed out before it reaches a
message (the error root masks the usual shapes too, but a key can have any shape).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterable, Mapping

import httpx

from sleepchat.llm.base import (
    BackendError,
    BackendServerError,
    BackendStreamError,
    BackendTimeout,
    BackendUnreachable,
    ModelNotFound,
)
from sleepchat.text import clip

KEY_FIX = "set SLEEPCHAT_API_KEY (or OPENAI_API_KEY, or api_key in the config) to a valid key"
QUOTE_CHARS = 160  # a server's own words, quoted in a message


class BackendBusy(BackendServerError):
    """The server asked us to slow down (HTTP 429 or 503 with Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthRefused(BackendServerError):
    """The server refused the API key (or needs one)."""


class FormatRejected(BackendServerError):
    """The server does not take this ``response_format`` (structured output falls back)."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def server_words(body: str, secrets: Iterable[str]) -> str:
    """The message in an error body (OpenAI's ``{"error": {"message": ...}}``, FastAPI's
    ``{"detail": ...}``, or plain text), short and on one line."""
    text = body.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        inner = data.get("error", data.get("detail", data.get("message")))
        if isinstance(inner, dict):
            inner = inner.get("message", inner)
        if inner is not None:
            text = inner if isinstance(inner, str) else json.dumps(inner)
    return clip(" ".join(scrub(text, secrets).split()), QUOTE_CHARS)


def looks_like_html(response: httpx.Response, body: str = "") -> bool:
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return kind == "text/html" or body.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from a Retry-After header (a number or an HTTP date), or None."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def http_error(
    response: httpx.Response,
    body: str,
    *,
    host: str,
    model: str,
    secrets: Iterable[str],
    had_key: bool,
) -> BackendError:
    """The typed error for a non-2xx answer."""
    code = response.status_code
    words = server_words(body, secrets)
    quoted = f"HTTP {code}: {words}" if words else f"HTTP {code}"
    if looks_like_html(response, body):
        return BackendServerError(
            f"the server at {host} answered with a web page (HTML, HTTP {code}), not the OpenAI "
            "API — set host to the API's base URL (usually ending in /v1)"
        )
    if code in (401, 403):
        what = "refused the API key" if had_key else "needs an API key"
        return AuthRefused(f"the server at {host} {what} ({quoted}) — {KEY_FIX}")
    if code == 429 or (code == 503 and "retry-after" in response.headers):
        wait = retry_after(response.headers)
        when = f"in {wait:.0f} s" if wait is not None else "in a moment"
        return BackendBusy(
            f"the server at {host} is busy or rate-limiting requests ({quoted}) — try again "
            f"{when}; your question is kept",
            wait,
        )
    lowered = words.lower()
    if code in (400, 404, 422, 500) and ("response_format" in lowered or "json_schema" in lowered):
        return FormatRejected(f"the server at {host} does not take this response_format ({quoted})")
    if code == 404 and "model" in lowered:
        return ModelNotFound(
            f"model '{model}' is not served at {host} ({quoted}) — set --model to a model it lists"
        )
    if code >= 500:
        return BackendServerError(
            f"the server at {host} failed ({quoted}) — check the server's log"
        )
    return BackendServerError(
        f"the server at {host} rejected the request ({quoted}) — check host, model and options"
    )


def transport_error(exc: BaseException, *, host: str, read_timeout: float) -> BackendError:
    """The typed error for a failed exchange (no HTTP answer, or a broken one)."""
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | ConnectionRefusedError):
        return BackendUnreachable(
            f"no server answers at {host} — start it (e.g. `llama-server -m MODEL.gguf --port "
            "8080`) or set host to its address"
        )
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(
            f"the server at {host} did not answer within {read_timeout:g} s — it may be busy "
            "or loading the model; try again or raise timeouts.read"
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError | OSError):
        return BackendStreamError(
            f"the server at {host} closed the connection mid-reply — is it still running?"
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return BackendError(f"cannot talk to {host}: {exc} — set host to an http(s) URL")
    return BackendStreamError(f"talking to the server at {host} failed: {exc}")

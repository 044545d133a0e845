"""Bounds on what a model server may send, so that a broken or hostile one cannot hold
sleepchat's memory or its user's time.

* On the wire (every HTTP client here, through its response hook): a line of a stream (an
  NDJSON line, an SSE line) and an SSE event stop at ``MAX_LINE_BYTES`` without their end; a
  whole JSON answer at ``MAX_BODY_BYTES``. Counted as the bytes arrive, nothing buffered.
* In a reply (``ReplyWatch``, used by the streaming backends): "no answer for
  ``timeouts.read`` seconds" counts reply text only, so SSE comments, keep-alive lines and
  empty deltas no longer keep a stuck request alive; the text stops at ``MAX_REPLY_CHARS``.

Each bound ends the request with a one-line error; the core keeps the question and whatever
text came before it, marked interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import httpx

from sleepchat.hosts import origin
from sleepchat.llm.base import BackendError, BackendStreamError, BackendTimeout

MAX_LINE_BYTES = 1 << 20  # a token is a few bytes: a megabyte without a line end is no stream
MAX_REPLY_CHARS = 1 << 20  # ~250k tokens of text, more than a local model's context window
MAX_BODY_BYTES = 64 << 20  # a whole JSON answer: model lists, embeddings of a batch

T = TypeVar("T")

# Two line ends in a row (CR, LF, or CRLF each) end an SSE event: between them a blank line.
_BLANK_LINES = (b"\n\n", b"\r\r", b"\n\r")


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n >> 10} KB"


class ServerSentTooMuch(BackendStreamError):
    """A line, event, answer or reply passed its bound; the request was ended there."""


class _Bounded(httpx.AsyncByteStream):
    """The body as it arrives, with ``ServerSentTooMuch`` once a bound is passed."""

    def __init__(self, inner: httpx.AsyncByteStream, host: str, kind: str) -> None:
        self._inner = inner
        self._host = host
        self._events = kind == "text/event-stream"
        self._lines = kind != "application/json"
        self._total = 0  # bytes of the body (a JSON answer)
        self._line = 0  # bytes since the last line end
        self._event = 0  # bytes since the last blank line (SSE)
        self._last = b""  # the last byte seen: a blank line may span two chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._count(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()

    def _count(self, chunk: bytes) -> None:
        if not self._lines:
            self._total += len(chunk)
            if self._total > MAX_BODY_BYTES:
                raise self._error(f"an answer of more than {_size(MAX_BODY_BYTES)}")
            return
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self._line = self._line + len(chunk) if end < 0 else len(chunk) - end - 1
        if self._line > MAX_LINE_BYTES:
            raise self._error(f"more than {_size(MAX_LINE_BYTES)} without a line end")
        if self._events:
            joined = self._last + chunk
            blank = max(joined.rfind(b) for b in _BLANK_LINES)
            if blank < 0:
                self._event += len(chunk)
            else:
                self._event = len(joined) - blank - 2
            if self._event > MAX_LINE_BYTES:
                raise self._error(f"an event of more than {_size(MAX_LINE_BYTES)}")
        self._last = chunk[-1:]

    def _error(self, what: str) -> ServerSentTooMuch:
        return ServerSentTooMuch(
            f"the server at {self._host} sent {what} — no model server does; the request was "
            "ended (is host the model server?)"
        )


async def bound_response(response: httpx.Response) -> None:
    """An httpx response hook: the body is counted against the bounds as it is read."""
    if isinstance(response.stream, httpx.AsyncByteStream):
        kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        host = origin(str(response.request.url))
        response.stream = _Bounded(response.stream, host, kind)


class ReplyWatch:
    """One streamed reply's bounds: ``next`` waits for the next part for at most what is left
    of ``timeout`` since the last text (time spent waiting on the server only: a slow reader
    is not the server's fault); ``text`` counts the reply's text. ``silent`` is the error for
    a server that has sent no text at all yet (the backend's own read-timeout message)."""

    def __init__(self, host: str, timeout: float, silent: Callable[[], BackendError]) -> None:
        self.host = host
        self.timeout = timeout
        self._silent = silent
        self._waited = 0.0  # seconds spent waiting since the last text
        self._chars = 0

    async def next(self, parts: AsyncIterator[T]) -> T:
        """The next part (StopAsyncIteration at the end); BackendTimeout when the server has
        sent no text for ``timeout`` seconds, whatever else it sent."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = asyncio.timeout(max(self.timeout - self._waited, 0.0))
        try:
            async with deadline:
                return await anext(parts)
        except TimeoutError:
            if not deadline.expired():
                raise
            if not self._chars:
                raise self._silent() from None
            raise BackendTimeout(
                f"the server at {self.host} sent no reply text for {self.timeout:g} s — it "
                "may be stuck or overloaded; try again, or raise timeouts.read"
            ) from None
        finally:
            self._waited += loop.time() - started

    def text(self, text: str) -> None:
        """Reply text arrived: the wait starts again; too much text ends the reply."""
        if not text:
            return
        self._waited = 0.0
        self._chars += len(text)
        if self._chars > MAX_REPLY_CHARS:
            raise ServerSentTooMuch(
                f"the reply from {self.host} passed {_size(MAX_REPLY_CHARS)} of text — it was "
                "cut there (the model may be repeating itself); the text so far is kept"
            )

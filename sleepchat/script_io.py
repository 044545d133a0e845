"""A script's input and output: lines read on a thread of their own, and a stdout whose reader
may leave at any moment (``sleepchat ... | head -1``, a terminal that hangs up)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO

from sleepchat.text import clean_input

EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left


class OutputClosed(Exception):
    """stdout went away (its reader left, the terminal hung up): nothing more can be said."""


def read_lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines as text: invalid UTF-8 replaced, NUL bytes dropped, line ends stripped. Input
    that fails (EIO: the terminal hung up) ends like input at its end."""
    try:
        for raw in stream:
            yield clean_input(raw.decode("utf-8", errors="replace")).rstrip("\r\n")
    except OSError:
        return


def drop_output(stream: IO[str]) -> None:
    """Point ``stream``'s descriptor at /dev/null: what is still buffered for a reader that
    left goes nowhere, instead of failing again at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


async def aiter_lines(lines: Iterable[str]) -> AsyncIterator[str]:
    """Read in a thread so a background reflection keeps running while we wait for input.

    A daemon thread of its own, one line per request: a read blocked on a terminal or a pipe
    must not hold up the exit after a stop signal (the event loop's executor would be joined).
    """
    loop = asyncio.get_running_loop()
    requests: queue.SimpleQueue[asyncio.Future[object] | None] = queue.SimpleQueue()
    done = object()

    def reader() -> None:
        it = iter(lines)
        while (future := requests.get()) is not None:
            try:
                item, exc = next(it, done), None
            except BaseException as err:
                item, exc = None, err
            with contextlib.suppress(RuntimeError):  # the loop closed while we read
                loop.call_soon_threadsafe(_settle, future, item, exc)
            if item is done or exc is not None:
                return

    threading.Thread(target=reader, name="sleepchat-input", daemon=True).start()
    try:
        while True:
            future: asyncio.Future[object] = loop.create_future()
            requests.put(future)
            line = await future
            if line is done:
                return
            assert isinstance(line, str)
            yield line
    finally:
        requests.put(None)


def _settle(future: asyncio.Future[object], item: object, exc: BaseException | None) -> None:
    if future.done():  # the reader was cancelled meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(item)

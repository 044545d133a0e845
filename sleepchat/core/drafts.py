"""Judging a question while it is typed: what the message box holds, once typing pauses.

A question the word rules leave to the recall judge waits for it (a few hundred ms on the
embedded 1.5B model, the asked question's prefill), hit or miss. Typing is time too: when the
keys pause for ``PAUSE`` seconds, the text in the box is matched as if sent, and the judge's
verdict is kept (``Recall`` keeps verdicts). When it is sent as it is, the match finds the
verdict and asks nothing; a draft still judging is awaited (the same work the question would
start), any other draft is cancelled first, so a question never waits for a draft it does not
use (the embedded model stops inside a step).

Nothing is served from a draft and nothing is stored: a draft only readies a verdict.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sleepchat.core.clock import Clock

# Keys a second apart are typing; a shorter pause would judge half-typed words (each judge a
# few hundred ms of both cores), a longer one would start after most people press Enter.
PAUSE = 0.4


class Drafts:
    """The one draft being judged; ``judge`` matches a text as a question would be matched."""

    def __init__(
        self, clock: Clock, judge: Callable[[str], Awaitable[None]], log: logging.Logger
    ) -> None:
        self.clock = clock
        self._judge = judge
        self.log = log
        self._task: asyncio.Task[None] | None = None
        self._text = ""
        self._judging = False  # past the pause: the judge is at work on ``_text``

    def update(self, text: str) -> None:
        """The message box now holds ``text``: judge it once typing pauses (a draft of other
        text is dropped)."""
        if text == self._text and self._task is not None and not self._task.done():
            return
        self.cancel()
        if not text.strip() or text.lstrip().startswith("/"):  # a command is not a question
            return
        self._text, self._judging = text, False
        self._task = asyncio.get_running_loop().create_task(self._run(text))

    async def _run(self, text: str) -> None:
        await self.clock.sleep_until(self.clock.monotonic() + PAUSE)
        self._judging = True
        try:
            await self._judge(text)
        except Exception as exc:  # a draft's failure is the question's to meet, if sent
            self.log.info("could not judge the draft: %s", exc)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task, self._text = None, ""

    async def settle(self, text: str) -> None:
        """Before ``text`` is matched: a draft of it already judging is awaited; any other is
        cancelled and its end awaited (the model's one slot is free after)."""
        task, judging, same = self._task, self._judging, text == self._text
        self._task, self._text = None, ""
        if task is None or task.done():
            return
        if not (same and judging):
            task.cancel()
        await asyncio.wait({task})  # its own cancel is not ours: a cancelled question still ends

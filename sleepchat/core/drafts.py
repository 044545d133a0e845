"""A question readied while it is typed: what the message box holds, once typing pauses.

Sending a question can wait for two things before its first word: the recall judge (a few
hundred ms on the embedded 1.5B model, for a question the word rules leave to it) and the
prefill of what the request adds to the cached prefix (the question, and a long document's
sections: seconds on two cores). Typing is time too: when the keys rest for ``PAUSE`` seconds
(at once after a question mark), the text in the box is matched as if sent (the judge's verdict
is kept: ``Recall`` keeps verdicts) and, unless a prediction answers it, its reply's request is
sent to the server as a warm-up, all but the answer. Sent as it is, the match finds the verdict
and the reply finds its prompt cached. A draft still at work when the same text is sent is
awaited (it does what the question would do first); any other draft is cancelled, so a question
never waits for a draft it does not use (the embedded model stops inside its step).

Nothing is served from a draft and nothing is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sleepchat.core.clock import Clock

# Keys a second apart are typing; a shorter pause would ready half-typed words (each time a
# few hundred ms of both cores at least), a longer one would start after most people press Enter.
PAUSE = 0.4
# A question mark ends a question: readied at once, so a question sent right after its "?" has
# its draft that much further on (a key after it drops the draft, as any key does).
ENDED = "?"


class Drafts:
    """The one draft being readied; ``ready`` does for a text what sending it does first."""

    def __init__(
        self, clock: Clock, ready: Callable[[str], Awaitable[None]], log: logging.Logger
    ) -> None:
        self.clock = clock
        self._ready = ready
        self.log = log
        self._task: asyncio.Task[None] | None = None
        self._text = ""
        self._working = False  # past the pause: ``_text`` is being readied

    def update(self, text: str) -> None:
        """The message box now holds ``text``: ready it once typing pauses (a draft of other
        text is dropped; an empty box drops nothing, since sending empties it)."""
        if not text.strip():
            return  # the box emptied: sent (the question settles its draft) or cleared
        if text == self._text and self._task is not None and not self._task.done():
            return
        self.cancel()
        if text.lstrip().startswith("/"):  # a command is not a question
            return
        self._text, self._working = text, False
        self._task = asyncio.get_running_loop().create_task(self._run(text))

    async def _run(self, text: str) -> None:
        if not text.rstrip().endswith(ENDED):
            await self.clock.sleep_until(self.clock.monotonic() + PAUSE)
        self._working = True
        try:
            await self._ready(text)
        except Exception as exc:  # a draft's failure is the question's to meet, if sent
            self.log.info("could not ready the draft: %s", exc)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task, self._text = None, ""

    async def settle(self, text: str) -> None:
        """Before ``text`` is matched: a draft of it already being readied is awaited; any other
        is cancelled and its end awaited (the model's one slot is free after)."""
        task, working, same = self._task, self._working, text == self._text
        self._task, self._text = None, ""
        if task is None or task.done():
            return
        if not (same and working):
            task.cancel()
        await asyncio.wait({task})  # its own cancel is not ours: a cancelled question still ends

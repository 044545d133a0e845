"""The status line: model, sleep state (awake · idle in Ns · reflecting… · answering…), the
predictions ready, how recall matches (embedding, or lexical without an embedding model), the
last reply's speed, how full the context is and the session title.

Its state is reactive (``streaming``, ``reflecting``, ``predictions_ready``): setting one redraws
the line. What moves by itself (the "idle in Ns" countdown, the seconds a start-up step such as
loading a model has taken, the wait for a reply's first token) is redrawn each second while it
shows, and its timer is paused otherwise.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from sleepchat.text import clip

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.context import ContextUse


def context_of(a: Assistant) -> ContextUse:
    """How full the model's context is for the assistant's session."""
    from sleepchat.core.context import context_use

    notes = [n.text for n in a.notes]
    return context_use(a.settings.system_prompt, a.history, notes, a.settings.options.num_ctx)


class StatusLine(Static):
    streaming: reactive[bool] = reactive(False, init=False)
    reflecting: reactive[bool] = reactive(False, init=False)
    predictions_ready: reactive[int] = reactive(0, init=False)
    # Questions queued with Ctrl+F: (answered and ready, still waiting for idle time).
    queued: reactive[tuple[int, int]] = reactive((0, 0), init=False)

    def __init__(self) -> None:
        super().__init__(id="status")
        self.assistant: Assistant | None = None
        self.model = "sleepchat"  # until the runtime says which
        self._shown = ""
        self.context: ContextUse | None = None
        self._context_key: object = None
        self._context_text = ""
        self._step: tuple[str, float] | None = None  # start-up: what, since when
        self.waiting_since: float | None = None  # a reply asked for, no token yet
        self._ticking = False

    def on_mount(self) -> None:
        self._countdown = self.set_interval(1.0, self.show, pause=True)
        self.show()

    def watch_streaming(self) -> None:
        self.show()

    def watch_reflecting(self) -> None:
        self.show()

    def watch_predictions_ready(self) -> None:
        self.show()

    def watch_queued(self) -> None:
        self.show()

    def step(self, what: str) -> None:
        """Start-up goes on with ``what`` (a model loading can take a while: it is timed)."""
        self._step = (what, time.monotonic())
        self.show()

    def wait(self, since: float | None) -> None:
        """A reply was asked for at ``since`` and no token came yet (None: it came)."""
        self.waiting_since = since
        self.show()

    def _since(self, started: float, after: float = 1.0) -> str:
        """`` 3 s`` once ``after`` seconds went by (and the line then ticks each second)."""
        self._ticking = True
        elapsed = time.monotonic() - started
        return f" {int(elapsed)} s" if elapsed >= after else ""

    def text(self) -> str:
        a = self.assistant
        self._ticking = False
        if a is None:
            if self._step is None:
                return f"{self.model} · starting…"
            what, started = self._step
            return f"{self.model} · starting: {what}…{self._since(started)}"
        parts = [a.model]
        if a.session is not None and a.session.system_prompt:  # the session's own
            parts.append(f"system: “{clip(a.session.system_prompt, 24)}”")
        secs = a.seconds_until_idle if a.settings.sleep_enabled else None
        if self.streaming and self.waiting_since is not None:  # no token yet: loading?
            waited = self._since(self.waiting_since, after=2.0)
            parts.append(f"waiting for the model…{waited}" if waited else "answering…")
        elif self.streaming:
            parts.append("answering…")
        elif self.reflecting:
            parts.append("reflecting…")
        elif secs is None:
            parts.append("awake")
        else:
            parts.append(f"idle in {math.ceil(secs)}s" if secs > 0 else "idle")
        if fresh := self.predictions_ready:
            parts.append(f"{fresh} prediction{'s' if fresh != 1 else ''} ready")
        ready, waiting = self.queued
        if ready:
            parts.append(f"{ready} queued answer{'s' if ready != 1 else ''} ready")
        if waiting:
            parts.append(f"{waiting} queued for idle time")
        if a.settings.sleep_enabled:
            parts.append(f"recall: {a.recall_method}")  # how questions meet predictions
        if a.last_reply_speed:
            parts.append(f"{a.last_reply_speed:.1f} tok/s")
        if a.session is not None and a.session.private:
            parts.append("private")  # this session neither reads nor feeds the memory
        parts.append(self.context_text())
        if a.session is not None:
            parts.append(a.session.title)
        return " · ".join(parts)

    def context_text(self) -> str:
        """``ctx 1.2k/4.1k`` (⚠ when the oldest turns will soon be left out); worked out again
        only when the conversation changed (this runs on every key)."""
        a = self.assistant
        assert a is not None
        key = (a.session.id if a.session else None, len(a.history), a.settings.system_prompt)
        if key != self._context_key:
            self._context_key = key
            self.context = context_of(a)
            text = self.context.short()
            self._context_text = f"⚠ {text}" if self.context.near_full else text
        return self._context_text

    def show(self) -> None:
        """Redraw if the text changed (called on every key: most keys change nothing here)."""
        text = self.text()
        if text == self._shown:
            return
        self._shown = text
        self.update(Content(text))
        if " · idle in " in text or self._ticking:
            self._countdown.resume()
        else:
            self._countdown.pause()

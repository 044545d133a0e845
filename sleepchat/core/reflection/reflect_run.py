"""What one reflection's steps share: its record, its budget and the two kinds of request.

Every request starts with the chat's system prompt and history and uses the chat's model
options (docs/architecture.md, Prefix discipline); a step's instructions go in the tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from sleepchat.core import prompts
from sleepchat.core.clock import Clock
from sleepchat.core.errors import SchemaError
from sleepchat.core.events import Event, ReflectionChanged
from sleepchat.core.memory import Memory
from sleepchat.core.models import Message, Note, Reflection, ReflectionStatus
from sleepchat.core.ports import WARM_UP_TOKENS, Backend, ChatMessage, ChatStats
from sleepchat.core.recall import Recall
from sleepchat.core.settings import CoreSettings
from sleepchat.core.speed import ModelSpeed

if TYPE_CHECKING:
    from sleepchat.core.conversation import Conversation
    from sleepchat.core.reflection.plan import Plan

S = TypeVar("S", bound=BaseModel)


def clean(text: str, limit: int) -> str | None:
    """Whitespace-normalised text, or None when empty or absurdly long (never truncated:
    half a fact is worse than none)."""
    line = " ".join(text.split())
    return line if line and len(line) <= limit else None


_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def finished_strings(raw: str, key: str) -> list[str]:
    """The strings of the JSON list under ``key`` that a reply cut short had finished (a cut
    list keeps its whole items; what follows the list's end is not its item)."""
    start = raw.find(f'"{key}"')
    opened = raw.find("[", start) if start >= 0 else -1
    if opened < 0:
        return []
    items: list[str] = []
    at = opened + 1
    for m in _JSON_STRING.finditer(raw, at):
        if "]" in raw[at : m.start()]:
            break  # the list ended before this string
        with contextlib.suppress(ValueError):
            items.append(json.loads(m.group(0)))
        at = m.end()
    return items


def state_key(
    session_id: str, history: Sequence[Message], notes: Sequence[Note], prefix: object = None
) -> str:
    """What a reflection depends on: the conversation, the active notes and what every request
    starts with (``prefix``: the model, system prompt and options; a new one is reflected on
    and warmed again)."""
    payload = json.dumps(
        [session_id, [m.id for m in history], [[n.id, n.text] for n in notes], prefix],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def user_turns(history: Sequence[Message]) -> int:
    return sum(1 for m in history if m.role == "user")


def completion_tokens(stats: ChatStats | None, text: str) -> int:
    if stats is not None and stats.completion_tokens is not None:
        return stats.completion_tokens
    return len(text.split())  # the server said nothing: a word count is close enough


@dataclass
class Run:
    """One reflection in progress: its record, what it saw, what it spent and changed."""

    reflection: Reflection
    memory: Memory
    conversation: Conversation  # where its events go
    history: Sequence[Message]  # the conversation as the reflection started
    backend: Backend
    settings: CoreSettings
    clock: Clock
    log: logging.Logger
    started: float = 0.0  # monotonic
    tokens: int = 0
    wasted: int = 0  # of ``tokens``, thrown away: generated but never stored to use
    cut: str = ""  # what the last streamed request had when a cancel cut it
    notes_changed: int = 0
    predictions: int = 0
    dropped: int = 0  # earlier predictions dropped or found too old
    steps: list[str] = field(default_factory=list)  # finished, in order
    # The messages of the last request sent: what the server's cache holds a prefix of.
    last_prompt: list[ChatMessage] = field(default_factory=list)
    # The model's measured speed (each finished request adds to it) and the work planned from
    # it for this idle period (None: not measured yet; the token budget alone decides).
    speed: ModelSpeed = field(default_factory=ModelSpeed)
    plan: Plan | None = None
    recall: Recall | None = None  # how a chat turn picks a long document's sections
    more: bool = False  # it ended leaving answers for the next idle period to go on with

    def emit(self, event: Event) -> None:
        self.conversation.events.emit(event)

    def memory_changed(self) -> None:
        self.conversation.memory_changed(self.history)

    def changed(self) -> None:
        """A step stored something: the memory as it is now, and the progress so far."""
        self.memory_changed()
        self.emit(ReflectionChanged(self.counted("running", None), self.dropped))

    def counted(self, status: ReflectionStatus, reason: str | None) -> Reflection:
        """The reflection's record with what this run did so far."""
        return dataclasses.replace(
            self.reflection,
            status=status,
            notes_changed=self.notes_changed,
            predictions=self.predictions,
            tokens=self.tokens,
            wasted_tokens=self.wasted,
            ms=(self.clock.monotonic() - self.started) * 1000.0,
            reason=reason,
            steps=list(self.steps),
            plan=self.plan.describe() if self.plan is not None else None,
            more=self.more,
        )

    def warms(self) -> bool:
        """The cycle ends with a warm-up (worth it only where the server keeps a prefix cache)."""
        return self.settings.warm_up and self.backend.capabilities.prefix_cache

    def remaining(self) -> int:
        """Tokens left of the budget (the warm-up's token is reserved: it is the step that
        pays even without hits)."""
        reserve = WARM_UP_TOKENS if self.warms() else 0
        return self.settings.budget_tokens - reserve - self.tokens

    def prefix(self) -> list[ChatMessage]:
        return prompts.prefix_messages(self.settings.system_prompt, self.history)

    def warm_prefix(self) -> list[ChatMessage]:
        """What every next chat turn starts with: the chat prefix and the notes block."""
        notes = [n.text for n in self.memory.request_notes]
        return prompts.warm_messages(self.settings.system_prompt, self.history, notes)

    async def structured(
        self,
        tail: str,
        schema: type[S],
        ceiling: int,
        *,
        after_notes: bool = False,
        salvage: Callable[[str], S | None] | None = None,
        step: str | None = None,
    ) -> S | None:
        """One structured request with ``tail`` after the chat prefix (after the notes block
        too with ``after_notes``: the warm-up's cache then serves it whole); None when the
        budget is spent or the reply does not fit the schema (dropped and logged) and
        ``salvage`` finds no whole item in it (a list cut by the token limit keeps the items
        it finished). ``step``: its output is that step's usual size, measured."""
        num_predict = min(ceiling, self.remaining())
        if num_predict <= 0:
            return None
        start = self.warm_prefix() if after_notes else self.prefix()
        messages: list[ChatMessage] = [*start, {"role": "user", "content": tail}]
        self.last_prompt = messages
        began = self.clock.monotonic()
        try:
            result, stats = await self.backend.chat_structured(
                messages,
                schema,
                options=self.settings.options,
                num_predict=num_predict,
                keep_alive=self.settings.keep_alive,
                background=True,
            )
        except SchemaError as exc:
            self.tokens += len(exc.raw.split())
            # Model text echoes the conversation: logged only at debug level (logs are private
            # by default: no message text unless debug is on).
            rid = self.reflection.id
            self.log.warning("reflection %s: %s dropped: %s", rid, schema.__name__, exc.message)
            self.log.debug("reflection %s: the dropped reply: %r", rid, exc.raw[:200])
            return salvage(exc.raw) if salvage is not None else None
        self.tokens += completion_tokens(stats, "")
        self.speed.observe(stats, self.clock.monotonic() - began)
        if step is not None and stats is not None and stats.completion_tokens is not None:
            self.speed.observe_step(step, stats.completion_tokens)
        return result

    async def stream(
        self, messages: list[ChatMessage], num_predict: int | None, prefix: str = ""
    ) -> tuple[str, ChatStats | None]:
        """A streamed request (an answer); tokens spent count even when cancelled, and what a
        cancel cut short is left in ``cut`` (the text after ``prefix``)."""
        parts: list[str] = []
        stats: ChatStats | None = None
        self.last_prompt = list(messages)
        self.cut = ""
        began = self.clock.monotonic()
        chunks_in = self.backend.chat_stream(
            messages,
            options=self.settings.options,
            num_predict=num_predict,
            keep_alive=self.settings.keep_alive,
            background=True,
            prefix=prefix,
        )
        try:
            async with contextlib.aclosing(chunks_in) as chunks:
                async for chunk in chunks:
                    parts.append(chunk.text)
                    if chunk.stats is not None:
                        stats = chunk.stats
        except asyncio.CancelledError:
            self.cut = "".join(parts)
            raise
        finally:
            self.tokens += completion_tokens(stats, "".join(parts))
        self.speed.observe(stats, self.clock.monotonic() - began)
        return "".join(parts), stats

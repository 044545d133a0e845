"""A model reply streamed and stored (for ask, regenerate and continue), and replies cut short
(the token cap, a loop) and continued: what the core records and asks."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, Sequence

from sleepchat.core.clock import Clock
from sleepchat.core.conversation import Conversation
from sleepchat.core.errors import BackendError, BackendUnreachable
from sleepchat.core.events import Event, ReplyChunk, ReplyDone, ReplyFailed, ReplyStarted
from sleepchat.core.models import Cut, Message
from sleepchat.core.ports import Backend, ChatMessage, ChatStats
from sleepchat.core.prompts import chat_messages
from sleepchat.core.settings import reply_cap

# Asked as a user turn after the cut reply: every server understands it (an assistant-prefill
# continuation is not portable). The text it brings is added to the cut reply.
CONTINUE_PROMPT = (
    "Continue your last answer exactly where it stopped. Do not repeat anything you already "
    "wrote and do not start over."
)


def cut_reason(stats: ChatStats | None) -> Cut | None:
    """Why a finished reply stopped short, from what the backend said, or None."""
    reason = stats.done_reason if stats is not None else None
    if reason == "length":
        return "length"
    return "repetition" if reason == "repetition" else None


def joint(before: str, after: str) -> str:
    """What goes between a cut reply and its continuation: a space unless either side has one."""
    if not before or not after or before[-1].isspace() or after[0].isspace():
        return ""
    return " "


def continued(original: Message, more: Message) -> Message:
    """``original`` grown by the continuation ``more`` (its text, tokens, time and outcome)."""
    tokens = [t for t in (original.completion_tokens, more.completion_tokens) if t is not None]
    return dataclasses.replace(
        original,
        content=original.content + more.content,
        completion_tokens=sum(tokens) if tokens else None,
        total_ms=(original.total_ms or 0.0) + (more.total_ms or 0.0),
        interrupted=more.interrupted,
        error=more.error,
        cut=more.cut,
    )


def request(
    conversation: Conversation,
    history: Sequence[Message],
    question: str,
    hints: list[tuple[str, str]],
    sections: str,
) -> list[ChatMessage]:
    """The messages a reply to ``question`` after ``history`` sends (a typed question is warmed
    with the very same)."""
    notes = conversation.note_texts
    return chat_messages(
        conversation.settings.system_prompt,
        history,
        question,
        notes=notes,
        hints=hints,
        sections=sections,
    )


class ReplyMaker:
    """Streams one model reply as events and stores it: the user message is already stored; a
    reply cut by an error or a cancel is stored too, marked interrupted."""

    def __init__(self, backend: Backend, clock: Clock, log: logging.Logger) -> None:
        self.backend = backend
        self.clock = clock
        self.log = log
        self.last_speed: float | None = None  # tokens/s of the last model reply

    async def generate(
        self,
        conversation: Conversation,
        user: Message,
        hints: list[tuple[str, str]],
        *,
        prior: list[Message] | None = None,
        continuing: Message | None = None,
        sections: str = "",
        asked_at: float | None = None,
    ) -> AsyncGenerator[Event, None]:
        """A model reply to ``user``, the last question of ``conversation`` (which the stored
        reply joins); with ``continuing``, more text for that (last) reply. ``prior``: the
        history to send instead of everything before ``user``. ``asked_at``: when the question
        came (the clock's monotonic time), which its times count from (default: now)."""
        settings = conversation.settings
        quoted = [i.id for i in conversation.recalled]  # what this request's memory block holds
        history = prior if prior is not None else conversation.history[:-1]
        question = user.content
        if continuing is not None:
            history, question = list(conversation.history), CONTINUE_PROMPT
        messages = request(conversation, history, question, hints, sections)
        yield ReplyStarted(user.session_id, user, "model", continues=continuing)
        parts: list[str] = []
        stats: ChatStats | None = None
        start = self.clock.monotonic() if asked_at is None else asked_at
        first: float | None = None
        error: BackendError | None = None
        cancelled = False
        try:
            stream = self.backend.chat_stream(
                messages,
                options=settings.options,
                num_predict=reply_cap(settings, self.backend.capabilities),
                keep_alive=settings.keep_alive,
            )
            async with contextlib.aclosing(stream) as chunks:
                async for chunk in chunks:
                    if chunk.stats is not None:
                        stats = chunk.stats
                    if chunk.text:
                        if first is None:
                            first = self.clock.monotonic()
                            if continuing is not None:  # a space where the two texts meet
                                chunk.text = joint(continuing.content, chunk.text) + chunk.text
                        parts.append(chunk.text)
                        yield ReplyChunk(user.session_id, chunk.text)
        except BackendError as exc:
            error = exc
        except (asyncio.CancelledError, GeneratorExit):
            cancelled = True
            raise
        finally:
            if error is not None or cancelled or stats is None:
                reason = error.message if error else "cancelled" if cancelled else "stream ended"
                text = "".join(parts)
                partial = await self._store(
                    conversation, user, text, stats, start, first, reason, continuing, quoted
                )
                if not cancelled:
                    yield ReplyFailed(
                        user.session_id,
                        error.message if error else "the reply ended without a final message",
                        partial,
                        unreachable=isinstance(error, BackendUnreachable),
                    )
        if stats is None:
            return
        text = "".join(parts)
        reply = await self._store(
            conversation, user, text, stats, start, first, None, continuing, quoted
        )
        assert reply is not None
        if stats.notice:
            self.log.info("reply %s: %s", reply.id, stats.notice)
        yield ReplyDone(reply, notice=stats.notice)

    async def warm(
        self, conversation: Conversation, question: str, hints: list[tuple[str, str]], sections: str
    ) -> None:
        """While ``question`` is typed (not stored yet): have the server process the request a
        reply to it would send, all but the answer, so that sending it prefills next to nothing
        (a server without a prefix cache would forget it: nothing is sent)."""
        if not self.backend.capabilities.prefix_cache:
            return
        settings = conversation.settings
        messages = request(conversation, conversation.history, question, hints, sections)
        await self.backend.warm_up(
            messages, options=settings.options, keep_alive=settings.keep_alive
        )

    async def _store(
        self,
        conversation: Conversation,
        user: Message,
        text: str,
        stats: ChatStats | None,
        start: float,
        first: float | None,
        interrupted: str | None,
        continuing: Message | None = None,
        quoted: list[str] | None = None,
    ) -> Message | None:
        """Store a model reply (or the reply it continues, grown by ``text``); a failed one
        only when some text came (an empty cut adds noise)."""
        if interrupted is not None and not text:
            return None
        now = self.clock.monotonic()
        reply = conversation.new_message(
            "assistant",
            text,
            source="model",
            model=self.backend.model,
            interrupted=interrupted is not None,
            error=interrupted,
            prompt_tokens=stats.prompt_tokens if stats else None,
            completion_tokens=stats.completion_tokens if stats else None,
            ttft_ms=(first - start) * 1000 if first is not None else None,
            total_ms=(now - start) * 1000,
            cut=cut_reason(stats) if interrupted is None else None,
            memory_ids=list(quoted or []),
        )
        if continuing is None:
            await conversation.add(reply)
        else:
            reply = continued(continuing, reply)
            await conversation.grow(continuing, reply)
        if stats is not None and stats.tokens_per_second:
            self.last_speed = stats.tokens_per_second
        return reply

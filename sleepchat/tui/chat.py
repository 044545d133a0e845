"""The chat: the transcript, the message box and the reply worker (one streamed answer).

``streaming`` is the input lock: set the moment a question is sent (a second Enter before the
worker runs must not send again), cleared when the reply ends, however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Button, Static, TextArea
from textual.worker import Worker

from sleepchat.core.errors import CoreError
from sleepchat.errors import SleepchatError
from sleepchat.text import clean_input, clip, terminal_safe
from sleepchat.tui.prompt import PromptInput
from sleepchat.tui.status import StatusLine
from sleepchat.tui.transcript import (
    AssistantMessage,
    Selectable,
    Transcript,
    UserMessage,
    prediction_badge,
    reply_meta,
)

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.events import ReplyDone

log = logging.getLogger("sleepchat.tui")
STREAMING = "A reply is streaming: press Esc to stop it first."
EDITING = (
    "✎ Editing your message — Enter asks it again from there (the old reply is kept, folded "
    "away); Esc cancels"
)


class Queued(Static):
    """Messages sent before the app was ready: listed here, sent as soon as it is."""

    def show(self, texts: list[str]) -> None:
        lines = [f"⧗ queued, sends when ready: {clip(terminal_safe(t), 80)}" for t in texts]
        self.update(Content("\n".join(lines)))
        self.display = bool(texts)


class ChatView(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+g", "continue_reply", "Continue", tooltip="Go on with the last reply"),
        Binding(
            "ctrl+f", "later", "Later", tooltip="Queue the question in the box for idle time"
        ),
        # Off the footer (full already): the palette lists it with its key.
        Binding("alt+a", "attach", "Attach", show=False),
    ]
    streaming: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.assistant: Assistant | None = None  # set once the first session is on screen
        self.queued: list[str] = []  # sent before the assistant was there, in order
        self._warned_full: set[str] = set()  # sessions told their context is nearly full
        self.pending_notices: list[str] = []  # the core's, shown with the next session view
        self.editing: UserMessage | None = None  # the message being written again
        self._draft = ""  # what the box held before the edit, given back after it

    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")
        queued = Queued(id="queued")
        queued.display = False
        yield queued
        hint = Static(Content(EDITING), id="editing")
        hint.display = False
        yield hint
        yield PromptInput(id="prompt")

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def status(self) -> StatusLine:
        return self.app.query_one(StatusLine)

    def busy(self) -> bool:
        """True (and says why) when nothing may be sent now."""
        if self.assistant is None:
            self.notify("Still starting…")
        elif self.streaming:
            self.notify(STREAMING)
        return self.assistant is None or self.streaming

    async def show_session(self, assistant: Assistant) -> None:
        self.assistant = assistant
        preds = {p.id: p for p in assistant.predictions}
        await self.transcript.show_history(list(assistant.history), preds, assistant.clock.now())
        sent = [m.content for m in assistant.history if m.role == "user"][-500:]
        self.prompt.set_history(sent + self.queued)
        while self.pending_notices:
            await self.transcript.add_notice("⚠ " + self.pending_notices.pop(0), "warning")
        await self.warn_if_full(assistant)
        self.send_queued()

    def send_queued(self) -> None:
        """Send the next message queued before start-up ended (one at a time: the next goes
        when this reply ends)."""
        if self.queued and self.assistant is not None and not self.streaming:
            text = self.queued.pop(0)
            self.query_one(Queued).show(self.queued)
            self.send(text)

    # -- sending -----------------------------------------------------------------------------
    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        event.stop()
        text = clean_input(event.text)
        if not text.strip():
            return
        if self.assistant is None:  # sent as soon as the session is on screen
            event.prompt.remember(text)
            event.prompt.clear()
            self.queued.append(text)
            self.query_one(Queued).show(self.queued)
        elif self.streaming:
            self.notify("A reply is streaming: press Esc to stop it. Your text stays in the box.")
        elif self.editing is not None and self.editing.message is not None:
            edited = self.editing.message.id
            event.prompt.remember(text)
            self._end_edit()
            self.send(text, edit=edited)
        else:
            event.prompt.remember(text)
            event.prompt.clear()
            self.send(text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Judged once typing pauses (core/drafts.py): a question sent as typed does not wait
        # for the recall judge. Not while a reply streams or a sent message is rewritten.
        a = self.assistant
        box = event.text_area is self.prompt and self.editing is None
        if box and a is not None and not self.streaming:
            a.touch(draft=self.prompt.text)

    # -- editing a message -------------------------------------------------------------------
    def on_user_message_edit(self, event: UserMessage.Edit) -> None:
        event.stop()
        if self.busy():  # says why (a reply streams: Esc first); the message is untouched
            return
        if event.view.message is None:
            self.notify("That message is still being saved — try again in a moment.")
            return
        if self.editing is None:
            self._draft = self.prompt.text
        self.editing = event.view
        self.prompt.editing = True
        self.query_one("#editing").display = True
        self.prompt.load_text(event.view.full_text())
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()

    def on_prompt_input_cancel_edit(self, event: PromptInput.CancelEdit) -> None:
        event.stop()
        self._end_edit()

    def _end_edit(self) -> None:
        """Out of editing: the box gets back what it held before."""
        self.editing = None
        self.prompt.editing = False
        self.query_one("#editing").display = False
        self.prompt.load_text(self._draft)
        self.prompt.move_cursor(self.prompt.document.end)
        self._draft = ""

    def ask(self, question: str) -> None:
        """Send a question that did not come from the box (a predicted one)."""
        if not self.busy():
            self.prompt.remember(question)
            self.send(question)

    def regenerate(self) -> None:
        if self.assistant is None or self.busy():
            return
        if not any(m.role == "user" for m in self.assistant.history):
            self.notify("Nothing to regenerate yet — ask something first.")
            return
        self.send("", mode="regenerate")

    def action_continue_reply(self) -> None:
        """Go on with the last reply (one cut at the token cap, say)."""
        if self.assistant is None or self.busy():
            return
        history = self.assistant.history
        if not history or history[-1].role != "assistant":
            self.notify("Nothing to continue — the last message is not a reply.")
            return
        self.send("", mode="continue")

    def action_later(self) -> None:
        """Queue what the box holds: the next idle period answers it, and asking it then is
        served at once."""
        text = clean_input(self.prompt.text).strip()
        if self.assistant is None:
            self.notify("Still starting…")
        elif not text:
            self.notify("Write a question, then Ctrl+F queues it for idle time.")
        else:
            self.prompt.remember(text)
            self.prompt.clear()
            self._queue_later(text)

    @work(group="later", exit_on_error=False)
    async def _queue_later(self, text: str) -> None:
        assert self.assistant is not None
        try:
            queued = await self.assistant.later(text)
        except SleepchatError as exc:
            self.prompt.load_text(text)  # nothing typed is lost
            self.notify(exc.message, severity="error")
            return
        self.notify(f"Queued ({queued.id}): answered while you are idle, served when you ask.")

    def action_attach(self) -> None:
        """Attach the file whose path the box holds to this session: every question then sees
        it, and the next idle period studies it."""
        path = clean_input(self.prompt.text).strip()
        if self.assistant is None:
            self.notify("Still starting…")
        elif not path:
            self.notify("Write a file's path in the box, then Alt+A attaches it.")
        else:
            self.prompt.clear()
            self.attach_files([path], restore=True)

    @work(group="attach", exit_on_error=False)
    async def attach_files(
        self, paths: list[str], assistant: Assistant | None = None, *, restore: bool = False
    ) -> None:
        """Attach each file, saying what was attached (and what part of a long one).
        ``assistant``: at start-up (-f PATH), before the session is on screen."""
        from sleepchat.attach import read_document

        a = assistant or self.assistant
        assert a is not None
        for path in paths:
            try:
                doc = await a.attach(*read_document(path))
            except SleepchatError as exc:
                if restore:
                    self.prompt.load_text(path)  # nothing typed is lost
                self.notify(exc.message, severity="error")
                continue
            part = "" if doc.whole else f", its first {doc.tokens} of {doc.total_tokens} tokens"
            if doc.source:
                part += " quoted, and the parts of the rest each question is about"
            if window := a.grown_window:
                part += f"; a context window of {window:,} tokens holds it"
            self.notify(f"Attached {doc.name} ({doc.id}{part}): studied while you are idle.")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if "regenerate" in event.button.classes:
            event.stop()
            self.regenerate()

    # -- copying ------------------------------------------------------------------------------
    def copy_last_answer(self) -> None:
        from sleepchat.tui.copying import copy_text

        views = [v for v in self.transcript.query(AssistantMessage) if v.full_text().strip()]
        if not views:
            self.notify("Nothing to copy yet: no answer in this session.", severity="warning")
        else:
            partial = " so far (it is still streaming)" if self.streaming and views[-1].text else ""
            copy_text(self, views[-1].full_text(), f"the last answer{partial}")

    def on_selectable_leave(self, event: Selectable.Leave) -> None:
        event.stop()
        if self.streaming:
            self.stop()  # Esc stops a reply wherever the focus is
        else:
            self.prompt.focus()

    def stop(self) -> None:
        if self.streaming:
            self.workers.cancel_group(self, "reply")

    def send(self, text: str, *, mode: str = "ask", edit: str | None = None) -> Worker[None]:
        """Ask ``text`` (mode "ask", in place of the question ``edit`` when given), or
        "regenerate" / "continue" the last reply."""
        self.streaming = True
        return self._reply(text, mode, edit)

    @work(group="reply", exit_on_error=False)
    async def _reply(self, text: str, mode: str, edit: str | None = None) -> None:
        from sleepchat.core.events import ReplyChunk, ReplyDone, ReplyFailed, ReplyStarted

        a = self.assistant
        assert a is not None
        view: AssistantMessage | None = None
        asked: UserMessage | None = None
        answered = False
        retry = mode == "ask"
        try:
            if mode == "ask":
                asked = await self.transcript.add_user(text)
                events = a.ask(text) if edit is None else a.edit(edit, text)
            else:
                events = a.regenerate() if mode == "regenerate" else a.continue_reply()
            async with contextlib.aclosing(events) as stream:  # type: ignore[type-var]
                async for ev in stream:
                    if isinstance(ev, ReplyStarted):
                        self.status.wait(time.monotonic())
                        if mode == "regenerate":
                            self._mark_replaced()
                        if asked is not None:  # stored now: it can be edited
                            asked.message = ev.user_message
                        if edit is not None and asked is not None:
                            self._mark_branch(edit, asked)
                        views = self.transcript.query(AssistantMessage)
                        if ev.continues is not None and views:
                            view = views.last()  # the continuation goes on in the same view
                            view.set_meta("")
                        else:
                            view = await self.transcript.begin_reply(ev.source)
                    elif isinstance(ev, ReplyChunk) and view is not None:
                        if self.status.waiting_since is not None:
                            self.status.wait(None)
                        await view.write(ev.text)
                    elif isinstance(ev, ReplyDone) and view is not None:
                        answered = True
                        await self._done(a, view, ev)
                    elif isinstance(ev, ReplyFailed):
                        answered = ev.partial is not None
                        if view is not None:
                            await view.close_stream()
                            if ev.partial is not None:
                                view.message = ev.partial
                                view.set_meta(reply_meta(ev.partial))
                            elif not view.text:
                                await view.remove()
                        await self._show_error(ev.error, text, kept_partial=answered, retry=retry)
        except asyncio.CancelledError:
            if view is not None:
                try:
                    await view.close_stream()
                    view.set_meta("stopped — the partial reply is kept" if view.text else "stopped")
                except Exception:  # the view may be gone (the app quitting); the core kept it
                    log.warning("could not mark the stopped reply", exc_info=True)
            raise
        except CoreError as exc:  # refused before it was stored: the text goes back
            if asked is not None and asked.message is None:
                await asked.remove()
                if not self.prompt.text.strip():
                    self.prompt.load_text(text)
            await self._show_error(exc.message, text, kept_partial=answered, retry=False)
        except SleepchatError as exc:  # the store: say so, keep the text, keep running
            await self._show_error(exc.message, text, kept_partial=answered, retry=retry)
        except Exception as exc:  # a bug: the same, and the log has the traceback
            log.exception("sending failed")
            message = f"sending failed: {exc}"
            await self._show_error(message, text, kept_partial=answered, retry=retry)
        finally:
            self.status.wait(None)
            self.streaming = False
            self.call_later(self.send_queued)

    async def _done(self, a: Assistant, view: AssistantMessage, ev: ReplyDone) -> None:
        await view.close_stream()
        view.message = ev.message
        speed = a.last_reply_speed if ev.message.source == "model" else None
        view.set_meta(reply_meta(ev.message, speed))
        if ev.message.source == "prediction":
            badge = prediction_badge(ev.message, ev.prediction, a.clock.now())
            await view.add_badge(badge, regenerable=True)
        if ev.notice:  # e.g. old turns dropped to fit num_ctx: say so
            await self.transcript.add_notice(ev.notice, "warning")
        await self.warn_if_full(a)

    async def warn_if_full(self, a: Assistant) -> None:
        """Once a session, as it nears the context window: before the trimming starts."""
        from sleepchat.tui.status import context_of

        use = context_of(a)
        if a.session is not None and use.near_full and a.session.id not in self._warned_full:
            self._warned_full.add(a.session.id)
            await self.transcript.add_notice("⚠ " + use.warning(), "warning")

    def _mark_branch(self, edited: str, asked: UserMessage) -> None:
        """The edited message and all after it (but the new question) leave the conversation."""
        views = list(self.transcript.query(Selectable))
        ids = [v.message.id if v.message is not None else None for v in views]
        start = ids.index(edited) if edited in ids else 0  # 0: further up than it shows
        for v in views[start:]:
            if v is asked:
                break
            if not v.has_class("replaced"):
                v.mark_replaced("edited below" if isinstance(v, UserMessage) else "replaced below")
        asked.border_title = "You · edited"

    def _mark_replaced(self) -> None:
        views = list(self.transcript.query(AssistantMessage))
        if views:
            views[-1].drop_regenerate()
            views[-1].set_meta("replaced by the regenerated answer below")
            views[-1].mark_replaced("replaced below")

    async def _show_error(self, error: str, text: str, *, kept_partial: bool, retry: bool) -> None:
        fix = []
        if kept_partial:
            fix.append("The partial reply is kept, marked interrupted; Ctrl+R asks again.")
        elif retry:
            prompt = self.prompt
            if not prompt.text.strip():
                prompt.load_text(text)
                prompt.move_cursor(prompt.document.end)
                fix.append("Your message is back in the box: press Enter to retry.")
            else:
                fix.append("Press Ctrl+R to retry.")
        self.notify(error, title="Could not answer", severity="error", timeout=10)
        await self.transcript.add_notice("⚠ " + "\n".join([error, *fix]), "error")

"""Scripted sessions: lines from a file or a pipe; reply text on stdout, diagnostics on stderr.

Each plain line is a user message; ``#`` starts a comment; ``/`` starts a command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import IO, Any

from sleepchat.attach import read_document
from sleepchat.core.assistant import Assistant, CoreError
from sleepchat.core.events import (
    Event,
    Notice,
    ReflectionChanged,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    ReplyStarted,
)
from sleepchat.core.memory.doc_sections import studied
from sleepchat.core.memory.staleness import shown_state
from sleepchat.core.memory.user_memory import MemoryItem
from sleepchat.core.models import Message, Prediction, Reflection, Session
from sleepchat.errors import SleepchatError
from sleepchat.export import (
    document_view,
    note_view,
    prediction_view,
    served_fields,
    served_label,
)
from sleepchat.hints import cli_message
from sleepchat.script_io import EXIT_PIPE, OutputClosed, aiter_lines, drop_output
from sleepchat.text import age, clean_input, safe_json, takes_any_text, terminal_safe

# The one list of commands: what /help shows (usage, what it does) and the ScriptRunner method
# that runs it (handed the text after the command). "/exit" quits too.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("/new [title]", "start a new session", "cmd_new"),
    ("/session ID", "switch to a session (id or unique prefix)", "cmd_session"),
    ("/sessions", "list sessions", "cmd_sessions"),
    ("/idle [N]", "run the sleep cycle to the end, or idle N real seconds", "idle"),
    ("/later QUESTION", "queue a question: the next idle period answers it", "cmd_later"),
    ("/attach PATH", "attach a text, Markdown, code or PDF file to this session", "cmd_attach"),
    ("/detach ID", "remove an attached document (id or file name)", "cmd_detach"),
    ("/docs", "list the attached documents", "cmd_docs"),
    ("/notes", "show the notes", "show_notes"),
    ("/predictions", "show predicted questions", "show_predictions"),
    ("/forget ID", "forget a note, or a remembered fact (u3)", "cmd_forget"),
    ("/confirm ID", "apply note removals a reflection proposed (see /notes)", "cmd_confirm"),
    ("/reject ID", "keep the notes a reflection proposed to remove", "cmd_reject"),
    ("/undo", "undo the last note change", "cmd_undo"),
    ("/regen", "ask the model again for the last question", "cmd_regen"),
    ("/continue", "go on with the last reply (one cut at the token cap, say)", "cmd_continue"),
    ("/model [NAME]", "this session's model (without NAME: which, and those available)", "model"),
    ("/system [TEXT]", "this session's system prompt (--reset: the configured one)", "system"),
    ("/stats", "show sleep-cycle statistics", "show_stats"),
    ("/help", "this list", "cmd_help"),
    ("/quit", "stop", ""),
)
IDLE_CYCLES = 200  # reflections one /idle runs at most (a long file's study takes many)
RUNS = {usage.split()[0]: method for usage, _what, method in COMMANDS} | {"/exit": ""}


class ScriptRunner:
    def __init__(
        self,
        assistant: Assistant,
        *,
        json_mode: bool = False,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
    ) -> None:
        self.assistant = assistant
        self.json_mode = json_mode
        self._out = out
        self._err = err
        self.failed = 0  # lines the model could not answer
        self.unreachable = 0
        self.out_closed = False
        self._replies = 0
        self._unsubscribe = assistant.subscribe(self._on_event)

    # -- output ------------------------------------------------------------------------------
    # Looked up at each write: the plain REPL swaps sys.stdout/sys.stderr for prompt-toolkit's
    # proxies (patch_stdout) so that lines print above the prompt.
    @property
    def out(self) -> IO[str]:
        return self._out or sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._err or sys.stderr

    def put(self, text: str) -> None:
        """Write to stdout now; OutputClosed once nobody reads it any more."""
        if self.out_closed:
            raise OutputClosed
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):  # EPIPE, EIO; ValueError: the stream was closed
            self.out_closed = True
            drop_output(self.out)
            raise OutputClosed from None

    def emit(self, obj: dict[str, Any]) -> None:
        self.put(safe_json(obj, ascii_only=not takes_any_text(self.out)) + "\n")

    def info(self, text: str) -> None:
        """A human line: stdout in text mode (it is the output asked for), never in JSON mode."""
        if self.json_mode:
            return
        self.put(terminal_safe(text) + "\n")  # it quotes titles, notes, questions

    def diag(self, text: str) -> None:
        # Diagnostics quote server and model text (errors, note ids): terminal-safe too. A
        # stderr that is gone takes nothing more (the store still has everything).
        with contextlib.suppress(OSError, ValueError):
            self.err.write(f"sleepchat: {terminal_safe(text)}\n")
            self.err.flush()

    def error(self, message: str) -> None:
        if self.json_mode:
            self.emit({"type": "error", "message": message})
        else:
            self.diag(message)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Notice):
            if self.json_mode:
                self.emit({"type": "notice", "session": event.session_id, "text": event.text})
            else:
                self.diag(event.text)
        if isinstance(event, ReflectionChanged) and event.reflection.status != "running":
            if event.reflection.status == "skipped" and not self.json_mode:
                return  # a non-event for a person; JSON consumers still get it
            self._reflection_event(event.reflection)

    def _reflection_event(self, r: Reflection) -> None:
        if self.json_mode:
            self.emit(
                {
                    "type": "reflection",
                    "id": r.id,
                    "status": r.status,
                    "notes_changed": r.notes_changed,
                    "predictions": r.predictions,
                    "tokens": r.tokens,
                    "ms": round(r.ms),
                    "plan": r.plan,
                    "more": r.more,
                }
            )
        else:
            why = f" ({r.reason})" if r.reason else ""
            planned = f"; planned {r.plan}" if r.plan else ""
            left = "; more next idle period" if r.more else ""
            self.diag(
                f"reflection {r.id} {r.status}{why}: {r.notes_changed} notes changed, "
                f"{r.predictions} predictions, {r.tokens} tokens, {r.ms / 1000:.1f} s"
                f"{planned}{left}"
            )

    def _session_event(self, session: Session) -> None:
        if self.json_mode:
            self.emit({"type": "session", "id": session.id, "title": session.title})
        else:
            self.diag(f"session {session.id}: {session.title}")

    # -- running -----------------------------------------------------------------------------
    async def run(self, lines: Iterable[str] | AsyncIterator[str]) -> int:
        try:
            source = lines if isinstance(lines, AsyncIterator) else aiter_lines(lines)
            async for line in source:
                if not await self.handle(line):
                    break
        except OutputClosed:
            return EXIT_PIPE  # quietly: whoever read the output has left
        finally:
            self._unsubscribe()
        return 1 if self.failed else 0

    async def handle(self, line: str) -> bool:
        """Process one input line; False to stop."""
        line = clean_input(line)  # a terminal may hand over invalid UTF-8 (plain mode)
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return True
        try:
            if stripped.startswith("/"):
                return await self.command(stripped)
            await self.ask(line)
        except SleepchatError as exc:
            self.error(cli_message(exc))
            if not isinstance(exc, CoreError):  # a usage slip is not a lost line; a store error is
                self.failed += 1
        return True

    def new_prompt(self) -> None:
        """The user is at a fresh prompt: the next reply needs no blank line before it."""
        self._replies = 0

    async def ask(self, text: str, *, regen: bool = False, more: bool = False) -> None:
        """One reply, shown as it streams. Output that fails ends it (OutputClosed): a reply
        from the model is closed there, and the core keeps the words so far, marked interrupted;
        an answer served from a prediction is whole, so the core is let store it first."""
        a = self.assistant
        events = a.regenerate() if regen else a.continue_reply() if more else a.ask(text)
        separate = bool(self._replies) and not self.json_mode  # a blank line between replies
        self._replies += 1
        wrote = False
        source = "model"
        async with contextlib.aclosing(events) as stream:  # type: ignore[type-var]
            async for event in stream:
                if isinstance(event, ReplyStarted):
                    source = event.source
                try:
                    if isinstance(event, ReplyChunk) and not self.json_mode:
                        self.put(
                            ("\n" if separate and not wrote else "") + terminal_safe(event.text)
                        )
                        wrote = True
                    elif isinstance(event, ReplyDone):
                        self._reply_done(event.message, event.prediction, wrote)
                        if event.notice:
                            self.diag(event.notice)
                    elif isinstance(event, ReplyFailed):
                        self.failed += 1
                        self.unreachable += int(event.unreachable)
                        if event.partial is not None:
                            self._reply_done(event.partial, None, wrote)
                        elif wrote and not self.json_mode:
                            self.put("\n")
                        self.error(event.error)
                except OutputClosed:
                    if source != "prediction":
                        raise
        if self.out_closed:
            raise OutputClosed

    def _reply_done(self, msg: Message, prediction: Prediction | None, wrote: bool) -> None:
        if self.json_mode:
            self.emit(
                {
                    "type": "reply",
                    "session": msg.session_id,
                    "text": msg.content,
                    "source": msg.source,
                    "prediction_id": msg.prediction_id,
                    **served_fields(prediction),
                    "ttft_ms": round(msg.ttft_ms) if msg.ttft_ms is not None else None,
                    "total_ms": round(msg.total_ms) if msg.total_ms is not None else None,
                    "prompt_tokens": msg.prompt_tokens,
                    "completion_tokens": msg.completion_tokens,
                    "interrupted": msg.interrupted,
                    "cut": msg.cut,
                    "memory_ids": msg.memory_ids,
                }
            )
            return
        if wrote and not msg.content.endswith("\n"):
            self.put("\n")
        if prediction is not None:
            ago = age(self.assistant.clock.now() - prediction.created)
            what = served_label(prediction)
            self.diag(
                f"{what} ({prediction.id}, reflection {prediction.reflection_id}, "
                f"{ago} old) — /regen asks the model"
            )
        elif msg.interrupted:
            self.diag("the reply above was cut short and is kept, marked interrupted")
        elif msg.cut is not None:
            why = "the reply cap" if msg.cut == "length" else "it was repeating itself"
            self.diag(
                f"the reply was cut at {msg.completion_tokens} tokens ({why}) — "
                "/regen asks again, /continue goes on"
            )

    # -- commands ----------------------------------------------------------------------------
    async def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        method = RUNS.get(name)
        if method is None:
            raise CoreError(f"unknown command {name} — /help lists the commands")
        if not method:
            return False  # /quit, /exit
        await getattr(self, method)(arg.strip())
        return True

    async def cmd_new(self, arg: str) -> None:
        self._session_event(await self.assistant.new_session(arg or None))

    async def cmd_session(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /session ID")
        self._session_event(await self.assistant.start(arg))

    async def cmd_sessions(self, _arg: str) -> None:
        for s in await self.assistant.list_sessions():
            if self.json_mode:
                self.emit({"type": "session", "id": s.id, "title": s.title})
            else:
                self.info(f"{s.id}  {s.message_count:5d}  {s.title}")

    async def cmd_later(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /later QUESTION — queued for the next idle period")
        queued = await self.assistant.later(arg)
        if self.json_mode:
            self.emit({"type": "queued", "id": queued.id, "question": queued.question})
        else:
            self.diag(f"queued {queued.id}: answered in the next idle period (/idle now)")

    async def cmd_attach(self, arg: str) -> None:
        name, text = read_document(arg)
        if self.assistant.session is None:
            await self.assistant.start()
        doc = await self.assistant.attach(name, text)
        if self.json_mode:
            self.emit({"type": "attached", **document_view(doc)})
            return
        window = self.assistant.grown_window
        grown = (
            f"; the context window is {window:,} tokens while it is attached (documents.max_window)"
            if window
            else ""
        )
        if doc.whole:
            self.diag(f"attached {doc.id} {doc.name} (about {doc.tokens} tokens{grown})")
        else:
            self.diag(
                f"attached {doc.id} {doc.name}: the prompt holds its first {doc.tokens} of "
                f"about {doc.total_tokens} tokens (the room for documents: half of the context "
                "window, which grows up to documents.max_window, unless documents.max_tokens "
                "sets it)"
                + (
                    "; each question also gets the parts of the rest related to it"
                    if doc.source
                    else "; the rest is left out"
                )
            )

    async def cmd_detach(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /detach ID — see /docs")
        doc = await self.assistant.attach(arg, None)
        if self.json_mode:
            self.emit({"type": "detached", "id": doc.id, "name": doc.name})
        else:
            self.diag(f"detached {doc.id} {doc.name}")

    async def cmd_docs(self, _arg: str) -> None:
        docs = self.assistant.documents
        for doc in docs:
            if self.json_mode:
                self.emit({"type": "document", **document_view(doc)})
            else:
                part = "whole" if doc.whole else f"first {doc.tokens} of {doc.total_tokens}"
                if (progress := studied(doc)) is not None:
                    part += f"; studied {progress[0]}/{progress[1]} parts"
                self.info(f"{doc.id}  {doc.name}  about {doc.tokens} tokens ({part})")
        if not docs and not self.json_mode:
            self.info("(no documents attached — /attach PATH)")

    async def cmd_forget(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /forget NOTE_ID (see /notes)")
        note = await self.assistant.forget_note(arg)
        what = "remembered fact" if isinstance(note, MemoryItem) else "note"
        self.diag(f"forgot {what} {note.id} (/undo brings it back)")

    async def cmd_confirm(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /confirm CHANGE_ID (see /notes)")
        removed = await self.assistant.settle_change(arg, confirm=True)
        self.diag(f"removed {len(removed)} notes (/undo brings them back)")

    async def cmd_reject(self, arg: str) -> None:
        if not arg:
            raise CoreError("usage: /reject CHANGE_ID (see /notes)")
        await self.assistant.settle_change(arg, confirm=False)
        self.diag(f"kept the notes of {arg}")

    async def cmd_undo(self, _arg: str) -> None:
        self.diag(await self.assistant.undo())

    async def cmd_regen(self, _arg: str) -> None:
        await self.ask("", regen=True)

    async def cmd_continue(self, _arg: str) -> None:
        await self.ask("", more=True)

    async def cmd_help(self, _arg: str) -> None:
        for usage, what, _method in COMMANDS:
            self.info(f"{usage:16} {what}")

    async def profile(self, name: str, arg: str) -> None:
        """/model and /system: show the session's, or change them (a new prefix: said)."""
        a = self.assistant
        if a.session is None:
            await a.start()
        if name == "/model" and arg:
            self.diag(await a.configure(model=arg))
        elif name == "/system" and arg:
            prompt = "" if arg == "--reset" else arg
            self.diag(await a.configure(system_prompt=prompt))
        elif name == "/model" and not self.json_mode:
            models = await a.models()
            self.info(f"model: {a.model} (available: {', '.join(models) or 'none'})")
        elif not self.json_mode:
            self.info(f"system prompt: {a.system_prompt}")
        assert a.session is not None
        if self.json_mode:
            self.emit(
                {
                    "type": "profile",
                    "session": a.session.id,
                    "model": a.model,
                    "system_prompt": a.system_prompt,
                    "custom_system_prompt": a.session.system_prompt is not None,
                    "options": a.session.options,
                }
            )

    model = functools.partialmethod(profile, "/model")
    system = functools.partialmethod(profile, "/system")

    async def idle(self, arg: str) -> None:
        a = self.assistant
        if a.session is None:
            await a.start()
        if not arg:
            # Deterministic: the whole cycle, now — and, like the sleep loop while the user
            # stays away, the next one at once while a reflection leaves work for later (each
            # one makes progress; the bound only guards against a cycle that would not end).
            for _ in range(IDLE_CYCLES):
                if not (await a.reflect()).more:
                    return
            self.diag(f"/idle stopped after {IDLE_CYCLES} reflections; more is left")
            return
        try:
            seconds = float(arg)
        except ValueError:
            raise CoreError(f"usage: /idle [SECONDS] — '{arg}' is not a number") from None
        # Idle time: the core's sleep loop runs for that long; the next line preempts whatever
        # reflection it left running.
        await a.idle_loop(seconds)

    async def show_notes(self, _arg: str = "") -> None:
        notes = self.assistant.notes
        pending = self.assistant.pending_changes
        if self.json_mode:
            event: dict[str, Any] = {"type": "notes", "notes": [note_view(n) for n in notes]}
            event["pending"] = [
                {"id": c.id, "reflection": c.reflection_id, "removals": c.removals} for c in pending
            ]
            self.emit(event)
            return
        if not notes:
            self.info("(no notes yet — they are written while you are idle: try /idle)")
        for n in notes:
            # The user's own words are shown as a quotation.
            text = f'"{n.text}" (your words)' if n.verbatim else n.text
            self.info(f"{n.id}: {text}")
        for c in pending:
            ids = ", ".join(str(r.get("note_id")) for r in c.removals)
            self.info(
                f"{c.id}: reflection {c.reflection_id} proposes to remove {ids} "
                f"— /confirm {c.id} or /reject {c.id}"
            )

    async def show_predictions(self, _arg: str = "") -> None:
        a = self.assistant
        fresh = {p.id for p in a.fresh_predictions}
        shown = [p for p in a.predictions if p.status in ("fresh", "stale")]
        if self.json_mode:
            views = [prediction_view(p, p.id in fresh) for p in shown]
            self.emit({"type": "predictions", "predictions": views})
            return
        if not shown:
            self.info("(no predictions yet — try /idle)")
        for p in shown:
            state = shown_state(p, fresh)
            mark = ", queued" if p.queued else f", follow-up: {p.intent}" if p.intent else ""
            self.info(f"{p.id} [{state}{mark}] {p.question}")

    async def show_stats(self, _arg: str = "") -> None:
        session = await self.assistant.stats()
        overall = await self.assistant.stats(overall=True)
        if self.json_mode:
            self.emit(
                {
                    "type": "stats",
                    "session": dataclasses.asdict(session),
                    "overall": dataclasses.asdict(overall),
                }
            )
            return
        for label, st in (("session", session), ("overall", overall)):
            fields = dataclasses.asdict(st).items()
            self.info(f"{label}: " + ", ".join(f"{k}={v}" for k, v in fields))


async def run_script(
    assistant: Assistant,
    lines: Iterable[str] | AsyncIterator[str],
    *,
    json_mode: bool,
    files: Sequence[str] = (),
) -> int:
    """Run the script's lines, after attaching ``files`` (-f PATH) as /attach would."""
    runner = ScriptRunner(assistant, json_mode=json_mode)
    for path in files:
        await runner.handle(f"/attach {path}")
    return await runner.run(lines)

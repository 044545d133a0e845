"""The Textual app: wires the core's events to the transcript, panel, status line and input.

All chat and memory logic lives in the core (``Assistant``); this module only displays it and
turns keys into calls. Background work runs in Textual workers: ``reply`` (one streamed answer),
``sleep`` (one reflection, cancelled by any key), ``panel`` (memory refresh).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea
from textual.worker import Worker

from sleepchat.errors import SleepchatError
from sleepchat.tui.memory_panel import MemoryPanel
from sleepchat.tui.prompt import PromptInput
from sleepchat.tui.transcript import AssistantMessage, Transcript, prediction_badge, reply_meta

if TYPE_CHECKING:
    from textual.theme import Theme
    from textual.widgets import OptionList

    from sleepchat.config import Config
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.events import Event
    from sleepchat.runtime import Runtime
    from sleepchat.tui.memory_views import NoteEditor, NoteList

log = logging.getLogger("sleepchat.tui")

RuntimeFactory = Callable[["Config", Callable[[str], None]], Awaitable["Runtime"]]
WIDE = 100  # columns from which the memory panel shows by default
DOUBLE_PRESS_S = 1.5  # Ctrl+C twice within this quits
THEME_META = "tui.theme"


async def default_runtime(config: Config, warn: Callable[[str], None]) -> Runtime:
    from sleepchat.runtime import open_runtime

    # auto needs the check to choose a backend; a fixed backend is checked on first use, so a
    # server that is down shows as an error in the app instead of a refusal to start.
    return await open_runtime(config, on_warning=warn, check_backend=config.backend == "auto")


@dataclass
class CoreEvent(Message):
    """A background event from the core, delivered on the app's message queue."""

    event: Event


class SleepchatApp(App[None]):
    CSS_PATH = "sleepchat.tcss"
    TITLE = "sleepchat"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+b", "toggle_memory", "Memory", tooltip="Show or hide the memory panel"),
        Binding("ctrl+o", "sessions", "Sessions", tooltip="List, switch, rename, delete sessions"),
        Binding("ctrl+n", "new_session", "New chat"),
        Binding("ctrl+r", "regenerate", "Regenerate", tooltip="Ask the model again"),
        Binding("ctrl+s", "export", "Export", tooltip="Export this session to Markdown"),
        Binding("ctrl+t", "change_theme", "Theme"),
        Binding("escape", "stop_reply", "Stop reply"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        config: Config | None,
        *,
        session: str | None = None,
        new: bool = False,
        runtime_factory: RuntimeFactory | None = None,
        poll_interval: float | None = 0.5,
        config_loader: Callable[[], Config] | None = None,
    ) -> None:
        super().__init__()
        # With a loader, the config (pydantic: ~150 ms to import and build) is loaded right
        # after the first frame instead of before it; a bad one still exits with code 2.
        if config is None and config_loader is None:
            raise ValueError("SleepchatApp needs a config or a config_loader")
        self._config = config
        self._config_loader = config_loader
        self.session_arg = session
        self.new_session_arg = new
        self.runtime_factory = runtime_factory or default_runtime
        self.poll_interval = poll_interval  # None: tests drive poll_sleep() themselves
        self.runtime: Runtime | None = None
        self.streaming = False
        self.exit_message: str | None = None
        self.loaded = asyncio.Event()  # set once the first session is on screen
        self._shown_session: str | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._panel_user_choice: bool | None = None
        self._last_ctrl_c = 0.0
        self._quitting = False
        self._runtime_closed = False
        self._remember_theme = False
        self._reply_worker_ref: Worker[None] | None = None
        self._pending_input: str | None = None  # what to put back in the box if sending fails

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="chat"):
                yield Transcript(id="transcript")
                yield PromptInput(id="prompt")
            yield MemoryPanel()
        yield Static(id="status")
        yield Footer()

    @property
    def config(self) -> Config:
        assert self._config is not None, "the config is loaded right after the first frame"
        return self._config

    @property
    def assistant(self) -> Assistant | None:
        return self.runtime.assistant if self.runtime else None

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def panel(self) -> MemoryPanel:
        return self.query_one(MemoryPanel)

    def on_mount(self) -> None:
        if self._config is not None:
            self._load_themes()
        else:
            self._load_default_theme()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.panel.display = self.size.width >= WIDE
        self.prompt.focus()
        self._update_status()
        if self.poll_interval:
            self.set_interval(self.poll_interval, self._tick)

    def on_ready(self) -> None:
        # The footer fills in its keys a few refreshes after the first layout (once the
        # focused widget's bindings are known): let it paint before the config load holds
        # the loop for ~150 ms (measured: footer on screen at ~0.5 s instead of ~1 s).
        self._after_refreshes(3, self._finish_start)

    def _after_refreshes(self, count: int, callback: Callable[[], object]) -> None:
        """Run ``callback`` once ``count`` more screen refreshes have gone out."""
        if count <= 1:
            self.call_after_refresh(callback)
        else:
            self.call_after_refresh(self._after_refreshes, count - 1, callback)

    async def _finish_start(self) -> None:
        # After the first frame: the config, the store, the backend and the panel's widgets
        # never delay it. The panel first: mounting its tabs must not race an exit when
        # start-up fails.
        if self._config is None and not self._load_config():
            return
        await self.panel.build()
        self._open_runtime()

    def _load_config(self) -> bool:
        from sleepchat.config import ConfigError

        assert self._config_loader is not None
        try:
            self._config = self._config_loader()
        except ConfigError as exc:
            self._fail_start(exc.message, exc.exit_code)
            return False
        from sleepchat.hosts import non_loopback_http_warning

        self._load_themes()
        self._update_status()
        warning = non_loopback_http_warning(self._config.host)
        if warning and self._config.backend != "local":
            self.notify(warning, severity="warning", timeout=15)
        return True

    def on_resize(self, event: events.Resize) -> None:
        if self._panel_user_choice is None:
            self.panel.display = event.size.width >= WIDE

    # -- themes ------------------------------------------------------------------------------
    def _load_default_theme(self) -> None:
        """Before the config is known: the shipped default, so the first frame is in it."""
        from sleepchat.themes import DEFAULT_THEME, load_themes, shipped_themes_dir

        theme = load_themes([shipped_themes_dir()]).themes.get(DEFAULT_THEME)
        if theme is not None:
            self.register_theme(theme)
            self.theme = theme.name

    def _load_themes(self) -> None:
        from sleepchat.themes import load_themes, pick_theme, shipped_themes_dir

        user_dir = self.config.resolved_themes_dir()
        loaded = load_themes([shipped_themes_dir(), user_dir])
        for theme in loaded.themes.values():
            self.register_theme(theme)
        if problem := loaded.summary():
            self.notify(problem, title="Themes", severity="warning", timeout=15)
        name, note = pick_theme(self.config.theme, self.available_themes)
        if note:
            self.notify(note, title="Themes", severity="warning", timeout=10)
        self.theme = name

    async def _apply_remembered_theme(self) -> None:
        """A theme picked at runtime wins until the config's theme changes."""
        rt = self.runtime
        if rt is None:
            return
        try:
            saved = await rt.store.get_meta(THEME_META)
        except Exception:
            log.exception("reading the saved theme failed")
            saved = None
        if (
            isinstance(saved, dict)
            and saved.get("config_theme") == self.config.theme
            and saved.get("name") in self.available_themes
        ):
            self.theme = saved["name"]
        self._remember_theme = True

    def _theme_changed(self, theme: Theme) -> None:
        if self._remember_theme and self.runtime is not None:
            self._save_theme(theme.name)

    @work(exclusive=True, group="theme", exit_on_error=False)
    async def _save_theme(self, name: str) -> None:
        if self.runtime is None:
            return
        try:
            await self.runtime.store.set_meta(
                THEME_META, {"name": name, "config_theme": self.config.theme}
            )
        except Exception as exc:
            self.notify(f"could not remember the theme: {exc}", severity="warning")

    # -- start-up and shut-down --------------------------------------------------------------
    @work(group="startup", exit_on_error=False)
    async def _open_runtime(self) -> None:
        from sleepchat.core.assistant import CoreError
        from sleepchat.hints import cli_message

        try:
            rt = await self.runtime_factory(self.config, self._warn)
        except SleepchatError as exc:  # printed on the terminal after the app closes
            self._fail_start(cli_message(exc), exc.exit_code)
            return
        except Exception as exc:  # a bug: one line, no traceback on screen
            log.exception("start-up failed")
            self._fail_start(f"cannot start: {exc}", 1)
            return
        self.runtime = rt
        a = rt.assistant
        self._unsubscribe = a.subscribe(self._core_listener)
        await self._apply_remembered_theme()
        try:
            if self.new_session_arg:
                await a.new_session()
            else:
                await a.start(self.session_arg)
        except CoreError as exc:
            self.notify(exc.message, severity="error", timeout=10)
            await a.start()
        self.refresh_bindings()

    def _fail_start(self, message: str, code: int) -> None:
        self.exit_message = message
        self.exit(return_code=code)

    def _warn(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=10)

    async def _close_runtime(self) -> None:
        if self._runtime_closed:
            return
        self._runtime_closed = True
        if self._unsubscribe is not None:
            with contextlib.suppress(Exception):
                self._unsubscribe()
        if self.runtime is not None:
            try:
                await self.runtime.close()
            except Exception:
                log.exception("closing the runtime failed")

    async def action_quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        # Stop the reply first: the core stores what was streamed (shielded from a 2nd cancel).
        for group in ("reply", "sleep"):
            for worker in [w for w in self.workers if w.group == group]:
                worker.cancel()
                with contextlib.suppress(Exception):
                    await worker.wait()
        await self._close_runtime()
        self.exit()

    async def on_unmount(self) -> None:
        await self._close_runtime()

    def action_interrupt(self) -> None:
        """Ctrl+C: copy a selection, else stop the reply, else (pressed twice) quit."""
        focused = self.focused
        if isinstance(focused, TextArea) and focused.selected_text:
            focused.action_copy()
            return
        now = time.monotonic()
        twice = now - self._last_ctrl_c < DOUBLE_PRESS_S
        self._last_ctrl_c = now
        if twice:
            self.run_worker(self.action_quit(), group="quit", exit_on_error=False)
        elif self.streaming:
            self.action_stop_reply()
        else:
            self.notify("Press Ctrl+C again to quit (Ctrl+Q quits at once)", timeout=DOUBLE_PRESS_S)

    # -- idle detection and the sleep cycle --------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        # App.on_event sees every key before any widget does (Input/TextArea included).
        if isinstance(event, events.Key | events.Paste) and self.runtime is not None:
            self.runtime.assistant.touch()
            self.workers.cancel_group(self, "sleep")
        await super().on_event(event)

    def _tick(self) -> None:
        self.poll_sleep()
        self._update_status()

    def poll_sleep(self) -> bool:
        """Start a reflection when the core says one is due; True if one started."""
        a = self.assistant
        if a is None or self.streaming or self._quitting or not self.loaded.is_set():
            return False
        if not a.sleep_due():
            return False
        task = a.start_reflection()  # started now, so sleep_due() turns false at once
        self._sleep(task)
        self._update_status()
        self._refresh_panel()
        return True

    def action_reflect_now(self) -> None:
        a = self.assistant
        if a is None or self.streaming:
            self.notify("Not now: wait for the reply to finish.")
            return
        if a.reflecting:
            self.notify("A reflection is already running.")
            return
        self._sleep(a.start_reflection())
        self._update_status()

    @work(exclusive=True, group="sleep", exit_on_error=False)
    async def _sleep(self, task: asyncio.Task[Any]) -> None:
        """Wait for one reflection; cancelling this worker cancels the reflection."""
        try:
            await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise
            # The core cancelled it (a key was pressed): the normal way a reflection ends early.
        except SleepchatError as exc:
            self.notify(f"reflection failed: {exc.message}", severity="warning")
        except Exception as exc:
            log.exception("reflection failed")
            self.notify(f"reflection failed: {exc}", severity="warning")
        finally:
            self._update_status()
            self._refresh_panel()

    # -- core events -------------------------------------------------------------------------
    def _core_listener(self, event: Event) -> None:
        self.post_message(CoreEvent(event))

    def on_core_event(self, message: CoreEvent) -> None:
        from sleepchat.core.events import SessionChanged

        event = message.event
        if isinstance(event, SessionChanged):
            if event.session.id != self._shown_session:
                self._shown_session = event.session.id
                self._show_session()
            self._update_status()
            return
        self._refresh_panel()
        self._update_status()

    @work(exclusive=True, group="session-view", exit_on_error=False)
    async def _show_session(self) -> None:
        a = self.assistant
        if a is None or a.session is None:
            return
        preds = {p.id: p for p in a.predictions()}
        await self.transcript.show_history(list(a.history), preds, a.clock.now())
        self.prompt.set_history([m.content for m in a.history if m.role == "user"][-500:])
        self.sub_title = a.session.title
        self._refresh_panel()
        self._update_status()
        self.loaded.set()

    @work(exclusive=True, group="panel", exit_on_error=False)
    async def _refresh_panel(self) -> None:
        a = self.assistant
        if a is None or a.session is None:
            return
        try:
            stats = await a.stats()
        except Exception:
            log.exception("reading stats failed")
            stats = None
        self.panel.show(
            a,
            fresh_ids={p.id for p in a.fresh_predictions()},
            stats=stats,
            reflecting=a.reflecting,
        )

    # -- status line -------------------------------------------------------------------------
    def status_text(self) -> str:
        a = self.assistant
        if a is not None:
            model = a.backend.model
        else:
            model = self._config.model if self._config is not None else "sleepchat"
        if a is None:
            return f"{model} · starting…"
        parts = [model]
        if self.streaming:
            parts.append("answering…")
        elif a.reflecting:
            parts.append("reflecting…")
        else:
            secs = a.idle.seconds_until_idle() if a.settings.sleep_enabled else None
            if secs is None:
                parts.append("awake")
            elif secs > 0:
                parts.append(f"idle in {math.ceil(secs)}s")
            else:
                parts.append("idle")
        fresh = len(a.fresh_predictions())
        if fresh:
            parts.append(f"{fresh} prediction{'s' if fresh != 1 else ''} ready")
        if a.last_reply_speed:
            parts.append(f"{a.last_reply_speed:.1f} tok/s")
        if a.session is not None:
            parts.append(a.session.title)
        return " · ".join(parts)

    def _update_status(self) -> None:
        with contextlib.suppress(Exception):  # during shutdown the widget may be gone
            self.query_one("#status", Static).update(Content(self.status_text()))

    # -- sending -----------------------------------------------------------------------------
    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        from sleepchat.text import clean_input

        text = clean_input(event.text)
        if not text.strip():
            return
        if self.assistant is None or not self.loaded.is_set():
            self.notify("Still starting — your text stays in the box.")
            return
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it. Your text stays in the box.")
            return
        event.prompt.remember(text)
        event.prompt.clear()
        self.send(text)

    def send(self, text: str, *, regenerate: bool = False) -> Worker[None]:
        self.streaming = True  # set now: a second Enter before the worker runs must not send
        self.refresh_bindings()
        self._update_status()
        worker = self._reply(text, regenerate)
        self._reply_worker_ref = worker
        return worker

    @work(group="reply", exit_on_error=False)
    async def _reply(self, text: str, regenerate: bool) -> None:
        from sleepchat.core.assistant import CoreError
        from sleepchat.core.events import ReplyChunk, ReplyDone, ReplyFailed, ReplyStarted

        a = self.assistant
        assert a is not None
        transcript = self.transcript
        view: AssistantMessage | None = None
        answered = False
        try:
            if not regenerate:
                await transcript.add_user(text)
            events_ = a.regenerate() if regenerate else a.ask(text)
            async with contextlib.aclosing(events_) as stream:  # type: ignore[type-var]
                async for ev in stream:
                    if isinstance(ev, ReplyStarted):
                        if regenerate:
                            self._mark_replaced()
                        view = await transcript.begin_reply(ev.source)
                    elif isinstance(ev, ReplyChunk) and view is not None:
                        await view.write(ev.text)
                    elif isinstance(ev, ReplyDone) and view is not None:
                        answered = True
                        await view.close_stream()
                        view.message = ev.message
                        speed = a.last_reply_speed if ev.message.source == "model" else None
                        view.set_meta(reply_meta(ev.message, speed))
                        if ev.message.source == "prediction":
                            badge = prediction_badge(ev.message, ev.prediction, a.clock.now())
                            await view.add_badge(badge, regenerable=True)
                        if ev.notice:  # e.g. old turns dropped to fit num_ctx: say so
                            await transcript.add_notice(ev.notice, "warning")
                    elif isinstance(ev, ReplyFailed):
                        if view is not None:
                            await view.close_stream()
                            if ev.partial is not None:
                                view.message = ev.partial
                                view.set_meta(reply_meta(ev.partial))
                            elif not view.text:
                                await view.remove()
                        answered = ev.partial is not None
                        await self._show_error(
                            ev.error, text, kept_partial=answered, retry=not regenerate
                        )
        except asyncio.CancelledError:
            if view is not None:
                with contextlib.suppress(Exception):
                    await view.close_stream()
                    view.set_meta("stopped — the partial reply is kept" if view.text else "stopped")
            raise
        except CoreError as exc:
            await self._show_error(exc.message, text, kept_partial=answered, retry=False)
        except SleepchatError as exc:  # the store: say so, keep the text, keep running
            await self._show_error(exc.message, text, kept_partial=answered, retry=not regenerate)
        except Exception as exc:  # a bug: the same, and the log has the traceback
            log.exception("sending failed")
            message = f"sending failed: {exc}"
            await self._show_error(message, text, kept_partial=answered, retry=not regenerate)
        finally:
            self.streaming = False
            self.refresh_bindings()
            self._update_status()
            self._refresh_panel()

    def _mark_replaced(self) -> None:
        views = list(self.transcript.query(AssistantMessage))
        if views:
            views[-1].drop_regenerate()
            views[-1].set_meta("replaced by the regenerated answer below")

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_reply":
            return self.streaming
        return True

    def action_stop_reply(self) -> None:
        if self.streaming:
            self.workers.cancel_group(self, "reply")

    def action_regenerate(self) -> None:
        if self.assistant is None or not self.loaded.is_set():
            return
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.")
            return
        if not any(m.role == "user" for m in self.assistant.history):
            self.notify("Nothing to regenerate yet — ask something first.")
            return
        self.send("", regenerate=True)

    def on_button_pressed(self, event: Any) -> None:
        if "regenerate" in event.button.classes:
            event.stop()
            self.action_regenerate()

    # -- memory panel ------------------------------------------------------------------------
    def action_toggle_memory(self) -> None:
        panel = self.panel
        panel.display = not panel.display
        self._panel_user_choice = bool(panel.display)
        if panel.display:
            self._refresh_panel()
        elif panel.has_focus_within:
            self.prompt.focus()

    def action_focus_notes(self) -> None:
        self._show_tab("tab-notes", "#notes")

    def action_focus_predictions(self) -> None:
        self._show_tab("tab-predictions", "#predictions")

    def _show_tab(self, tab: str, widget: str) -> None:
        from textual.widgets import TabbedContent

        panel = self.panel
        panel.display = True
        self._panel_user_choice = True
        if panel.body is None:
            return
        panel.query_one(TabbedContent).active = tab
        panel.query_one(widget).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "predictions":
            return
        event.stop()
        pred = next((p for p in self.panel.predictions if p.id == event.option.id), None)
        if pred is None or self.assistant is None:
            return
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.")
            return
        self.prompt.remember(pred.question)
        self.send(pred.question)

    def on_note_list_act(self, event: NoteList.Act) -> None:
        event.stop()
        if event.action == "undo":
            self.action_undo()
            return
        note = self.panel.note(event.note_id)
        if note is None:
            self.notify("Select a note first.")
            return
        if event.action == "edit":
            from sleepchat.tui.memory_views import NoteEditor

            self.panel.query_one(NoteEditor).start(note)
        elif event.action == "forget":
            self._memory_op("forget", note.id)

    def on_note_editor_done(self, event: NoteEditor.Done) -> None:
        from sleepchat.tui.memory_views import NoteList

        event.stop()
        self.panel.query_one(NoteList).focus()
        if event.text is not None:
            self._memory_op("edit", event.note_id, event.text)

    def action_undo(self) -> None:
        self._memory_op("undo")

    def action_edit_note(self) -> None:
        from sleepchat.tui.memory_views import NoteList

        self.action_focus_notes()
        self.panel.query_one(NoteList).action_edit()

    def action_forget_note(self) -> None:
        from sleepchat.tui.memory_views import NoteList

        self.action_focus_notes()
        self.panel.query_one(NoteList).action_forget()

    @work(group="memory", exit_on_error=False)
    async def _memory_op(self, op: str, note_id: str = "", text: str = "") -> None:
        from sleepchat.core.assistant import CoreError

        a = self.assistant
        if a is None:
            return
        try:
            if op == "forget":
                await a.forget_note(note_id)
                self.notify("Note forgotten — press u (or Undo in the palette) to bring it back.")
            elif op == "edit":
                await a.edit_note(note_id, text)
                self.notify("Note saved.")
            else:
                done = await a.undo()
                self.notify(f"Undone: {done}")
        except CoreError as exc:
            self.notify(exc.message, severity="warning")
        except SleepchatError as exc:
            self.notify(f"could not change memory: {exc.message}", severity="error")
        except Exception as exc:
            log.exception("memory operation failed")
            self.notify(f"could not change memory: {exc}", severity="error")
        self._refresh_panel()

    # -- sessions ----------------------------------------------------------------------------
    def _busy(self) -> bool:
        if self.assistant is None or not self.loaded.is_set():
            self.notify("Still starting…")
            return True
        if self.streaming:
            self.notify("A reply is streaming: press Esc to stop it first.")
            return True
        return False

    def action_sessions(self) -> None:
        from sleepchat.tui.sessions import SessionsScreen

        if self._busy():
            return
        assert self.assistant is not None
        self.push_screen(SessionsScreen(self.assistant), self._session_chosen)

    def _session_chosen(self, choice: str | None) -> None:
        if choice == "new":
            self.action_new_session()
        elif choice:
            self._session_op("switch", choice)

    def action_new_session(self) -> None:
        if not self._busy():
            self._session_op("new")

    def action_rename_session(self) -> None:
        self.action_sessions()

    @work(group="session-op", exit_on_error=False)
    async def _session_op(self, op: str, session_id: str = "") -> None:
        from sleepchat.core.assistant import CoreError

        a = self.assistant
        if a is None:
            return
        try:
            if op == "new":
                await a.new_session()
            elif a.session is None or session_id != a.session.id:
                await a.switch_session(session_id)
        except CoreError as exc:
            self.notify(exc.message, severity="error")
        except SleepchatError as exc:
            self.notify(f"could not change session: {exc.message}", severity="error")
        except Exception as exc:
            log.exception("session change failed")
            self.notify(f"could not change session: {exc}", severity="error")
        self.prompt.focus()

    async def action_export(self) -> None:
        a = self.assistant
        if a is None or a.session is None:
            return
        from sleepchat.export import to_markdown

        session, messages = a.session, list(a.history)
        folder = self.config.resolved_data_dir() / "exports"
        path = folder / f"sleepchat-{session.id}.md"
        try:
            await asyncio.to_thread(_write_private, path, to_markdown(session, messages))
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"Exported to {path}", title="Export", timeout=10)
        await self.transcript.add_notice(f"Exported this session to {path}")

    # -- command palette ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Stop the reply", "Cancel the streaming answer, keep it", self.action_stop_reply),
            ("Regenerate answer", "Ask the model again (last question)", self.action_regenerate),
            ("Toggle memory panel", "Notes, predictions, log, stats", self.action_toggle_memory),
            ("Show notes", "Focus the notes list", self.action_focus_notes),
            ("Show predicted questions", "Focus the predictions", self.action_focus_predictions),
            ("Edit note", "Edit the selected note in place", self.action_edit_note),
            ("Forget note", "Forget the selected note (undoable)", self.action_forget_note),
            ("Undo memory change", "Undo the last note change", self.action_undo),
            ("Reflect now", "Run the sleep cycle now instead of waiting", self.action_reflect_now),
            ("Sessions", "List, switch, rename or delete sessions", self.action_sessions),
            ("New chat", "Start a new session", self.action_new_session),
            ("Rename session", "Opens the sessions list (r renames)", self.action_rename_session),
            ("Export session", "Write this session as Markdown", self.action_export),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)

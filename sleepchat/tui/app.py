"""The Textual app: start-up, the core's events, the status line, keys and the command palette.

The chat view owns the transcript, the prompt and the reply worker (``chat.py``); the memory
panel owns the note operations (``memory_panel.py``); the sessions screen the session operations
(``sessions.py``). When to sleep is the core's business: the app awaits ``idle_loop()`` in one
worker, calls ``touch()`` on every key, and shows the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import TextArea
from textual.worker import WorkerCancelled, WorkerFailed

from sleepchat.core.errors import CoreError
from sleepchat.errors import SleepchatError, mask_secrets
from sleepchat.signals import StopSignals
from sleepchat.text import terminal_safe
from sleepchat.tui import RuntimeFactory, default_runtime
from sleepchat.tui.chat import ChatView
from sleepchat.tui.footer import KeysFooter
from sleepchat.tui.keys import APP_KEYS
from sleepchat.tui.memory_panel import MemoryPanel
from sleepchat.tui.palette import palette_commands
from sleepchat.tui.panel_actions import WIDE, PanelActions
from sleepchat.tui.session_actions import SessionActions
from sleepchat.tui.status import StatusLine
from sleepchat.tui.themes import RememberedTheme, use_default_theme, use_themes

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.events import Event
    from sleepchat.runtime import Runtime
    from sleepchat.tui.prompt import PromptInput

log = logging.getLogger("sleepchat.tui")

DOUBLE_PRESS_S = 1.5  # Ctrl+C twice within this quits


def _driver_class() -> type[Driver] | None:
    """The Linux driver that lets go of a lost terminal (elsewhere: Textual's own)."""
    if sys.platform == "win32":
        return None
    from sleepchat.tui.driver import TerminalDriver

    return TerminalDriver


@dataclass
class CoreEvent(Message):
    """A background event from the core, delivered on the app's message queue."""

    event: Event


class SleepchatApp(SessionActions, PanelActions, App[None]):
    CSS_PATH = "sleepchat.tcss"
    TITLE = "sleepchat"
    BINDINGS: ClassVar[list[BindingType]] = APP_KEYS

    def __init__(
        self,
        config: Config | None,
        *,
        session: str | None = None,
        new: bool = False,
        files: Sequence[str] = (),
        runtime_factory: RuntimeFactory | None = None,
        config_loader: Callable[[], Config] | None = None,
        painted: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(driver_class=_driver_class())
        # With a loader, the config (pydantic: ~150 ms to import and build) is loaded right
        # after the first frame instead of before it; a bad one still exits with code 2.
        if config is None and config_loader is None:
            raise ValueError("SleepchatApp needs a config or a config_loader")
        self._config = config
        self._config_loader = config_loader
        self._painted = painted  # called once the first complete frame is on screen
        self.session_arg = session
        self.new_session_arg = new
        self.files_arg = list(files)  # -f PATH: attached once the session is open
        self.runtime_factory = runtime_factory or default_runtime
        self.runtime: Runtime | None = None
        self.exit_message: str | None = None
        self.loaded = asyncio.Event()  # set once the first session is on screen
        self._shown_session: str | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._last_ctrl_c = 0.0
        self._quitting = False
        self._runtime_closed = False
        self._chat = ChatView()
        if config is None:
            use_default_theme(self)
        # SIGTERM / SIGHUP quit as Ctrl+Q does (the reply kept), with exit code 143 / 129.
        self._stop_signals = StopSignals()

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield self._chat
            yield MemoryPanel()
        yield StatusLine()
        yield KeysFooter()

    @property
    def config(self) -> Config:
        assert self._config is not None, "the config is loaded right after the first frame"
        return self._config

    @property
    def assistant(self) -> Assistant | None:
        return self.runtime.assistant if self.runtime else None

    @property
    def chat(self) -> ChatView:
        return self._chat

    @property
    def unsent(self) -> list[str]:
        """Messages typed and sent before start-up ended, still waiting when the app stopped."""
        return list(self._chat.queued)

    @property
    def prompt(self) -> PromptInput:
        return self.chat.prompt

    @property
    def panel(self) -> MemoryPanel:
        return self.query_one(MemoryPanel)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def streaming(self) -> bool:
        return self.chat.streaming

    # -- start-up ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._stop_signals.install(self._stop)
        if self._config is not None:
            self._use_config()
        self.panel.display = self.size.width >= WIDE
        self.prompt.focus()
        self.watch(self.chat, "streaming", self._streaming_changed, init=False)

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
        if self._painted is not None:
            self._painted()
        if self._config is None and not self._load_config():
            return
        if self._quitting:  # stopped during start-up (the terminal closed, say)
            return
        try:
            await self.panel.build()
        except Exception:
            if self._quitting:  # widgets went away under it: the app is closing anyway
                return
            raise
        if not self._quitting:
            self._open_runtime()

    def _load_config(self) -> bool:
        # Imported here: pydantic and the config cost ~150 ms, kept off the first frame.
        from sleepchat.config import ConfigError, start_notices

        assert self._config_loader is not None
        try:
            self._config = self._config_loader()
        except ConfigError as exc:
            self._fail_start(exc.message, exc.exit_code)
            return False
        self._use_config()
        for warning in start_notices(self.config, os.environ):
            self.notify(warning, severity="warning", timeout=15)
        return True

    def _use_config(self) -> None:
        use_themes(self, self.config.theme, self.config.resolved_themes_dir())
        self.status.model = self.config.model
        self.status.show()

    @work(group="startup", exit_on_error=False)
    async def _open_runtime(self) -> None:
        from sleepchat.hints import cli_message  # imports the store: ~100 ms

        try:
            rt = await self.runtime_factory(self.config, self._warning, self.status.step)
        except SleepchatError as exc:  # printed on the terminal after the app closes
            self._fail_start(cli_message(exc), exc.exit_code)
            return
        except Exception as exc:  # a bug: one line, no traceback on screen
            log.exception("start-up failed")
            self._fail_start(f"cannot start: {exc}", 1)
            return
        if self._runtime_closed:  # the app quit while it opened: give the data dir back
            await rt.close()
            return
        self.runtime = rt
        a = self.status.assistant = rt.assistant
        self._unsubscribe = a.subscribe(self._core_listener)
        await RememberedTheme(self, a.preferences, self.config.theme).restore()
        try:
            if self.new_session_arg:
                await a.new_session()
            else:
                await a.start(self.session_arg)
        except CoreError as exc:
            self.notify(exc.message, severity="error", timeout=10)
            await a.start()
        if self.files_arg:
            self.chat.attach_files(self.files_arg, a)
        self._sleep_loop(a)
        self.refresh_bindings()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications quote server and stored text ("[/]" would be a markup error, "[link=…]"
        a link, an escape sequence raw on the terminal, a host its password): always plain text,
        made safe as error messages are (terminal-safe, secrets masked). ``markup`` is accepted
        only to keep Textual's signature (its own widgets call ``notify(..., markup=...)``) and
        is ignored on purpose: no caller's text is ever read as markup."""
        super().notify(
            mask_secrets(terminal_safe(message)),
            title=terminal_safe(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _fail_start(self, message: str, code: int) -> None:
        self.exit_message = message
        self.exit(return_code=code)

    def _warning(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=10)

    # -- shut-down ---------------------------------------------------------------------------
    def terminal_lost(self) -> None:
        """The driver saw the terminal go (any thread): quit as on SIGHUP."""
        self._stop_signals.terminal_lost()

    def _stop(self) -> None:
        """A stop signal or a lost terminal (on the loop): quit as Ctrl+Q does."""
        if self._stop_signals.signum == signal.SIGHUP and hasattr(self._driver, "let_go"):
            self._driver.let_go()  # the terminal is gone: nothing more to draw or read
        self.run_worker(self.action_quit(), group="quit", exit_on_error=False)

    async def _close_runtime(self) -> None:
        if self._runtime_closed:
            return
        self._runtime_closed = True
        if self._unsubscribe is not None:
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
        await self.panel.settled()
        # Stop the reply first: the core stores what was streamed (shielded from a 2nd cancel);
        # a start-up still opening the runtime stops at its next step and gives the data dir back.
        for group in ("reply", "sleep", "startup"):
            for worker in [w for w in self.workers if w.group == group]:
                worker.cancel()
                try:
                    await worker.wait()
                except WorkerCancelled:
                    pass  # what we asked for
                except WorkerFailed as exc:  # quitting goes on: what is stored stays stored
                    log.error("the %s worker failed: %s", group, exc.error, exc_info=exc.error)
        await self._close_runtime()
        self.exit(return_code=self._stop_signals.exit_code(0))

    async def on_unmount(self) -> None:
        await self._close_runtime()
        # From here a SIGTERM ends the process at once; the watchdog, once armed, stays.
        self._stop_signals.uninstall()

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
            self.chat.stop()
        else:
            self.notify("Press Ctrl+C again to quit (Ctrl+Q quits at once)", timeout=DOUBLE_PRESS_S)

    # -- the sleep cycle ---------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        # App.on_event sees every key before any widget does (Input/TextArea included).
        if isinstance(event, events.Key | events.Paste) and self.assistant is not None:
            self.assistant.touch()  # restarts the idle period, cancels a reflection at once
            self.status.show()
        await super().on_event(event)

    @work(group="sleep", exit_on_error=False)
    async def _sleep_loop(self, a: Assistant) -> None:
        await a.idle_loop()  # runs until the app quits

    def action_reflect_now(self) -> None:
        a = self.assistant
        if a is None or self.streaming:
            self.notify("Not now: wait for the reply to finish.")
        elif a.reflecting:
            self.notify("A reflection is already running.")
        else:
            a.reflect()

    # -- the core's events -------------------------------------------------------------------
    def _core_listener(self, event: Event) -> None:
        self.post_message(CoreEvent(event))

    def on_core_event(self, message: CoreEvent) -> None:
        # An event that comes as the app closes finds no views left: nothing to update.
        with contextlib.suppress(NoMatches):
            self._show_event(message.event)

    def _show_event(self, event: Event) -> None:
        # Imported here (after the first frame, as events come from the core): ~8 ms.
        from sleepchat.core.events import (
            MemoryChanged,
            Notice,
            ReflectionChanged,
            SessionChanged,
            SleepChanged,
        )

        a = self.assistant
        current = a.session.id if a is not None and a.session is not None else None
        if isinstance(event, SessionChanged) and a is not None:
            if event.session.id != self._shown_session:
                self._shown_session = event.session.id
                self._show_session(a)
            self.sub_title = event.session.title
        elif isinstance(event, SleepChanged):
            self.status.reflecting = event.reflecting
            if event.error:
                self.notify(f"reflection failed: {event.error}", severity="warning")
        elif isinstance(event, MemoryChanged) and event.session_id == current:
            self.panel.show_memory(event)  # (an event of a session no longer shown is late)
            queued = [p for p in event.predictions if p.queued and p.status == "fresh"]
            ready = sum(1 for p in queued if p.id in event.fresh_ids)
            self.status.predictions_ready = len(event.fresh_ids) - ready
            self.status.queued = (ready, len(queued) - ready)
        elif isinstance(event, ReflectionChanged) and event.session_id == current:
            self.panel.show_reflection(event)
        elif isinstance(event, Notice):  # said now, and in the transcript with the session
            self.notify(event.text, severity="warning", timeout=15)
            self.chat.pending_notices.append(event.text)
        self.status.show()

    @work(exclusive=True, group="session-view", exit_on_error=False)
    async def _show_session(self, a: Assistant) -> None:
        self.panel.show_session(a)
        await self.chat.show_session(a)
        self.loaded.set()
        self.status.show()

    def _streaming_changed(self, streaming: bool) -> None:
        self.status.streaming = streaming
        self.refresh_bindings()

    def status_text(self) -> str:
        return self.status.text()

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.streaming if action == "stop_reply" else True

    def action_stop_reply(self) -> None:
        self.chat.stop()

    def action_regenerate(self) -> None:
        self.chat.regenerate()

    def action_copy_answer(self) -> None:
        self.chat.copy_last_answer()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, callback in palette_commands(self):
            yield SystemCommand(title, help_text, callback)

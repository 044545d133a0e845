"""``sleepchat --plain``: an interactive line REPL (prompt-toolkit) for terminals.

Enter sends, Esc-Enter inserts a newline, Up/Down recall history. Replies stream above the
prompt. Ctrl-C during a reply keeps the partial reply; Ctrl-C at the prompt exits 130.
While the prompt waits, the sleep cycle runs when idle; any keystroke preempts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sleepchat.config import Config
from sleepchat.runtime import open_runtime
from sleepchat.script import ScriptRunner
from sleepchat.script_io import OutputClosed
from sleepchat.text import clean_input, clip, terminal_safe

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.history import History

EXIT_INTERRUPTED = 130
EXIT_HUNG_UP = 128 + signal.SIGHUP


def _history(data_dir: Path) -> History:
    """The input history file. A line typed with invalid UTF-8 is saved with U+FFFD in its place
    (prompt-toolkit could not write it at all, and the line would be lost)."""
    from prompt_toolkit.history import FileHistory

    path = data_dir / "input-history"
    if not path.exists():
        path.touch(mode=0o600)

    class ValidHistory(FileHistory):
        def store_string(self, string: str) -> None:
            super().store_string(clean_input(string))

    return ValidHistory(str(path))


async def run_plain(
    config: Config, *, session: str | None = None, new: bool = False, files: Sequence[str] = ()
) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.patch_stdout import patch_stdout

    rt = await open_runtime(config)
    a = rt.assistant
    try:
        if new:
            await a.new_session()
        else:
            await a.start(session)
        assert a.session is not None
        banner = (
            f"sleepchat — session {a.session.id} ({clip(a.session.title, 60)}), model "
            f"{rt.backend.model}. Enter sends, Esc-Enter adds a line, /help lists commands, "
            "Ctrl-C or /quit exits."
        )
        print(terminal_safe(banner), file=sys.stderr)  # the title is stored text
        keys = KeyBindings()

        @keys.add("escape", "enter")
        def _newline(event: object) -> None:
            event.current_buffer.insert_text("\n")  # type: ignore[attr-defined]

        prompt: PromptSession[str] = PromptSession(
            history=_history(config.resolved_data_dir()),
            key_bindings=keys,
        )

        def typed(buffer: Buffer) -> None:
            a.touch(draft=buffer.text)  # readied once typing pauses (core/drafts.py)

        prompt.default_buffer.on_text_changed += typed
        runner = ScriptRunner(a)
        for path in files:  # -f PATH, as /attach would
            await runner.handle(f"/attach {path}")
        idle = asyncio.create_task(a.idle_loop())  # the core's sleep loop; keystrokes touch()
        try:
            while True:
                try:
                    with patch_stdout(raw=True):
                        line = await prompt.prompt_async("› ")
                except (KeyboardInterrupt, EOFError) as exc:
                    return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else 0
                except OSError:  # EIO: the terminal hung up
                    return EXIT_HUNG_UP
                a.touch()
                runner.new_prompt()  # no blank-line separator needed between prompts
                reply = asyncio.create_task(runner.handle(line))
                # Ctrl-C during a reply stops it; the core keeps the partial reply.
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGINT, reply.cancel)
                try:
                    if not await reply:
                        return 0
                except OutputClosed:  # the terminal is gone: the reply was kept, cut there
                    return EXIT_HUNG_UP
                except asyncio.CancelledError:
                    if (task := asyncio.current_task()) and task.cancelling():
                        raise  # a stop signal: not just this reply, the whole REPL
                    print("\n(interrupted — the partial reply is kept)", file=sys.stderr)
                finally:
                    loop.remove_signal_handler(signal.SIGINT)
        finally:
            idle.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await idle
    finally:
        await rt.close()

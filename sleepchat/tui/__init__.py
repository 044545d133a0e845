"""The full-screen Textual app.

Everything heavy (Textual, the core, the backend) is imported inside ``run_app`` so that
``sleepchat --help`` and script mode never pay for it, and the app reaches its first frame fast.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.runtime import Runtime

STARTUP_GC_THRESHOLD = 50_000  # allocations between collections until the first frame

Say = Callable[[str], None]
# (config, warn, step): ``warn`` shows a warning; ``step`` says what start-up does next (shown
# with its elapsed time in the status line: loading a model can take a while).
RuntimeFactory = Callable[["Config", Say, Say], Awaitable["Runtime"]]


async def default_runtime(config: Config, warn: Say, step: Say) -> Runtime:
    """The app's store, backend and assistant, opened once the first frame is on screen."""
    from sleepchat.runtime import open_runtime  # the store and the backends: ~300 ms

    return await open_runtime(config, on_warning=warn, on_step=step)


def run_app(
    config: Config | Callable[[], Config],
    *,
    session: str | None = None,
    new: bool = False,
    files: Sequence[str] = (),
) -> int:
    """Run the app until the user quits; returns the process exit code.

    ``config`` may be a loader, called right after the first frame (a bad config then ends
    the app with exit code 2 and its one-line message)."""
    # Start-up allocates tens of thousands of objects that live as long as the app; the
    # collector's passes over them cost ~20 ms of CPU before the first frame. Collect rarely
    # until it is painted (the app restores the thresholds then).
    thresholds = gc.get_threshold()
    gc.set_threshold(STARTUP_GC_THRESHOLD, *thresholds[1:])
    from sleepchat.tui.app import SleepchatApp  # Textual: only now

    def painted() -> None:
        gc.set_threshold(*thresholds)

    if callable(config):
        app = SleepchatApp(
            None, session=session, new=new, files=files, config_loader=config, painted=painted
        )
    else:
        app = SleepchatApp(config, session=session, new=new, files=files, painted=painted)
    app.run()
    if app.exit_message:
        print(f"sleepchat: {app.exit_message}", file=sys.stderr, flush=True)
    for text in app.unsent:  # typed before start-up ended: never lost silently
        print(f"sleepchat: not sent (the app stopped first):\n{text}", file=sys.stderr, flush=True)
    return app.return_code or 0

"""The full-screen Textual app.

Everything heavy (Textual, the core, the backend) is imported inside ``run_app`` so that
``sleepchat --help`` and script mode never pay for it, and the app reaches its first frame fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from sleepchat.config import Config


def run_app(
    config: Config | Callable[[], Config], *, session: str | None = None, new: bool = False
) -> int:
    """Run the app until the user quits; returns the process exit code.

    ``config`` may be a loader, called right after the first frame (a bad config then ends
    the app with exit code 2 and its one-line message)."""
    import sys

    from sleepchat.tui.app import SleepchatApp

    if callable(config):
        app = SleepchatApp(None, session=session, new=new, config_loader=config)
    else:
        app = SleepchatApp(config, session=session, new=new)
    app.run()
    if app.exit_message:
        print(f"sleepchat: {app.exit_message}", file=sys.stderr, flush=True)
    return app.return_code or 0

"""The full-screen Textual app.

Everything heavy (Textual, the core, the backend) is imported inside ``run_app`` so that
``sleepchat --help`` and script mode never pay for it, and the app reaches its first frame fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sleepchat.config import Config


def run_app(config: Config, *, session: str | None = None, new: bool = False) -> int:
    """Run the app until the user quits; returns the process exit code."""
    import sys

    from sleepchat.tui.app import SleepchatApp

    app = SleepchatApp(config, session=session, new=new)
    app.run()
    if app.exit_message:
        print(f"sleepchat: {app.exit_message}", file=sys.stderr, flush=True)
    return app.return_code or 0

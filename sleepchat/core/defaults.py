"""Defaults the core and the settings table share, importable without anything heavy (the
command line reads the settings table before the first frame)."""

from __future__ import annotations

DEFAULT_SYSTEM_PROMPT = (
    "You are sleepchat, a concise and helpful assistant running on the user's own machine. "
    "Answer clearly; use Markdown for code."
)

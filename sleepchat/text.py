"""Making untrusted text safe to print on a terminal."""

from __future__ import annotations

import re

# CSI / OSC / other ESC sequences, then the C0/C1 controls a terminal would act on.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC ... ST
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Strip escape sequences and control characters; keep newlines and tabs."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


def clean_input(text: str) -> str:
    """User input as stored: NUL bytes dropped (they break terminals and JSON tools)."""
    return text.replace("\x00", "")

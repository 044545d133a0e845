"""Text helpers shared by every part: terminal safety, clipping, dates and ages."""

from __future__ import annotations

import codecs
import json
import re
from datetime import datetime
from typing import IO, Any

# CSI / OSC / other ESC sequences, then the C0/C1 controls a terminal would act on.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC ... ST
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Lone surrogates: a server's "\ud800" (valid JSON, not Unicode), or invalid UTF-8 decoded with
# surrogateescape (a terminal's bytes). Nothing can encode them: files, JSON and stdout all fail.
_SURROGATES = re.compile("[\ud800-\udfff]")


def terminal_safe(text: str) -> str:
    """Strip escape sequences and control characters; keep newlines and tabs."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


_C1 = re.compile("[\x80-\x9f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def safe_json(obj: Any, *, indent: int | None = None, ascii_only: bool = False) -> str:
    """JSON text a terminal cannot act on: ``json`` escapes C0 controls but not C1 ones
    (U+0080-U+009F, e.g. the 8-bit CSI U+009B); they only occur inside strings, where ``\\u``
    escapes are valid. Non-ASCII text stays readable unless ``ascii_only`` (for a stream that
    cannot encode it: the JSON stays exact)."""
    text = json.dumps(obj, ensure_ascii=ascii_only, indent=indent)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def ascii_json(text: str) -> str:
    """JSON text with every non-ASCII character ``\\u``-escaped (they occur only in strings)."""
    return _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], text)


def takes_any_text(stream: IO[str]) -> bool:
    """Whether ``stream`` can encode any character (a UTF encoding). A stdout set to ASCII or
    Latin-1 cannot: text written there has ``?`` for what it lacks, and JSON is escaped."""
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name.startswith("utf")
    except LookupError:
        return False


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: each lone surrogate becomes U+FFFD (the replacement character)."""
    return _SURROGATES.sub("\ufffd", text)


def clean_input(text: str) -> str:
    """User input as stored: valid Unicode, NUL bytes dropped (they break terminals and JSON
    tools)."""
    return valid_text(text).replace("\x00", "")


def clip(text: str, width: int) -> str:
    """``text`` on one line (runs of white space folded), cut to ``width`` with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def when(ts: float | None, *, clock_only: bool = False) -> str:
    """A local date and time for a timestamp ("2026-11-27 14:03", or "14:03:12")."""
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S" if clock_only else "%Y-%m-%d %H:%M")


def age(seconds: float) -> str:
    """A duration as people say it: "12 s", "3 min", "5 h", "2 d"."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


_WORD = re.compile(r"\w+")


def query_words(query: str) -> list[str]:
    """The words a search looks for (each matches a word starting with it, in any case)."""
    return _WORD.findall(query)


def _query_pattern(query: str) -> re.Pattern[str]:
    words = query_words(query)
    if not words:  # no word character ("++"): the text itself
        return re.compile(re.escape(query.strip()), re.IGNORECASE)
    return re.compile("|".join(rf"(?<!\w){re.escape(w)}" for w in words), re.IGNORECASE)


def query_matches(text: str, query: str) -> bool:
    """Whether ``text`` holds every word of ``query`` at a word start, in any case (the search
    index's rule, without its accent folding)."""
    words = query_words(query)
    if not words:
        return query.strip().casefold() in text.casefold()
    return all(re.search(rf"(?<!\w){re.escape(w)}", text, re.IGNORECASE) for w in words)


def matching_line(text: str, query: str, width: int = 100) -> tuple[str, list[tuple[int, int]]]:
    """The first line of ``text`` where ``query`` matches, on one line and cut to about
    ``width`` around the first match, with the spans of the matches in it (for highlighting).
    Terminal-safe. A text where no line matches (a match by accent folding) gives its start."""
    pattern = _query_pattern(query)
    lines = [" ".join(line.split()) for line in terminal_safe(text).splitlines()]
    lines = [line for line in lines if line] or [""]
    line = next((line for line in lines if pattern.search(line)), lines[0])
    if len(line) > width:
        first = pattern.search(line)
        start = max(0, (first.start() if first else 0) - width // 3)
        end = min(len(line), start + width)
        start = max(0, end - width)
        line = ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")
    return line, [m.span() for m in pattern.finditer(line) if m.end() > m.start()]

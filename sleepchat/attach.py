"""Reading a file the user attaches (/attach PATH, sleepchat -f PATH): text, Markdown, code.

Each refusal is one line naming the file, what is wrong and what to do; nothing is attached
then, and the chat goes on.
"""

from __future__ import annotations

from pathlib import Path

from sleepchat.core.errors import CoreError

MAX_BYTES = 20 * 1024 * 1024  # a text file this large is a dump, not something to read


def read_document(text: str) -> tuple[str, str]:
    """The name and text of the file at ``text`` (a path, ``~`` allowed)."""
    if not text.strip():
        raise CoreError("usage: /attach PATH — a text, Markdown or code file")
    path = Path(text.strip()).expanduser()
    try:
        if path.is_dir():
            raise CoreError(f"cannot attach {path}: it is a folder — attach its files one by one")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CoreError(
                f"cannot attach {path}: {size / 2**20:.0f} MB is too large (at most "
                f"{MAX_BYTES // 2**20} MB) — attach the part you want to ask about"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CoreError(f"cannot attach {path}: no such file — check the path") from None
    except OSError as exc:
        raise CoreError(f"cannot attach {path}: {exc.strerror or exc}") from None
    if raw.startswith(b"%PDF"):
        raise CoreError(
            f"cannot attach {path}: a PDF — sleepchat reads text files; convert it first "
            f"(pdftotext {path.name} {path.stem}.txt)"
        )
    if b"\x00" in raw[:8192]:
        raise CoreError(f"cannot attach {path}: a binary file — attach text, Markdown or code")
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CoreError(
            f"cannot attach {path}: not UTF-8 text — convert it (iconv -t UTF-8 {path.name})"
        ) from None
    return path.name, body

"""Reading a file the user attaches (/attach PATH, sleepchat -f PATH): text, Markdown, code,
and PDF (its text layer, page by page, through pypdf).

Each refusal is one line naming the file, what is wrong and what to do; nothing is attached
then, and the chat goes on.
"""

from __future__ import annotations

import io
from pathlib import Path

from sleepchat.core.errors import CoreError
from sleepchat.core.memory.documents import ENTRY_FILES

MAX_BYTES = 20 * 1024 * 1024  # a text file this large is a dump, not something to read


def checked_path(text: str, *, probe: bool = True) -> Path:
    """The path ``text`` names (``~`` allowed), once it is a readable file of a size we read;
    raises CoreError saying why not. Cheap: ``sleepchat -f PATH`` checks every path before
    anything starts. ``probe``: open it to see it can be read (a reader that reads it at once
    learns that anyway)."""
    if not text.strip():
        raise CoreError("usage: /attach PATH — a text, Markdown, code or PDF file")
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
        if probe:
            with path.open("rb"):
                pass
    except FileNotFoundError:
        raise CoreError(f"cannot attach {path}: no such file — check the path") from None
    except OSError as exc:
        raise CoreError(f"cannot attach {path}: {exc.strerror or exc}") from None
    return path


def document_name(path: Path) -> str:
    """The name a file is attached under: its own, or with its folder for a package's entry
    file ("inflect/__init__.py")."""
    folder = path.resolve().parent.name
    return f"{folder}/{path.name}" if path.name in ENTRY_FILES and folder else path.name


def read_document(text: str) -> tuple[str, str]:
    """The name and text of the file at ``text`` (a path, ``~`` allowed)."""
    path = checked_path(text, probe=False)
    try:
        raw = path.read_bytes()
    except OSError as exc:  # unreadable, or gone since the check
        raise CoreError(f"cannot attach {path}: {exc.strerror or exc}") from None
    if raw.startswith(b"%PDF"):
        return document_name(path), pdf_text(path, raw)
    if b"\x00" in raw[:8192]:
        raise CoreError(f"cannot attach {path}: a binary file — attach text, Markdown or code")
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CoreError(
            f"cannot attach {path}: not UTF-8 text — convert it (iconv -t UTF-8 {path.name})"
        ) from None
    return document_name(path), body


def pdf_text(path: Path, raw: bytes) -> str:
    """The text of a PDF's pages, each marked with its number (a question can then say where),
    or one line saying why there is none."""
    try:
        from pypdf import PdfReader
    except ImportError:  # installed with sleepchat; a trimmed environment may lack it
        raise CoreError(
            f"cannot attach {path}: reading PDFs needs pypdf — pip install pypdf, or convert it "
            f"(pdftotext {path.name} {path.stem}.txt)"
        ) from None
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CoreError(
                f"cannot attach {path}: the PDF is password-protected — save an unprotected copy"
            )
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except CoreError:
        raise
    except Exception as exc:  # a damaged file fails in many ways inside pypdf: one line each
        raise CoreError(
            f"cannot attach {path}: the PDF could not be read ({type(exc).__name__}) — open and "
            "save it again, or convert it to text"
        ) from None
    if not any(pages):
        raise CoreError(
            f"cannot attach {path}: the PDF has no text layer (a scan?) — run OCR on it first "
            f"(ocrmypdf {path.name} out.pdf)"
        )
    return "\n\n".join(f"[page {n}]\n{text}" for n, text in enumerate(pages, 1) if text)

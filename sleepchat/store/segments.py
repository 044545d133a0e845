"""The files of one session: its meta file and its messages in numbered segments.

A segment holds at most ``segment_size`` messages *and* about ``segment_bytes``: appending
rewrites only the last segment, so a bound on both keeps an append's cost independent of how
long the history is and of how big earlier messages were (one 10 MB reply must not be rewritten
by every later question).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sleepchat.core.models import Message
from sleepchat.store.atomic import DIR_MODE, FILE_MODE, ensure_mode, is_temp_file
from sleepchat.store.errors import StoreError
from sleepchat.store.files import Files, JsonFile
from sleepchat.store.records import valid_message

SEGMENT_SIZE = 256
SEGMENT_BYTES = 512 * 1024
META_NAME = "meta.json"
SEGMENT_RE = re.compile(r"^messages-(\d{4,})\.json$")


def segment_name(n: int) -> str:
    return f"messages-{n:04d}.json"


def is_real_dir(path: Path) -> bool:
    """A folder, not a link to one (nothing in the data dir is followed out of it)."""
    return path.is_dir() and not path.is_symlink()


@dataclass
class Limits:
    segment_size: int = SEGMENT_SIZE
    segment_bytes: int = SEGMENT_BYTES


class SessionFiles:
    """Open with :meth:`scan`; the last segment (the tail) and the meta file stay open."""

    def __init__(
        self, files: Files, limits: Limits, folder: Path, segments: list[int], total: int
    ) -> None:
        self.files = files
        self.limits = limits
        self.folder = folder
        self.segments = segments
        self.total = total
        self.tail_file: JsonFile | None = None
        self.tail_len = 0
        self.meta_file: JsonFile | None = None

    @classmethod
    def scan(cls, files: Files, limits: Limits, folder: Path, total: int) -> SessionFiles:
        """First look at a session folder: permissions, our leftovers, segment numbers."""
        if folder.is_symlink():
            raise StoreError(
                f"{folder} is a symbolic link; sleepchat does not follow links in its data dir "
                "— put the folder itself there"
            )
        if not files.read_only:
            folder.mkdir(mode=DIR_MODE, exist_ok=True)
            ensure_mode(folder, DIR_MODE)
        segments: list[int] = []
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            for entry in entries:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if is_temp_file(entry.name):
                    if not files.read_only:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                    continue
                m = SEGMENT_RE.match(entry.name)
                if (m or entry.name == META_NAME) and not files.read_only:
                    ensure_mode(Path(entry.path), FILE_MODE)
                if m:
                    segments.append(int(m.group(1)))
        return cls(files, limits, folder, sorted(segments), total)

    def meta(self, title: str) -> JsonFile:
        if self.meta_file is None:
            self.meta_file, note = self.files.open_checked(self.folder / META_NAME)
            if note:
                self.files.warn(
                    f"{note}; the notes, predictions and reflections of session '{title}' "
                    "start empty"
                )
        return self.meta_file

    def tail(self, title: str) -> JsonFile:
        """The segment the next message goes to (a new one once the last is full)."""
        if self.tail_file is None:
            if not self.segments:
                self.segments.append(0)
            path = self.folder / segment_name(self.segments[-1])
            self.tail_file, note = self.files.open_checked(path)
            self.tail_len = len(self.tail_file.docs("messages"))
            if note:
                kept = len(self.read_messages(title))
                self.files.warn(f"{note}; {kept} messages of session '{title}' were kept")
        full = self.tail_len >= self.limits.segment_size
        if full or self.tail_file.storage.size >= self.limits.segment_bytes:
            self.segments.append(self.segments[-1] + 1)
            self.tail_file = self.files.new(self.folder / segment_name(self.segments[-1]))
            self.tail_len = 0
        return self.tail_file

    def read_messages(self, title: str) -> list[Message]:
        """All messages in order. Older segments are read, not kept open."""
        notes: list[str] = []
        docs: list[dict[str, Any]] = []
        last = self.segments[-1] if self.segments else None
        for n in list(self.segments):
            if n == last and self.tail_file is not None:
                docs.extend(self.tail_file.docs("messages"))
                continue
            data, note = self.files.load(self.folder / segment_name(n))
            if note:
                notes.append(note)
                if n != last:
                    self.segments.remove(n)
                continue
            docs.extend(data.get("messages", {}).values())
        msgs = [m for doc in docs if (m := valid_message(doc)) is not None]
        if len(msgs) < len(docs):
            self.files.warn(
                f"skipped {len(docs) - len(msgs)} malformed messages in session '{title}'"
            )
        for note in notes:
            self.files.warn(f"{note}; {len(msgs)} messages of session '{title}' were kept")
        return msgs

    def append(self, title: str, doc: dict[str, Any]) -> None:
        self.tail(title).table("messages").insert(doc)
        self.tail_len += 1
        self.total += 1

    def update(self, title: str, doc: dict[str, Any], by_id: Any) -> bool:
        """Replace a stored message wherever it is; False when no segment holds it."""
        if self.tail(title).table("messages").update(doc, by_id):
            return True
        for n in reversed(self.segments[:-1]):
            seg, note = self.files.open_checked(self.folder / segment_name(n))
            if note:
                self.files.warn(f"{note}; the other messages of session '{title}' were kept")
                self.segments.remove(n)
                continue
            if seg.table("messages").update(doc, by_id):
                return True
        return False

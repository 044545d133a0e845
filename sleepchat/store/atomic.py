"""A TinyDB storage that saves atomically and keeps the last saved state in memory.

TinyDB rewrites the whole file in place on every write, so a crash or a full disk mid-write
would leave a torn file. Here every save goes to a temp file in the same folder, is flushed and
fsynced, then ``os.replace``d over the old one (and the folder fsynced): the file on disk is
always either the old or the new state, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from sleepchat.store.errors import CorruptFileError, DiskFullError, StoreWriteError
from sleepchat.text import valid_text

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"

Data = dict[str, dict[str, Any]]


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    return len(data)


@dataclass
class FileOps:
    """The system calls a save makes. Tests swap one to inject a crash or a full disk."""

    write_all: Callable[[int, bytes], int] = field(default=_write_all)
    fsync: Callable[[int], None] = field(default=os.fsync)
    replace: Callable[[str, str], None] = field(default=os.replace)
    mkstemp: Callable[[Path, str], tuple[int, str]] = field(
        default=lambda folder, prefix: tempfile.mkstemp(
            dir=folder, prefix=prefix, suffix=TEMP_SUFFIX
        )
    )


# What ``mkstemp`` makes of the names we save (and of the writability probe): only these are
# ours to delete. A user's ``.swap.tmp`` next to them is not.
_OUR_TEMP = re.compile(
    r"^\.(?:index\.json|meta\.json|messages-\d{4,}\.json|probe)\.[a-z0-9_]{8}\.tmp$"
)


def temp_prefix(path: Path) -> str:
    return f".{path.name}."


def is_temp_file(name: str) -> bool:
    """A leftover of one of our saves that never reached ``os.replace`` (the process died)."""
    return _OUR_TEMP.match(name) is not None


def sweep_temp_files(folder: Path) -> int:
    """Remove leftovers of interrupted saves (regular files only, never a link's target).
    Only safe while holding the data dir lock."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and is_temp_file(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def ensure_mode(path: Path, mode: int) -> None:
    """Tighten permissions of an existing file or folder (never loosen a stricter one).

    A symlink is left alone: what it points to is not ours to change.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return
    if st.st_mode & 0o777 & ~mode:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode, follow_symlinks=False)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry durable. Best effort: some filesystems refuse it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_error(exc: OSError, path: Path) -> StoreWriteError:
    """Turn an OSError from a save into a one-line error naming the file and the fix."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(
            f"disk full while saving {path} — free some space; nothing was lost, "
            "the last saved state is intact"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreWriteError(
            f"cannot save {path}: {exc.strerror or exc} — make the data dir writable; "
            "the last saved state is intact"
        )
    return StoreWriteError(
        f"could not save {path}: {exc.strerror or exc}; the last saved state is intact"
    )


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def check_structure(data: Any) -> Data:
    """TinyDB's shape: {table: {doc_id: {field: value}}}, doc ids being integer strings."""
    if not isinstance(data, dict):
        raise ValueError(f"top level is a JSON {type(data).__name__}, not an object")
    for table, docs in data.items():
        if not isinstance(docs, dict):
            raise ValueError(f"table {table!r} is a {type(docs).__name__}, not an object")
        for doc_id, doc in docs.items():
            # TinyDB reads each id with int(): digits it refuses (superscripts, more than
            # Python converts) would fail at the next write, far from here.
            if not (doc_id.isascii() and doc_id.isdigit() and _is_int(doc_id)):
                raise ValueError(f"table {table!r} has a document id {doc_id[:40]!r}")
            if not isinstance(doc, dict):
                raise ValueError(f"document {doc_id} of table {table!r} is not an object")
    return data


def read_file(path: Path) -> bytes | None:
    """The bytes of a regular file, never through a symlink; ``None`` when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptFileError(path, "a symbolic link, not a sleepchat file") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise CorruptFileError(path, "not a regular file")
        return fh.read()


def load_checked(path: Path) -> Data | None:
    """Parse a store file; ``None`` when it does not exist. Raises CorruptFileError."""
    raw = read_file(path)
    if raw is None:
        return None
    if not raw.strip():
        raise CorruptFileError(path, "the file is empty")
    try:
        # Strict UTF-8 (what we write): json.loads(bytes) would also accept UTF-16/32.
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CorruptFileError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CorruptFileError(path, f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, RecursionError):  # an integer too long to convert, or nesting too deep
        raise CorruptFileError(path, "JSON too deeply nested or with an oversized number") from None
    try:
        return check_structure(data)
    except ValueError as exc:
        raise CorruptFileError(path, str(exc)) from None


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class AtomicJSONStorage(Storage):
    """Atomic saves; the last saved state cached as text (one writer process owns the dir).

    ``read()`` parses a fresh copy each time: TinyDB mutates what ``read()`` returned before
    calling ``write()``, and a failed write must not leak into the cached state.
    """

    def __init__(
        self,
        path: Path,
        data: Data | None = None,
        ops: FileOps | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.path = path
        self.ops = ops or FileOps()
        # Read-only: every change stays in memory (a repair shown, never saved).
        self.read_only = read_only
        self._text: str | None = None if data is None else dumps(data)
        # Bytes of the file as last saved or loaded: what the next save rewrites.
        self.size = 0 if self._text is None else len(self._text.encode("utf-8"))
        # Inside a batch: the working state, handed to TinyDB without copies (a failure
        # anywhere in the batch discards it whole).
        self._pending: Data | None = None
        self._in_batch = False
        # Changes kept in memory only (see ``deferred``); saved by the next save or ``flush``.
        self._deferring = False
        self.unsaved = False

    @classmethod
    def open(
        cls, path: Path, ops: FileOps | None = None, *, read_only: bool = False
    ) -> AtomicJSONStorage:
        """Load ``path`` if present (permissions tightened). Raises CorruptFileError."""
        data = load_checked(path)
        if data is not None and not read_only:
            ensure_mode(path, FILE_MODE)
        return cls(path, data, ops, read_only=read_only)

    def read(self) -> Data | None:
        if self._in_batch:
            if self._pending is None and self._text is not None:
                self._pending = json.loads(self._text)
            return self._pending
        return None if self._text is None else json.loads(self._text)

    def write(self, data: Data) -> None:
        if self._in_batch:
            self._pending = data
            return
        text = dumps(data)
        if self._deferring or self.read_only:
            self._text, self.unsaved = text, True
            return
        self._save(text)
        self._text, self.unsaved = text, False

    def flush(self) -> None:
        """Save changes made under ``deferred``, if any."""
        if self.unsaved and self._text is not None and not self.read_only:
            self._save(self._text)
            self.unsaved = False

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Writes in this block change the in-memory state only; the next save carries them.

        For derived data that can be rebuilt after a crash (the session index's counts), so a
        message append costs one fsync, not two.
        """
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False

    def snapshot(self) -> Data:
        """A private copy of the saved state, for reads that bypass TinyDB."""
        return self.read() or {}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Defer writes so several TinyDB operations reach disk as one atomic save.

        All or nothing: if the block raises or the save fails, the state rolls back to what
        it was before the block.
        """
        if self._in_batch:
            raise RuntimeError("batches do not nest")
        self._in_batch, self._pending = True, None
        try:
            yield
            self._in_batch = False
            if self._pending is not None:
                text = dumps(self._pending)
                if text != self._text:
                    if not self.read_only:
                        self._save(text)
                    self._text, self.unsaved = text, self.read_only
        finally:
            self._in_batch, self._pending = False, None

    def _save(self, text: str) -> None:
        folder = self.path.parent
        tmp: str | None = None
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate that got past the edges: never lose a save
            raw = valid_text(text).encode("utf-8")
        try:
            fd, tmp = self.ops.mkstemp(folder, temp_prefix(self.path))
            try:
                self.ops.write_all(fd, raw)
                self.ops.fsync(fd)
            finally:
                os.close(fd)
            self.ops.replace(tmp, str(self.path))
            tmp = None
        except OSError as exc:
            raise write_error(exc, self.path) from exc
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.size = len(raw)
        fsync_dir(folder)

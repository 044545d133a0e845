"""Errors the store raises; each carries a one-line ``message`` a user can act on."""

from __future__ import annotations

from pathlib import Path

from sleepchat.errors import SleepchatError


class StoreError(SleepchatError):
    """A problem with the data dir, stated in one line with the fix."""


class DataDirError(StoreError):
    """The data dir cannot be used (not a folder, not writable, locked): another one may."""


class StoreLocked(DataDirError):
    """Another live sleepchat holds the data dir."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f" (PID {pid})" if pid else ""
        super().__init__(
            f"data dir {data_dir} is in use by another sleepchat{who} — close it first or use "
            "another data dir"
        )
        self.data_dir = data_dir
        self.pid = pid


class StoreWriteError(StoreError):
    """A save failed; the file on disk still holds the last saved state."""


class DiskFullError(StoreWriteError):
    """A save failed for lack of space (ENOSPC / EDQUOT)."""


class CorruptFileError(StoreError):
    """A file could not be parsed as a store file (used internally before quarantine)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is unreadable: {reason}")
        self.path = path
        self.reason = reason

"""The data dir folder itself: created private by us, a user's folder never taken over.

A data dir is ours when we created it or it already holds sleepchat data. A folder that holds
other things (``/tmp``, a home directory) is refused rather than adopted: its mode is its owner's,
and its files are not ours to sweep.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sleepchat.store.atomic import DIR_MODE
from sleepchat.store.errors import DataDirError
from sleepchat.store.lock import LOCK_NAME, read_holder

INDEX_NAME = "index.json"
SESSIONS_DIR = "sessions"
# The index key that says we made the folder, so only then do we tighten its mode.
MADE_KEY = "made_data_dir"


def holds_sleepchat_data(folder: Path) -> bool:
    """Any of the names only a sleepchat data dir has (a lost index still leaves the others)."""
    return any(os.path.lexists(folder / name) for name in (INDEX_NAME, SESSIONS_DIR, LOCK_NAME))


def check_folder(folder: Path) -> bool:
    """Whether ``folder`` exists; raises DataDirError if it cannot be a data dir."""
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        if os.path.lexists(folder):  # a dangling symlink
            raise DataDirError(
                f"data dir {folder} is a broken link — use another data dir"
            ) from None
        return False
    except NotADirectoryError:
        raise DataDirError(f"data dir {folder} is not a folder — use another data dir") from None
    except OSError as exc:
        raise DataDirError(
            f"cannot read data dir {folder}: {exc.strerror} — make it readable or use another "
            "data dir"
        ) from None
    if entries and not holds_sleepchat_data(folder):
        raise DataDirError(
            f"{folder} is not a sleepchat data dir and is not empty — use a new or empty folder "
            "as the data dir"
        )
    return True


def prepare(folder: Path) -> bool:
    """Make ``folder`` ready to be the data dir; True when it was created now (private)."""
    if check_folder(folder):
        return False
    try:
        folder.mkdir(mode=DIR_MODE, parents=True)
    except FileExistsError:  # made by someone else a moment ago: look again
        check_folder(folder)
        return False
    except OSError as exc:
        raise DataDirError(
            f"cannot create data dir {folder}: {exc.strerror} — make its parent writable or use "
            "another data dir"
        ) from None
    return True


def read_only_reason(folder: Path) -> str | None:
    """Why a chat could not save in ``folder`` right now, if it could not (no probe written)."""
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return "it is on a read-only file system"
    if not os.access(folder, os.W_OK):
        return "it is not writable"
    free = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail
    if free == 0:
        return "its disk is full"
    return None


def holder_pid(folder: Path) -> int | None:
    """The PID in the lock file: a live holder, or one that died (either way the index on disk
    may be behind the message files)."""
    with contextlib.suppress(OSError):
        return read_holder(folder / LOCK_NAME)
    return None

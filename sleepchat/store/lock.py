"""One process owns a data dir: an ``flock`` held for the life of the process, PID inside.

The kernel drops an ``flock`` when its holder dies, so a lock left by a crashed sleepchat is
simply taken over; the PID in the file only serves the messages.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from sleepchat.store.atomic import FILE_MODE, ensure_mode
from sleepchat.store.errors import DataDirError, StoreError, StoreLocked

LOCK_NAME = "lock"


def _read_pid(fd: int) -> int | None:
    try:
        raw = os.pread(fd, 64, 0)
    except OSError:
        return None
    text = raw.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def read_holder(path: Path) -> int | None:
    """The PID a lock file holds, read without creating or locking it."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return _read_pid(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class DataDirLock:
    """Hold with :meth:`acquire`, give back with :meth:`release`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None
        # PID of a holder that died without releasing (reported as a takeover), if any.
        self.took_over_from: int | None = None
        # True when the previous holder did not release cleanly (crash, or a failed final save).
        self.unclean = False

    def acquire(self) -> None:
        try:
            # Never through a link: the lock file is truncated, and a link's target is not ours.
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(self.path, flags, FILE_MODE)
        except OSError as exc:
            raise DataDirError(
                f"cannot open the lock file {self.path}: {exc.strerror} — make the data dir "
                "writable or use another one"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _read_pid(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreLocked(self.data_dir, pid) from None
            raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from None
        try:
            ensure_mode(self.path, FILE_MODE)
            old = _read_pid(fd)
            # A clean release empties the file, so a PID left in it means its holder died.
            self.unclean = old is not None
            if old is not None and old != os.getpid() and not pid_alive(old):
                self.took_over_from = old
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise DataDirError(
                f"cannot write the lock file {self.path}: {exc.strerror} — make the data dir "
                "writable or use another one"
            ) from None
        self._fd = fd

    def release(self, clean: bool = True) -> None:
        """Give the dir back; ``clean=False`` leaves the PID so the next owner checks the data."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if clean:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

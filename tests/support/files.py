"""Looking at a folder as it is on disk, and counting what the store writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sleepchat.store import FileOps


def tree(folder: Path, *, mtimes: bool = False) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``folder``, links not followed: mode, size, content or link target
    (and the mtime, with ``mtimes``: a rewrite of the same bytes changes it)."""
    out: dict[str, tuple[Any, ...]] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            st = os.lstat(p)
            body: bytes | str = b""
            if stat.S_ISLNK(st.st_mode):
                body = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                body = p.read_bytes()
            extra = (st.st_mtime_ns,) if mtimes else ()
            out[str(p.relative_to(folder))] = (st.st_mode, st.st_size, body, *extra)
    return out


class Meter:
    """FileOps (``.ops``) that count the bytes the store's saves write."""

    def __init__(self) -> None:
        self.written = 0
        real = FileOps()

        def write_all(fd: int, data: bytes) -> int:
            self.written += len(data)
            return real.write_all(fd, data)

        self.ops = FileOps(write_all=write_all)

    def cost(self) -> int:
        """Bytes written since the last call."""
        spent, self.written = self.written, 0
        return spent

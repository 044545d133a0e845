"""One store file as a TinyDB, and what the engine does with files it cannot read.

A writable store moves an unreadable file aside (never overwriting it); a read-only store leaves
it where it is and says it was skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from sleepchat.core.clock import Clock
from sleepchat.store.atomic import AtomicJSONStorage, Data, FileOps, fsync_dir, load_checked
from sleepchat.store.errors import CorruptFileError, StoreError


class _Table(Table):
    # Query results cached by TinyDB could outlive a rolled-back batch.
    default_query_cache_capacity = 0


class _DB(TinyDB):
    table_class = _Table


@dataclass
class JsonFile:
    storage: AtomicJSONStorage
    db: TinyDB = field(init=False)

    def __post_init__(self) -> None:
        storage = self.storage
        self.db = _DB(storage=lambda: storage)

    def table(self, name: str) -> Table:
        return self.db.table(name)

    def docs(self, name: str) -> list[dict[str, Any]]:
        return list(self.storage.snapshot().get(name, {}).values())


@dataclass
class Files:
    """Opening store files, with the policy for unreadable ones."""

    ops: FileOps
    clock: Clock
    warn: Callable[[str], None]
    read_only: bool = False

    def new(self, path: Path) -> JsonFile:
        """A file not on disk yet (saved by its first write)."""
        return JsonFile(AtomicJSONStorage(path, None, self.ops, read_only=self.read_only))

    def open_checked(self, path: Path) -> tuple[JsonFile, str | None]:
        """Open a store file; an unreadable one is set aside and reported in the note."""
        try:
            storage = AtomicJSONStorage.open(path, self.ops, read_only=self.read_only)
            return JsonFile(storage), None
        except CorruptFileError as exc:
            return self.new(path), self.set_aside(path, exc)

    def load(self, path: Path) -> tuple[Data, str | None]:
        """The contents of a file read once (an older segment); unreadable ones set aside."""
        try:
            return load_checked(path) or {}, None
        except CorruptFileError as exc:
            return {}, self.set_aside(path, exc)

    def set_aside(self, path: Path, exc: CorruptFileError) -> str:
        """Move an unreadable file aside (writable) or leave it (read-only); say which."""
        if self.read_only:
            return f"{path} is unreadable ({exc.reason}) and was skipped"
        moved = self._quarantine(path, exc)
        return f"{path} was unreadable ({exc.reason}) and was moved to {moved.name}"

    def _quarantine(self, path: Path, exc: CorruptFileError) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock.now()))
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 2
        while os.path.lexists(target):
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.rename(path, target)
        except OSError as err:
            raise StoreError(
                f"{path} is unreadable ({exc.reason}) and could not be moved aside: "
                f"{err.strerror} — move it away by hand"
            ) from None
        fsync_dir(path.parent)
        return target

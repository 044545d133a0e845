"""Durable storage: TinyDB behind atomic saves, one owning process per data dir."""

from sleepchat.store.atomic import AtomicJSONStorage, FileOps
from sleepchat.store.engine import SCHEMA_VERSION, SEGMENT_BYTES, SEGMENT_SIZE, Migration
from sleepchat.store.errors import (
    CorruptFileError,
    DataDirError,
    DiskFullError,
    StoreError,
    StoreLocked,
    StoreWriteError,
)
from sleepchat.store.store import Store

__all__ = [
    "SCHEMA_VERSION",
    "SEGMENT_BYTES",
    "SEGMENT_SIZE",
    "AtomicJSONStorage",
    "CorruptFileError",
    "DataDirError",
    "DiskFullError",
    "FileOps",
    "Migration",
    "Store",
    "StoreError",
    "StoreLocked",
    "StoreWriteError",
]

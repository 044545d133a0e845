"""An in-memory stand-in for ``sleepchat.store.Store``'s sleep-cycle API (same methods).

``apply`` is all-or-nothing like the real one; ``fail_next`` makes the next write fail, and
``writes`` counts the atomic writes so tests can assert one write per operation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from sleepchat.core.models import Change

TABLES = ("notes", "predictions", "reflections", "note_ops", "kv", "pending", "documents")


class MemoryStore:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self.meta: dict[str, Any] = {}
        self.writes: list[list[Change]] = []
        self.fail_next: Exception | None = None

    async def load_table(self, session_id: str, table: str) -> list[dict[str, Any]]:
        if table not in TABLES:
            raise ValueError(f"unknown session table {table!r}")
        docs = self.tables.get(session_id, {}).get(table, {})
        return [copy.deepcopy(d) for d in docs.values()]

    async def apply(self, session_id: str, changes: Sequence[Change]) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        staged = copy.deepcopy(self.tables.get(session_id, {}))
        for c in changes:
            if c.table not in TABLES or not isinstance(c.doc.get("id"), str):
                raise ValueError(f"bad change {c!r}")
            table = staged.setdefault(c.table, {})
            if c.op == "delete":
                table.pop(c.doc["id"], None)
            else:
                table[c.doc["id"]] = copy.deepcopy(dict(c.doc))
        self.tables[session_id] = staged
        self.writes.append(list(changes))

    async def get_meta(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self.meta.get(key, default))

    async def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = copy.deepcopy(value)

    def docs(self, session_id: str, table: str) -> dict[str, dict[str, Any]]:
        return self.tables.get(session_id, {}).get(table, {})

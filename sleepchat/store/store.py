"""The async face of the store: every disk and TinyDB call runs on one worker thread.

TinyDB is synchronous and not thread-safe; a single worker both serialises all access and
keeps the event loop free while files are written and fsynced.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sleepchat.core.clock import Clock, SystemClock
from sleepchat.core.models import Change, Message, SearchHit, Session
from sleepchat.store.atomic import FileOps
from sleepchat.store.engine import SCHEMA_VERSION, SEGMENT_BYTES, SEGMENT_SIZE, Engine, Migration
from sleepchat.store.errors import StoreError
from sleepchat.store.search import Found, SearchIndex
from sleepchat.text import query_matches

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("sleepchat.store")
SEARCH_INDEX = "search.sqlite"


class Store:
    """Open with ``await Store.open(data_dir)``; ``await store.close()`` releases the lock.

    ``Store.open(data_dir, read_only=True)`` reads a data dir without taking its lock and without
    writing anything (a read-only disk, a full one, or one another sleepchat owns); every change
    is then refused.
    """

    def __init__(self, engine: Engine, on_warning: Callable[[str], None] | None) -> None:
        self._engine = engine
        self._index = SearchIndex(engine.data_dir / SEARCH_INDEX, read_only=engine.read_only)
        self._titles: dict[str, str] | None = None  # for search hits; None after any change
        self._on_warning = on_warning
        self._warnings: list[str] = []  # filled on the worker, delivered on the loop
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sleepchat-store"
        )

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        *,
        clock: Clock | None = None,
        on_warning: Callable[[str], None] | None = None,
        file_ops: FileOps | None = None,
        migrations: Mapping[int, Migration] | None = None,
        schema_version: int = SCHEMA_VERSION,
        segment_size: int = SEGMENT_SIZE,
        segment_bytes: int = SEGMENT_BYTES,
        read_only: bool = False,
    ) -> Store:
        warnings: list[str] = []
        engine = Engine(
            Path(data_dir).expanduser(),
            clock=clock or SystemClock(),
            warn=warnings.append,
            ops=file_ops,
            migrations=migrations,
            schema_version=schema_version,
            segment_size=segment_size,
            segment_bytes=segment_bytes,
            read_only=read_only,
        )
        store = cls(engine, on_warning)
        store._warnings = warnings
        try:
            await store._run(engine.open)
        except BaseException:
            store._shutdown()  # joins the thread: the open has finished, one way or the other
            if engine.is_open:  # cancelled (the app closed) while it opened: give the dir back
                engine.close()
            raise
        return store

    @property
    def data_dir(self) -> Path:
        return self._engine.data_dir

    @property
    def read_only(self) -> bool:
        return self._engine.read_only

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._executor is None:
            return
        try:
            await self._run(self._index.close)
            await self._run(self._engine.close)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)  # the queue is empty by now: this only joins the thread

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._executor is None:
            raise StoreError("the store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))
        finally:
            self._deliver()

    def _deliver(self) -> None:
        while self._warnings:
            message = self._warnings.pop(0)
            if self._on_warning is None:
                log.warning("%s", message)
            else:
                self._on_warning(message)

    # -- sessions ------------------------------------------------------------------------
    async def create_session(self, title: str) -> Session:
        self._titles = None
        return await self._run(self._engine.create_session, title)

    async def list_sessions(self) -> list[Session]:
        """Most recently updated first."""
        return await self._run(self._engine.list_sessions)

    async def get_session(self, session_id_or_prefix: str) -> Session | None:
        """By id, or by a prefix that matches exactly one session."""
        return await self._run(self._engine.get_session, session_id_or_prefix)

    async def last_session(self) -> Session | None:
        return await self._run(self._engine.last_session)

    async def rename_session(self, session_id: str, title: str) -> Session:
        self._titles = None
        return await self._run(self._engine.rename_session, session_id, title)

    async def update_session(self, session_id: str, fields: dict[str, Any]) -> Session:
        """Change fields of the record: title, model, system_prompt, options."""
        self._titles = None
        return await self._run(self._engine.update_session, session_id, fields)

    async def delete_session(self, session_id: str) -> None:
        await self._run(self._delete_session, session_id)

    def _delete_session(self, session_id: str) -> None:
        self._titles = None
        self._engine.delete_session(session_id)
        self._index.remove_session(session_id)

    # -- messages ------------------------------------------------------------------------
    async def append_message(self, msg: Message) -> None:
        """Durable (fsynced) when it returns; bumps the session's ``updated`` and count."""
        await self._run(self._append_message, msg)

    def _append_message(self, msg: Message) -> None:
        self._engine.append_message(msg)
        self._index.add(msg)  # never fails the append: a missed one is re-read at a search

    async def update_message(self, msg: Message) -> None:
        """Replace a stored message by id (e.g. a reply later marked interrupted)."""
        await self._run(self._update_message, msg)

    def _update_message(self, msg: Message) -> None:
        self._engine.update_message(msg)
        self._index.update(msg)

    async def messages(self, session_id: str) -> list[Message]:
        return await self._run(self._engine.messages, session_id)

    async def search(
        self, query: str, limit: int = 50, progress: Callable[[int, int], None] | None = None
    ) -> list[SearchHit]:
        """Messages of every session matching ``query`` (``store/search.py``), newest first.
        Sessions the index has not seen whole are read first: all of them the first time in a
        data dir written before the index (``progress(done, total)`` is told, from the store's
        thread), the odd one after a crash."""
        return await self._run(self._search, query, limit, progress)

    def _search(
        self, query: str, limit: int, progress: Callable[[int, int], None] | None
    ) -> list[SearchHit]:
        if self.read_only:
            return self._search_read_only(query, limit, progress)
        titles = self._titles
        try:
            if titles is None or not self._index.synced:
                sessions = self._engine.list_sessions()
                if not self._index.synced:
                    self._index.sync(sessions, self._engine.messages_of, progress)
                titles = self._titles = {s.id: s.title for s in sessions}
            found = self._index.search(query, limit)
        except (sqlite3.Error, OSError) as exc:
            self._index.reset()
            raise StoreError(
                f"cannot search: the search index {self._index.path} failed ({exc}) — "
                "try again: it is rebuilt from the messages"
            ) from None
        return [_hit(f, titles) for f in found if f.session_id in titles]

    def _search_read_only(
        self, query: str, limit: int, progress: Callable[[int, int], None] | None
    ) -> list[SearchHit]:
        """Read-only (another sleepchat may own the data dir): the index when it holds every
        session, else every session read and matched here (nothing is written either way)."""
        sessions = self._engine.list_sessions()
        titles = {s.id: s.title for s in sessions}
        try:
            if not self._index.stale(sessions):
                found = self._index.search(query, limit)
                return [_hit(f, titles) for f in found if f.session_id in titles]
        except (sqlite3.Error, OSError):
            self._index.close()
        hits: list[SearchHit] = []
        for done, session in enumerate(sessions, start=1):
            for m in self._engine.messages_of(session):
                if query_matches(m.content, query):
                    hits.append(
                        SearchHit(m.session_id, session.title, m.id, m.role, m.created, m.content)
                    )
            if progress is not None:
                progress(done, len(sessions))
        hits.sort(key=lambda h: h.created, reverse=True)
        return hits[:limit]

    # -- the sleep cycle's tables --------------------------------------------------------
    async def load_table(self, session_id: str, table: str) -> list[dict[str, Any]]:
        return await self._run(self._engine.load_table, session_id, table)

    async def apply(self, session_id: str, changes: Sequence[Change]) -> None:
        """All changes reach disk in one atomic write, or none do."""
        await self._run(self._engine.apply, session_id, list(changes))

    # -- global key/values ---------------------------------------------------------------
    async def get_meta(self, key: str, default: Any = None) -> Any:
        return await self._run(self._engine.get_meta, key, default)

    async def set_meta(self, key: str, value: Any) -> None:
        await self._run(self._engine.set_meta, key, value)


def _hit(found: Found, titles: dict[str, str]) -> SearchHit:
    f = found
    return SearchHit(f.session_id, titles[f.session_id], f.message_id, f.role, f.created, f.text)

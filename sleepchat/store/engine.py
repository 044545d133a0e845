"""The synchronous store: files, TinyDB tables, sessions and messages. One thread only.

Layout of a data dir (folders 0700, files 0600)::

    lock                       flock + PID of the owning process
    index.json                 sessions table + meta table (schema_version, global keys)
    sessions/<id>/meta.json    the sleep cycle's tables for one session
    sessions/<id>/messages-NNNN.json   segments bounded by count and bytes (segments.py)
    search.sqlite              the search index (``search.py``, kept by ``store.py``): derived
                               from the message files, rebuilt when missing or damaged

Appending a message rewrites only the last segment, so the cost of a write stays bounded however
long the history grows. Opened ``read_only``, the engine takes no lock and writes nothing: the
repairs a start would make are done in memory only, and every change is refused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from sleepchat.core.clock import Clock
from sleepchat.core.models import Change, Message, Session, new_id
from sleepchat.store import datadir
from sleepchat.store.atomic import (
    DIR_MODE,
    FileOps,
    ensure_mode,
    fsync_dir,
    sweep_temp_files,
    write_error,
)
from sleepchat.store.errors import DataDirError, StoreError, StoreWriteError
from sleepchat.store.files import Files, JsonFile
from sleepchat.store.lock import DataDirLock
from sleepchat.store.records import as_int, valid_session
from sleepchat.store.recovery import (
    SESSION_COPY,
    TRASH,
    Migration,
    Recovery,
    by_id,
    get_meta,
    set_meta,
)
from sleepchat.store.segments import SEGMENT_BYTES, SEGMENT_SIZE, Limits, SessionFiles

SCHEMA_VERSION = 1
SESSION_TABLES = ("notes", "predictions", "reflections", "note_ops", "kv", "pending", "documents")

__all__ = ["SCHEMA_VERSION", "SEGMENT_BYTES", "SEGMENT_SIZE", "Engine", "Migration"]


class Engine(Recovery):
    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock,
        warn: Callable[[str], None],
        ops: FileOps | None = None,
        migrations: Mapping[int, Migration] | None = None,
        schema_version: int = SCHEMA_VERSION,
        segment_size: int = SEGMENT_SIZE,
        segment_bytes: int = SEGMENT_BYTES,
        read_only: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.warn = warn
        self.ops = ops or FileOps()
        self.read_only = read_only
        self.files = Files(self.ops, clock, warn, read_only)
        self.limits = Limits(segment_size, segment_bytes)
        self.migrations = dict(migrations or {})
        self.schema_version = schema_version
        self.sessions_dir = data_dir / datadir.SESSIONS_DIR
        self._lock = DataDirLock(data_dir)
        self._index: JsonFile | None = None
        self._files: dict[str, SessionFiles] = {}
        self._seq = 0

    # -- open / close --------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._index is not None

    def open(self) -> None:
        if self.read_only:
            self._open_read_only()
            return
        made = datadir.prepare(self.data_dir)
        self._probe_writable()
        self._lock.acquire()
        try:
            if self._lock.took_over_from is not None:
                self.warn(
                    f"took over the lock of a sleepchat that died (PID {self._lock.took_over_from})"
                )
            sweep_temp_files(self.data_dir)
            self._make_sessions_dir()
            self._index = self._open_index()
            if made:
                set_meta(self._index, datadir.MADE_KEY, True)
            elif get_meta(self._index, datadir.MADE_KEY) is True:
                ensure_mode(self.data_dir, DIR_MODE)  # ours: a loosened mode is tightened again
            self._sweep_trash()
            self._migrate()
            self._seq = max((as_int(d.get("seq")) for d in self._session_docs()), default=0)
            if self._lock.unclean:
                self._reconcile()
        except BaseException:
            self._index = None
            self._lock.release()
            raise

    def _open_read_only(self) -> None:
        if not datadir.check_folder(self.data_dir):
            self._index = self.files.new(self.data_dir / datadir.INDEX_NAME)  # nothing stored
            return
        if reason := datadir.read_only_reason(self.data_dir):
            self.warn(
                f"data dir {self.data_dir}: {reason} — showing what is stored; nothing can be "
                "saved there until that is fixed"
            )
        self._index = self._open_index()
        self._migrate()
        self._seq = max((as_int(d.get("seq")) for d in self._session_docs()), default=0)
        if datadir.holder_pid(self.data_dir) is not None:
            self._reconcile()  # a sleepchat is running or died: the index may be behind

    def close(self) -> None:
        """Save what is still in memory only, then give the lock back."""
        clean = True
        if self._index is not None:
            try:
                self._index.storage.flush()
            except StoreWriteError as exc:
                self.warn(exc.message)
                clean = False  # the next start rebuilds the counts from the message files
        self._files.clear()
        self._index = None
        self._lock.release(clean=clean)

    def _make_sessions_dir(self) -> None:
        try:
            self.sessions_dir.mkdir(mode=DIR_MODE, exist_ok=True)
            ensure_mode(self.sessions_dir, DIR_MODE)
        except OSError as exc:
            raise DataDirError(
                f"cannot use {self.sessions_dir}: {exc.strerror} — make the data dir writable "
                "or use another data dir"
            ) from None
        if not self.sessions_dir.is_dir():
            raise DataDirError(
                f"{self.sessions_dir} is not a folder — move it away or use another data dir"
            )

    def _probe_writable(self) -> None:
        try:
            fd, tmp = self.ops.mkstemp(self.data_dir, ".probe.")
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            raise DataDirError(
                f"data dir {self.data_dir} is not writable ({exc.strerror}) — make it "
                "writable or use another data dir"
            ) from None

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"data dir {self.data_dir} is open read-only: nothing can be changed")

    @property
    def index(self) -> JsonFile:
        if self._index is None:
            raise StoreError("the store is closed")
        return self._index

    def get_meta(self, key: str, default: Any = None) -> Any:
        return get_meta(self.index, key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self._writable()
        set_meta(self.index, key, value)

    # -- sessions ------------------------------------------------------------------------
    def _sorted(self) -> list[tuple[dict[str, Any], Session]]:
        pairs = [(d, s) for d in self._session_docs() if (s := valid_session(d))]
        pairs.sort(key=lambda p: (p[1].updated, as_int(p[0].get("seq"))), reverse=True)
        return pairs

    def list_sessions(self) -> list[Session]:
        return [s for _, s in self._sorted()]

    def last_session(self) -> Session | None:
        pairs = self._sorted()
        return pairs[0][1] if pairs else None

    def get_session(self, key: str) -> Session | None:
        if not key:
            return None
        sessions = self.list_sessions()
        for s in sessions:
            if s.id == key:
                return s
        found = [s for s in sessions if s.id.startswith(key)]
        return found[0] if len(found) == 1 else None

    def _require(self, sid: str) -> Session:
        for doc in self._session_docs():
            if doc.get("id") == sid and (s := valid_session(doc)):
                return s
        raise StoreError(f"no session '{sid}'")

    def create_session(self, title: str) -> Session:
        self._writable()
        existing = {d.get("id") for d in self._session_docs()}
        sid = new_id("", 4)
        while sid in existing or os.path.lexists(self.sessions_dir / sid):
            sid = new_id("", 4)
        now = self.clock.now()
        session = Session(sid, title, now, now, 0)
        folder = self.sessions_dir / sid
        try:
            folder.mkdir(mode=DIR_MODE)
            fsync_dir(self.sessions_dir)
        except OSError as exc:
            raise write_error(exc, folder) from exc
        try:
            files = SessionFiles.scan(self.files, self.limits, folder, total=0)
            files.meta(title).table(SESSION_COPY).insert(session.to_dict())
            self.index.table("sessions").insert({**session.to_dict(), "seq": self._next_seq()})
        except BaseException:
            self._files.pop(sid, None)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._files[sid] = files
        return session

    def rename_session(self, sid: str, title: str) -> Session:
        return self.update_session(sid, {"title": title})

    def update_session(self, sid: str, fields: dict[str, Any]) -> Session:
        """Change fields of a session's record (title, model, system prompt, options)."""
        self._writable()
        session = self._require(sid)
        updated = valid_session({**session.to_dict(), **fields})
        if updated is None or set(fields) - set(updated.to_dict()) or "id" in fields:
            raise ValueError(f"not a valid change of a session: {sorted(fields)}")
        changes = {k: updated.to_dict()[k] for k in fields}
        self.index.table("sessions").update(changes, by_id(sid))
        try:
            copy = self._session_files(updated).meta(updated.title).table(SESSION_COPY)
            if not copy.update(changes):
                copy.insert(updated.to_dict())
        except StoreWriteError as exc:  # the index holds the record; the copy is only a backup
            self.warn(exc.message)
        return updated

    def delete_session(self, sid: str) -> None:
        """Folder moved out of sight first, then the record dropped: a crash in between is
        undone at the next start, and a deleted session never comes back as an orphan."""
        self._writable()
        self._require(sid)
        folder, trash = self.sessions_dir / sid, self.sessions_dir / f"{TRASH}{sid}"
        if not trash.is_symlink():
            shutil.rmtree(trash, ignore_errors=True)
        moved = False
        if os.path.lexists(folder):
            try:
                os.rename(folder, trash)
            except OSError as exc:
                raise write_error(exc, folder) from exc
            moved = True
        try:
            self.index.table("sessions").remove(by_id(sid))
        except BaseException:
            if moved:
                os.rename(trash, folder)
            raise
        self._files.pop(sid, None)
        if not trash.is_symlink():  # a link's target is not ours to delete
            shutil.rmtree(trash, ignore_errors=True)

    def _touch(self, session: Session, total: int) -> None:
        """Bump a session's count and activity time, in memory: the message file is the
        durable record, and a crash is reconciled from it at the next start."""
        fields = {
            "message_count": total,
            "updated": max(session.updated, self.clock.now()),
            "seq": self._next_seq(),
        }
        with self.index.storage.deferred():
            self.index.table("sessions").update(fields, by_id(session.id))

    # -- session files -------------------------------------------------------------------
    def _session_files(self, session: Session) -> SessionFiles:
        files = self._files.get(session.id)
        if files is None:
            folder = self.sessions_dir / session.id
            files = SessionFiles.scan(self.files, self.limits, folder, session.message_count)
            self._files[session.id] = files
        return files

    # -- messages ------------------------------------------------------------------------
    def append_message(self, msg: Message) -> None:
        self._writable()
        session = self._require(msg.session_id)
        files = self._session_files(session)
        files.append(session.title, msg.to_dict())
        self._touch(session, files.total)

    def update_message(self, msg: Message) -> None:
        self._writable()
        session = self._require(msg.session_id)
        files = self._session_files(session)
        if not files.update(session.title, msg.to_dict(), by_id(msg.id)):
            raise StoreError(f"no message {msg.id} in session {session.id}")

    def messages(self, sid: str) -> list[Message]:
        return self.messages_of(self._require(sid))

    def messages_of(self, session: Session) -> list[Message]:
        """The messages of a session record in hand: reading every session (the search index)
        stays linear, where looking each one up would parse the index each time."""
        sid = session.id
        files = self._session_files(session)
        files.tail(session.title)
        msgs = files.read_messages(session.title)
        if len(msgs) != session.message_count or files.total != len(msgs):
            files.total = len(msgs)  # heal a count left behind by a lost segment
            with self.index.storage.deferred():
                self.index.table("sessions").update({"message_count": len(msgs)}, by_id(sid))
        return msgs

    # -- session tables ------------------------------------------------------------------
    def load_table(self, sid: str, table: str) -> list[dict[str, Any]]:
        _check_table(table)
        session = self._require(sid)
        return self._session_files(session).meta(session.title).docs(table)

    def apply(self, sid: str, changes: Sequence[Change]) -> None:
        self._writable()
        for c in changes:
            _check_table(c.table)
            if c.op not in ("upsert", "delete"):
                raise ValueError(f"unknown change op {c.op!r}")
            if not isinstance(c.doc.get("id"), str):
                raise ValueError(f"a {c.table} change needs a string 'id' field")
        session = self._require(sid)
        meta = self._session_files(session).meta(session.title)
        with meta.storage.batch():
            for c in changes:
                table = meta.table(c.table)
                if c.op == "delete":
                    table.remove(by_id(c.doc["id"]))
                elif not table.update(_replace_with(c.doc), by_id(c.doc["id"])):
                    table.insert(dict(c.doc))


def _check_table(table: str) -> None:
    if table not in SESSION_TABLES:
        raise ValueError(f"unknown session table {table!r}; known: {', '.join(SESSION_TABLES)}")


def _replace_with(doc: dict[str, Any]) -> Callable[[MutableMapping[Any, Any]], None]:
    def replace(stored: MutableMapping[Any, Any]) -> None:
        stored.clear()
        stored.update(doc)

    return replace

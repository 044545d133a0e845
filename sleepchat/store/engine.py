"""The synchronous store: files, TinyDB tables, quarantine, migrations. One thread only.

Layout of a data dir (folders 0700, files 0600)::

    lock                       flock + PID of the owning process
    index.json                 sessions table + meta table (schema_version, global keys)
    sessions/<id>/meta.json    the sleep cycle's tables for one session
    sessions/<id>/messages-NNNN.json   at most ``segment_size`` messages each

Appending a message rewrites only the last segment and the small index, so the cost of a
write stays bounded however long the history grows.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Table

from sleepchat.core.clock import Clock
from sleepchat.core.models import Change, Message, Session, new_id
from sleepchat.store.atomic import (
    DIR_MODE,
    FILE_MODE,
    AtomicJSONStorage,
    FileOps,
    ensure_mode,
    fsync_dir,
    is_temp_file,
    load_checked,
    sweep_temp_files,
    write_error,
)
from sleepchat.store.errors import CorruptFileError, DataDirError, StoreError, StoreWriteError
from sleepchat.store.lock import DataDirLock
from sleepchat.store.records import SESSION_ID_RE, as_int, is_time, valid_message, valid_session

SCHEMA_VERSION = 1
SEGMENT_SIZE = 256
INDEX_NAME = "index.json"
SESSIONS_DIR = "sessions"
META_NAME = "meta.json"
SESSION_TABLES = ("notes", "predictions", "reflections", "note_ops", "kv", "pending")
_TRASH = ".deleted-"  # a session folder on its way out
_SESSION_COPY = "session"  # meta.json keeps the session record, to rebuild a lost index
_SEGMENT_RE = re.compile(r"^messages-(\d{4,})\.json$")

# A migration upgrades a data dir from schema N-1 to N (registered under N).
Migration = Callable[[Path, TinyDB], None]


class _Table(Table):
    # Query results cached by TinyDB could outlive a rolled-back batch.
    default_query_cache_capacity = 0


class _DB(TinyDB):
    table_class = _Table


@dataclass
class _File:
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
class _SessionFiles:
    folder: Path
    segments: list[int]
    total: int
    tail: _File | None = None
    tail_len: int = 0
    meta: _File | None = None


def _segment_name(n: int) -> str:
    return f"messages-{n:04d}.json"


def _by_id(doc_id: str) -> Any:
    return Query().id == doc_id


class Engine:
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
    ) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.warn = warn
        self.ops = ops or FileOps()
        self.migrations = dict(migrations or {})
        self.schema_version = schema_version
        self.segment_size = segment_size
        self.sessions_dir = data_dir / SESSIONS_DIR
        self._lock = DataDirLock(data_dir)
        self._index: _File | None = None
        self._files: dict[str, _SessionFiles] = {}
        self._seq = 0

    # -- open / close --------------------------------------------------------------------
    def open(self) -> None:
        self._make_dir(self.data_dir)
        self._probe_writable()
        self._lock.acquire()
        try:
            if self._lock.took_over_from is not None:
                self.warn(
                    f"took over the lock of a sleepchat that died (PID {self._lock.took_over_from})"
                )
            sweep_temp_files(self.data_dir)
            self._make_dir(self.sessions_dir)
            self._index = self._open_index()
            self._sweep_trash()
            self._migrate()
            self._seq = max((as_int(d.get("seq")) for d in self._session_docs()), default=0)
            if self._lock.unclean:
                self._reconcile()
        except BaseException:
            self._lock.release()
            raise

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

    def _make_dir(self, folder: Path) -> None:
        try:
            folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            ensure_mode(folder, DIR_MODE)
        except FileExistsError:
            raise DataDirError(
                f"data dir {folder} is not a folder — use another data dir"
            ) from None
        except OSError as exc:
            raise DataDirError(
                f"cannot create or use data dir {folder}: {exc.strerror} — make it writable "
                "or use another data dir"
            ) from None
        if not folder.is_dir():
            raise DataDirError(f"data dir {folder} is not a folder — use another data dir")

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

    @property
    def index(self) -> _File:
        if self._index is None:
            raise StoreError("the store is closed")
        return self._index

    # -- corrupt files -------------------------------------------------------------------
    def _quarantine(self, path: Path, exc: CorruptFileError) -> Path:
        """Move an unreadable file aside (never overwrite it) and return where it went."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock.now()))
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 2
        while target.exists():
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

    def _open_checked(self, path: Path) -> tuple[_File, str | None]:
        """Open a store file; a corrupt one is quarantined and reported in the note."""
        try:
            return _File(AtomicJSONStorage.open(path, self.ops)), None
        except CorruptFileError as exc:
            moved = self._quarantine(path, exc)
            note = f"{path} was unreadable ({exc.reason}) and was moved to {moved.name}"
            return _File(AtomicJSONStorage(path, None, self.ops)), note

    # -- index ---------------------------------------------------------------------------
    def _open_index(self) -> _File:
        path = self.data_dir / INDEX_NAME
        index, note = self._open_checked(path)
        if note is None and index.storage.read() is not None:
            self._adopt_orphans(index, path)
            return index
        folders = self._session_folders()
        if note is None and not folders:
            self._set_meta(index, "schema_version", self.schema_version)  # a new data dir
            return index
        count = self._rebuild_index(index, folders)
        what = note or f"{path} was missing"
        self.warn(f"{what}; {count} sessions were rebuilt from their folders")
        return index

    def _session_folders(self) -> list[Path]:
        with contextlib.suppress(FileNotFoundError):
            return sorted(
                p for p in self.sessions_dir.iterdir() if p.is_dir() and SESSION_ID_RE.match(p.name)
            )
        return []

    def _adopt_orphans(self, index: _File, path: Path) -> None:
        """A readable index that lost session records (a flipped byte, a dropped field) must not
        hide those sessions: their folders still hold every message."""
        docs = index.docs("sessions")
        listed = {s.id for d in docs if (s := valid_session(d))}
        orphans = [f for f in self._session_folders() if f.name not in listed]
        if not orphans:
            return
        found = self._recover(orphans)
        top = max((as_int(d.get("seq")) for d in docs), default=0)
        try:
            with index.storage.batch():
                table = index.table("sessions")
                table.remove(lambda d: valid_session(d) is None)
                for seq, doc in enumerate(found, start=top + 1):
                    table.insert({**doc, "seq": seq})
        except StoreWriteError as exc:
            self.warn(exc.message)
        self.warn(
            f"{path} did not list {len(found)} sessions found in {self.sessions_dir}; "
            "they were rebuilt from their folders"
        )

    def _rebuild_index(self, index: _File, folders: list[Path]) -> int:
        docs = self._recover(folders)
        with index.storage.batch():
            table = index.table("sessions")
            for seq, doc in enumerate(docs, start=1):
                table.insert({**doc, "seq": seq})
            self._set_meta(index, "schema_version", self.schema_version)
        return len(docs)

    def _recover(self, folders: list[Path]) -> list[dict[str, Any]]:
        """Session records rebuilt from session folders, oldest first."""
        docs: list[dict[str, Any]] = []
        for folder in folders:
            sid = folder.name
            files = self._scan(folder, total=0)
            meta, note = self._open_checked(folder / META_NAME)
            if note:
                self.warn(f"{note}; the session's notes and predictions start empty")
            copy = next(iter(meta.docs(_SESSION_COPY)), {})
            msgs = self._read_messages(sid, files, f"session {sid}")
            files.total = len(msgs)
            mtime = folder.stat().st_mtime
            stamp = copy.get("created")
            # The copy may be damaged too.
            created = float(stamp) if is_time(stamp) else msgs[0].created if msgs else mtime
            updated = max([created, *(m.created for m in msgs[-1:])])
            title = copy.get("title")
            if not isinstance(title, str) or not title:
                title = "Recovered session"
            docs.append(Session(sid, title, created, updated, len(msgs)).to_dict())
            files.meta = meta
            self._files[sid] = files
        docs.sort(key=lambda d: (d["updated"], d["created"]))
        return docs

    def _migrate(self) -> None:
        found = self._get_meta(self.index, "schema_version", 0)
        version = found if isinstance(found, int) else 0
        if version > self.schema_version:
            raise StoreError(
                f"data dir {self.data_dir} was written by a newer sleepchat (schema {version}) "
                "— upgrade sleepchat"
            )
        for target in range(version + 1, self.schema_version + 1):
            step = self.migrations.get(target)
            if step is not None:
                try:
                    step(self.data_dir, self.index.db)
                except StoreError:
                    raise
                except Exception as exc:
                    raise StoreError(
                        f"upgrading data dir {self.data_dir} to schema {target} failed: {exc}"
                    ) from exc
            self._set_meta(self.index, "schema_version", target)

    @staticmethod
    def _get_meta(index: _File, key: str, default: Any = None) -> Any:
        for doc in index.docs("meta"):
            if doc.get("key") == key:
                return doc.get("value")
        return default

    @staticmethod
    def _set_meta(index: _File, key: str, value: Any) -> None:
        table = index.table("meta")
        if not table.update({"value": value}, Query().key == key):
            table.insert({"key": key, "value": value})

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self._get_meta(self.index, key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self._set_meta(self.index, key, value)

    # -- sessions ------------------------------------------------------------------------
    def _session_docs(self) -> list[dict[str, Any]]:
        return self.index.docs("sessions")

    def _session_from(self, doc: dict[str, Any]) -> Session | None:
        return valid_session(doc)

    def _sorted(self) -> list[tuple[dict[str, Any], Session]]:
        pairs = [(d, s) for d in self._session_docs() if (s := self._session_from(d))]
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
            if doc.get("id") == sid and (s := self._session_from(doc)):
                return s
        raise StoreError(f"no session '{sid}'")

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def create_session(self, title: str) -> Session:
        existing = {d.get("id") for d in self._session_docs()}
        sid = new_id("", 4)
        while sid in existing or (self.sessions_dir / sid).exists():
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
            files = self._scan(folder, total=0)
            self._meta(sid, files, title).table(_SESSION_COPY).insert(session.to_dict())
            self.index.table("sessions").insert({**session.to_dict(), "seq": self._next_seq()})
        except BaseException:
            self._files.pop(sid, None)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._files[sid] = files
        return session

    def rename_session(self, sid: str, title: str) -> Session:
        session = self._require(sid)
        self.index.table("sessions").update({"title": title}, _by_id(sid))
        session.title = title
        try:
            copy = self._meta(sid, self._session_files(session), title).table(_SESSION_COPY)
            if not copy.update({"title": title}):
                copy.insert(session.to_dict())
        except StoreWriteError as exc:  # the index holds the title; the copy is only a backup
            self.warn(exc.message)
        return session

    def delete_session(self, sid: str) -> None:
        """Folder moved out of sight first, then the record dropped: a crash in between is
        undone at the next start, and a deleted session never comes back as an orphan."""
        self._require(sid)
        folder, trash = self.sessions_dir / sid, self.sessions_dir / f"{_TRASH}{sid}"
        shutil.rmtree(trash, ignore_errors=True)
        moved = False
        if folder.exists():
            try:
                os.rename(folder, trash)
            except OSError as exc:
                raise write_error(exc, folder) from exc
            moved = True
        try:
            self.index.table("sessions").remove(_by_id(sid))
        except BaseException:
            if moved:
                os.rename(trash, folder)
            raise
        self._files.pop(sid, None)
        shutil.rmtree(trash, ignore_errors=True)

    def _sweep_trash(self) -> None:
        """Finish deletions a crash interrupted, or undo those whose record was not dropped."""
        listed = {d.get("id") for d in self._session_docs()}
        with contextlib.suppress(FileNotFoundError), os.scandir(self.sessions_dir) as entries:
            trashed = [Path(e.path) for e in entries if e.name.startswith(_TRASH)]
        for trash in trashed:
            sid = trash.name.removeprefix(_TRASH)
            folder = self.sessions_dir / sid
            if sid in listed and not folder.exists():
                os.rename(trash, folder)
            else:
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
            self.index.table("sessions").update(fields, _by_id(session.id))

    def _reconcile(self) -> None:
        """After an unclean stop: counts and activity times of sessions whose message files
        changed after the index was last saved are recomputed from those files."""
        try:
            saved_at = (self.data_dir / INDEX_NAME).stat().st_mtime_ns
        except FileNotFoundError:
            saved_at = 0
        found: list[tuple[float, str, int, float]] = []
        for doc in self._session_docs():
            session = self._session_from(doc)
            folder = self.sessions_dir / str(doc.get("id"))
            if session is None or not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                stamps = [e.stat().st_mtime_ns for e in entries if _SEGMENT_RE.match(e.name)]
            if not stamps or max(stamps) < saved_at:
                continue
            files = self._scan(folder, total=0)
            self._files[session.id] = files
            msgs = self._read_messages(session.id, files, session.title)
            files.total = len(msgs)
            # The newest message file's mtime is when the last append happened.
            last = max(session.updated, max(stamps) / 1e9, *(m.created for m in msgs[-1:]))
            found.append((last, session.id, len(msgs), last))
        if not found:
            return
        found.sort()
        with self.index.storage.batch():
            table = self.index.table("sessions")
            for _, sid, count, updated in found:
                fields = {"message_count": count, "updated": updated, "seq": self._next_seq()}
                table.update(fields, _by_id(sid))

    # -- session files -------------------------------------------------------------------
    def _scan(self, folder: Path, total: int) -> _SessionFiles:
        """First look at a session folder: permissions, leftovers, segment numbers."""
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        ensure_mode(folder, DIR_MODE)
        segments: list[int] = []
        for entry in os.scandir(folder):
            if not entry.is_file(follow_symlinks=False):
                continue
            if is_temp_file(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                continue
            ensure_mode(Path(entry.path), FILE_MODE)
            if m := _SEGMENT_RE.match(entry.name):
                segments.append(int(m.group(1)))
        return _SessionFiles(folder, sorted(segments), total)

    def _session_files(self, session: Session) -> _SessionFiles:
        files = self._files.get(session.id)
        if files is None:
            files = self._scan(self.sessions_dir / session.id, session.message_count)
            self._files[session.id] = files
        return files

    def _meta(self, sid: str, files: _SessionFiles, title: str) -> _File:
        if files.meta is None:
            files.meta, note = self._open_checked(files.folder / META_NAME)
            if note:
                self.warn(
                    f"{note}; the notes, predictions and reflections of session '{title}' "
                    "start empty"
                )
        return files.meta

    def _tail(self, session: Session, files: _SessionFiles) -> _File:
        if files.tail is None:
            if not files.segments:
                files.segments.append(0)
            path = files.folder / _segment_name(files.segments[-1])
            files.tail, note = self._open_checked(path)
            files.tail_len = len(files.tail.docs("messages"))
            if note:
                kept = len(self._read_messages(session.id, files, session.title))
                self.warn(f"{note}; {kept} messages of session '{session.title}' were kept")
        if files.tail_len >= self.segment_size:
            files.segments.append(files.segments[-1] + 1)
            path = files.folder / _segment_name(files.segments[-1])
            files.tail, files.tail_len = _File(AtomicJSONStorage(path, None, self.ops)), 0
        return files.tail

    def _read_messages(self, sid: str, files: _SessionFiles, title: str) -> list[Message]:
        """All messages in order. Older segments are read, not kept open."""
        notes: list[str] = []
        docs: list[dict[str, Any]] = []
        last = files.segments[-1] if files.segments else None
        for n in list(files.segments):
            if n == last and files.tail is not None:
                docs.extend(files.tail.docs("messages"))
                continue
            path = files.folder / _segment_name(n)
            try:
                data = load_checked(path) or {}
            except CorruptFileError as exc:
                moved = self._quarantine(path, exc)
                notes.append(f"{path} was unreadable ({exc.reason}) and was moved to {moved.name}")
                if n != last:
                    files.segments.remove(n)
                continue
            docs.extend(data.get("messages", {}).values())
        msgs = [m for doc in docs if (m := valid_message(doc)) is not None]
        if len(msgs) < len(docs):
            self.warn(f"skipped {len(docs) - len(msgs)} malformed messages in session '{title}'")
        for note in notes:
            self.warn(f"{note}; {len(msgs)} messages of session '{title}' were kept")
        return msgs

    # -- messages ------------------------------------------------------------------------
    def append_message(self, msg: Message) -> None:
        session = self._require(msg.session_id)
        files = self._session_files(session)
        self._tail(session, files).table("messages").insert(msg.to_dict())
        files.tail_len += 1
        files.total += 1
        self._touch(session, files.total)

    def update_message(self, msg: Message) -> None:
        session = self._require(msg.session_id)
        files = self._session_files(session)
        tail = self._tail(session, files)
        if tail.table("messages").update(msg.to_dict(), _by_id(msg.id)):
            return
        for n in reversed(files.segments[:-1]):
            seg, note = self._open_checked(files.folder / _segment_name(n))
            if note:
                self.warn(f"{note}; the other messages of session '{session.title}' were kept")
                files.segments.remove(n)
                continue
            if seg.table("messages").update(msg.to_dict(), _by_id(msg.id)):
                return
        raise StoreError(f"no message {msg.id} in session {session.id}")

    def messages(self, sid: str) -> list[Message]:
        session = self._require(sid)
        files = self._session_files(session)
        self._tail(session, files)
        msgs = self._read_messages(sid, files, session.title)
        if len(msgs) != session.message_count or files.total != len(msgs):
            files.total = len(msgs)  # heal a count left behind by a lost segment
            with self.index.storage.deferred():
                self.index.table("sessions").update({"message_count": len(msgs)}, _by_id(sid))
        return msgs

    # -- session tables ------------------------------------------------------------------
    def load_table(self, sid: str, table: str) -> list[dict[str, Any]]:
        _check_table(table)
        session = self._require(sid)
        return self._meta(sid, self._session_files(session), session.title).docs(table)

    def apply(self, sid: str, changes: Sequence[Change]) -> None:
        for c in changes:
            _check_table(c.table)
            if c.op not in ("upsert", "delete"):
                raise ValueError(f"unknown change op {c.op!r}")
            if not isinstance(c.doc.get("id"), str):
                raise ValueError(f"a {c.table} change needs a string 'id' field")
        session = self._require(sid)
        meta = self._meta(sid, self._session_files(session), session.title)
        with meta.storage.batch():
            for c in changes:
                table = meta.table(c.table)
                if c.op == "delete":
                    table.remove(_by_id(c.doc["id"]))
                elif not table.update(_replace_with(c.doc), _by_id(c.doc["id"])):
                    table.insert(dict(c.doc))


def _check_table(table: str) -> None:
    if table not in SESSION_TABLES:
        raise ValueError(f"unknown session table {table!r}; known: {', '.join(SESSION_TABLES)}")


def _replace_with(doc: dict[str, Any]) -> Callable[[MutableMapping[Any, Any]], None]:
    def replace(stored: MutableMapping[Any, Any]) -> None:
        stored.clear()
        stored.update(doc)

    return replace

"""Starting from what is on disk: the index rebuilt or completed from the session folders,
interrupted deletions finished, counts reconciled after an unclean stop, schema migrations.

A read-only store does the same repairs in memory only, so what it shows is right.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from sleepchat.core.models import Session
from sleepchat.store.datadir import INDEX_NAME
from sleepchat.store.errors import StoreError, StoreWriteError
from sleepchat.store.files import Files, JsonFile
from sleepchat.store.records import SESSION_ID_RE, as_int, is_time, valid_session
from sleepchat.store.segments import META_NAME, SEGMENT_RE, Limits, SessionFiles, is_real_dir

TRASH = ".deleted-"  # a session folder on its way out
SESSION_COPY = "session"  # meta.json keeps the session record, to rebuild a lost index

# A migration upgrades a data dir from schema N-1 to N (registered under N).
Migration = Callable[[Path, TinyDB], None]


def by_id(doc_id: str) -> Any:
    return Query().id == doc_id


def get_meta(index: JsonFile, key: str, default: Any = None) -> Any:
    for doc in index.docs("meta"):
        if doc.get("key") == key:
            return doc.get("value")
    return default


def set_meta(index: JsonFile, key: str, value: Any) -> None:
    table = index.table("meta")
    if not table.update({"value": value}, Query().key == key):
        table.insert({"key": key, "value": value})


class Recovery:
    """The engine's start-up repairs (mixed into :class:`Engine`, which sets these fields)."""

    data_dir: Path
    sessions_dir: Path
    files: Files
    limits: Limits
    warn: Callable[[str], None]
    migrations: Mapping[int, Migration]
    schema_version: int
    _files: dict[str, SessionFiles]
    _seq: int

    @property
    def index(self) -> JsonFile:
        raise NotImplementedError

    def _session_docs(self) -> list[dict[str, Any]]:
        return self.index.docs("sessions")

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _open_index(self) -> JsonFile:
        path = self.data_dir / INDEX_NAME
        index, note = self.files.open_checked(path)
        if note is None and index.storage.read() is not None:
            self._adopt_orphans(index, path)
            return index
        folders = self._session_folders()
        if note is None and not folders:
            set_meta(index, "schema_version", self.schema_version)  # a new data dir
            return index
        count = self._rebuild_index(index, folders)
        what = note or f"{path} was missing"
        self.warn(f"{what}; {count} sessions were rebuilt from their folders")
        return index

    def _session_folders(self) -> list[Path]:
        with contextlib.suppress(FileNotFoundError):
            return sorted(
                p
                for p in self.sessions_dir.iterdir()
                if is_real_dir(p) and SESSION_ID_RE.match(p.name)
            )
        return []

    def _adopt_orphans(self, index: JsonFile, path: Path) -> None:
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

    def _rebuild_index(self, index: JsonFile, folders: list[Path]) -> int:
        docs = self._recover(folders)
        with index.storage.batch():
            table = index.table("sessions")
            for seq, doc in enumerate(docs, start=1):
                table.insert({**doc, "seq": seq})
            set_meta(index, "schema_version", self.schema_version)
        return len(docs)

    def _recover(self, folders: list[Path]) -> list[dict[str, Any]]:
        """Session records rebuilt from session folders, oldest first."""
        docs: list[dict[str, Any]] = []
        for folder in folders:
            sid = folder.name
            files = SessionFiles.scan(self.files, self.limits, folder, total=0)
            meta, note = self.files.open_checked(folder / META_NAME)
            if note:
                self.warn(f"{note}; the session's notes and predictions start empty")
            copy = next(iter(meta.docs(SESSION_COPY)), {})
            msgs = files.read_messages(f"session {sid}")
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
            files.meta_file = meta
            self._files[sid] = files
        docs.sort(key=lambda d: (d["updated"], d["created"]))
        return docs

    def _sweep_trash(self) -> None:
        """Finish deletions a crash interrupted, or undo those whose record was not dropped."""
        listed = {d.get("id") for d in self._session_docs()}
        with contextlib.suppress(FileNotFoundError), os.scandir(self.sessions_dir) as entries:
            trashed = [Path(e.path) for e in entries if e.name.startswith(TRASH)]
        for trash in trashed:
            sid = trash.name.removeprefix(TRASH)
            folder = self.sessions_dir / sid
            if sid in listed and not os.path.lexists(folder):
                os.rename(trash, folder)
            elif not trash.is_symlink():
                shutil.rmtree(trash, ignore_errors=True)

    def _reconcile(self) -> None:
        """After an unclean stop: counts and activity times of sessions whose message files
        changed after the index was last saved are recomputed from those files."""
        try:
            saved_at = (self.data_dir / INDEX_NAME).stat().st_mtime_ns
        except FileNotFoundError:
            saved_at = 0
        found: list[tuple[float, str, int, float]] = []
        for doc in self._session_docs():
            session = valid_session(doc)
            folder = self.sessions_dir / str(doc.get("id"))
            if session is None or not is_real_dir(folder):
                continue
            with os.scandir(folder) as entries:
                stamps = [e.stat().st_mtime_ns for e in entries if SEGMENT_RE.match(e.name)]
            if not stamps or max(stamps) < saved_at:
                continue
            files = SessionFiles.scan(self.files, self.limits, folder, total=0)
            self._files[session.id] = files
            msgs = files.read_messages(session.title)
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
                table.update(fields, by_id(sid))

    def _migrate(self) -> None:
        found = get_meta(self.index, "schema_version", 0)
        version = found if isinstance(found, int) else 0
        if version > self.schema_version:
            raise StoreError(
                f"data dir {self.data_dir} was written by a newer sleepchat (schema {version}) "
                "— upgrade sleepchat"
            )
        for target in range(version + 1, self.schema_version + 1):
            step = self.migrations.get(target)
            if step is not None:
                if self.files.read_only:
                    raise StoreError(
                        f"data dir {self.data_dir} needs an upgrade to schema {target} — start "
                        "sleepchat once with the data dir writable"
                    )
                try:
                    step(self.data_dir, self.index.db)
                except StoreError:
                    raise
                except Exception as exc:
                    raise StoreError(
                        f"upgrading data dir {self.data_dir} to schema {target} failed: {exc}"
                    ) from exc
            set_meta(self.index, "schema_version", target)

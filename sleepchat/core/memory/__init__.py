"""A session's sleep-cycle memory: notes, predictions, reflections, and the undo stack.

Every change is one atomic ``store.apply`` (the record, its undo entry and the id counters
together), and the in-memory view changes only once that write landed. A write that is
in flight when the task is cancelled still updates the view when it lands, so memory and
disk never disagree.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sleepchat.core.clock import Clock
from sleepchat.core.memory.documents import Documents
from sleepchat.core.memory.held import HeldChanges
from sleepchat.core.memory.stats import Stats, StatsRecorder
from sleepchat.core.models import (
    Change,
    Note,
    NoteEdit,
    PendingChange,
    Prediction,
    Reflection,
    ReflectionStatus,
    by_number,
    id_number,
    records_by_id,
)
from sleepchat.core.ports import StorePort
from sleepchat.core.reflection.predict_policy import PolicyState

COUNTERS_ID = "counters"  # kv document holding the next short ids
MAX_UNDO = 100  # undo records kept per session (older ones are dropped with the next op)
IdKind = Literal["n", "p", "r", "o", "c"]
OpKind = Literal["insert", "merge", "forget", "edit", "update"]


class UnknownNote(KeyError):
    """No active note with that id."""

    def __init__(self, note_id: str) -> None:
        super().__init__(note_id)
        self.note_id = note_id

    def __str__(self) -> str:
        return f"no active note '{self.note_id}'"


class Memory:
    def __init__(self, store: StorePort, session_id: str, clock: Clock) -> None:
        self.store = store
        self.session_id = session_id
        self.clock = clock
        self._notes: dict[str, Note] = {}
        self._predictions: dict[str, Prediction] = {}
        self._reflections: dict[str, Reflection] = {}
        self.held = HeldChanges(session_id, clock, self._commit, lambda: self._next_id("c"))
        self._ops: list[dict[str, Any]] = []  # the undo stack, oldest first
        self._counters: dict[str, int] = {"n": 0, "p": 0, "r": 0, "o": 0, "c": 0}
        self.recorder = StatsRecorder(store, session_id)
        self.documents = Documents(store, session_id, clock)  # files the user attached
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        sid = self.session_id

        async def table(name: str, cls: type[Any]) -> dict[str, Any]:
            return records_by_id(await self.store.load_table(sid, name), cls)

        self._notes = await table("notes", Note)
        self._predictions = await table("predictions", Prediction)
        self._reflections = await table("reflections", Reflection)
        self.held.load(await table("pending", PendingChange))
        for r in self._reflections.values():
            if r.status == "running":  # the process died mid-reflection
                r.status, r.reason = "cancelled", r.reason or "interrupted"
        ops = [
            d for d in await self.store.load_table(sid, "note_ops") if isinstance(d.get("seq"), int)
        ]
        self._ops = sorted(ops, key=lambda d: int(d["seq"]))
        kv = await self.store.load_table(sid, "kv")
        counters = next((d for d in kv if d.get("id") == COUNTERS_ID), {})
        for kind, records in (
            ("n", self._notes),
            ("p", self._predictions),
            ("r", self._reflections),
            ("o", {str(d.get("id")): d for d in self._ops}),
            ("c", self.held.changes),
        ):
            stored = counters.get(kind)
            highest = max((id_number(i) for i in records), default=0)
            self._counters[kind] = max(highest, stored if isinstance(stored, int) else 0)
        self.recorder.load_from(kv)
        await self.documents.load()

    # -- views -------------------------------------------------------------------------------
    @property
    def notes(self) -> list[Note]:
        """Active notes, oldest first."""
        return [n for n in by_number(self._notes.values()) if n.active]

    @property
    def request_notes(self) -> list[Note]:
        """The notes every request quotes: not those of a document the request quotes whole
        (it says them already)."""
        whole = {d.id for d in self.documents.all if d.whole}
        return [n for n in self.notes if n.document_id is None or n.document_id not in whole]

    @property
    def all_notes(self) -> list[Note]:
        """Every note, including forgotten and merged ones (their history stays undoable)."""
        return by_number(self._notes.values())

    def note(self, note_id: str) -> Note | None:
        return self._notes.get(note_id.strip().lower())

    @property
    def predictions(self) -> list[Prediction]:
        return by_number(self._predictions.values())

    def prediction(self, prediction_id: str) -> Prediction | None:
        return self._predictions.get(prediction_id.strip().lower())

    @property
    def reflections(self) -> list[Reflection]:
        return by_number(self._reflections.values())

    def last_reflection(self, *statuses: ReflectionStatus) -> Reflection | None:
        """The latest reflection, or the latest with one of ``statuses``."""
        for r in reversed(self.reflections):
            if not statuses or r.status in statuses:
                return r
        return None

    @property
    def can_undo(self) -> bool:
        return bool(self._ops)

    def fresh_predictions(self, current_turn: int, ttl_turns: int) -> list[Prediction]:
        """Predictions that may be served: still fresh and at most ``ttl_turns`` turns old (a
        queued question does not age: the user asked for it)."""
        return [
            p
            for p in self.predictions
            if p.status == "fresh"
            and (p.queued or current_turn - p.based_on_turn <= ttl_turns)
        ]

    # -- writing -----------------------------------------------------------------------------
    def _next_id(self, kind: IdKind) -> str:
        # Bumped before the write: an id is never handed out twice, even if a write fails.
        self._counters[kind] += 1
        return f"{kind}{self._counters[kind]}"

    async def _commit(self, changes: Sequence[Change], on_success: Callable[[], None]) -> None:
        counters = Change("kv", "upsert", {"id": COUNTERS_ID, **self._counters})
        task = asyncio.ensure_future(self.store.apply(self.session_id, [*changes, counters]))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # The write may still land (the store runs it in a thread): follow it when it does.
            def landed(t: asyncio.Future[None]) -> None:
                if not t.cancelled() and t.exception() is None:
                    on_success()

            task.add_done_callback(landed)
            raise
        on_success()

    def _edit(self, op: str, text: str, by: str, reason: str | None = None) -> dict[str, Any]:
        kind: Any = op
        return NoteEdit(at=self.clock.now(), op=kind, text=text, by=by, reason=reason).to_dict()

    def _push_op(
        self, kind: OpKind, note_ids: list[str], before: dict[str, dict[str, Any] | None], by: str
    ) -> tuple[list[Change], dict[str, Any]]:
        oid = self._next_id("o")
        doc = {
            "id": oid,
            "seq": id_number(oid),
            "kind": kind,
            "note_ids": note_ids,
            "before": before,
            "by": by,
            "at": self.clock.now(),
        }
        changes = [Change("note_ops", "upsert", doc)]
        overflow = len(self._ops) + 1 - MAX_UNDO
        changes += [
            Change("note_ops", "delete", {"id": d["id"]}) for d in self._ops[: max(0, overflow)]
        ]
        return changes, doc

    def _apply_op(self, notes: Sequence[Note], op: dict[str, Any]) -> Callable[[], None]:
        def apply() -> None:
            for n in notes:
                self._notes[n.id] = n
            self._ops.append(op)
            del self._ops[: max(0, len(self._ops) - MAX_UNDO)]

        return apply

    def _active(self, note_id: str) -> Note:
        note = self._notes.get(note_id.strip().lower())
        if note is None or not note.active:
            raise UnknownNote(note_id)
        return note

    def _new_note(
        self,
        text: str,
        source_message_ids: Sequence[str],
        by: str,
        verbatim: bool,
        reason: str | None = None,
        document_id: str | None = None,
    ) -> Note:
        now = self.clock.now()
        return Note(
            id=self._next_id("n"),
            session_id=self.session_id,
            text=text,
            created=now,
            updated=now,
            source_message_ids=list(dict.fromkeys(source_message_ids)),
            reflection_id=None if by == "user" else by,
            history=[self._edit("insert", text, by, reason)],
            verbatim=verbatim,
            document_id=document_id,
        )

    async def insert_note(
        self,
        text: str,
        source_message_ids: Sequence[str] = (),
        by: str = "user",
        *,
        verbatim: bool = False,
        document_id: str | None = None,
    ) -> Note:
        text = text.strip()
        if not text:
            raise ValueError("a note cannot be empty")
        async with self._lock:
            note = self._new_note(
                text, source_message_ids, by, verbatim, document_id=document_id
            )
            changes, op = self._push_op("insert", [note.id], {note.id: None}, by)
            await self._commit(
                [Change("notes", "upsert", note.to_dict()), *changes], self._apply_op([note], op)
            )
        return note

    async def replace_note(
        self,
        old_id: str,
        text: str,
        reason: str,
        source_message_ids: Sequence[str] = (),
        by: str = "user",
        *,
        verbatim: bool = False,
    ) -> Note:
        """A correction, in one step: a new note with the corrected text, and the old one
        forgotten with ``reason`` (one undo brings the old one back and removes the new)."""
        text = text.strip()
        if not text:
            raise ValueError("a note cannot be empty")
        async with self._lock:
            old = self._active(old_id)
            note = self._new_note(text, source_message_ids, by, verbatim, f"replaces {old.id}")
            retired = self._forgotten(old, f"{reason.strip() or 'corrected'} ({note.id})", by)
            changes, op = self._push_op(
                "update", [old.id, note.id], {old.id: old.to_dict(), note.id: None}, by
            )
            await self._commit(
                [
                    Change("notes", "upsert", note.to_dict()),
                    Change("notes", "upsert", retired.to_dict()),
                    *changes,
                ],
                self._apply_op([note, retired], op),
            )
        return note

    def _forgotten(self, old: Note, reason: str, by: str) -> Note:
        return dataclasses.replace(
            old,
            active=False,
            updated=self.clock.now(),
            history=[*old.history, self._edit("forget", old.text, by, reason.strip() or None)],
        )

    async def forget_note(self, note_id: str, reason: str = "", by: str = "user") -> Note:
        """Soft: the note leaves the prompt but stays on record, and ``undo`` brings it back."""
        forgotten = await self.forget_notes([(note_id, reason)], by)
        return forgotten[0]

    async def forget_notes(self, removals: Sequence[tuple[str, str]], by: str) -> list[Note]:
        """Forget several notes (id, reason) as one step: one undo brings them all back."""
        async with self._lock:
            olds = list({n.id: n for n in (self._active(i) for i, _ in removals)}.values())
            reasons = {self._active(i).id: r for i, r in removals}
            notes = [self._forgotten(old, reasons[old.id], by) for old in olds]
            before: dict[str, dict[str, Any] | None] = {o.id: o.to_dict() for o in olds}
            changes, op = self._push_op("forget", [o.id for o in olds], before, by)
            await self._commit(
                [*(Change("notes", "upsert", n.to_dict()) for n in notes), *changes],
                self._apply_op(notes, op),
            )
        return notes

    async def edit_note(self, note_id: str, text: str, by: str = "user") -> Note:
        text = text.strip()
        if not text:
            raise ValueError("a note cannot be empty")
        async with self._lock:
            old = self._active(note_id)
            note = dataclasses.replace(
                old,
                text=text,
                updated=self.clock.now(),
                history=[*old.history, self._edit("edit", text, by)],
            )
            changes, op = self._push_op("edit", [old.id], {old.id: old.to_dict()}, by)
            await self._commit(
                [Change("notes", "upsert", note.to_dict()), *changes], self._apply_op([note], op)
            )
        return note

    async def undo(self) -> str | None:
        """Revert the last note operation (any kind, by anyone). Returns a one-line description,
        or None when there is nothing to undo."""
        async with self._lock:
            if not self._ops:
                return None
            op = self._ops[-1]
            kind = str(op.get("kind"))
            before: dict[str, Any] = op.get("before") or {}
            restored: list[Note] = []
            removed: list[str] = []
            for nid, snapshot in before.items():
                current = self._notes.get(nid)
                if snapshot is None:
                    if current is not None:
                        removed.append(nid)
                    continue
                note = Note.from_dict(copy.deepcopy(snapshot))
                note.updated = self.clock.now()
                # The history keeps what happened, including the undone step and its undoing.
                history = current.history if current is not None else note.history
                note.history = [*history, self._edit("restore", note.text, "user", f"undo {kind}")]
                restored.append(note)
            changes = [Change("notes", "upsert", n.to_dict()) for n in restored]
            changes += [Change("notes", "delete", {"id": nid}) for nid in removed]
            changes.append(Change("note_ops", "delete", {"id": op["id"]}))

            def apply() -> None:
                for nid in removed:
                    self._notes.pop(nid, None)
                for n in restored:
                    self._notes[n.id] = n
                if self._ops and self._ops[-1] is op:
                    self._ops.pop()

            await self._commit(changes, apply)
        ids = [str(i) for i in op.get("note_ids") or []]
        if kind == "insert":
            return f"undid insert of {', '.join(ids)} (note removed)"
        if kind == "merge":  # stored by builds that merged notes: still undoable
            sources = ", ".join(ids[:-1])
            target = ids[-1] if ids else "?"
            return f"undid merge of {sources} into {target} ({sources} restored)"
        if kind == "forget":
            what = "notes" if len(ids) > 1 else "note"
            return f"undid forget of {', '.join(ids)} ({what} restored)"
        if kind == "update" and len(ids) == 2:
            return f"undid update of {ids[0]} by {ids[1]} ({ids[0]} restored, {ids[1]} removed)"
        return f"undid {kind} of {', '.join(ids)} (text restored)"

    # -- predictions -------------------------------------------------------------------------
    async def save_prediction(self, prediction: Prediction) -> Prediction:
        """Store a prediction (a new one gets the next "pN" id when its id is empty)."""
        p = dataclasses.replace(
            prediction,
            id=prediction.id or self._next_id("p"),
            session_id=self.session_id,
        )
        await self._save_prediction(p)
        return p

    async def _save_prediction(self, p: Prediction, **extra: Any) -> None:
        def apply() -> None:
            self._predictions[p.id] = p

        await self._commit([Change("predictions", "upsert", {**p.to_dict(), **extra})], apply)

    def _known_prediction(self, prediction_id: str) -> Prediction:
        p = self._predictions.get(prediction_id.strip().lower())
        if p is None:
            raise KeyError(f"no prediction '{prediction_id}'")
        return p

    async def update_prediction(self, prediction_id: str, **changes: Any) -> Prediction:
        """Store a changed prediction: its answer filled in, or moved on by a re-validation."""
        p = dataclasses.replace(self._known_prediction(prediction_id), **changes)
        await self._save_prediction(p)
        return p

    async def mark_served(self, prediction_id: str) -> Prediction:
        p = dataclasses.replace(self._known_prediction(prediction_id), status="served")
        await self._save_prediction(p)
        return p

    async def drop_prediction(
        self, prediction_id: str, reason: str, status: Literal["dropped", "stale"] = "dropped"
    ) -> Prediction:
        p = dataclasses.replace(self._known_prediction(prediction_id), status=status)
        await self._save_prediction(p, drop_reason=reason)
        return p

    # -- reflections -------------------------------------------------------------------------
    async def save_reflection(self, reflection: Reflection) -> Reflection:
        """Store (or update) a reflection; a new one gets the next "rN" id when its id is empty."""
        r = dataclasses.replace(
            reflection, id=reflection.id or self._next_id("r"), session_id=self.session_id
        )

        def apply() -> None:
            # A copy: a caller mutating its record must not change memory behind the store.
            self._reflections[r.id] = dataclasses.replace(r)

        await self._commit([Change("reflections", "upsert", r.to_dict())], apply)
        return r

    # -- removals held for confirmation ------------------------------------------------------
    async def confirm_change(self, change_id: str, by: str = "user") -> list[Note]:
        """Apply held removals (of the notes still active; undo brings them back)."""
        change = self.held.get(change_id)
        wanted = [(str(r.get("note_id")), str(r.get("reason") or "")) for r in change.removals]
        active = [(i, r) for i, r in wanted if (n := self.note(i)) is not None and n.active]
        removed = await self.forget_notes(active, by) if active else []
        await self.held.settle(change, "confirmed")
        return removed

    # -- stats: the recorder counts them (memory.recorder.record_hit(...), ...) -------------
    @property
    def stats(self) -> Stats:
        """This session's stats."""
        return self.recorder.session

    @property
    def policy(self) -> PolicyState:
        """The prediction policy's record for this session (recent outcomes)."""
        return self.recorder.policy

"""Plain data records of the core. Stored as dicts (``to_dict``/``from_dict``) by the store."""

from __future__ import annotations

import dataclasses
import functools
import secrets
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Role = Literal["user", "assistant"]
# "user" for typed messages; "model" for generated replies; "prediction" for a reply served
# from a precomputed answer.
Source = Literal["user", "model", "prediction"]
Cut = Literal["length", "repetition"]

T = TypeVar("T")


def new_id(prefix: str = "", nbytes: int = 4) -> str:
    """Short random id; short because users type session ids."""
    return prefix + secrets.token_hex(nbytes)


def _type_ok(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's annotation (ints count as floats, bools as neither)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (bool, str):
        return isinstance(value, hint)
    return True


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a dataclass from a dict, ignoring unknown keys (forward compatible files).

    Raises TypeError for a missing field or a value of the wrong type: stored files can be
    damaged or hand-edited, and a wrong type must not travel on to crash a sort or a render.
    """
    hints = _hints(typing.cast(Any, cls))
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kept = {k: v for k, v in data.items() if k in names}
    for key, value in kept.items():
        if not _type_ok(value, hints[key]):
            raise TypeError(f"{cls.__name__}.{key} has the wrong type ({type(value).__name__})")
    return cls(**kept)


def tolerant_from_dict(cls: type[T], data: Any) -> T:
    """A record from a dict that may be damaged, for records that must never break a session
    (counts, the prediction policy's evidence): a missing field, or one of the wrong type, takes
    its default; a list keeps the items that fit; a whole number stored as a float is read as
    the int it is. The same type rules as ``from_dict`` (one checker for every record)."""
    if not isinstance(data, dict):
        return cls()
    hints = _hints(typing.cast(Any, cls))
    kept: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value, hint = data[f.name], hints[f.name]
        if typing.get_origin(hint) is list and isinstance(value, list):
            (item,) = typing.get_args(hint)
            value = [v for v in value if _type_ok(v, item)]
        elif hint is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif hint is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if _type_ok(value, hint):
            kept[f.name] = value
    return cls(**kept)


def id_number(record_id: str) -> int:
    """The number in a short id ("n12" -> 12); 0 for anything else (sorts first)."""
    digits = record_id[1:]
    return int(digits) if digits.isdigit() else 0


def records_by_id(docs: Iterable[dict[str, Any]], cls: type[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for doc in docs:
        try:
            record = cls.from_dict(doc)
        except TypeError:  # a damaged document must not take the session down with it
            continue
        if isinstance(record.id, str):
            out[record.id] = record
    return out


def by_number(records: Iterable[Any]) -> list[Any]:
    return sorted(records, key=lambda r: id_number(r.id))


class Record:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return _from_dict(cls, data)


class TolerantRecord(Record):
    """A record that must never break a session (counts, evidence): read tolerantly."""

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        return tolerant_from_dict(cls, data)


@dataclass
class Session(Record):
    id: str
    title: str
    created: float
    updated: float
    message_count: int = 0
    # The session's own model, system prompt and model options (core/profile.py); unset: the
    # configured ones. Data dirs from before them read as unset.
    model: str | None = None
    system_prompt: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Written in a private run: never consolidated into the user's memory.
    private: bool = False
    # Where an imported session came from ("chatgpt:ID", "sleepchat:ID"); None: made here.
    source: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """A stored message that contains the searched text."""

    session_id: str
    session_title: str
    message_id: str
    role: Role
    created: float
    text: str  # the whole message; front ends show the matching line


@dataclass
class Message(Record):
    id: str
    session_id: str
    role: Role
    content: str
    created: float
    source: Source = "user"
    model: str | None = None
    prediction_id: str | None = None
    reflection_id: str | None = None
    interrupted: bool = False
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # From the question's arrival: matching it against the predictions (and a judge's turn)
    # is part of the wait the user sees.
    ttft_ms: float | None = None
    total_ms: float | None = None
    # Set on a reply regenerated (the new reply's id) or a branch edited away (the new
    # question's id): kept on record, left out of prompts.
    replaced_by: str | None = None
    # Why a complete reply stopped short: the token cap ("length") or a loop ("repetition").
    cut: Cut | None = None
    # The items of the user's memory its request quoted (ids "u3"): what it could draw on.
    memory_ids: list[str] = field(default_factory=list)


@dataclass
class NoteEdit(Record):
    """One step in a note's history: what the text was set to, when, by what."""

    at: float
    op: Literal["insert", "merge", "edit", "forget", "restore"]
    text: str
    by: str  # reflection id, or "user"
    reason: str | None = None


@dataclass
class Note(Record):
    id: str
    session_id: str
    text: str
    created: float
    updated: float
    source_message_ids: list[str] = field(default_factory=list)
    reflection_id: str | None = None
    active: bool = True
    merged_from: list[str] = field(default_factory=list)
    merged_into: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # NoteEdit dicts
    # The user's own words, kept as said when the model gave no usable fact for them.
    verbatim: bool = False
    # Taken from this attached document: the note is its passage, as the file says it.
    document_id: str | None = None


@dataclass
class Prediction(Record):
    id: str
    session_id: str
    question: str
    # The precomputed answer; "" while only the question is predicted (not served, shown).
    answer: str
    created: float
    reflection_id: str
    # The last message of the conversation this prediction's answer accounts for (moved on
    # when a later reflection re-validates it) and the user turns at that point.
    based_on_message_id: str | None
    based_on_turn: int = 0
    status: Literal["fresh", "served", "dropped", "stale"] = "fresh"
    answer_tokens: int | None = None
    embedding: list[float] | None = None
    embed_model: str | None = None  # the model that made ``embedding``
    revised_from: str | None = None
    validated_by: str | None = None  # the reflection that last re-validated it (kept it)
    # A question the user queued with /later: answered in the next idle period whatever the
    # prediction policy says, never expired by turn count (stale still, when the talk moves on).
    queued: bool = False
    # A follow-up intent on the last answer (``core/recall/followups.py``) whose canonical
    # request this answers: served only to a message that is that intent, never by the general
    # matcher.
    intent: str | None = None
    # An answer cut short while idle (a key, the idle period's budget): what it had, never
    # served, continued by the next idle period from where it stopped instead of restarted.
    partial: str = ""
    partial_tokens: int = 0
    partial_prompt: str = ""  # a digest of the request it answers: continued only under it
    # Its answer left for the next idle period: this one had no room for it (its plan).
    deferred: bool = False
    # The attached document (its id) whose study made it: its summary, how to install or use
    # it. Unlike an operation on the last answer it outlives the next message, re-validated
    # like any prediction, and a question that names the file is served it later too.
    document: str | None = None


@dataclass
class Document(Record):
    """A file the user attached to the session: what the prompt holds of it, and how much that
    is of the whole (a file larger than the room for documents is never cut silently)."""

    id: str  # "d1", "d2"... in the order attached
    session_id: str
    name: str  # the file's name, as shown and quoted to the model
    text: str  # what the prompt holds: the whole file, or its first part
    tokens: int  # estimated, of ``text``
    total_tokens: int  # estimated, of the whole file
    added: float
    after_message_id: str | None = None  # the conversation's last message when it was attached
    # The whole file, when it is longer than what the system message quotes: each question
    # then gets the sections of it most related to the question (memory/doc_sections.py).
    source: str | None = None
    # Of such a file, what idle time found each section says, in order (one line per section
    # studied so far; "" where the line was not kept): what a summary of it is made from.
    outline: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return self.tokens >= self.total_tokens


@dataclass
class PendingChange(Record):
    """Removals a reflection proposed but may not apply alone: more notes than a reflection
    removes unasked. Each removal is ``{"note_id", "reason"}``; the user confirms or rejects."""

    id: str
    session_id: str
    reflection_id: str
    created: float
    removals: list[dict[str, Any]] = field(default_factory=list)
    status: Literal["pending", "confirmed", "rejected"] = "pending"


ReflectionStatus = Literal["running", "done", "cancelled", "skipped", "failed"]


@dataclass
class Reflection(Record):
    id: str
    session_id: str
    state_key: str
    started: float
    status: ReflectionStatus = "running"
    finished: float | None = None
    notes_changed: int = 0
    predictions: int = 0
    tokens: int = 0
    wasted_tokens: int = 0  # of ``tokens``, generated and thrown away (never stored to use)
    ms: float = 0.0
    reason: str | None = None
    # Steps finished, in order ("warm-up", "revalidate", "notes", "questions", "answers"):
    # what a reflection cut short still left behind.
    steps: list[str] = field(default_factory=list)
    # The work planned for the idle period from the model's measured speed (None: not
    # measured yet), and whether it left answers for the next idle period to go on with.
    plan: str | None = None
    more: bool = False


@dataclass(frozen=True)
class Change:
    """One change to a session table, keyed by the document's ``id`` field."""

    table: str
    op: Literal["upsert", "delete"]
    doc: dict[str, Any]

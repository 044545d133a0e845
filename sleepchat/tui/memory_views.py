"""The memory panel's contents: notes (with provenance and history), predictions, the
reflection log and stats. Mounted after the first frame (see ``memory_panel``).

It only displays, from the core's events; the panel (``memory_panel``) acts on the notes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from sleepchat.core.memory.doc_sections import studied
from sleepchat.core.memory.staleness import shown_state
from sleepchat.core.models import Document, Note, PendingChange, Prediction, Reflection
from sleepchat.text import terminal_safe, when

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.events import MemoryChanged
    from sleepchat.core.memory.user_memory import MemoryItem


# The predictions list: served at once, waiting for its answer step, or made before what was said.
MARKS = {"fresh": "● ", "question only": "◌ question only · ", "stale": "○ stale · "}
# A question the user queued: ready, waiting for the next idle period, or to be answered again.
QUEUED_MARKS = {
    "fresh": "● queued · ",
    "question only": "◌ queued, waiting · ",
    "stale": "○ queued, answered again next · ",
}


def _one_line(text: str, width: int = 200) -> str:
    line = " ".join(terminal_safe(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


class NoteList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit note"),
        Binding("d,delete", "forget", "Forget note"),
        Binding("u", "undo", "Undo"),
    ]

    @dataclass
    class Act(Message):
        action: str  # "edit" | "forget" | "undo"
        note_id: str | None

    @property
    def highlighted_id(self) -> str | None:
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id

    def action_edit(self) -> None:
        self.post_message(self.Act("edit", self.highlighted_id))

    def action_forget(self) -> None:
        self.post_message(self.Act("forget", self.highlighted_id))

    def action_undo(self) -> None:
        self.post_message(self.Act("undo", None))


class PendingBar(Vertical):
    """A reflection's held removals (more notes than it may remove alone): what it wants to
    remove and why, with buttons to remove them or keep them. Hidden when nothing waits."""

    @dataclass
    class Settle(Message):
        change_id: str
        confirm: bool

    def __init__(self) -> None:
        super().__init__(id="pending")
        self.change_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="pending-text", classes="detail")
        with Horizontal(id="pending-buttons"):
            yield Button("Remove them", id="pending-confirm", variant="warning", compact=True)
            yield Button("Keep them", id="pending-reject", compact=True)

    def show(self, pending: Sequence[PendingChange], notes: Sequence[Note]) -> None:
        self.display = bool(pending)
        if not pending:
            self.change_id = None
            return
        change = pending[0]
        self.change_id = change.id
        by_id = {n.id: n for n in notes}
        lines = [f"Reflection {change.reflection_id} wants to remove {len(change.removals)} notes:"]
        for r in change.removals[:8]:
            note = by_id.get(str(r.get("note_id")))
            text = _one_line(note.text, 60) if note else str(r.get("note_id"))
            why = f" — {_one_line(str(r.get('reason')), 60)}" if r.get("reason") else ""
            lines.append(f"• {text}{why}")
        if len(change.removals) > 8:
            lines.append(f"… and {len(change.removals) - 8} more")
        if len(pending) > 1:
            lines.append(f"({len(pending) - 1} more change(s) wait after this one)")
        self.query_one("#pending-text", Static).update(Content(terminal_safe("\n".join(lines))))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.change_id is not None:
            self.post_message(self.Settle(self.change_id, event.button.id == "pending-confirm"))


class PredictionList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("u", "undo", "Undo", show=False)]

    def action_undo(self) -> None:
        self.post_message(NoteList.Act("undo", None))


class RememberedList(NoteList):
    """The user's memory across sessions: the same keys as notes (edit, forget, undo)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit fact"),
        Binding("d,delete", "forget", "Forget fact"),
        Binding("u", "undo", "Undo"),
    ]


def remembered_line(item: MemoryItem, quoted: bool) -> str:
    mark = "● " if quoted else "  "
    day = when(item.said if item.said is not None else item.updated)[:10]
    return f"{mark}{_one_line(item.text, 200)} · {day}"


def remembered_detail(item: MemoryItem, quoted: bool) -> Content:
    """Scope, source and age of one item of the user's memory, and its earlier values."""
    lines = [item.text, ""]
    if item.kind == "event":
        lines.append(f"Something in your life you mentioned on {when(item.said)[:10]}")
    else:
        lines.append("A standing fact about you")
    lines.append(
        f"Scope: all your sessions. Learnt in session {item.session_id} "
        f"(messages {', '.join(item.message_ids) or '?'}), {when(item.created)}; "
        f"changed {when(item.updated)}"
    )
    lines.append(
        "Quoted in this session's requests now."
        if quoted
        else "Not quoted now: the most related facts are chosen as a session opens and while idle."
    )
    if item.history:
        lines.append("Earlier values:")
        lines += [
            f"  until {when(h.get('until'))}: {_one_line(str(h.get('text', '')), 80)}"
            for h in item.history
        ]
    lines.append("e edits, d forgets, u undoes; `sleepchat memory list` shows it all.")
    return Content(terminal_safe("\n".join(lines)))


class DocumentList(OptionList):
    """The session's attached documents: d (or Delete) detaches the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("d,delete", "detach", "Detach")]

    @dataclass
    class Detach(Message):
        document_id: str

    def action_detach(self) -> None:
        if self.highlighted is not None and self.option_count:
            option_id = self.get_option_at_index(self.highlighted).id
            if option_id is not None:
                self.post_message(self.Detach(option_id))


def document_line(doc: Document) -> str:
    if doc.whole:
        size = f"{doc.tokens:,} tokens"
    else:
        size = f"first {doc.tokens:,} of {doc.total_tokens:,} tokens"
        size += " + sections per question" if doc.source else ""
    if (progress := studied(doc)) is not None:
        size += f" · studied {progress[0]}/{progress[1]} parts"
    return f"{doc.id}  {_one_line(doc.name, 60)} · {size}"


def document_detail(doc: Document) -> str:
    lines = [f"{doc.name} ({doc.id}), attached {when(doc.added)}"]
    if doc.whole:
        lines.append(f"Every request quotes all of it: about {doc.tokens:,} tokens.")
    else:
        lines.append(
            f"About {doc.total_tokens:,} tokens, more than the room for documents: "
            f"every request quotes its first {doc.tokens:,}"
            + (", and each question the sections of the rest it is about." if doc.source else ".")
        )
    if (progress := studied(doc)) is not None:
        done, parts = progress
        lines.append(
            f"Idle time has studied {done} of its {parts} parts"
            + (": a summary of it is made from what each says." if done else ".")
        )
        lines += [f"  {n}. {line}" for n, line in enumerate(doc.outline, 1) if line]
    lines.append("d detaches it (/detach in scripts).")
    return terminal_safe("\n".join(lines))


class NoteEditor(Input):
    """Edits a note in place: Enter saves, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel edit")]

    @dataclass
    class Done(Message):
        note_id: str
        text: str | None  # None: cancelled

    def __init__(self) -> None:
        super().__init__(id="note-editor", compact=True, select_on_focus=False)
        self.note_id: str | None = None

    def start(self, note: Note | MemoryItem) -> None:
        self.note_id = note.id
        self.value = note.text
        self.display = True
        self.focus()
        self.cursor_position = len(self.value)

    def _finish(self, text: str | None) -> None:
        note_id, self.note_id = self.note_id, None
        self.display = False
        if note_id is not None:
            self.post_message(self.Done(note_id, text))

    def action_cancel(self) -> None:
        self._finish(None)

    async def action_submit(self) -> None:
        self._finish(self.value)


def note_line(note: Note) -> str:
    """A note in the list: quoted when it is words kept as said (typed, or a file's passage)."""
    if note.document_id is not None:
        return f"“{note.text}” ({note.document_id})"
    return f"“{note.text}”" if note.verbatim else note.text


def note_detail(note: Note, assistant: Assistant | None) -> Content:
    """Provenance (messages, reflection) and the edit history of one note."""
    lines = [note.text, ""]
    by_id = {m.id: m for m in (assistant.history if assistant else [])}
    if note.source_message_ids:
        lines.append("From messages:")
        for mid in note.source_message_ids:
            m = by_id.get(mid)
            said = f"{m.role}: {_one_line(m.content, 60)}" if m else "(not in this session)"
            lines.append(f"  {mid}: {said}")
    lines.append(f"Reflection: {note.reflection_id or 'added by you'}")
    if note.document_id is not None:
        docs = {d.id: d.name for d in (assistant.documents if assistant else [])}
        name = docs.get(note.document_id, f"{note.document_id}, detached since")
        lines.append(f"From the attached document {name}: its own words, a passage of it")
    elif note.verbatim:
        lines.append("Your words, kept as you wrote them (the model gave no usable fact for them)")
    created, updated = when(note.created, clock_only=True), when(note.updated, clock_only=True)
    lines.append(f"Created {created}, updated {updated}")
    if note.history:
        lines.append("History:")
        for h in note.history:
            reason = f" — {h.get('reason')}" if h.get("reason") else ""
            lines.append(
                f"  {when(h.get('at'), clock_only=True)} {h.get('op')} by {h.get('by')}{reason}: "
                f"{_one_line(str(h.get('text', '')), 60)}"
            )
    return Content(terminal_safe("\n".join(lines)))


def stats_text(stats: Any) -> str:
    if stats is None:
        return "no stats yet"
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        items = dataclasses.asdict(stats).items()
    else:
        items = vars(stats).items()
    lines = []
    for key, value in items:
        if isinstance(value, float):
            value = f"{value:,.1f}"
        lines.append(f"{key.replace('_', ' ')}: {value}")
    return "\n".join(lines)


def reflection_line(r: Reflection) -> str:
    extra = f" — {r.reason}" if r.reason else ""
    extra += f" — planned {r.plan}" if r.plan else ""
    extra += " — more next idle period" if r.more else ""
    if r.status == "running":
        so_far = f" {r.notes_changed} notes, {r.predictions} predictions" if r.tokens else ""
        return f"{when(r.started, clock_only=True)} {r.id} reflecting…{so_far}"
    return (
        f"{when(r.started, clock_only=True)} {r.id} {r.status}: {r.notes_changed} notes, "
        f"{r.predictions} predictions, {r.tokens} tok, {r.ms / 1000:.1f}s{extra}"
    )


class MemoryBody(Vertical):
    """Views of the assistant's memory, updated from the core's events (never read back)."""

    def __init__(self) -> None:
        super().__init__(id="memory-body")
        self.notes: list[Note] = []
        self.predictions: list[Prediction] = []
        self.fresh_ids: frozenset[str] = frozenset()
        self.assistant: Assistant | None = None  # for a note's provenance (its messages)
        self.remembered: list[MemoryItem] = []
        self.documents: list[Document] = []
        self.quoted: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="tab-notes"):
            with TabPane("Notes", id="tab-notes"):
                yield PendingBar()
                yield NoteList(id="notes")
                yield NoteEditor()
                yield Static(id="note-detail", classes="detail")
            with TabPane("You", id="tab-remembered"):
                yield RememberedList(id="remembered")
                yield Static(id="remembered-detail", classes="detail")
            with TabPane("Docs", id="tab-documents"):
                yield DocumentList(id="documents")
                yield Static(id="document-detail", classes="detail")
            with TabPane("Next", id="tab-predictions"):
                yield PredictionList(id="predictions")
                yield Static(id="prediction-detail", classes="detail")
            with TabPane("Log", id="tab-log"):
                yield Static(id="reflections", classes="detail")
            with TabPane("Stats", id="tab-stats"):
                yield Static(id="stats", classes="detail")

    def show_tab(self, tab: str) -> None:
        """Switch to ``tab`` ("notes" or "predictions") and focus its list."""
        self.query_one(TabbedContent).active = f"tab-{tab}"
        self.query_one(f"#{tab}").focus()

    @property
    def note_list(self) -> NoteList:
        return self.query_one(NoteList)

    @property
    def editor(self) -> NoteEditor:
        return self.query_one(NoteEditor)

    def on_mount(self) -> None:
        # query, not query_one: quitting during start-up can remove the children first
        for widget in [*self.query(NoteEditor), *self.query(PendingBar)]:
            widget.display = False

    def show_memory(self, event: MemoryChanged) -> None:
        """Notes, predictions and stats as the event carries them; a list is rebuilt only
        when what it shows changed."""
        notes = list(event.notes)
        shown = [p for p in event.predictions]
        shown.sort(key=lambda p: (p.id not in event.fresh_ids, -p.created))
        notes_changed = [(n.id, n.text, n.verbatim) for n in notes] != [
            (n.id, n.text, n.verbatim) for n in self.notes
        ]
        preds_changed = [(p.id, p.id in event.fresh_ids) for p in shown] != [
            (p.id, p.id in self.fresh_ids) for p in self.predictions
        ]
        self.notes, self.predictions, self.fresh_ids = notes, shown, event.fresh_ids
        self.query_one(PendingBar).show(event.pending, notes)
        if notes_changed:
            # Words kept as said (the model gave nothing usable; a file's passages): quoted.
            options = [Option(Content(_one_line(note_line(n), 300)), id=n.id) for n in notes]
            self._fill(self.query_one(NoteList), options)
        if preds_changed:
            options = [
                Option(
                    Content(
                        (QUEUED_MARKS if p.queued else MARKS)[shown_state(p, event.fresh_ids)]
                        + ("your follow-up · " if p.intent else "")
                        + _one_line(p.question)
                    ),
                    id=p.id,
                )
                for p in shown
            ]
            self._fill(self.query_one(PredictionList), options)
        self._show_remembered(event)
        self._show_documents(event)
        if not notes:
            self._detail("#note-detail", "No notes yet. sleepchat writes them while you are idle.")
        elif notes_changed:
            self._note_detail()
        if not shown:
            self._detail(
                "#prediction-detail", "No predicted questions yet. They appear after a reflection."
            )
        tab = self.query_one(TabbedContent)
        tab.get_tab("tab-notes").label = f"Notes {len(notes)}"
        tab.get_tab("tab-predictions").label = f"Next {len(event.fresh_ids)}"
        self.query_one("#stats", Static).update(Content(stats_text(event.stats)))

    def _show_remembered(self, event: MemoryChanged) -> None:
        items, quoted = list(event.remembered), event.quoted
        shown = [(i.id, i.text, i.id in quoted) for i in items]
        if shown != [(i.id, i.text, i.id in self.quoted) for i in self.remembered]:
            self.remembered, self.quoted = items, quoted
            lines = [Option(Content(remembered_line(i, i.id in quoted)), id=i.id) for i in items]
            self._fill(self.query_one(RememberedList), lines)
            self._remembered_detail()
        if not items:
            self._detail(
                "#remembered-detail",
                "Nothing remembered about you yet: facts you state are kept while you are idle "
                "(not in a private run, not with memory.enabled: false).",
            )
        tab = self.query_one(TabbedContent)
        tab.get_tab("tab-remembered").label = f"You {len(items)}"

    def _show_documents(self, event: MemoryChanged) -> None:
        docs = list(event.documents)
        if [(d.id, d.tokens) for d in docs] != [(d.id, d.tokens) for d in self.documents]:
            self.documents = docs
            lines = [Option(Content(document_line(d)), id=d.id) for d in docs]
            self._fill(self.query_one(DocumentList), lines)
            self._document_detail()
        if not docs:
            self._detail(
                "#document-detail",
                "No documents attached. /attach PATH, Alt+A with a path in the box, or -f PATH.",
            )
        self.query_one(TabbedContent).get_tab("tab-documents").label = f"Docs {len(docs)}"

    def _document_detail(self) -> None:
        documents = self.query_one(DocumentList)
        if documents.highlighted is None or not self.documents:
            return
        doc = self.documents[min(documents.highlighted, len(self.documents) - 1)]
        self._detail("#document-detail", document_detail(doc))

    def _remembered_detail(self) -> None:
        found = self.remembered_item(self.query_one(RememberedList).highlighted_id)
        if found is not None:
            self._detail("#remembered-detail", remembered_detail(found, found.id in self.quoted))

    def remembered_item(self, item_id: str | None) -> MemoryItem | None:
        return next((i for i in self.remembered if i.id == item_id), None)

    def show_log(self, reflections: Sequence[Reflection]) -> None:
        log = [reflection_line(r) for r in reversed(reflections[-50:])]
        text = "\n".join(log) or "No reflections yet. One starts after the idle time."
        self.query_one("#reflections", Static).update(Content(text))

    @staticmethod
    def _fill(options: OptionList, items: list[Option]) -> None:
        keep = options.highlighted
        options.clear_options()
        options.add_options(items)
        if items:
            options.highlighted = min(keep or 0, len(items) - 1)

    def _detail(self, widget: str, text: str | Content) -> None:
        self.query_one(widget, Static).update(text if isinstance(text, Content) else Content(text))

    def _note_detail(self) -> None:
        notes = self.query_one(NoteList)
        note = self.note(notes.highlighted_id)
        if note is not None:
            self._detail("#note-detail", note_detail(note, self.assistant))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_list.id == "notes":
            self._note_detail()
        elif event.option_list.id == "remembered":
            self._remembered_detail()
        elif event.option_list.id == "documents":
            self._document_detail()
        elif event.option_list.id == "predictions":
            pred = next((p for p in self.predictions if p.id == event.option.id), None)
            if pred is not None:
                text = (
                    f"{pred.question}\n\nPrecomputed answer ({pred.id}, reflection "
                    f"{pred.reflection_id}, status {pred.status}):\n"
                    f"{_one_line(pred.answer, 400)}\n\n"
                    "Enter asks it."
                )
                self._detail("#prediction-detail", Content(terminal_safe(text)))

    def note(self, note_id: str | None) -> Note | None:
        return next((n for n in self.notes if n.id == note_id), None)

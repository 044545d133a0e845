"""Step A of a reflection: notes, facts first, in steps a small model can do.

1. extract the facts and decisions stated in the newest user messages (``facts``), keeping the
   user's own sentences verbatim where the model gave nothing usable for them;
2. decide per fact against the few stored notes most like it: insert it, let it replace a note
   it corrects (the old one is forgotten with the reason), or skip it as already known. Clear
   cases are decided by rule; the model is asked only about the rest, one fact at a time, and
   never sees the whole store;
3. apply within caps: a reflection removes at most ``FEW_REMOVALS`` notes by itself; one that
   would remove more stores its removals as a pending change for the user to confirm.

Model output is data: only what passes the schema, the per-item checks and the quality gate
is applied, so text that tries to instruct the reflector can do no more than a few capped,
undoable operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from sleepchat.core.models import Message, Note
from sleepchat.core.reflection import quality
from sleepchat.core.reflection.facts import (
    Dropped,
    Fact,
    Facts,
    extraction_instructions,
    from_model,
    from_user,
)
from sleepchat.core.reflection.reflect_run import Run, finished_strings
from sleepchat.text import clip

MAX_NOTE_CHARS = 300
MAX_NEW_NOTES = 8  # notes one reflection may add
FEW_REMOVALS = 3  # notes one reflection may remove without asking
MAX_HELD = 20  # removals one reflection may propose at all
EXTRACT_TOKENS = 250  # token ceiling of the extraction request (the budget may lower it)
DECIDE_TOKENS = 24  # and of one decision
MAX_DECISIONS = 3  # decisions asked of the model per reflection (each is a request)
CANDIDATES = 3  # stored notes shown with a fact
CANDIDATE_MIN = 0.3  # the share of words a stored note must share with a fact to be shown
NEWEST_MESSAGES = 6  # user messages read per reflection, newest last

Action = Literal["insert", "replace", "skip"]


class Decision(BaseModel):
    decision: Literal["new", "same", "replaces"]
    id: str = ""  # unbounded on purpose: checked against the notes shown, not by the schema


@dataclass
class Planned:
    fact: Fact
    action: Action
    target: Note | None = None


def newest_user_messages(run: Run) -> list[Message]:
    """The user messages since the last finished reflection."""
    last = run.memory.last_reflection("done")
    since = last.started if last is not None else float("-inf")
    # Strictly after: the history a reflection sees was taken before it started.
    fresh = [m for m in run.history if m.role == "user" and m.created > since and m.content]
    return fresh[-NEWEST_MESSAGES:]


def overlap(a: str, b: str) -> float:
    """How much two statements share: words and values over the shorter one's."""
    wa = quality.words(a) | quality.values(a)
    wb = quality.words(b) | quality.values(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def candidates(fact: Fact, notes: Sequence[Note]) -> list[Note]:
    """The few stored notes a fact must be decided against (similarity picks them)."""
    scored = [(overlap(fact.text, n.text), n) for n in notes]
    scored = [
        (s, n) for s, n in scored if s >= CANDIDATE_MIN or quality.corrects(fact.text, n.text)
    ]
    scored.sort(key=lambda sn: -sn[0])
    return [n for _s, n in scored[:CANDIDATES]]


def known(fact: Fact, note: Note) -> bool:
    """The note already says it: every value of the fact, and most of its words."""
    if not quality.values(fact.text) <= quality.values(note.text):
        return False
    return quality.shared_share(fact.text, [note.text]) >= 0.8


def by_rule(fact: Fact, shown: Sequence[Note]) -> Planned | None:
    for note in shown:
        if known(fact, note):
            return Planned(fact, "skip", note)
    for note in shown:
        if quality.corrects(fact.text, note.text) or said_instead(fact, note):
            return Planned(fact, "replace", note)
    return None


def said_instead(fact: Fact, note: Note) -> bool:
    """The sentence the fact came from corrects the note ("12,000 now, not 9,000"), and the
    fact states a value the note does not have (the new one). A short correction ("sorry, I
    mixed it up: Thursday") names too little of the topic to restate the note itself: then the
    fact, a self-contained statement of it, must restate the note while the sentence is marked
    as a correction. Otherwise the new value would be kept beside the old one."""
    new_values = quality.values(fact.text) - quality.values(note.text)
    if not new_values:
        return False
    if quality.corrects(fact.context, note.text):
        return True
    return quality.marked_as_correction(fact.context) and quality.restates(fact.text, note.text)


def decision_instructions(fact: Fact, shown: Sequence[Note]) -> str:
    listed = "\n".join(f'{n.id}: "{n.text}"' for n in shown)
    return (
        "[Reflection: I am away for a moment; do not answer me.] A fact from my newest "
        f'messages:\n"{fact.text}"\n\nNotes you already have:\n{listed}\n\n'
        "Reply in JSON. `decision` is `same` if one of these notes already says this fact, "
        "`replaces` if the fact corrects or updates one of them (put its id in `id`), or `new`."
    )


def checked(fact: Fact, shown: Sequence[Note], reply: Decision | None) -> Planned:
    """The model's decision, kept only where the facts bear it out."""
    if reply is None or reply.decision == "new":
        return Planned(fact, "insert")
    note = next((n for n in shown if n.id == reply.id.strip().lower()), None)
    if reply.decision == "same":
        # Known only if nothing the fact states would be lost by skipping it.
        target = note or next((n for n in shown if known(fact, n)), None)
        same = target is not None and quality.values(fact.text) <= quality.values(target.text)
        return Planned(fact, "skip", target) if same else Planned(fact, "insert")
    if note is not None and quality.restates(fact.text, note.text):
        return Planned(fact, "replace", note)
    return Planned(fact, "insert")


async def decide(run: Run, fact: Fact, notes: Sequence[Note], asked: list[int]) -> Planned:
    shown = candidates(fact, notes)
    if not shown:
        return Planned(fact, "insert")
    ruled = by_rule(fact, shown)
    if ruled is not None:
        return ruled
    if asked[0] >= MAX_DECISIONS:
        return Planned(fact, "insert")
    asked[0] += 1
    reply = await run.structured(decision_instructions(fact, shown), Decision, DECIDE_TOKENS)
    return checked(fact, shown, reply)


def finished_facts(raw: str) -> Facts | None:
    """The facts a reply cut short had finished (each one still screened like any other)."""
    items = finished_strings(raw, "facts")
    return Facts(facts=items) if items else None


async def notes_step(run: Run) -> None:
    newest = newest_user_messages(run)
    if not newest:
        return
    dropped = Dropped([])
    ceiling = EXTRACT_TOKENS if run.plan is None else min(EXTRACT_TOKENS, run.plan.notes_tokens)
    reply = None
    if ceiling > 0:  # else this idle period has no room for the model's notes
        reply = await run.structured(
            extraction_instructions(newest), Facts, ceiling, salvage=finished_facts, step="notes"
        )
    facts = from_model(reply.facts if reply else [], newest, run.history, dropped)
    facts += from_user(newest, run.history, facts, dropped)
    if dropped.reasons:
        reasons = ", ".join(sorted(set(dropped.reasons)))
        run.log.info(
            "reflection %s: %d notes dropped (%s)", run.reflection.id, len(dropped.reasons), reasons
        )
        await run.memory.recorder.record_dropped(notes=len(dropped.reasons))
    await apply(run, await plan(run, facts))


async def plan(run: Run, facts: Sequence[Fact]) -> list[Planned]:
    """Decide each fact against the stored notes and the facts planned before it."""
    asked = [0]
    planned: list[Planned] = []
    for fact in facts:
        drafts = {f"new{i}": p for i, p in enumerate(planned) if p.action != "skip"}
        pseudo = [draft_note(nid, p.fact, run) for nid, p in drafts.items()]
        replaced = {p.target.id for p in planned if p.action == "replace" and p.target}
        stored = [n for n in run.memory.notes if n.id not in replaced]
        decided = await decide(run, fact, [*stored, *pseudo], asked)
        target = decided.target
        if target is not None and target.id in drafts:
            if decided.action == "replace":  # corrects a fact of this same reflection
                drafts[target.id].action = "skip"
                decided = Planned(fact, "insert")
            else:
                decided = Planned(fact, "skip")
        planned.append(decided)
    return planned


def draft_note(note_id: str, fact: Fact, run: Run) -> Note:
    now = run.clock.now()
    return Note(
        id=note_id, session_id=run.reflection.session_id, text=fact.text, created=now, updated=now
    )


async def apply(run: Run, planned: Sequence[Planned]) -> None:
    """Store the plan within caps: more removals than ``FEW_REMOVALS`` are held for the user."""
    memory = run.memory
    by = run.reflection.id
    removals = [p for p in planned if p.action == "replace" and p.target is not None]
    hold = len(removals) > FEW_REMOVALS
    held: list[tuple[str, str]] = []
    added = 0
    for p in planned:
        if p.action == "skip":
            continue
        if added >= MAX_NEW_NOTES:
            run.log.info("reflection %s: note cap reached, the rest is left out", by)
            break
        added += 1
        fact = p.fact
        reason = f"corrected: {clip(fact.text, 120)}"
        try:
            if p.action == "replace" and p.target is not None and not hold:
                await memory.replace_note(
                    p.target.id, fact.text, reason, [fact.source], by, verbatim=fact.verbatim
                )
                run.notes_changed += 2  # one note added, one removed: the true count
            else:
                if p.action == "replace" and p.target is not None and len(held) < MAX_HELD:
                    held.append((p.target.id, reason))
                await memory.insert_note(fact.text, [fact.source], by, verbatim=fact.verbatim)
                run.notes_changed += 1
            await run.conversation.learn(fact.text, [fact.source])  # the user's memory too
        except (KeyError, ValueError) as exc:  # e.g. the user forgot that note meanwhile
            run.log.info("reflection %s: a note change was skipped: %s", by, exc)
            continue
        run.changed()
    if held:
        change = await memory.held.hold(by, held)
        run.log.info(
            "reflection %s: %d removals held for confirmation (%s)", by, len(held), change.id
        )
        run.changed()

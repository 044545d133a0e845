"""The first half of the notes step: the facts and decisions the user stated in their newest
messages, as short self-contained statements.

The model is asked for one small thing (a list of statements); each item is checked on its own
(an over-long or junk item drops that item, never the reply) and must pass the quality gate.
Whatever the user stated that no accepted item covers is kept in the user's own words, marked
verbatim: a model that returns nothing, or junk, loses no fact the user wrote down.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from sleepchat.core.models import Message
from sleepchat.core.reflection import quality
from sleepchat.text import clip

MAX_FACT_CHARS = 300
MAX_FACTS = 12  # items read from one reply (a grammar drops list bounds, so cut after parsing)
SHOWN_CHARS = 600  # each newest message as quoted in the request
# A model's fact must take at least this share of its content words from the newest messages.
MIN_FROM_NEWEST = 0.5
# A sentence counts as covered by the model's facts when they have this share of its words.
COVERED = 0.5
COVERED_WITH_VALUES = 0.3  # ... or this share, when they also hold all its numbers and names

_CHATTER = re.compile(
    r"^\W*(?:thanks|thank you|thx|cheers|great|nice|cool|awesome|perfect|wow|lol|haha|hi|hello|"
    r"hey|good point|fair enough|sounds good|got it|ugh|oh no|oh good|oh)\b|"
    r"^\W*(?:that's|that is|you're|you are) (?:really |very |so |super )?(?:helpful|great|good|"
    r"nice|useful|interesting|a lifesaver|the best|amazing)\b",
    re.IGNORECASE,
)


class Facts(BaseModel):
    # No length bounds here: a llama.cpp grammar drops them, and pydantic would then refuse the
    # whole reply for one long item. Items are checked one by one after parsing.
    facts: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Fact:
    text: str
    source: str  # the id of the user message it came from
    context: str  # the sentence of that message it came from
    verbatim: bool = False


@dataclass
class Dropped:
    """What the gate kept out, and why (for the log and the stats)."""

    reasons: list[str]

    def add(self, reason: str) -> None:
        self.reasons.append(reason)


def extraction_instructions(newest: Sequence[Message]) -> str:
    # Written as the user speaking (the tail is a user turn), with no sample values: small
    # models copy any example text verbatim into their output.
    quoted = "\n".join(f'"{clip(m.content, SHOWN_CHARS)}"' for m in newest)
    return (
        "[Reflection: I am away for a moment; do not answer me.] My newest messages were:\n"
        f"{quoted}\n\n"
        "List the facts and decisions I stated in them, each as one short sentence that makes "
        "sense on its own. Keep numbers, names, dates and limits exactly as I wrote them. "
        "Leave out questions, greetings, and anything I asked you to do. "
        "Reply in JSON: `facts` is a list of strings; an empty list is fine."
    )


def source_of(text: str, newest: Sequence[Message]) -> Message:
    """The newest message the text takes most of its words from (the latest on a tie)."""
    return max(reversed(newest), key=lambda m: quality.shared_share(text, [m.content]))


def later_user_texts(history: Sequence[Message], source: Message) -> list[str]:
    seen = False
    out: list[str] = []
    for m in history:
        if seen and m.role == "user":
            out.append(m.content)
        seen = seen or m.id == source.id
    return out


def fact_problem(
    text: str, source: Message, history: Sequence[Message], conversation: Sequence[str]
) -> str | None:
    """Why a candidate fact may not become a note (the gate's rules, in context)."""
    problem = quality.note_problem(text, conversation)
    if problem is not None:
        return problem
    users = [m.content for m in history if m.role == "user"]
    if not quality.number_values(text) <= set().union(*map(quality.number_values, users)):
        return quality.INVENTED  # a number only the assistant said is not the user's fact
    if quality.contradicted(text, later_user_texts(history, source)):
        return quality.CONTRADICTED
    # "target is 16, not 15": a fact holding a value its own sentence says is no longer so
    for sentence in quality.sentences(source.content):
        if quality.shared_share(text, [sentence]) < 0.5:
            continue  # about something else ("3 friends" is not "not 3 May")
        stale = quality.negated_values(sentence) - quality.negated_values(text)
        if quality.values(text) & stale:
            return quality.CONTRADICTED
    return None


def from_model(
    items: Sequence[str],
    newest: Sequence[Message],
    history: Sequence[Message],
    dropped: Dropped,
) -> list[Fact]:
    conversation = [m.content for m in history if m.content]
    # What the user stated, not asked: a "fact" made of a question's words is the answer's.
    said = [s for m in newest for s in quality.sentences(m.content) if stated(s)]
    out: list[Fact] = []
    for raw in items[:MAX_FACTS]:
        # Only the sentences that state something: small models copy questions and thanks along.
        text = " ".join(s for s in quality.sentences(" ".join(raw.split())) if stated(s))
        if not text:
            if raw.strip():
                dropped.add("not a statement")
            continue
        if len(text) > MAX_FACT_CHARS:
            dropped.add("too long")
            continue
        source = source_of(text, newest)
        problem = fact_problem(text, source, history, conversation)
        if (
            problem is None
            and quality.shared_share(text, said) < MIN_FROM_NEWEST
            and not restated_correction(text, newest, history)
        ):
            problem = quality.UNRELATED  # the assistant's words or older turns, not news
        if problem is not None:
            dropped.add(problem)
            continue
        if all(f.text.casefold() != text.casefold() for f in out):
            said_in = quality.sentences(source.content) or [source.content]
            context = max(said_in, key=lambda s: quality.shared_share(text, [s]))
            out.append(Fact(text, source.id, context))
    return out


def restated_correction(text: str, newest: Sequence[Message], history: Sequence[Message]) -> bool:
    """A short correction ("Sorry, I mixed it up: it's Thursday.", "Correction, 10:15.") names
    the new value and little else: the model's fact restates the user's earlier statement with
    it. Accepted when the newest messages say they correct something, every value of the fact
    the user had not said before comes from those sentences, and its words are the user's."""
    marked = [
        s for m in newest for s in quality.sentences(m.content) if quality.marked_as_correction(s)
    ]
    if not marked:
        return False
    ids = {m.id for m in newest}
    earlier = [m.content for m in history if m.role == "user" and m.id not in ids]
    new_values = quality.values(text) - set().union(*map(quality.values, earlier))
    if not new_values or not new_values <= set().union(*map(quality.values, marked)):
        return False
    return quality.shared_share(text, earlier + marked) >= MIN_FROM_NEWEST


def stated(sentence: str) -> bool:
    """A sentence that states something (not a question, a greeting or small talk)."""
    if sentence.rstrip().endswith("?") or len(sentence.split()) < 3:
        return False
    if not quality.words(sentence):
        return False
    return not (_CHATTER.match(sentence) and not quality.values(sentence))


def covered(sentence: str, facts: Sequence[Fact]) -> bool:
    """The model's facts already say what this sentence says: its values, and its words."""
    if not facts:
        return False
    # A value the sentence says is no longer so ("not 9,000") need not be kept.
    values = quality.values(sentence) - quality.negated_values(sentence)
    # A name may open the fact's sentence (then it is not a "name" there): match it as a word.
    said = " ".join(f.text for f in facts)
    kept = set().union(*(quality.values(f.text) for f in facts))
    kept |= set(re.findall(r"[\w-]+", said.casefold()))
    if values and not values <= kept:
        return False
    # Its values kept, the rest of a sentence is mostly how it was said.
    needed = COVERED_WITH_VALUES if values else COVERED
    return quality.shared_share(sentence, [f.text for f in facts]) >= needed


def from_user(
    newest: Sequence[Message],
    history: Sequence[Message],
    facts: Sequence[Fact],
    dropped: Dropped,
) -> list[Fact]:
    """The user's own stated sentences that no accepted fact covers, kept verbatim."""
    conversation = [m.content for m in history if m.content]
    out: list[Fact] = []
    for message in newest:
        for sentence in quality.sentences(message.content):
            if not stated(sentence) or covered(sentence, facts):
                continue
            if len(sentence) > MAX_FACT_CHARS:
                dropped.add("too long")
                continue
            problem = fact_problem(sentence, message, history, conversation)
            if problem is not None:
                dropped.add(problem)
                continue
            out.append(Fact(sentence, message.id, sentence, verbatim=True))
    return out

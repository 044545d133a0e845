"""The reflection step that studies a document the user just attached.

Attaching a file and asking "summarize it" or "what are the main points" is the first thing a
reader does, in many words. Once a document is the newest thing in the conversation (attached
after the last answer), an idle period precomputes its summary with the request a chat turn
would send, stored as an answer to the "summary" follow-up intent (``core/recall/followups.py``):
a message that is that intent, in any of its phrasings, is served it. Then, where the file shows
how, the answers to how to install and how to use what it describes (``doc_intents``), each
one of the questions a reader asks of it that the plan made room for, then the others. Unlike a
follow-up's answer they outlive the next message: re-validated like any prediction (kept,
revised in place or dropped), and asked later by the file's name (``named``) they are served.
Before that, its key facts become notes (``doc_facts``). A long file is first studied section
by section (``doc_study``): its summary, made from that outline, follows.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from sleepchat.core.memory import Memory, documents
from sleepchat.core.memory.doc_lead import opening
from sleepchat.core.memory.doc_sections import summary_request
from sleepchat.core.memory.documents import is_code, names_of, subject_of
from sleepchat.core.memory.staleness import current_predictions
from sleepchat.core.models import Document, Message, Prediction
from sleepchat.core.recall import Recall, content_words, doc_intents, doc_pairs, followups
from sleepchat.core.recall.followups import BY_NAME
from sleepchat.core.reflection import doc_facts, doc_study, predict_step
from sleepchat.core.reflection.followup_habits import what_it_holds
from sleepchat.core.reflection.reflect_run import Run, user_turns

INTENT = "summary"
INTENTS = (INTENT, *doc_intents.NAMES)  # what a file's study precomputes
READING = 3  # a reader's first questions after attaching a file: taken to be about it


def _newest_first(docs: Sequence[Document]) -> list[Document]:
    return sorted(docs, key=lambda d: (d.added, d.id), reverse=True)


def to_study(
    memory: Memory, history: Sequence[Message], ttl: int, *, sections_left: bool = False
) -> Document | None:
    """The document to study: the newest, when nothing was said since it was attached and its
    summary is not precomputed yet. A long file's summary waits for its sections to be read;
    ``sections_left``: name it while they are (what the idle period is working towards)."""
    # Once the talk has moved past it, "summarize it" means the last answer.
    docs = talked_of(memory, history)
    if not docs:
        return None
    newest = _newest_first(docs)[0]
    if doc_study.left(memory) is not None and not sections_left:
        return None  # a long file's summary is made from its outline, once studied whole
    current = current_predictions(memory, history, ttl)
    if all(_answered(current, intent, asked) for intent, asked in requests(newest)):
        return None  # studied already
    return newest


def talked_of(memory: Memory, history: Sequence[Message]) -> list[Document]:
    """The documents a message after ``history`` is about ("it", "this library"): attached
    since its last message, or before replies served from their own study (after a file's
    summary, "how do I install it?" still asks of the file), or the file whose own answer the
    last reply was (served later, asked by its name)."""

    def made(reply: Message) -> Prediction | None:
        found = memory.prediction(reply.prediction_id) if reply.prediction_id else None
        return found if reply.source == "prediction" else None

    def studied(reply: Message) -> bool:
        return (p := made(reply)) is not None and _of_a_study(p.intent)

    found = documents.talked_of(memory.documents.all, history, studied)
    last = made(history[-1]) if history and not found else None
    if last is not None and last.document is not None:
        found = [d for d in memory.documents.all if d.id == last.document]
    return found


def still_it(memory: Memory, history: Sequence[Message]) -> list[Document]:
    """The files a reader's "it" still means after answers the model gave: the files talked
    of before the last exchanges (up to ``READING``) whose questions each asked of them ("it",
    "this library", a name of theirs) and named nothing else ("where does it get its data
    from?"). For a file's own questions other than its summary: "summarize it" after an answer
    is that answer's."""
    for back in range(1, READING + 1):
        start = len(history) - 2 * back
        if start < 0:
            return []
        found = talked_of(memory, history[:start])
        if not found:
            continue
        asked, replies = history[start::2], history[start + 1 :: 2]
        talk = all(m.role == "user" for m in asked) and all(m.role == "assistant" for m in replies)
        since = {m.id for m in history[start:]}  # a file attached since is what "it" means
        talk = talk and not any(d.after_message_id in since for d in memory.documents.all)
        return found if talk and all(_asked_of(m.content, found) for m in asked) else []
    return []


# A name the question gives another thing ("does it work with Redis?", "is `lru_cache`
# faster?", "what about asyncio.run?"): after its answer "it" may be that thing.
_NAMES_A_THING = re.compile(r"`|\w[._(]\w|\b[a-z]+[A-Z]\w*|(?<![.?!]\s)(?<!^)\b(?!I\b)[A-Z]\w*")


def _asked_of(question: str, docs: Sequence[Document]) -> bool:
    """``question`` asks of one of ``docs`` by "it" or a name of it, and names nothing else."""
    names = [name for d in docs for name in names_of(d)]
    if not re.search(r"\bit\b", followups.as_document(question, names)):
        return False
    called = {n.lower() for n in names}
    return not any(
        m[0].lower().strip("`") not in called for m in _NAMES_A_THING.finditer(question)
    )


def reading(memory: Memory, history: Sequence[Message]) -> Document | None:
    """After an answer, the file the next question is likely about: the one the talk is about
    (``talked_of``), else the newest, attached no more than ``READING`` questions ago (a
    reader's first questions about a file are about it); None when the talk is elsewhere."""
    found = talked_of(memory, history)
    if found:
        return _newest_first(found)[0]
    docs = memory.documents.all
    if not docs:
        return None
    newest = _newest_first(docs)[0]
    ids = [m.id for m in history]
    start = ids.index(newest.after_message_id) + 1 if newest.after_message_id in ids else 0
    since = sum(1 for m in history[start:] if m.role == "user")
    return newest if since <= READING else None


def just_attached(doc: Document, history: Sequence[Message]) -> bool:
    """Nothing was said since ``doc`` was attached."""
    return doc.after_message_id == (history[-1].id if history else None)


def named(memory: Memory, text: str, ready: Sequence[Prediction]) -> Prediction | None:
    """The answer a file's study made to ``text`` when it names the file ("what is cachetools
    for?", "how do I install cachetools?") and is nothing but one of those questions: asked
    any time later, while the answer is current (re-validated since). By "it" it is asked
    only right after the file or its own answers (``talked_of``): later "it" may be another
    thing the talk turned to."""
    for doc in _newest_first(memory.documents.all):
        names = names_of(doc)
        if not followups.names(text, names):
            continue
        intent = intent_of(text, names, just_attached=False)
        if intent == INTENT and (holds := what_it_holds(doc.id, text, names, ready)):
            return holds
        if intent is not None:
            return _ready_answer(ready, doc, intent, text, names)
    return None


def asked_by_it(
    memory: Memory, text: str, history: Sequence[Message], ready: Sequence[Prediction]
) -> Prediction | None:
    """The answer a file's study made to ``text`` when it is one of the file's own questions
    but its summary, asked by "it" while the reader's questions since the file was talked of
    kept asking of it (``still_it``): "which platforms does it run on?" after the model
    answered "where does it get its data from?"."""
    for doc in _newest_first(still_it(memory, history)):
        names = names_of(doc)
        intent = doc_intents.match(text, names)
        if intent is not None:
            return _ready_answer(ready, doc, intent, text, names)
    return None


def _ready_answer(
    ready: Sequence[Prediction], doc: Document, intent: str, asked: str, names: Sequence[str]
) -> Prediction | None:
    """The answer ``doc``'s study made for ``intent``, among ``ready``, if it answers
    ``asked`` (a question of that intent; ``names``: what ``doc`` is called by)."""
    wanted = (p for p in ready if p.document == doc.id and p.intent == intent)
    return next(
        (p for p in wanted if p.answer and doc_intents.answers(intent, asked, names, p.answer)),
        None,
    )


# Where a message asks a second question: a question mark, a semicolon (not tl;dr's), or "and"
# before a question word ("what is cachetools and how do I install it?").
_ASKS = "how|what|what's|where|which|who|why|does|do|is|can|could|should|would"
_ASKING = rf"(?=(?:{_ASKS}|when)\b)"
_PARTS = re.compile(rf"\?\s*|(?<!\btl);\s*|,?\s+and\s+{_ASKING}", re.IGNORECASE)
# A comma before a question word, a hedge maybe between, after a question ("what's this file,
# broadly what does it define?"); not after a clause that sets a case ("if I use it in my
# thesis, how do I cite it?" is one question).
_COMMA = re.compile(rf",\s+(?:(?:roughly|broadly|basically)\s+)?{_ASKING}", re.IGNORECASE)
_A_QUESTION = re.compile(rf"^(?:{_ASKS}|are)\b", re.I)  # not "when", which may set a case
# Two verbs one "how do I" asks of ("how do I install it and get it running?", "how to install
# and use it"): each is a question of its own.
_HOW_BOTH = re.compile(r"^(how (?:do|can|would|should) i|how to)\s+(.+?),?\s+and\s+(.+)$", re.I)


def parts_of(text: str) -> list[str]:
    """The questions ``text`` asks, one by one."""
    parts: list[str] = []
    for asked in _PARTS.split(text):
        pieces = _COMMA.split(asked)
        for part in pieces if _A_QUESTION.match(pieces[0].strip()) else [asked]:
            part = part.strip(" ,.!")
            how = _HOW_BOTH.match(part)
            parts += [f"{how[1]} {how[2]}", f"{how[1]} {how[3]}"] if how else [part] if part else []
    return parts


def intent_of(text: str, names: Sequence[str], *, just_attached: bool) -> str | None:
    """The file's own question ``text`` is nothing but (its summary, how to install or use it,
    what it needs or provides), asked of the file ``names`` calls it by, or "it"
    ``just_attached``; else None."""
    summary = followups.match(text, documents=names, just_attached=just_attached)
    if summary is not None and summary.name == INTENT:
        return INTENT
    return doc_intents.match(text, names)


async def both(
    memory: Memory, text: str, docs: Sequence[Document], ready: Sequence[Prediction]
) -> Prediction | None:
    """A message made of two or more of a file's own questions ("what is cachetools and how do I
    install it?"): their precomputed answers, one after the other, stored as one answer to
    it; None unless every part is one whose answer is ready. ``docs``: the files "it" may be
    (the talk is about them); a file named by its name counts too."""
    parts = parts_of(text)
    if len(parts) < 2 or len(text) > 2 * followups.MAX_CHARS:
        return None
    for doc in _newest_first(memory.documents.all):
        names = names_of(doc)
        about = doc in docs
        if not about and not followups.names(text, names):
            continue
        intents = [intent_of(p, names, just_attached=about) for p in parts]
        if None in intents:
            return None  # a part that is none of them
        # one asked twice in other words ("how do I cite it? is there a DOI?") is asked once
        first_asked: dict[str | None, str] = {}
        for intent, part in zip(intents, parts, strict=True):
            first_asked.setdefault(intent, part)
        pairs = list(first_asked.items())
        found = (_ready_answer(ready, doc, i, part, names) for i, part in pairs if i)
        answers = [p for p in found if p is not None]
        if len(answers) < len(pairs):
            return None  # one not ready
        first = answers[0]
        return await memory.save_prediction(
            dataclasses.replace(
                first,
                id="",
                question=text,
                answer="\n\n".join(p.answer for p in answers),
                answer_tokens=None,
                embedding=None,  # matched only here, never by the general matcher
                embed_model=None,
                intent=None,
                created=max(p.created for p in answers),
            )
        )
    return None


def _answered(current: Sequence[Prediction], intent: str, asked: str) -> bool:
    return any(p.intent == intent and p.question == asked and p.answer for p in current)


def summary_left(memory: Memory, history: Sequence[Message], ttl: int) -> bool:
    """A document's summary begun or put off that the next idle period will go on with (the
    conversation is unchanged, so nothing else would wake the sleep cycle for it): only while
    ``to_study`` still picks its document, or a next reflection would do nothing for it."""
    if to_study(memory, history, ttl) is None:
        return False
    current = current_predictions(memory, history, ttl)
    return any(_of_a_study(p.intent) and predict_step.carried_over(p) for p in current)


def _of_a_study(intent: str | None) -> bool:
    """``intent`` is one a file's study precomputes."""
    return intent in INTENTS or doc_pairs.is_difference(intent)


def request(doc: Document) -> str:
    return summary_request(doc)


def requests(doc: Document) -> list[tuple[str, str]]:
    """What idle time precomputes of ``doc``, in order, as (intent, request): its summary, then
    how to install and use what it describes where its text shows how, what a code file
    provides, and how two forms of one thing it defines differ."""
    subject, text, code = subject_of(doc), doc.source or doc.text, is_code(doc)
    shown = doc_intents.shown(text, code=code)
    wanted = [(INTENT, request(doc))] + [(i, doc_intents.request(i, subject)) for i in shown]
    pairs = doc_pairs.pairs(text) if code else []
    return wanted + [(doc_pairs.intent(a, b), doc_pairs.request(a, b, subject)) for a, b in pairs]


def difference(
    memory: Memory, text: str, history: Sequence[Message], ready: Sequence[Prediction]
) -> Prediction | None:
    """The answer a code file's study made to ``text`` when it asks how two forms of one thing
    the file defines differ ("what is the difference between load and loads?"), asked while
    the reader reads it (``reading``): the two names say which file."""
    doc = reading(memory, history)
    if doc is None:
        return None
    # the pairs its study prepared, read from their intents (no need to scan the file again)
    offered = [
        doc_pairs.pair_of(p.intent)
        for p in ready
        if p.document == doc.id and p.intent and doc_pairs.is_difference(p.intent)
    ]
    asked = doc_pairs.asked(text, offered)
    return None if asked is None else _ready_answer(ready, doc, asked, text, names_of(doc))


async def study(run: Run, recall: Recall, invited: int, *, answering: bool) -> bool:
    """Precompute the newest document's summary and how to install and use it, then the rest
    of ``invited`` questions a reader asks of it first (with their answers when
    ``answering``); False when there is nothing to do."""
    ttl = run.settings.prediction_ttl_turns
    doc = to_study(run.memory, run.history, ttl)
    if doc is None or INTENT not in BY_NAME:
        return False
    await doc_facts.take_notes(run, doc)  # no model call: its key facts, word for word
    wanted = requests(doc)
    for intent, asked in wanted:
        current = current_predictions(run.memory, run.history, ttl)
        if not _answered(current, intent, asked) and not await precompute(run, doc, intent, asked):
            return True  # the next idle period goes on
    # The file's own answers are not among them: with how to install and use it counted, a
    # README left no room for any question of the reader's own (most of what readers ask).
    if invited > 0:
        await predict_step.questions(run, recall, invited, document=doc.name)
        if answering:
            await predict_step.answers(run, recall, [])
    return True


async def precompute(run: Run, doc: Document, intent: str, asked: str) -> bool:
    """The answer to ``asked`` of ``doc``, stored for ``intent``; False when it was not
    finished."""
    ttl = run.settings.prediction_ttl_turns
    current = current_predictions(run.memory, run.history, ttl)
    history = run.history
    placeholder = next(
        (p for p in current if p.intent == intent and p.question == asked and not p.answer), None
    )
    if placeholder is None:
        placeholder = await run.memory.save_prediction(
            Prediction(
                id="",
                session_id=run.reflection.session_id,
                question=asked,
                answer="",
                created=run.clock.now(),
                reflection_id=run.reflection.id,
                based_on_message_id=history[-1].id if history else None,
                based_on_turn=user_turns(history),
                intent=intent,
                document=doc.id,
            )
        )
    result = await predict_step.answer(run, asked, keep=placeholder)
    if result is None:
        # Put off once (the budget was spent), then left to the next message: an answer the
        # model cannot give is not asked for by every idle period.
        await run.memory.update_prediction(placeholder.id, deferred=not placeholder.deferred)
        return False
    await predict_step.keep_answer(run, placeholder, result)
    run.predictions += result.complete
    if result.complete and intent == INTENT:
        await _resample(run, doc, placeholder, asked, result)
    return result.complete


# Of a small model's summaries of one file, sampled as a chat turn samples them, some say what
# the file is in its own terms and some paraphrase them away ("network analysis" for the
# "spatial network" a reader looks for): idle time samples a few more while a summary misses
# words of the file's own description, and keeps the one that holds most of them.
SUMMARY_SAMPLES = 3


def key_terms(doc: Document) -> frozenset[str]:
    """The content words of the first sentence of the document's own description (stemmed as
    recall stems them): what it is, not every detail its opening goes on with."""
    return frozenset(content_words(opening(doc)))


def terms_held(text: str, terms: frozenset[str]) -> int:
    return len(terms & content_words(text).keys())


async def _resample(
    run: Run, doc: Document, kept: Prediction, asked: str, first: predict_step.Answer
) -> None:
    """Sample the summary again, with the same request, while the best so far misses some of
    the document's key terms; a better complete one replaces the stored answer. A sample cut
    by a key or the budget is dropped (the stored one stays)."""
    terms = key_terms(doc)
    best = terms_held(first.text, terms)
    for _ in range(SUMMARY_SAMPLES - 1):
        if best == len(terms):
            return
        again = await predict_step.answer(run, asked)
        if again is None or not again.complete:
            run.wasted += again.tokens if again is not None else 0
            return
        held = terms_held(again.text, terms)
        if held > best:
            best = held
            await predict_step.keep_answer(run, kept, again)
        else:
            run.wasted += again.tokens

"""The prediction steps of a reflection (issues 10 and 14), each its own small request:

* ``revalidate`` — predictions that did not see the latest user content (a correction, a new
  fact, a question the model answered) are judged keep / revise / drop in one cheap request;
  until then they are not served. A correction since forbids a plain keep: the answer is
  re-computed (revise) or dropped.
* ``questions`` — new questions, in a request of their own: no prediction ids are in sight, so
  ids cannot come back as questions. Each proposed question passes the quality gate alone
  (``quality.question_problem``) and is stored at once, its answer still empty.
* ``answers`` — revisions first, then the stored questions, each answered with exactly the
  request a chat turn would send, so a hit serves what the model would have said.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sleepchat.core import prompts
from sleepchat.core.memory import Memory
from sleepchat.core.memory.staleness import current_predictions, said_since
from sleepchat.core.memory.stats import Stats
from sleepchat.core.models import Message, Prediction
from sleepchat.core.ports import ChatMessage
from sleepchat.core.recall import Recall
from sleepchat.core.recall.verify import Verifier
from sleepchat.core.reflection import quality
from sleepchat.core.reflection.quality import question_problem
from sleepchat.core.reflection.question_text import clean_question
from sleepchat.core.reflection.reflect_run import (
    Run,
    completion_tokens,
    finished_strings,
    user_turns,
)
from sleepchat.core.settings import reply_cap
from sleepchat.text import clip

MIN_PROPOSED = 3  # questions asked of the server at least (the gate keeps the good ones)
MAX_PROPOSED = 6  # questions one reply may propose (the gate and the slots keep fewer)
QUESTIONS_TOKENS = 200  # token ceilings of the two structured requests (the budget may lower)
REVALIDATE_TOKENS = 160
ASKED_SHOWN = 10  # earlier user questions listed in the questions prompt
ANSWER_SHOWN = 400  # characters of a stored answer shown for re-validation
VERDICTS = ("keep", "revise", "drop")
# What the user says when correcting an earlier statement: after one, no stored answer is kept
# as it is. Narrower than the notes' marker (no "now"): here a match costs a re-answer.
_CORRECTION = re.compile(
    r"\b(?:correction|actually|i meant|i mean|sorry|scratch that|mistake|wrong|instead|"
    r"not anymore|no longer|changed? (?:my mind|of plans?)|update)\b",
    re.I,
)


class QuestionList(BaseModel):
    # Bounds for the server only (maxItems stops a runaway list under a grammar): items are
    # judged one by one after parsing, so one item too many or too long costs only itself. At
    # least one: offered an empty list, small models always take it. The server is asked for
    # a few more (minItems): a small model's one question is often one the gate refuses.
    questions: list[str] = Field(
        min_length=1, json_schema_extra={"minItems": MIN_PROPOSED, "maxItems": MAX_PROPOSED}
    )


# A whole JSON string: what a reply cut by the token limit still holds intact.
def finished_questions(raw: str) -> QuestionList | None:
    """The questions a reply cut short had finished."""
    items = finished_strings(raw, "questions")
    return QuestionList(questions=items) if items else None


class Verdict(BaseModel):
    # Plain strings checked after parsing (the enum and "required" still constrain a
    # schema-following server): one odd item is ignored, never the reply.
    model_config = ConfigDict(json_schema_extra={"required": ["id", "verdict"]})

    id: str = ""
    verdict: str = Field(default="", json_schema_extra={"enum": list(VERDICTS)})


class Revalidation(BaseModel):
    verdicts: list[Verdict] = Field(default_factory=list, json_schema_extra={"maxItems": 10})


def is_correction(text: str) -> bool:
    return _CORRECTION.search(text) is not None


def question_instructions(
    asked: Sequence[str],
    existing: Sequence[str],
    wanted: int,
    document: str | None = None,
    *,
    following: bool = False,
) -> str:
    # No header or quoted samples: small models copy them verbatim as "questions". Users'
    # real follow-ups are short decisions about the advice just given ("Is it safe to force
    # push?", "Should I lower the hydration?"); asked for "a specific question", a 1.5B model
    # wrote long generic ones ("What are some budget-friendly options for…"). Each listed
    # phrasing ("how much", "which one") was copied as a template: only two are named.
    parts = [
        f"Suggest up to {wanted} questions I might ask you next, following your last answer. "
        "Write each one as I would type it: short and direct, often whether I should do a "
        "thing you suggested, or whether it is safe or enough in my case. About my situation; "
        "each ends with a question mark. Do not ask me anything."
    ]
    if document is not None:  # a file the talk is about: what a reader of it asks next
        name = json.dumps(document, ensure_ascii=False)
        # After an answer about it, a reader's next question is another specific one about the
        # file: asked about "my situation", the model wrote none a reader asks.
        start = (
            f"I attached the document {name}. Following your last answer, suggest up to "
            f"{wanted} questions I might ask you about the document next."
            if following
            else f"I just attached the document {name}. Suggest up to {wanted} questions I "
            "might ask you about it next."
        )
        parts = [
            f"{start} Each asks how to do one specific task with what it "
            "describes, or about one specific thing it names (a function, an option, a number, "
            "a result), named in the question; not its summary or what it is for (answered "
            "already). Write each one in my own words, short, ending with a question mark. Do "
            "not ask me anything."
        ]
    # Only questions are listed: shown statements, small models copy back as "questions"
    # (SmolLM2 did, on a real run). Every message still counts for the repeat check.
    questions = [q for q in asked if q.rstrip().endswith("?")][-ASKED_SHOWN:]
    if questions or existing:
        shown = "\n".join(f"- {clip(q, 200)}" for q in [*questions, *existing])
        parts.append(f"Do not repeat or rephrase these:\n{shown}")
    return "\n\n".join(parts)


def revalidation_instructions(earlier: Sequence[Prediction], since: Sequence[str]) -> str:
    listed = "\n".join(
        f"{p.id}: {clip(p.question, 200)}\n   prepared answer: "
        + (clip(p.answer, ANSWER_SHOWN) if p.answer else "(none yet)")
        for p in earlier
    )
    said = "\n".join(f"- {clip(t, 300)}" for t in since[-5:])
    return (
        "[I am away for a moment; do not answer me.] Earlier you prepared answers to questions "
        f"I might ask:\n{listed}\n\nSince then I said:\n{said}\n\n"
        "For each id give a verdict: keep (I may still ask it and the answer is still right), "
        "revise (I may still ask it but the answer must change after what I said), or drop "
        "(I am unlikely to ask it now, or the answer contradicts what I said)."
    )


def split_fresh(run: Run) -> tuple[list[Prediction], list[Prediction]]:
    """The model's fresh predictions: those that account for the conversation, and the
    earlier ones. Questions the user queued have their own step (``queued``), follow-up intents
    theirs (``followup_habits``); a document's own answers (``document_step``) are re-validated
    with the earlier ones once the talk moved on."""
    ttl = run.settings.prediction_ttl_turns
    turn = user_turns(run.history)
    fresh = [
        p
        for p in run.memory.fresh_predictions(turn, ttl)
        if not (p.queued or (p.intent and p.document is None))
    ]
    now = [p for p in current_predictions(run.memory, run.history, ttl) if p in fresh]
    return [p for p in now if p.document is None], [p for p in fresh if p not in now]


def unfinished(memory: Memory, history: Sequence[Message], ttl: int) -> list[Prediction]:
    """The model's predictions for this conversation whose answer was cut short, or left for
    the next idle period by the plan: an idle period over an unchanged conversation still goes
    on with them."""
    current = current_predictions(memory, history, ttl)
    return [p for p in current if carried_over(p) and not (p.queued or p.intent)]


def carried_over(p: Prediction) -> bool:
    """An answer cut short or put off by a plan: the next idle period goes on with it."""
    return bool(p.partial or p.deferred) and not p.answer


def queued_waiting(memory: Memory, history: Sequence[Message]) -> list[Prediction]:
    """Questions the user queued that have no answer for this conversation yet (unanswered,
    or answered before what was said since), oldest first."""
    current = {p.id for p in current_predictions(memory, history, 0)}
    waiting = [
        p
        for p in memory.predictions
        if p.queued and p.status == "fresh" and not (p.answer and p.id in current)
    ]
    return sorted(waiting, key=lambda p: p.created)


async def queued(run: Run) -> None:
    """Answer the questions the user queued, in order, each stored as it finishes: with
    exactly a chat turn's request, whatever the prediction policy or the token budget says
    (the user asked for them). One whose answer went stale is answered again."""
    for p in queued_waiting(run.memory, run.history):
        # A stale answer is answered again; one cut under the same request goes on.
        result = await answer(run, p.question, budgeted=False, keep=p)
        if result is None:
            continue  # looping or empty: not what the model would say; tried again next time
        await keep_answer(
            run,
            p,
            result,
            based_on_message_id=run.history[-1].id if run.history else None,
            based_on_turn=user_turns(run.history),
            reflection_id=run.reflection.id,
        )
        run.predictions += result.complete


async def expire(run: Run) -> None:
    """Predictions older than the ttl leave for good (a queued question never ages out)."""
    turn, ttl = user_turns(run.history), run.settings.prediction_ttl_turns
    for p in run.memory.predictions:
        if p.status == "fresh" and not p.queued and turn - p.based_on_turn > ttl:
            await run.memory.drop_prediction(p.id, "too old", status="stale")
            run.dropped += 1
            run.changed()


async def revalidate(run: Run, *, answers: bool) -> list[Prediction]:
    """Judge the earlier predictions; returns those to revise (re-answer). With ``answers``
    off (the policy spends less), a revise keeps the question and empties its answer."""
    await expire(run)
    _current, earlier = split_fresh(run)
    if not earlier:
        return []
    since = said_since(min(earlier, key=lambda p: p.based_on_turn), run.history)
    plan = await run.structured(
        revalidation_instructions(earlier, since),
        Revalidation,
        REVALIDATE_TOKENS,
        after_notes=True,
        step="revalidate",
    )
    if plan is None:
        return []  # they stay unvalidated: never served, judged again next time
    verdicts: dict[str, str] = {}
    for item in plan.verdicts:
        pid, verdict = item.id.strip().lower(), item.verdict.strip().lower()
        if verdict in VERDICTS:
            verdicts.setdefault(pid, verdict)
    last_id, turn = run.history[-1].id, user_turns(run.history)
    by = run.reflection.id
    revise: list[Prediction] = []
    delta = Stats()
    given = ", ".join(f"{p.id} {verdicts.get(p.id, 'none')}" for p in earlier)
    run.log.info("reflection %s: verdicts on the earlier predictions: %s", by, given)
    for p in earlier:
        # A file's own answer the model passed over is kept: the file has not changed, and
        # what was said since still revises it (below). A 1.5B model once gave no verdict for
        # any of six, and a README's summary and install answer were lost for the next questions.
        verdict = verdicts.get(p.id, "keep" if p.document is not None else "")
        since_p = said_since(p, run.history)
        if verdict == "keep" and (
            any(is_correction(t) for t in since_p) or quality.contradicted(p.answer, since_p)
        ):
            verdict = "revise"  # small models miss corrections; a corrected value changes answers
        if verdict == "revise" and not p.answer:
            verdict = "keep"  # nothing to re-answer yet
        if verdict in ("keep", "revise") and not (verdict == "revise" and answers):
            answer = p.answer if verdict == "keep" else ""
            await run.memory.update_prediction(
                p.id,
                based_on_message_id=last_id,
                based_on_turn=turn,
                validated_by=by,
                answer=answer,
                answer_tokens=p.answer_tokens if answer else None,
            )
            delta.predictions_kept += 1
        elif verdict == "revise":
            revise.append(p)
        else:
            reason = f"dropped by {by}" if verdict == "drop" else f"not confirmed by {by}"
            await run.memory.drop_prediction(p.id, reason)
            delta.predictions_dropped += 1
            run.dropped += 1
        run.changed()
    await run.memory.recorder.record(delta)
    return revise


async def questions(
    run: Run,
    recall: Recall,
    wanted: int,
    revising: Sequence[Prediction] = (),
    document: str | None = None,
    *,
    following: bool = False,
) -> list[Prediction]:
    """Ask for new questions and store those that pass the gate (answers still empty).
    ``document``: the name of a file the talk is about: the questions a reader asks of it
    (``following``: after an answer about it, else just attached)."""
    if wanted <= 0:
        return []
    current, _earlier = split_fresh(run)
    asked = [m.content for m in run.history if m.role == "user"]
    existing = [p.question for p in [*current, *revising]]
    tail = question_instructions(asked, existing, wanted, document, following=following)
    before = run.tokens
    plan = await run.structured(
        tail, QuestionList, QUESTIONS_TOKENS, after_notes=True, salvage=finished_questions
    )
    if plan is None:
        return []
    if plan.questions:  # what one question costs this model, for the next plan
        run.speed.observe_step("question", (run.tokens - before) / len(plan.questions))
    proposed = plan.questions[: 2 * MAX_PROPOSED]
    kept = await screen(run, proposed, tail, [*asked, *existing], recall.verifier)
    return [await store(run, recall, question) for question in kept[:wanted]]


async def screen(
    run: Run,
    proposed: Sequence[str],
    tail: str,
    earlier: Sequence[str],
    verifier: Verifier | None = None,
) -> list[str]:
    """The proposed questions the quality gate keeps (``gate``); drops are logged and
    counted."""
    conversation = [m.content for m in run.history]
    user_said = [m.content for m in run.history if m.role == "user"]
    judged = gate(proposed, tail, earlier, conversation, user_said, verifier)
    for question, problem in judged:
        if problem is not None:
            run.log.debug("proposed question dropped (%s): %r", problem, question[:200])
    reasons = [problem for _question, problem in judged if problem is not None]
    if reasons:
        rid = run.reflection.id
        run.log.info("reflection %s: proposed questions dropped: %s", rid, ", ".join(reasons))
        await run.memory.recorder.record_dropped(questions=len(reasons))
    return [question for question, problem in judged if problem is None]


def gate(
    proposed: Sequence[str],
    tail: str,
    earlier: Sequence[str],
    conversation: Sequence[str],
    user_said: Sequence[str],
    verifier: Verifier | None = None,
) -> list[tuple[str, str | None]]:
    """Each proposed question cleaned and judged alone by the quality gate (one bad item costs
    only itself), with why it is dropped (None: kept); each kept one counts as earlier for the
    next. ``tail``: the request that asked for them (an echo of it is no question)."""
    kept: list[str] = []
    judged: list[tuple[str, str | None]] = []
    for raw in proposed:
        question = clean_question(raw)
        problem = "an echo of the instructions" if echoes(question, tail) else None
        problem = problem or question_problem(
            question,
            earlier=[*earlier, *kept],
            conversation=conversation,
            user_said=user_said,
            verifier=verifier,
        )
        if problem is None:
            kept.append(question)
        judged.append((question, problem))
    return judged


def echoes(text: str, instructions: str) -> bool:
    """The model copied a line of our own instructions back (small models do)."""
    line = " ".join(text.lower().split()).strip(" .:?-")
    return bool(line) and line in " ".join(instructions.lower().split())


async def store(
    run: Run,
    recall: Recall,
    question: str,
    answer: str = "",
    *,
    answer_tokens: int | None = None,
    revised_from: str | None = None,
) -> Prediction:
    prediction = Prediction(
        id="",
        session_id=run.reflection.session_id,
        question=question,
        answer=answer,
        created=run.clock.now(),
        reflection_id=run.reflection.id,
        based_on_message_id=run.history[-1].id if run.history else None,
        based_on_turn=user_turns(run.history),
        answer_tokens=answer_tokens,
        revised_from=revised_from,
    )
    # Embedded while idle, so matching at query time embeds only the question.
    embedded = await recall.embedding(question)
    if embedded is not None:
        prediction.embedding, prediction.embed_model = embedded
    saved = await run.memory.save_prediction(prediction)
    run.predictions += 1
    run.changed()
    return saved


async def answers(run: Run, recall: Recall, revise: Sequence[Prediction]) -> None:
    """Revisions first (questions judged still likely), then the unanswered questions; an
    answer cut short is kept to be continued, never served."""
    for old in revise:
        result = await answer(run, old.question)
        if result is None or not result.complete:
            run.wasted += result.tokens if result is not None else 0  # a revision is not kept
            return
        if old.document is not None:  # a file's own answer stays its intent's, revised in place
            await keep_answer(
                run,
                old,
                result,
                based_on_message_id=run.history[-1].id if run.history else None,
                based_on_turn=user_turns(run.history),
                validated_by=run.reflection.id,
            )
            await run.memory.recorder.record(Stats(predictions_revised=1))
            continue
        await store(
            run, recall, old.question, result.text, answer_tokens=result.tokens, revised_from=old.id
        )
        await run.memory.drop_prediction(old.id, f"revised by {run.reflection.id}")
        await run.memory.recorder.record(Stats(predictions_revised=1))
    current, _earlier = split_fresh(run)
    for p in current:
        if p.answer:
            continue
        if run.plan is not None and run.plan.answer_tokens == 0:
            # No room this idle period: the next one answers it (it is not served before).
            if not p.deferred:
                await run.memory.update_prediction(p.id, deferred=True)
            continue
        result = await answer(run, p.question, keep=p)
        if result is None:
            if p.deferred:  # tried: not retried by every idle period over this conversation
                await run.memory.update_prediction(p.id, deferred=False)
            return
        await keep_answer(run, p, result)
        if not result.complete:
            return  # the budget is spent: the next idle period goes on from here


@dataclass(frozen=True)
class Answer:
    text: str  # the answer so far, with any earlier part it continued
    tokens: int
    complete: bool  # False: cut by the idle period's budget; kept to continue, never served
    prompt: str = ""  # prompt_digest() of the request it answers


async def keep_answer(run: Run, p: Prediction, result: Answer, **fields: Any) -> None:
    """Store an answer: served once complete, else kept to be continued."""
    if result.complete:
        changes = {"answer": result.text, "answer_tokens": result.tokens, **fields}
        await run.memory.update_prediction(
            p.id, partial="", partial_tokens=0, partial_prompt="", deferred=False, **changes
        )
        run.changed()
    else:
        await run.memory.update_prediction(
            p.id,
            partial=result.text,
            partial_tokens=result.tokens,
            partial_prompt=result.prompt,
            deferred=False,
        )


async def answer(
    run: Run, question: str, *, budgeted: bool = True, keep: Prediction | None = None
) -> Answer | None:
    """One precomputed answer and its tokens; None when the budget is spent, or the answer
    looped or came back empty (not what the model would have said: never served). Unbudgeted
    (a queued question), the request is exactly a chat turn's.

    ``keep``: the prediction this answers. An answer of it cut before (``partial``) is
    continued where the backend can; one cut now, by the budget or a key, is kept there to
    be continued by the next idle period. Anything else cut is thrown away (counted wasted)."""
    cap = reply_cap(run.settings, run.backend.capabilities)
    num_predict: int | None = cap
    if budgeted:
        remaining = run.remaining()
        if remaining <= 0:
            return None
        num_predict = remaining if cap is None else min(cap, remaining)
        if run.plan is not None and run.plan.answer_tokens:  # this idle period's slice
            num_predict = min(num_predict, run.plan.answer_tokens)
    messages = prompts.chat_messages(
        run.settings.system_prompt,
        run.history,
        question,
        notes=[n.text for n in run.memory.request_notes],
        # What a chat turn quotes of a long attached file for this question, the same way.
        sections=await run.conversation.document_sections(question, run.recall),
    )
    digest = prompt_digest(messages)
    can_keep = keep is not None and run.backend.capabilities.continues
    before, before_tokens = "", 0
    if keep is not None and keep.partial:
        if can_keep and keep.partial_prompt == digest:
            before, before_tokens = keep.partial, keep.partial_tokens
        else:  # the conversation moved on (or the backend cannot go on): start it over
            run.wasted += keep.partial_tokens
    if cap is not None and before_tokens:  # the whole answer stays within the reply cap
        num_predict = min(cap if num_predict is None else num_predict, max(cap - before_tokens, 1))
    try:
        text, stats = await run.stream(messages, num_predict, before)
    except asyncio.CancelledError:
        cut = completion_tokens(None, run.cut)
        if can_keep and keep is not None and run.cut.strip():
            kept = Answer(before + run.cut, before_tokens + cut, False, digest)
            await asyncio.shield(keep_answer(run, keep, kept))
        else:
            run.wasted += cut
        raise
    used = completion_tokens(stats, text)
    # Cut by the reflection's budget (a cut at the user's own reply cap is what a chat turn
    # would give too).
    budget_cut = (
        budgeted
        and num_predict is not None
        and (cap is None or num_predict < cap - before_tokens)
        and ((stats is not None and stats.done_reason == "length") or used >= num_predict)
    )
    looped = stats is not None and stats.done_reason == "repetition"
    if looped or stats is None or not (before + text).strip():
        # A looping or empty answer is not what the model would say: never serve it.
        run.wasted += used
        run.log.info("a precomputed answer was not stored: it was looping or empty")
        run.log.debug("not stored (looping or empty): %r", question)
        return None
    if budget_cut and not can_keep:
        run.wasted += used  # cut, and nothing to keep it on: not what the model would say
        run.log.info("a precomputed answer was not stored: it was cut by the budget")
        return None
    return Answer(before + text, before_tokens + used, not budget_cut, digest)


def prompt_digest(messages: Sequence[ChatMessage]) -> str:
    """Names the request exactly: a cut answer goes on only under the same one."""
    text = json.dumps(list(messages), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

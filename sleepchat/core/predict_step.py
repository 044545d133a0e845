"""Steps B and C of a reflection: likely next questions and their precomputed answers.

B keeps or drops older predictions and proposes new questions (structured output); C answers
each new question with exactly the request a chat turn would send, so a hit serves what the
model would have said.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from sleepchat.core import prompts
from sleepchat.core.models import Prediction
from sleepchat.core.recall import Recall, lexical_similarity
from sleepchat.core.reflect_run import Run, clean, completion_tokens, user_turns
from sleepchat.core.settings import reply_cap
from sleepchat.text import clip

MAX_QUESTION_CHARS = 300
PLAN_TOKENS = 300  # token ceiling of step B (the budget may lower it further)
# A proposed question this close to one already asked (or proposed) is a repeat (§2.8).
REPEAT_SIMILARITY = 0.6
# A new question this close to a dropped prediction is its revision.
REVISION_SIMILARITY = 0.5
ASKED_SHOWN = 10  # earlier user questions listed in the prediction prompt


class PredictionPlan(BaseModel):
    # Questions first: a grammar emits fields in order, and small models that meet empty
    # bookkeeping lists first tend to fill them with junk and stop. At least one question:
    # offered an empty list, they always take it (surplus ones are discarded by slot count).
    questions: list[str] = Field(min_length=1, max_length=10)
    keep: list[str] = Field(default_factory=list, max_length=20)
    drop: list[str] = Field(default_factory=list, max_length=20)


def prediction_instructions(
    asked: Sequence[str], earlier: Sequence[Prediction], wanted: int
) -> str:
    # No header or quoted samples: small models copy them verbatim as "questions".
    parts: list[str] = []
    if wanted > 0:
        parts.append(
            f"Suggest up to {wanted} follow-up questions I might ask you next about your last "
            "answer. Each question must be specific and end with a question mark."
        )
    else:
        parts.append("Suggest no new follow-up questions.")
    if earlier:
        shown = "\n".join(f"{p.id}: {p.question}" for p in earlier)
        parts.append(
            "Of the questions you predicted earlier, list in `keep` the ids still likely and "
            f"still correctly answered after the latest messages, in `drop` the rest:\n{shown}"
        )
    if asked:
        shown = "\n".join(f"- {clip(q, 200)}" for q in asked[-ASKED_SHOWN:])
        parts.append(f"Do not repeat what I already asked:\n{shown}")
    return "\n\n".join(parts)


def plausible_question(text: str) -> bool:
    """Not a placeholder or an echo of our own instructions (small models produce both)."""
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    lowered = text.lower()
    return len(words) >= 3 and "reflection" not in lowered and "ask next" not in lowered


def echoes(text: str, instructions: str) -> bool:
    """The model copied a line of our own instructions back (small models do)."""
    line = " ".join(text.lower().split()).strip(" .:?-")
    return bool(line) and line in " ".join(instructions.lower().split())


def new_questions(
    run: Run, proposed: Sequence[str], asked: Sequence[str], existing: Sequence[str]
) -> list[str]:
    out: list[str] = []
    for raw in proposed:
        q = clean(raw, MAX_QUESTION_CHARS)
        if q is None or not plausible_question(q):
            continue
        others = [*asked, *existing, *out]
        if any(lexical_similarity(q, o) >= REPEAT_SIMILARITY for o in others):
            run.log.info("a proposed prediction repeats an earlier question: dropped")
            run.log.debug("dropped as a repeat: %r", q)
            continue
        out.append(q)
    return out


async def predictions_step(run: Run, recall: Recall) -> None:
    memory = run.memory
    turn = user_turns(run.history)
    last_id = run.history[-1].id if run.history else None
    ttl = run.settings.prediction_ttl_turns
    for p in memory.predictions:
        if p.status == "fresh" and turn - p.based_on_turn > ttl:
            await memory.drop_prediction(p.id, "too old", status="stale")
            run.dropped += 1
            run.changed()
    fresh = memory.fresh_predictions(turn, ttl)
    current = [p for p in fresh if p.based_on_message_id == last_id]  # made for this state
    earlier = [p for p in fresh if p.based_on_message_id != last_id]
    wanted = max(0, run.settings.max_predictions - len(fresh))
    # Dropping frees slots; ask for enough that the model can replace what it drops.
    ask_for = min(run.settings.max_predictions, wanted + len(earlier))
    if not earlier and ask_for == 0:
        return
    asked = [m.content for m in run.history if m.role == "user"]
    tail = prediction_instructions(asked, earlier, ask_for)
    plan = await run.structured(tail, PredictionPlan, PLAN_TOKENS)
    if plan is None:
        return
    drop = {i.strip().lower() for i in plan.drop} - {i.strip().lower() for i in plan.keep}
    dropped: list[Prediction] = []
    for p in earlier:
        if p.id in drop:
            await memory.drop_prediction(p.id, f"dropped by {run.reflection.id}")
            dropped.append(p)
            run.dropped += 1
            run.changed()
    kept = [*current, *(p for p in earlier if p not in dropped)]
    slots = max(0, run.settings.max_predictions - len(kept))
    questions = [q for q in plan.questions if not echoes(q, tail)]
    questions = new_questions(run, questions, asked, [p.question for p in kept])
    for question in questions[:slots]:
        if not await answer(run, recall, question, dropped, turn, last_id):
            break


async def answer(
    run: Run,
    recall: Recall,
    question: str,
    dropped: Sequence[Prediction],
    turn: int,
    last_id: str | None,
) -> bool:
    """Precompute and store one answer; False when the budget is spent."""
    remaining = run.remaining()
    if remaining <= 0:
        return False
    cap = reply_cap(run.settings, run.backend.capabilities)
    num_predict = remaining if cap is None else min(cap, remaining)
    messages = prompts.chat_messages(
        run.settings.system_prompt,
        run.history,
        question,
        notes=[n.text for n in run.memory.notes],
    )
    text, stats = await run.stream(messages, num_predict)
    used = completion_tokens(stats, text)
    budget_cut = num_predict < (cap or num_predict + 1) and (
        (stats is not None and stats.done_reason == "length") or used >= num_predict
    )
    if budget_cut or stats is None or not text.strip():
        # A cut answer is not what the model would have said: never serve it.
        run.log.info("a prediction was not stored: its answer was cut or empty")
        run.log.debug("not stored (answer cut or empty): %r", question)
        return False
    revised = next(
        (p.id for p in dropped if lexical_similarity(question, p.question) >= REVISION_SIMILARITY),
        None,
    )
    prediction = Prediction(
        id="",
        session_id=run.reflection.session_id,
        question=question,
        answer=text,
        created=run.clock.now(),
        reflection_id=run.reflection.id,
        based_on_message_id=last_id,
        based_on_turn=turn,
        answer_tokens=used,
        embedding=await embedding(run, recall, question),
        revised_from=revised,
    )
    await run.memory.save_prediction(prediction)
    run.predictions += 1
    run.changed()
    return True


async def embedding(run: Run, recall: Recall, question: str) -> list[float] | None:
    """Embed while idle, so matching at query time embeds only the question."""
    if recall.method != "embedding" or recall.backend is None:
        return None
    try:
        vectors = await recall.backend.embed([question], model=recall.embed_model)
        return list(vectors[0])
    except Exception as exc:  # matching will retry, or fall back to lexical
        run.log.info("could not embed a prediction now: %s", exc)
        return None

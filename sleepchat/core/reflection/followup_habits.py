"""The user's follow-up habits, and the reflection step that precomputes them.

Which operations a user asks of an answer ("shorter", "an example", "why?") is a habit that
outlives a session, so it is counted per user (the store's meta table), never per session. A
reflection precomputes, on the last answer, the requests of the intents this user asks most (only
ones they have used; at most ``sleep.followups``), each with exactly the request a chat turn
makes with that intent's canonical words, stored as a prediction on the last message like any
other (stale once the conversation moves on). A message that is nothing but that intent
(``followups.match``) is served it; its stored message keeps the user's own words.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sleepchat.core.memory.staleness import current_predictions
from sleepchat.core.models import Message, Prediction
from sleepchat.core.ports import StorePort
from sleepchat.core.recall import doc_intents
from sleepchat.core.recall.followups import BY_NAME, Intent, match
from sleepchat.core.reflection import predict_step
from sleepchat.core.reflection.reflect_run import Run, user_turns

META_KEY = "followup_habits"  # {"counts": {intent: n}, "last": {intent: time of the last ask}}


class Habits:
    """How often this user asked each follow-up intent, across sessions."""

    def __init__(self, store: StorePort) -> None:
        self.store = store

    async def _load(self) -> tuple[dict[str, int], dict[str, float]]:
        """Tolerant of a missing or malformed record: habits must never break a session."""
        saved: Any = await self.store.get_meta(META_KEY)
        saved = saved if isinstance(saved, dict) else {}
        counts_in, last_in = saved.get("counts"), saved.get("last")
        counts = {
            k: v
            for k, v in (counts_in.items() if isinstance(counts_in, dict) else ())
            if k in BY_NAME and isinstance(v, int) and not isinstance(v, bool) and v > 0
        }
        last = {
            k: float(v)
            for k, v in (last_in.items() if isinstance(last_in, dict) else ())
            if k in counts and isinstance(v, int | float) and not isinstance(v, bool)
        }
        return counts, last

    async def counts(self) -> dict[str, int]:
        return (await self._load())[0]

    async def record(self, intent: str, when: float) -> None:
        counts, last = await self._load()
        counts[intent] = counts.get(intent, 0) + 1
        last[intent] = when
        await self.store.set_meta(META_KEY, {"counts": counts, "last": last})

    async def notice(
        self,
        text: str,
        previous: Message | None,
        when: float,
        *,
        documents: Sequence[str] = (),
    ) -> Intent | None:
        """The intent ``text`` is, counted as a habit when it follows an answer (``documents``:
        the names of the documents attached since the last message, which "this paper", "it"
        or their name may then name)."""
        intent = match(text, documents=documents, just_attached=bool(documents))
        if intent is not None and previous is not None and previous.role == "assistant":
            await self.record(intent.name, when)
        return intent

    async def first(
        self,
        text: str,
        previous: Message | None,
        ready: Sequence[Prediction],
        when: float,
        *,
        documents: Sequence[str] = (),
        files: Collection[str] = (),
    ) -> tuple[Prediction | None, list[Prediction]]:
        """Before the general matcher: the answer precomputed for the intent ``text`` is (None
        when it is none, or nothing was precomputed for it), and what the general matcher
        may serve (an intent's answer is served only through its intent: its canonical words
        must not stand in for a longer question). ``files``: the ids of the documents
        ``documents`` names, whose own study's answers may be served (first: "summarize it"
        right after attaching is the file's summary); another file's never."""
        intent = await self.notice(text, previous, when, documents=documents)
        mine = [p for p in ready if p.document is None or p.document in files]
        mine.sort(key=lambda p: p.document is None)
        found = served_for(intent, mine)
        if found is not None and found.document is not None:
            found = what_it_holds(found.document, text, documents, mine) or found
        if intent is None and (asked := doc_intents.match(text, documents)) is not None:
            # how to install or use a file just attached (never a habit: not on an answer)
            found = next(
                (
                    p
                    for p in mine
                    if p.intent == asked
                    and p.answer
                    and doc_intents.answers(asked, text, documents, p.answer)
                ),
                None,
            )
        return found, [p for p in ready if p.intent is None]

    async def top(self, n: int) -> list[Intent]:
        """The intents this user asked, most often first (the latest breaks a tie), at most n."""
        counts, last = await self._load()
        ranked = sorted(counts, key=lambda k: (counts[k], last.get(k, 0.0)), reverse=True)
        return [BY_NAME[k] for k in ranked[: max(0, n)]]


def what_it_holds(
    document: str, text: str, documents: Sequence[str], ready: Sequence[Prediction]
) -> Prediction | None:
    """When ``text`` asks what the file ``document`` holds ("what does this module contain?"),
    what it provides, where that was precomputed; else None."""
    if not doc_intents.contents(text, documents):
        return None
    wanted = (p for p in ready if p.document == document and p.intent == doc_intents.API)
    return next((p for p in wanted if p.answer), None)


def served_for(intent: Intent | None, ready: Sequence[Prediction]) -> Prediction | None:
    """The precomputed answer for ``intent`` among the predictions that fit the conversation."""
    if intent is None:
        return None
    return next((p for p in ready if p.intent == intent.name and p.answer), None)


async def precompute(run: Run, wanted: int) -> bool:
    """The reflection step: answers to this user's most frequent intents on the last answer.
    False when there was nothing to do (no habit yet, or no answer to operate on)."""
    history = run.history
    if wanted <= 0 or not history or history[-1].role != "assistant" or not history[-1].content:
        return False
    ttl = run.settings.prediction_ttl_turns
    current = {p.id for p in current_predictions(run.memory, history, ttl)}
    done: set[str] = set()
    for p in run.memory.predictions:
        if p.intent is None or p.document is not None or p.status != "fresh":
            continue  # a file's own answers are not on the last answer: re-validated instead
        if p.id in current and (p.answer or p.partial):
            done.add(p.intent)  # answered, or cut and kept to be continued
        else:  # made on an earlier answer: an operation on an answer no longer the last
            await run.memory.drop_prediction(p.id, "the last answer changed", status="stale")
            run.dropped += 1
            run.changed()
    habits = await Habits(run.memory.store).top(wanted)
    for intent in habits:
        if intent.name in done:
            continue
        if run.remaining() <= 0:
            break
        # Unbudgeted once started: the request is exactly the one a chat turn makes.
        result = await predict_step.answer(run, intent.request, budgeted=False)
        if result is None:
            continue
        text, used = result.text, result.tokens
        await run.memory.save_prediction(
            Prediction(
                id="",
                session_id=run.reflection.session_id,
                question=intent.request,
                answer=text,
                created=run.clock.now(),
                reflection_id=run.reflection.id,
                based_on_message_id=history[-1].id,
                based_on_turn=user_turns(history),
                answer_tokens=used,
                intent=intent.name,
            )
        )
        run.predictions += 1
        run.changed()
    return bool(habits)

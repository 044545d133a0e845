"""The sleep cycle: one reflection over a session while the user is idle (its rules:
docs/architecture.md, Rules of the sleep cycle).

Steps, cheapest and surest first, each stored as soon as it is done, so a reflection the user
cuts short still leaves something (issue 15):

1. warm-up — the chat prefix and notes block, one token (on backends with a prefix cache;
   ``Reflector.warm_up`` is also what resuming a session uses): the server's cache holds what
   the next question starts with, and every later prediction request starts with it too;
2. revalidate (``predict_step``) — earlier predictions that did not see the latest user
   content: keep / revise / drop, so none is served on a context it never saw;
3. notes (``notes_step``);
4. queued (``predict_step``) — the questions the user queued with /later, in order, each
   requested exactly like a chat turn (so after the notes), whatever the policy or the budget;
   then the next sections of a long attached document (``doc_study``: a line each, across
   idle periods) and a document just attached (``document_step``: its summary);
5. follow-ups (``followup_habits``) — answers to the follow-ups on the last answer this user
   asks most ("shorter", "an example"), requested like a chat turn;
6. questions (``predict_step``) — likely next questions, stored without answers;
7. answers (``predict_step``) — revisions, then the stored questions, requested like a chat
   turn;
then a re-warm when the notes changed after the warm-up and no later request carried them;
then the sections of long attached documents are embedded (``memory/doc_sections.py``) and past
sessions are consolidated into the user's memory (``memory/consolidate.py``).

How much of 2, 6 and 7 runs is the prediction policy's call (``predict_policy``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import statistics
from collections.abc import Sequence

from sleepchat.core import prompts
from sleepchat.core.clock import Clock
from sleepchat.core.conversation import Conversation
from sleepchat.core.errors import BackendError
from sleepchat.core.events import ReflectionChanged
from sleepchat.core.memory import Memory
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.staleness import current_predictions
from sleepchat.core.memory.stats import Stats
from sleepchat.core.models import Message, Note, Prediction, Reflection, ReflectionStatus
from sleepchat.core.ports import Backend
from sleepchat.core.recall import Recall, in_context
from sleepchat.core.reflection import (
    doc_study,
    document_step,
    followup_habits,
    predict_policy,
    predict_step,
)
from sleepchat.core.reflection import plan as planning
from sleepchat.core.reflection.notes_step import EXTRACT_TOKENS, notes_step
from sleepchat.core.reflection.reflect_run import Run, completion_tokens, state_key
from sleepchat.core.settings import CoreSettings, reply_cap
from sleepchat.core.speed import SpeedBook, reply_speed

# Past sessions read into the user's memory per idle period (each takes milliseconds; a long
# import is read over several idle periods, or at once with `sleepchat memory consolidate`).
CONSOLIDATE_PER_IDLE = 20
NOTHING_YET = "nothing to reflect on"


def has_exchange(history: Sequence[Message]) -> bool:
    """A complete user + assistant exchange exists."""
    asked = False
    for m in history:
        if m.role == "user":
            asked = True
        elif asked and m.content and not m.replaced_by:
            return True
    return False


class Reflector:
    """Reflects on a conversation, with the settings that conversation's requests use."""

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        recall: Recall,
        log: logging.Logger | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.recall = recall
        self.log = log or logging.getLogger("sleepchat.reflect")

    async def run(self, conversation: Conversation) -> Reflection:
        """One reflection on ``conversation`` as it is now, then past sessions consolidated into
        the user's memory. Cancel the task to preempt it: the reflection is then stored as
        cancelled (finished steps kept) and CancelledError propagates."""
        reflection = await self._reflect(conversation)
        await conversation.embed_sections(self.recall)
        await self._consolidate(conversation)
        return reflection

    async def _consolidate(self, conversation: Conversation) -> None:
        """A few past sessions into the user's memory (no model call; each one stored as it
        ends, so a key between them loses nothing)."""
        if conversation.user_memory is None:
            return
        consolidator = Consolidator(conversation.store, conversation.user_memory)
        done = await consolidator.run(
            besides=conversation.session.id, max_sessions=CONSOLIDATE_PER_IDLE
        )
        if done.kept or done.merged:
            conversation.memory_changed()  # the panel's You tab shows what was read
        if done.sessions:
            self.log.info(
                "consolidated %d sessions into memory: %d kept, %d merged, %d left",
                done.sessions,
                done.kept,
                done.merged,
                done.pending,
            )

    async def _reflect(self, conversation: Conversation) -> Reflection:
        history = list(conversation.history)
        await conversation.recall_memory(self.recall)  # an idle period: the quote may change
        memory, settings = conversation.memory, conversation.settings
        session_id = conversation.session.id
        key = state_key(session_id, history, memory.notes, self.prefix(settings))
        reason = self._skip_reason(key, history, memory, settings)
        level = predict_policy.level(settings.predict, memory.policy)
        # Questions the user queued are answered even when nothing else is left to do, and
        # answers cut short (or left by the plan) are finished over an unchanged conversation.
        cut = (
            reason == "unchanged"
            and level == "answers"
            and bool(predict_step.unfinished(memory, history, settings.prediction_ttl_turns))
        )
        ttl = settings.prediction_ttl_turns
        cut = cut or bool(reason and document_step.to_study(memory, history, ttl))
        # A long file is studied across idle periods, in a new session's too.
        studies = reason in ("unchanged", NOTHING_YET) and doc_study.left(memory) is not None
        cut = cut or studies
        queued_only = reason is not None and (
            cut or bool(predict_step.queued_waiting(memory, history))
        )
        if reason is not None and not queued_only:
            return await self._skip(conversation, key, reason, history)

        started = self.clock.monotonic()
        reflection = await memory.save_reflection(
            Reflection(id="", session_id=session_id, state_key=key, started=self.clock.now())
        )
        conversation.events.emit(ReflectionChanged(reflection))
        run = Run(
            reflection,
            memory,
            conversation,
            history,
            self.backend,
            settings,
            self.clock,
            self.log,
            started=started,
            recall=self.recall,
        )
        status: ReflectionStatus = "done"
        failure: str | None = None
        try:
            await self._plan(run, level, queued_only=queued_only)
            await self._steps(run, level, queued_only=queued_only)
            answers_left = level == "answers" and bool(
                predict_step.unfinished(memory, history, ttl)
            )
            summary_left = level != "none" and document_step.summary_left(memory, history, ttl)
            run.more = run.tokens > 0 and (
                answers_left or summary_left or doc_study.left(memory) is not None
            )
        except asyncio.CancelledError:
            # Shielded: a second cancel must not lose the record of the first.
            await asyncio.shield(self._finish(run, "cancelled", "preempted by input"))
            raise
        except BackendError as exc:
            # The chat goes on; the reflection says why it stopped.
            self.log.warning("reflection %s failed: %s", reflection.id, exc.message)
            status, failure = "failed", exc.message
        return await self._finish(run, status, failure)

    async def _plan(self, run: Run, level: predict_policy.Level, *, queued_only: bool) -> None:
        """Fit this reflection's work to the idle period it will likely get, from the model's
        measured speed (``plan.py``)."""
        model, settings = self.backend.model, run.settings
        run.speed = await SpeedBook(run.memory.store).load(model)
        if run.speed.decode is None:
            run.speed.decode = reply_speed(run.history, model)
        current, earlier = predict_step.split_fresh(run)
        followups = settings.followups if settings.predict != "never" and not queued_only else 0
        if followups:
            followups = len(await followup_habits.Habits(run.memory.store).top(followups))
        wanted = max(0, settings.max_predictions - len(current)) if level != "none" else 0
        ttl = settings.prediction_ttl_turns
        # Its last section may be read in this period: the summary and the questions a reader
        # asks then follow in it, planned like a file held whole.
        studying = (
            document_step.to_study(run.memory, run.history, ttl, sections_left=True) is not None
        )
        seconds = planning.idle_seconds(run.memory.reflections, run.history, settings.idle_seconds)
        run.plan = planning.plan(
            run.speed,
            seconds,
            notes=not queued_only,
            revalidate=bool(earlier) and level != "none" and not queued_only,
            followups=followups,
            # Over an unchanged conversation only answers are left, unless a document was
            # just attached: then the questions a reader asks of it too.
            questions=wanted if not queued_only or studying else len(current),
            reply_tokens=planning.typical_reply(
                run.history, reply_cap(settings, self.backend.capabilities)
            ),
            notes_ceiling=EXTRACT_TOKENS,
            sections=doc_study.sections_left(run.memory),
            answering=level == "answers",
            can_continue=self.backend.capabilities.continues,
            continuing=queued_only,
        )
        if run.plan is not None:
            self.log.info("reflection %s planned: %s", run.reflection.id, run.plan.describe())

    def prefix(self, settings: CoreSettings) -> list[object]:
        """What every request starts with beside the conversation (a change: a new prefix)."""
        return [self.backend.model, settings.system_prompt, settings.options.to_dict()]

    def _skip_reason(
        self, key: str, history: Sequence[Message], memory: Memory, settings: CoreSettings
    ) -> str | None:
        if not has_exchange(history):
            return NOTHING_YET  # (a document attached first is studied all the same)
        last_done = memory.last_reflection("done")
        if last_done is not None and last_done.state_key == key:
            return "unchanged"
        # The cooldown throttles retries after a cancel over the same conversation; the first
        # reflection after new content always runs, or predictions would answer an old turn.
        last = memory.last_reflection("done", "cancelled")
        if (
            last is not None
            and last.status == "cancelled"
            and last.finished is not None
            and self.clock.now() - last.finished < settings.cooldown_seconds
            and not any(m.created > last.started for m in history)
        ):
            return "cooldown"
        return None

    async def _skip(
        self, conversation: Conversation, key: str, reason: str, history: Sequence[Message]
    ) -> Reflection:
        memory = conversation.memory
        last = memory.last_reflection()
        if (
            last is not None
            and last.status == "skipped"
            and last.state_key == key
            and last.reason == reason
        ):
            return last  # the same non-event again: no new record for every idle period
        now = self.clock.now()
        skipped = await memory.save_reflection(
            Reflection(
                id="",
                session_id=conversation.session.id,
                state_key=key,
                started=now,
                status="skipped",
                finished=now,
                reason=reason,
            )
        )
        await memory.recorder.record_reflection("skipped", 0, 0)
        conversation.memory_changed(history)  # the stats
        conversation.events.emit(ReflectionChanged(skipped))
        return skipped

    async def _finish(self, run: Run, status: ReflectionStatus, reason: str | None) -> Reflection:
        final = dataclasses.replace(run.counted(status, reason), finished=self.clock.now())
        if run.speed.decode is not None:  # what this idle period measured, for the next plan
            await SpeedBook(run.memory.store).save(self.backend.model, run.speed)
        if status == "done":
            # Keyed by the state it leaves behind, so an unchanged conversation is not redone.
            final.state_key = state_key(
                final.session_id, run.history, run.memory.notes, self.prefix(run.settings)
            )
        final = await run.memory.save_reflection(final)
        await run.memory.recorder.record_reflection(status, run.tokens, run.predictions, run.wasted)
        run.memory_changed()  # the stats moved
        run.emit(ReflectionChanged(final, run.dropped))
        return final

    async def warm_up(
        self,
        settings: CoreSettings,
        history: Sequence[Message],
        notes: Sequence[Note],
        *,
        background: bool,
    ) -> int:
        """Have the server process the chat prefix (system prompt, history, notes) now, so the
        next question prefills only its own tokens; returns the tokens it generated. The one
        warm-up: the sleep cycle's first step and re-warm (``background``), and what resuming a
        session does (the user's first question may be waiting for it)."""
        if not self.backend.capabilities.prefix_cache:
            return 0  # computed and forgotten: tokens for nothing
        messages = prompts.warm_messages(settings.system_prompt, history, [n.text for n in notes])
        stats = await self.backend.warm_up(
            messages,
            options=settings.options,
            keep_alive=settings.keep_alive,
            background=background,
        )
        return completion_tokens(stats, "")

    async def _warm(self, run: Run) -> None:
        began = self.clock.monotonic()
        run.tokens += await self.warm_up(
            run.settings, run.history, run.memory.request_notes, background=True
        )
        run.speed.observe_warm(self.clock.monotonic() - began)
        run.last_prompt = run.warm_prefix()

    async def _steps(self, run: Run, level: predict_policy.Level, *, queued_only: bool) -> None:
        if run.warms():
            await self._warm(run)
            run.steps.append("warm-up")
        revise: list[Prediction] = []
        if level != "none" and not queued_only:
            revise = await predict_step.revalidate(run, answers=level == "answers")
            run.steps.append("revalidate")
        if not queued_only:
            await notes_step(run)
            run.steps.append("notes")
        # After the notes: a queued answer's request is the one a chat turn makes now.
        if predict_step.queued_waiting(run.memory, run.history):
            await predict_step.queued(run)
            run.steps.append("queued")
        # A document attached since the last answer: its summary, before the follow-ups
        # (a "summarize it" then means the document).
        # A long file, section by section (any level: like notes, it pays without hits).
        if doc_study.left(run.memory) is not None:
            limit = doc_study.PER_IDLE if run.plan is None else run.plan.sections
            if await doc_study.study(run, limit):
                run.steps.append("sections")
        if level != "none":
            current, _earlier = predict_step.split_fresh(run)
            invited = run.settings.max_predictions - len(current)
            if run.plan is not None:
                invited = min(invited, run.plan.questions)
            answering = level == "answers"
            if await document_step.study(run, self.recall, invited, answering=answering):
                run.steps.append("document")
        if queued_only:
            if level == "answers" and predict_step.unfinished(
                run.memory, run.history, run.settings.prediction_ttl_turns
            ):
                await predict_step.answers(run, self.recall, [])
                run.steps.append("answers")
            await self._ready_judge(run)
            return
        policy = predict_policy.after_reflection(run.memory.policy, level)
        await run.memory.recorder.set_policy(policy)
        # The user's own follow-up habits first, whatever the policy's level: they rest on what
        # the user asks, not on how the model's predicted questions fare ("never" turns them off).
        followups = run.settings.followups if run.settings.predict != "never" else 0
        if run.plan is not None:
            followups = min(followups, run.plan.followups)
        if await followup_habits.precompute(run, followups):
            run.steps.append("follow-ups")
        if level != "none":
            current, _earlier = predict_step.split_fresh(run)
            revising = [p for p in revise if p.document is None]  # a file's: not questions
            wanted = run.settings.max_predictions - len(current) - len(revising)
            if run.plan is not None:
                wanted = min(wanted, run.plan.questions)
            # Talking of a file: what a reader asks of it next, not of their situation.
            doc = document_step.reading(run.memory, run.history)
            await predict_step.questions(
                run,
                self.recall,
                wanted,
                revise,
                document=None if doc is None else doc.name,
                following=doc is None or not document_step.just_attached(doc, run.history),
            )
            run.steps.append("questions")
        if level == "answers":
            await predict_step.answers(run, self.recall, revise)
            run.steps.append("answers")
        else:
            await self._count_skipped(run, level)
        warm = run.warm_prefix()
        if run.warms() and run.last_prompt[: len(warm)] != warm:
            await self._warm(run)  # the notes changed since: a cheap re-warm
        await self._ready_judge(run)

    async def _ready_judge(self, run: Run) -> None:
        """Last, once the answers are kept: the judge readies itself for the predictions a
        question may now be matched with (the chat's cache stays as the warm-up left it)."""
        ttl = run.settings.prediction_ttl_turns
        ready = current_predictions(run.memory, run.history, ttl)
        exchange = in_context.last_exchange(run.history)
        await self.recall.prepare_judge(ready, run.settings.options, exchange)

    async def _count_skipped(self, run: Run, level: predict_policy.Level) -> None:
        """What the policy saved: the answers an ``answers`` reflection would have computed,
        at this session's typical answer length (an estimate; the bench measures it)."""
        current, _earlier = predict_step.split_fresh(run)
        if level == "questions":
            skipped = sum(1 for p in current if not p.answer)
        else:
            skipped = max(0, run.settings.max_predictions - len(current))
        sizes = [p.answer_tokens for p in run.memory.predictions if p.answer_tokens]
        sizes += [m.completion_tokens for m in run.history if m.completion_tokens]
        typical = int(statistics.median(sizes)) if sizes else 0
        if skipped:
            await run.memory.recorder.record(
                Stats(answers_skipped=skipped, sleep_tokens_saved=skipped * typical)
            )

"""``sleepchat bench``: the sleep cycle measured against a stateless baseline on one backend.

For each conversation two arms run on the same backend: *stateless* (context turns, then each
query, no sleep) and *sleep* (the same, with a full sleep cycle before each query). A third
measurement reopens a long session: cold time-to-first-token vs after the idle-time warm-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sleepchat.bench_sleep import ArmCost, idle_figures, policy_figures, reflect_within
from sleepchat.core.assistant import Assistant
from sleepchat.core.events import ReplyChunk, ReplyDone, ReplyFailed
from sleepchat.core.recall import Recall
from sleepchat.core.recall.judge import ModelJudge
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import BackendError, BaseBackend, ChatStats
from sleepchat.progress import Progress
from sleepchat.runtime import (
    build_assistant,
    build_embedder,
    build_judge,
    open_backend,
    open_store,
)

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.ports import Embedder, Judge, StorePort

QUERY_WEIGHT = 10  # query-time tokens cost 10x sleep tokens (as in the Sleep-time Compute paper)
LONG_WORDS = 900  # ≈ 1,200 tokens: the long-session resume measurement
EVICT_PROMPT = "Unrelated warm-up to evict the cache: list three colours."


@dataclass
class Conversation:
    id: str
    context: list[str]
    queries: list[str]


@dataclass
class Turn:
    query: str
    ttft_ms: float | None
    total_ms: float
    completion_tokens: int
    source: str = "model"
    best_score: float | None = None  # closest prediction's similarity (sleep arm)
    best_question: str | None = None
    # The predicted questions there when it was asked, each "[answered]" or "[question
    # only]" (sleep arm): coverage — whether one was the real follow-up in other words — is
    # read from these, apart from recall (whether the matcher served it).
    predicted: list[str] = field(default_factory=list)
    served: str | None = None  # the predicted question whose answer was served (a hit)
    prediction_id: str | None = field(default=None, repr=False)


@dataclass
class ConversationResult:
    id: str
    stateless: list[Turn] = field(default_factory=list)
    sleep: list[Turn] = field(default_factory=list)
    sleep_tokens: int = 0
    reflections: int = 0
    resume_cold_ms: float | None = None
    resume_warm_ms: float | None = None
    history_tokens: int | None = None
    # A hit forced by asking a stored prediction verbatim, vs the model answering it (/regen):
    # what a hit is worth, measured even when real follow-ups never hit.
    forced_hit_ms: float | None = None
    forced_model_ms: float | None = None
    transcript: list[tuple[str, str]] = field(default_factory=list, repr=False)
    # The sleep arm with the prediction policy on (auto, the default) and off (always).
    policy_on: ArmCost = field(default_factory=ArmCost)
    policy_off: ArmCost = field(default_factory=ArmCost)


@dataclass(frozen=True)
class _Parts:
    """What every arm shares: the backend under test and recall's embedder."""

    backend: BaseBackend
    embedder: Embedder | None
    judge: Judge | None = None  # as a session has it: the model's calibrated judge, if any

    def assistant(self, store: StorePort, settings: CoreSettings) -> Assistant:
        return build_assistant(
            self.backend, store, settings, embedder=self.embedder, judge=self.judge
        )


def load_conversations(
    path: str | None, limit: int | None, *, bundled: str = "conversations.jsonl"
) -> list[Conversation]:
    """Conversations from ``path``, else the bundled set ``bundled``."""
    if path is None:
        text = resources.files("sleepchat.data").joinpath(bundled).read_text("utf-8")
        where = "the bundled set"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise BackendError(f"cannot read conversations {path}: {exc.strerror}") from None
        where = path
    out: list[Conversation] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            out.append(Conversation(str(doc["id"]), list(doc["context"]), list(doc["queries"])))
        except (ValueError, KeyError, TypeError):
            raise BackendError(
                f"{where} line {n}: expected a JSON object with id, context, queries"
            ) from None
    return out[:limit] if limit else out


async def _ask(a: Assistant, text: str) -> Turn:
    start = time.perf_counter()
    first: float | None = None
    last = start  # the full answer is on screen with its last chunk (storing comes after)
    done: ReplyDone | None = None
    async for event in a.ask(text):
        if isinstance(event, ReplyChunk):
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, ReplyDone):
            done = event
        elif isinstance(event, ReplyFailed):
            raise BackendError(event.error)
    assert done is not None
    msg = done.message
    return Turn(
        query=text,
        ttft_ms=(first - start) * 1000 if first is not None else None,
        total_ms=(last - start) * 1000,
        completion_tokens=0 if msg.source == "prediction" else (msg.completion_tokens or 0),
        source=msg.source,
        prediction_id=msg.prediction_id,
    )


async def evict(backend: BaseBackend, settings: CoreSettings) -> None:
    """Leave something unrelated in the server's cache (as after another session)."""
    messages = [
        {"role": "system", "content": "You are a test."},
        {"role": "user", "content": EVICT_PROMPT},
    ]
    async for _chunk in backend.chat_stream(messages, options=settings.options, num_predict=1):
        pass


async def _arm(
    parts: _Parts,
    settings: CoreSettings,
    conv: Conversation,
    *,
    sleep: bool,
    res: ConversationResult,
    cost: ArmCost | None = None,
) -> list[Turn]:
    """One arm of a conversation. The sleep arm gives each reflection one idle period
    (``settings.idle_seconds``), then cuts it as the next question would, and adds what it
    spent and got to ``cost``; the main sleep arm (``cost`` is ``res.policy_on``) also
    measures resuming and a forced hit."""
    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-") as tmp:
        store = await open_store(Path(tmp))
        a = parts.assistant(store, settings)
        ranker = Recall(parts.embedder, threshold=settings.recall_threshold)  # the best score
        try:
            await a.new_session(conv.id)
            for line in conv.context:
                await _ask(a, line)
            turns: list[Turn] = []
            for query in conv.queries:
                if sleep:
                    assert cost is not None
                    r = await reflect_within(a, asyncio.sleep(settings.idle_seconds), cost)
                    res.sleep_tokens += r.tokens if cost is res.policy_on else 0
                    res.reflections += r.status == "done" and cost is res.policy_on
                    fresh = a.fresh_predictions
                    ranked = await ranker.rank(query, fresh) if fresh else []
                turn = await _ask(a, query)
                if sleep and turn.source == "prediction":
                    turn.served = next(
                        (p.question for p in fresh if p.id == turn.prediction_id), None
                    )
                if sleep:
                    turn.predicted = [
                        f"{p.question} [{'answered' if p.answer else 'question only'}]"
                        for p in fresh
                        if not p.intent
                    ]
                if sleep and ranked:
                    turn.best_score = ranked[0][1]
                    turn.best_question = ranked[0][0].question
                turns.append(turn)
                if cost is not None:
                    cost.hits += turn.source == "prediction"
            if sleep and cost is res.policy_on:
                res.history_tokens = sum(len(m.content.split()) for m in a.history)
                res.transcript = [(m.role, m.content) for m in a.history if not m.replaced_by]
                res.resume_cold_ms, res.resume_warm_ms, _n = await _resume(
                    a, parts.backend, settings
                )
                await _forced_hit(a, res)
            return turns
        finally:
            await a.close()
            await store.close()


async def _resume(
    a: Assistant, backend: BaseBackend, settings: CoreSettings
) -> tuple[float, float, int | None]:
    """First question after reopening the session: cold vs after the idle-time warm-up.
    Returns (cold ms, warm ms, prompt tokens as the server counted them)."""
    question = "Can you summarise what we discussed in two sentences?"
    cold, warm = [], []
    tokens: int | None = None
    for _ in range(2):  # median of two each; the prefix is identical every time
        await evict(backend, settings)
        ms, stats = await first_token(a, backend, question)
        tokens = stats.prompt_tokens
        cold.append(ms)
        await evict(backend, settings)
        await a.warm_up()
        warm.append((await first_token(a, backend, question))[0])
    return statistics.median(cold), statistics.median(warm), tokens


async def _forced_hit(a: Assistant, res: ConversationResult) -> None:
    if not a.fresh_predictions:
        await a.reflect()  # the last query changed the state: one more cycle
    fresh = a.fresh_predictions
    if not fresh:
        return
    hit = await _ask(a, fresh[0].question)
    if hit.source != "prediction":
        return
    start = time.perf_counter()
    last = start
    async for event in a.regenerate():
        if isinstance(event, ReplyChunk):
            last = time.perf_counter()
    res.forced_hit_ms, res.forced_model_ms = hit.total_ms, (last - start) * 1000


async def _long_resume(
    parts: _Parts, settings: CoreSettings, results: Sequence[ConversationResult]
) -> dict[str, Any]:
    """Reopen one long session (the transcripts joined until ≥ LONG_WORDS words)."""
    from sleepchat.core.models import Message, new_id

    turns: list[tuple[str, str]] = []
    for r in results:
        if sum(len(c.split()) for _, c in turns) >= LONG_WORDS:
            break
        turns.extend(r.transcript)
    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-") as tmp:
        store = await open_store(Path(tmp))
        try:
            session = await store.create_session("long")
            for role, content in turns:
                msg = Message(new_id("m", 6), session.id, role, content, time.time())  # type: ignore[arg-type]
                await store.append_message(msg)
            a = parts.assistant(store, settings)
            await a.start(session.id)
            cold, warm, tokens = await _resume(a, parts.backend, settings)
            await a.close()
        finally:
            await store.close()
    return {
        "resume_ttft_speedup": round(cold / warm, 3) if warm else None,
        "resume_history_tokens": tokens,
        "resume_cold_ms": round(cold),
        "resume_warm_ms": round(warm),
    }


async def first_token(a: Assistant, backend: BaseBackend, question: str) -> tuple[float, ChatStats]:
    """TTFT (ms) of a question on the current history, without storing it (a probe), and what
    the server reported (the prompt's size and prefill time)."""
    from sleepchat.core.prompts import chat_messages

    messages = chat_messages(a.settings.system_prompt, a.history, question)
    start = time.perf_counter()
    first: float | None = None
    stats = ChatStats()
    async for chunk in backend.chat_stream(messages, options=a.settings.options, num_predict=2):
        if chunk.text and first is None:
            first = time.perf_counter()
        if chunk.stats is not None:
            stats = chunk.stats
    return ((first or time.perf_counter()) - start) * 1000, stats


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarise(results: Sequence[ConversationResult]) -> dict[str, Any]:
    pairs = [(s, z) for r in results for s, z in zip(r.stateless, r.sleep, strict=True)]
    hits = [(s, z) for s, z in pairs if z.source == "prediction"]
    misses = [(s, z) for s, z in pairs if z.source != "prediction"]
    n = len(pairs)
    stateless_tokens = sum(s.completion_tokens for s, _ in pairs)
    sleep_query_tokens = sum(z.completion_tokens for _, z in pairs)
    sleep_tokens = sum(r.sleep_tokens for r in results)
    resume = [
        r.resume_cold_ms / r.resume_warm_ms
        for r in results
        if r.resume_cold_ms and r.resume_warm_ms
    ]
    cost_stateless = QUERY_WEIGHT * stateless_tokens / n if n else None
    cost_sleep = (QUERY_WEIGHT * sleep_query_tokens + sleep_tokens) / n if n else None
    best = [z.best_score for _, z in misses if z.best_score is not None]
    return {
        "conversations": len(results),
        "queries": n,
        "hits": len(hits),
        "hit_rate": round(len(hits) / n, 3) if n else None,
        "hit_speedup": _median([s.total_ms / z.total_ms for s, z in hits if z.total_ms > 0]),
        "miss_ttft_ratio": _median(
            [z.ttft_ms / s.ttft_ms for s, z in misses if z.ttft_ms and s.ttft_ms]
        ),
        "resume_ttft_speedup_short": _median(resume),
        "forced_hit_speedup": _median(
            [
                r.forced_model_ms / r.forced_hit_ms
                for r in results
                if r.forced_hit_ms and r.forced_model_ms
            ]
        ),
        "query_tokens_ratio": round(sleep_query_tokens / stateless_tokens, 3)
        if stateless_tokens
        else None,
        # per query, so one runaway generation does not swing it
        "query_tokens_ratio_median": _median(
            [z.completion_tokens / s.completion_tokens for s, z in pairs if s.completion_tokens]
        ),
        "sleep_tokens": sleep_tokens,
        "stateless_query_tokens": stateless_tokens,
        "sleep_query_tokens": sleep_query_tokens,
        "amortised_cost_stateless": round(cost_stateless, 1)
        if cost_stateless is not None
        else None,
        "amortised_cost_sleep": round(cost_sleep, 1) if cost_sleep is not None else None,
        "amortised_cost_ratio": round(cost_sleep / cost_stateless, 3)
        if cost_sleep is not None and cost_stateless
        else None,
        "miss_best_prediction_score_median": _median(best),
        "stateless_ttft_ms_median": _median([s.ttft_ms for s, _ in pairs if s.ttft_ms]),
        "sleep_miss_ttft_ms_median": _median([z.ttft_ms for _, z in misses if z.ttft_ms]),
    }


def print_table(
    summary: dict[str, Any], results: Sequence[ConversationResult], out: IO[str]
) -> None:
    out.write(f"{'conversation':20} {'hits':>5} {'sleep tok':>9} {'resume cold/warm ms':>22}\n")
    for r in results:
        hits = sum(t.source == "prediction" for t in r.sleep)
        cw = (
            f"{r.resume_cold_ms:.0f}/{r.resume_warm_ms:.0f}"
            if r.resume_cold_ms and r.resume_warm_ms
            else "-"
        )
        out.write(f"{r.id[:20]:20} {hits:>3}/{len(r.sleep):<1} {r.sleep_tokens:>9} {cw:>22}\n")
    out.write("\n")
    for key, value in summary.items():
        out.write(f"{key:36} {value if value is not None else 'n/a'}\n")
    out.flush()


async def bench(
    backend: BaseBackend,
    settings: CoreSettings,
    conversations: Sequence[Conversation],
    *,
    embedder: Embedder | None = None,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[ConversationResult]]:
    """The three arms of every conversation on ``backend`` (``embedder``: what recall embeds with,
    as the runtime builds it), each in a fresh temporary store. ``progress`` (on stderr by
    default) counts the arms and the long-session resume: a bar with an ETA on a terminal."""
    steps = 3 * len(conversations) + 1  # three arms each, then the long-session resume
    progress = progress or Progress("bench", steps)
    parts = _Parts(backend, embedder, judge)
    # Every query gets a full cycle: no cooldown in the way.
    settings = dataclasses.replace(settings, cooldown_seconds=0.0, sleep_enabled=True)
    stateless_settings = dataclasses.replace(settings, sleep_enabled=False)
    on = dataclasses.replace(settings, predict="auto")
    off = dataclasses.replace(settings, predict="always")
    results = []
    for conv in conversations:
        res = ConversationResult(conv.id)
        res.stateless = await _arm(parts, stateless_settings, conv, sleep=False, res=res)
        progress.advance(note=f"{conv.id}, stateless arm")
        res.sleep = await _arm(parts, on, conv, sleep=True, res=res, cost=res.policy_on)
        progress.advance(note=f"{conv.id}, sleep arm")
        await _arm(parts, off, conv, sleep=True, res=res, cost=res.policy_off)
        progress.advance(note=f"{conv.id}, sleep arm with predictions always on")
        results.append(res)
    summary = summarise(results)
    summary.update(idle_figures([r.policy_on for r in results], settings.idle_seconds))
    summary.update(policy_figures([r.policy_on for r in results], [r.policy_off for r in results]))
    summary.update(await _long_resume(parts, settings, results))
    progress.advance(note="resuming a long session")
    progress.done(f"{len(conversations)} conversations")
    return summary, results


async def _judge(config: Config, backend: BaseBackend) -> Judge | None:
    """The judge a session on this model would have (the user's calibration or the shipped
    one), so the sleep arm's hits are what a user gets."""
    store = await open_store(config.resolved_data_dir(), read_only=True)
    try:
        return await build_judge(config, store, backend)
    finally:
        await store.close()


async def run_bench(
    config: Config, *, conversations: str | None, limit: int | None, json_out: str | None
) -> int:
    convs = load_conversations(conversations, limit)
    backend = await open_backend(config)
    try:
        print(
            f"bench: {len(convs)} conversations on {backend.name} model {backend.model}",
            file=sys.stderr,
        )
        embedder = await build_embedder(config, backend)
        judge = await _judge(config, backend)
        try:
            summary, results = await bench(
                backend, config.core_settings(), convs, embedder=embedder, judge=judge
            )
        finally:
            if embedder is not None:
                await embedder.aclose()
    finally:
        await backend.aclose()
    recall = f"embedding: {embedder.name}" if embedder is not None else "lexical"
    recall += f", judge: {judge.name}" if isinstance(judge, ModelJudge) else ", no judge"
    summary = {"backend": backend.name, "model": backend.model, "recall": recall, **summary}
    print_table(summary, results, sys.stdout)
    if json_out:
        rows = [
            {k: v for k, v in dataclasses.asdict(r).items() if k != "transcript"} for r in results
        ]
        doc = {"summary": summary, "conversations": rows}
        Path(json_out).write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    return 0

"""``sleepchat bench memory --locomo FILE``: the user's memory measured on a LoCoMo conversation.

LoCoMo (a public benchmark of long-term conversational memory) holds long conversations between
two people over weeks, in dated sessions, and questions about them with gold answers. Here its
``speaker_a`` plays the user and ``speaker_b`` the other side: the sessions are imported into a
fresh data dir as they would be from a chat export (``importer``), consolidated into memory
(``core/memory/consolidate.py``), then each question about the user (categories 1 single-hop,
2 temporal, 3 multi-hop; naming the user and not the other speaker) is asked in a new session,
three ways on the same model, greedy:

- ``none``: the question alone;
- ``last``: after the last turns of the history that fit the context window (each session's
  first message carries its date);
- ``memory``: the question with the memory items the product would quote (the same ranking,
  budget and block as a session's system message).

Scored by whether the answer holds every key token of the gold answer (``contains``, dates in
any order: "7 May 2023" = "May 7, 2023") and by token F1. Prompt tokens are estimated the
product's way (about four characters a token), the same for every arm.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sleepchat.core.context import estimate
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.user_memory import UserMemory, prompt_block
from sleepchat.core.models import Role
from sleepchat.core.ports import ModelOptions
from sleepchat.core.recall import Recall
from sleepchat.core.settings import DEFAULT_CONTEXT
from sleepchat.errors import StartupError
from sleepchat.importer import Imported, store_all
from sleepchat.progress import Progress

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.clock import Clock
    from sleepchat.llm.base import BaseBackend, ChatMessage

CATEGORIES = {1: "single-hop", 2: "temporal", 3: "multi-hop"}
ARMS = ("none", "last", "memory")
ARM_NAMES = {"none": "no memory", "last": "last turns", "memory": "memory"}
REPLY_TOKENS = 40
INSTRUCTION = "Answer in a few words: a name, a date, a short phrase. No explanation."
_DATE_FORMAT = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the and or of in on at to for with by is was were be been it its that this from "
        "as she he they her his their them i my me you your about",
    )
)
_MONTHS = {
    m[:3]: m
    for m in re.findall(
        r"\w+",
        "january february march april may june july august september october november december",
    )
}


@dataclass(frozen=True)
class Question:
    text: str
    answer: str
    category: int


@dataclass
class Locomo:
    user: str
    other: str
    sessions: list[Imported]
    questions: list[Question]


@dataclass
class Answer:
    question: Question
    arm: str
    text: str
    prompt_tokens: int
    contains: bool
    f1: float


@dataclass
class Result:
    file: str
    user: str
    sessions: int
    turns: int
    items: int = 0
    consolidation_s: float = 0.0
    answers: list[Answer] = field(default_factory=list)


def session_time(text: str, where: str) -> float:
    try:
        return datetime.strptime(" ".join(text.split()), _DATE_FORMAT).timestamp()
    except ValueError:
        raise StartupError(
            f"{where}: a session date like '1:56 pm on 8 May, 2023' expected, got {text!r}", 2
        ) from None


def load_locomo(path: Path) -> Locomo:
    """The conversation and its questions about ``speaker_a`` (one-line errors)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        user, other = str(data["speaker_a"]), str(data["speaker_b"])
        keys = [k for k in data if re.fullmatch(r"session_\d+", k) and data[k]]
        keys.sort(key=lambda k: int(k.split("_")[1]))
        sessions = []
        for key in keys:
            when = session_time(data[f"{key}_date_time"], f"{path} {key}_date_time")
            conv = Imported(f"locomo:{key}", key, when)
            for index, turn in enumerate(data[key]):
                text = str(turn["text"])
                if turn.get("blip_caption"):
                    text += f" [shares a photo: {turn['blip_caption']}]"
                role: Role = "user" if turn["speaker"] == user else "assistant"
                conv.messages.append((role, text, when + index))
            sessions.append(conv)
        questions = [
            Question(str(q["question"]), str(q["answer"]), int(q["category"]))
            for q in data["qa"]
            if q.get("category") in CATEGORIES
            and "answer" in q
            and _names(q["question"], user)
            and not _names(q["question"], other)
        ]
    except OSError as exc:
        raise StartupError(f"cannot read {path}: {exc.strerror or exc}", 2) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StartupError(
            f"{path} is not a LoCoMo conversation ({type(exc).__name__}: {exc}) — give one "
            "conv-N.json of the benchmark",
            2,
        ) from None
    return Locomo(user, other, sessions, questions)


def _names(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def tokens(text: str) -> list[str]:
    out = []
    for token in re.findall(r"[a-z0-9]+", text.casefold()):
        token = re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", token)
        token = _MONTHS.get(token, token)
        if token not in _STOP:
            out.append(token)
    return out


def contains(answer: str, gold: str) -> bool:
    """Every key token of the gold answer is in the answer."""
    want = set(tokens(gold))
    return bool(want) and want <= set(tokens(answer))


def f1(answer: str, gold: str) -> float:
    got, want = tokens(answer), tokens(gold)
    common = sum(min(got.count(t), want.count(t)) for t in set(got))
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def last_turns(sessions: Sequence[Imported], budget: int) -> list[ChatMessage]:
    """The newest turns whose estimated tokens fit ``budget``, each session's first message
    dated."""
    turns: list[ChatMessage] = []
    for conv in sessions:
        day = datetime.fromtimestamp(conv.created).strftime("%d %B %Y").lstrip("0")
        for index, (role, text, _) in enumerate(conv.messages):
            turns.append({"role": role, "content": f"({day}) {text}" if index == 0 else text})
    kept: list[ChatMessage] = []
    used = 0
    for message in reversed(turns):
        cost = estimate(message["content"])
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)  # a chat starts with the user
    return kept


async def _ask(backend: BaseBackend, messages: list[ChatMessage], options: ModelOptions) -> str:
    parts: list[str] = []
    stream = backend.chat_stream(messages, options=options, num_predict=REPLY_TOKENS)
    async for chunk in stream:
        parts.append(chunk.text)
    return "".join(parts).strip()


async def measure(
    config: Config,
    backend: BaseBackend,
    recall: Recall,
    locomo: Locomo,
    path: Path,
    *,
    limit: int | None,
    clock: Clock,
) -> Result:
    from sleepchat.runtime import open_store

    result = Result(
        str(path), locomo.user, len(locomo.sessions), sum(len(s.messages) for s in locomo.sessions)
    )
    settings = config.core_settings()
    questions = locomo.questions
    if limit is not None:
        by_category = [[q for q in questions if q.category == c][:limit] for c in CATEGORIES]
        questions = [q for some in by_category for q in some]
    with tempfile.TemporaryDirectory(prefix="sleepchat-locomo-") as tmp:
        store = await open_store(Path(tmp) / "data")
        try:
            await store_all(store, locomo.sessions)
            memory = UserMemory(store, clock)
            started = time.perf_counter()
            await Consolidator(store, memory).run()
            result.consolidation_s = time.perf_counter() - started
            result.items = len(memory.items)
        finally:
            await store.close()
    system = (
        f"{settings.system_prompt}\n\nThe user is {locomo.user}; you are "
        f"{locomo.other}. {INSTRUCTION}"
    )
    options = ModelOptions(
        num_ctx=settings.options.num_ctx, temperature=0.0, seed=0, extra=settings.options.extra
    )
    window = settings.options.num_ctx or DEFAULT_CONTEXT
    history = last_turns(locomo.sessions, window - estimate(system) - REPLY_TOKENS - 200)
    texts = [i.text for i in memory.items]
    progress = Progress("asking LoCoMo questions", len(questions) * len(ARMS), stream=sys.stderr)
    for arm in ARMS:  # arm by arm: the last turns' prefix stays in the server's cache
        for q in questions:
            prompt = system
            before: list[ChatMessage] = []
            if arm == "last":
                before = history
            elif arm == "memory":
                scores = None
                found = await recall.similarities(q.text, texts)
                if found is not None:
                    scores = {i.id: s for i, s in zip(memory.items, found, strict=True)}
                chosen = memory.relevant([q.text], settings.memory_max_tokens, scores=scores)
                prompt = f"{system}\n\n{prompt_block(chosen)}" if chosen else system
            messages: list[ChatMessage] = [
                {"role": "system", "content": prompt},
                *before,
                {"role": "user", "content": q.text},
            ]
            text = await _ask(backend, messages, options)
            used = sum(estimate(m["content"]) for m in messages)
            result.answers.append(
                Answer(q, arm, text, used, contains(text, q.answer), f1(text, q.answer))
            )
            progress.advance()
    progress.done()
    return result


def report(result: Result, out: Any) -> None:
    def line(*cells: str) -> None:
        print("  ".join(cells), file=out)

    n_q = len({a.question for a in result.answers})
    print(
        f"LoCoMo {Path(result.file).name}: {result.user} is the user; {result.sessions} "
        f"sessions, {result.turns} turns; {n_q} questions about the user",
        file=out,
    )
    print(f"consolidation: {result.consolidation_s:.2f} s, {result.items} memory items", file=out)
    line(f"{'category':<11}", f"{'n':>3}", *(f"{ARM_NAMES[a]:>17}" for a in ARMS))
    rows = [
        (CATEGORIES[c], [a for a in result.answers if a.question.category == c]) for c in CATEGORIES
    ]
    rows.append(("all", result.answers))
    for name, answers in rows:
        n = len({a.question for a in answers})
        cells = []
        for arm in ARMS:
            mine = [a for a in answers if a.arm == arm]
            hit = sum(a.contains for a in mine)
            f = sum(a.f1 for a in mine) / len(mine) if mine else 0.0
            cells.append(f"{hit:>3}/{len(mine):<3} F1 {f:.2f}".rjust(17))
        line(f"{name:<11}", f"{n:>3}", *cells)
    means = {}
    for arm in ARMS:
        used = [a.prompt_tokens for a in result.answers if a.arm == arm]
        means[arm] = sum(used) / len(used) if used else 0.0
    share = means["memory"] / means["last"] if means["last"] else 0.0
    line(f"{'prompt tok':<11}", "   ", *(f"{means[a]:>17,.0f}" for a in ARMS))
    print(f"memory's prompt: {share:.0%} of the last turns' (estimated tokens)", file=out)


def to_json(result: Result) -> dict[str, Any]:
    return {
        "file": result.file,
        "user": result.user,
        "sessions": result.sessions,
        "turns": result.turns,
        "items": result.items,
        "consolidation_s": round(result.consolidation_s, 3),
        "answers": [
            {
                "question": a.question.text,
                "gold": a.question.answer,
                "category": a.question.category,
                "arm": a.arm,
                "answer": a.text,
                "prompt_tokens": a.prompt_tokens,
                "contains": a.contains,
                "f1": round(a.f1, 3),
            }
            for a in result.answers
        ],
    }


async def run_memory_bench(
    config: Config, files: Sequence[str], *, limit: int | None, json_out: str | None
) -> int:
    from sleepchat.core.clock import SystemClock
    from sleepchat.runtime import build_embedder, open_backend, warn

    loaded = [(Path(f), load_locomo(Path(f))) for f in files]
    backend = await open_backend(config, check=True)
    results = []
    try:
        embedder = await build_embedder(config, backend, on_warning=warn)
        recall = Recall(embedder)
        for path, locomo in loaded:
            result = await measure(
                config, backend, recall, locomo, path, limit=limit, clock=SystemClock()
            )
            report(result, sys.stdout)
            results.append(result)
        if embedder is not None:
            await embedder.aclose()
    finally:
        await backend.aclose()
    print(
        f"model: {backend.model} on {backend.name}; memory budget "
        f"{config.core_settings().memory_max_tokens} tokens",
        file=sys.stdout,
    )
    if json_out:
        Path(json_out).write_text(
            json.dumps({"model": backend.model, "runs": [to_json(r) for r in results]}, indent=1),
            encoding="utf-8",
        )
    return 0

"""``sleepchat bench --quick``: about two minutes on a few bundled conversations, printing what
a user needs to pick a model for this machine: how fast it reads a prompt (prefill) and writes
(decode), how long a reflection takes next to the idle period, and what the warm-up buys.

Per conversation: its opening turns are asked (decode speed, reply time), one reflection runs
(seconds, finished or not), then the next question's time to first token is measured cold
(after an unrelated request took the server's cache; prefill speed) and after the warm-up. No
new conversation starts once the time budget is spent.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sleepchat.bench import Conversation, evict, first_token, load_conversations
from sleepchat.core.events import ReplyDone, ReplyFailed
from sleepchat.llm.base import BackendError, BaseBackend
from sleepchat.runtime import build_assistant, build_embedder, open_backend, open_store

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.ports import Embedder
    from sleepchat.core.settings import CoreSettings

BUDGET_SECONDS = 120.0
QUICK_SET = "quick_conversations.jsonl"
STEPS = ("replies", "reflection", "warm-up")


@dataclass
class Figures:
    prefill: list[float] = field(default_factory=list)  # tokens/s of cold prompts
    decode: list[float] = field(default_factory=list)  # tokens/s of replies
    reply_seconds: list[float] = field(default_factory=list)
    reflection_seconds: list[float] = field(default_factory=list)
    reflections_finished: int = 0
    cold_ms: list[float] = field(default_factory=list)  # first token, nothing cached
    warm_ms: list[float] = field(default_factory=list)  # first token after the warm-up
    conversations: int = 0


class Progress:
    """A bar redrawn on one line on a terminal; plain lines when the output is piped."""

    def __init__(self, total: int, out: IO[str], started: float, width: int = 24) -> None:
        self.total, self.out, self.started, self.width = total, out, started, width
        self.done = 0
        self.tty = out.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        seconds = time.monotonic() - self.started
        if not self.tty:
            self.out.write(f"bench: {label} ({seconds:.0f} s)\n")
        else:
            filled = round(self.width * self.done / self.total)
            bar = "█" * filled + "·" * (self.width - filled)
            self.out.write(f"\r\x1b[2K[{bar}] {self.done}/{self.total} {label} ({seconds:.0f} s)")
        self.out.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.out.write("\n")
            self.out.flush()


async def _conversation(
    backend: BaseBackend,
    embedder: Embedder | None,
    settings: CoreSettings,
    conv: Conversation,
    figures: Figures,
    progress: Progress,
) -> None:
    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-") as tmp:
        store = await open_store(Path(tmp))
        a = build_assistant(backend, store, settings, embedder=embedder)
        try:
            await a.new_session(conv.id)
            for line in conv.context:
                async for event in a.ask(line):
                    if isinstance(event, ReplyFailed):
                        raise BackendError(event.error)
                    if isinstance(event, ReplyDone) and event.message.total_ms:
                        figures.reply_seconds.append(event.message.total_ms / 1000)
                        if a.last_reply_speed:
                            figures.decode.append(a.last_reply_speed)
            progress.step(f"{conv.id}: replies")
            reflection = await a.reflect()
            figures.reflection_seconds.append((reflection.ms or 0.0) / 1000)
            figures.reflections_finished += reflection.status == "done"
            progress.step(f"{conv.id}: reflection")
            question = conv.queries[0] if conv.queries else "What should I do next?"
            await evict(backend, settings)
            cold, stats = await first_token(a, backend, question)
            if stats.prompt_tokens and stats.prompt_ms:
                figures.prefill.append(stats.prompt_tokens / (stats.prompt_ms / 1000))
            await evict(backend, settings)
            await a.warm_up()
            warm, _ = await first_token(a, backend, question)
            figures.cold_ms.append(cold)
            figures.warm_ms.append(warm)
            figures.conversations += 1
            progress.step(f"{conv.id}: warm-up")
        finally:
            await a.close()
            await store.close()


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summary(figures: Figures, idle_seconds: float, seconds: float) -> dict[str, Any]:
    cold, warm = _median(figures.cold_ms), _median(figures.warm_ms)
    reflections = len(figures.reflection_seconds)
    return {
        "conversations": figures.conversations,
        "seconds": round(seconds, 1),
        "prefill_tok_s": _round(_median(figures.prefill)),
        "decode_tok_s": _round(_median(figures.decode), 1),
        "reply_s": _round(_median(figures.reply_seconds), 1),
        "reflection_s": _round(_median(figures.reflection_seconds), 1),
        "reflections_finished": f"{figures.reflections_finished}/{reflections}",
        "idle_seconds": idle_seconds,
        "cold_ttft_ms": _round(cold),
        "warm_ttft_ms": _round(warm),
        "warm_up_gain": round(cold / warm, 1) if cold and warm else None,
    }


def _round(value: float | None, digits: int = 0) -> float | None:
    return None if value is None else round(value, digits)


def verdict(s: dict[str, Any], model: str | None = None) -> str:
    """One line on whether this model suits this machine: its speed, and for a model known to
    answer badly, that speed is not the whole story."""
    from sleepchat.llm.model_catalog import DEFAULT_MODEL, WEAK, canonical

    reflection, idle = s["reflection_s"], s["idle_seconds"]
    key = canonical(model or "")
    if key in WEAK:
        speed = "fast enough here" if reflection is not None and reflection <= idle else "slow"
        return (
            f"{key} is {speed}, but it is {WEAK[key]} — for better "
            f"answers: `sleepchat model get {DEFAULT_MODEL}`, or Ollama with a bigger model"
        )
    if reflection is None:
        return "no reflection finished within the time budget: this model is slow here"
    if reflection > idle:
        return (
            f"a reflection takes longer than the idle period ({idle:g} s): raise "
            "sleep.idle_seconds, or pick a smaller model for this machine"
        )
    return f"a reflection fits the idle period ({idle:g} s): this model's speed suits this machine"


def print_summary(s: dict[str, Any], head: str, out: IO[str], model: str | None = None) -> None:
    def show(value: Any, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:g}{unit}"

    gain = s["warm_up_gain"]
    rows = [
        ("reading a prompt (prefill)", show(s["prefill_tok_s"], " tok/s")),
        ("writing a reply (decode)", show(s["decode_tok_s"], " tok/s")),
        ("a reply, start to end", show(s["reply_s"], " s") + " median"),
        (
            "a reflection",
            f"{show(s['reflection_s'], ' s')} median, {s['reflections_finished']} finished",
        ),
        (
            "first token, cold → warm",
            f"{show(s['cold_ttft_ms'], ' ms')} → {show(s['warm_ttft_ms'], ' ms')}"
            + (f" (warm-up gain {gain:g}x)" if gain else ""),
        ),
    ]
    out.write(f"{head}\n")
    for label, value in rows:
        out.write(f"  {label:28} {value}\n")
    out.write(f"{verdict(s, model)}\n")
    out.flush()


async def quick(
    backend: BaseBackend,
    embedder: Embedder | None,
    settings: CoreSettings,
    conversations: Sequence[Conversation],
    *,
    budget: float = BUDGET_SECONDS,
    progress_out: IO[str] = sys.stderr,
) -> dict[str, Any]:
    """Measure ``conversations`` on ``backend`` until the time ``budget`` is spent."""
    settings = dataclasses.replace(settings, cooldown_seconds=0.0, sleep_enabled=True)
    figures = Figures()
    started = time.monotonic()
    progress = Progress(len(conversations) * len(STEPS), progress_out, started)
    try:
        for conv in conversations:
            if time.monotonic() - started >= budget:
                break
            await _conversation(backend, embedder, settings, conv, figures, progress)
    finally:
        progress.close()
    return summary(figures, settings.idle_seconds, time.monotonic() - started)


async def run_quick(
    config: Config, *, conversations: str | None, limit: int | None, json_out: str | None
) -> int:
    convs = load_conversations(conversations, limit, bundled=QUICK_SET)
    backend = await open_backend(config)
    try:
        embedder = await build_embedder(config, backend)
        try:
            result = await quick(backend, embedder, config.core_settings(), convs)
        finally:
            if embedder is not None:
                await embedder.aclose()
    finally:
        await backend.aclose()
    head = (
        f"sleepchat bench --quick: {backend.name} model {backend.model}, "
        f"{result['conversations']} of {len(convs)} conversations in {result['seconds']:g} s"
    )
    print_summary(result, head, sys.stdout, backend.model)
    if json_out:
        doc = {"backend": backend.name, "model": backend.model, **result}
        Path(json_out).write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    return 0

"""A question never waits for a reflection on the embedded backend: measured side by side.

    python bench/preempt_chunks.py [--model smollm2] [--tries 20] [--words 220]

1. Prefill speed of idle work by chunk size (tokens per llama.cpp step), each on a history the
   model has never seen, so the chunk the engine uses (``BACKGROUND_CHUNK``) can be weighed
   against what it costs.
2. A reflection cut by a question, ``--tries`` times per arm, the cut at a random moment of the
   reflection (its prefill or its decoding): *submit -> request start* (the question's request
   begins on the model: the reflection has let go) and the question's time to first token,
   against *stateless* (the same question with nothing running before it, the history cached
   as after the previous reply). Two arms take turns: "now" (llama.cpp's abort check and
   64-token chunks for idle work) and "before" (no abort check, 512-token chunks: the question
   waited for the reflection's current step). Targets: request start <= 100 ms p95, a miss
   <= 1.1x stateless.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from llamacpp_cache import history

from sleepchat.llm import llama_abort, llama_engine
from sleepchat.llm.base import ChatMessage, ModelOptions
from sleepchat.llm.llamacpp import LlamaCppBackend

REFLECT = (
    "Reflect on this conversation: list the facts worth keeping about the user, then the three "
    "questions they are most likely to ask next, each with a complete answer."
)
QUESTION = "Which of these needs the most sun?"


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


class Timed:
    """Records when each request begins on the model (the engine's worker picks it up)."""

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.starts: list[float] = []
        engine: Any = backend._engine
        inner = engine.run

        def run(req: Any, stop: Any, emit: Any) -> None:
            self.starts.append(time.perf_counter())
            inner(req, stop, emit)

        engine.run = run


async def first_token(backend: LlamaCppBackend, messages: Sequence[ChatMessage]) -> float:
    """Seconds from now to the first text of a reply (it is then closed)."""
    start = time.perf_counter()
    async with contextlib.aclosing(
        backend.chat_stream(messages, num_predict=4, options=ModelOptions(seed=1))
    ) as stream:
        async for chunk in stream:
            if chunk.text:
                break
    return time.perf_counter() - start


async def warm(backend: LlamaCppBackend, messages: Sequence[ChatMessage]) -> None:
    async with contextlib.aclosing(backend.chat_stream(messages, num_predict=1)) as stream:
        async for _ in stream:
            pass


async def chunk_speeds(backend: LlamaCppBackend, words: int, sizes: Sequence[int]) -> None:
    print("idle-work prefill by chunk size (a history never seen, median of 2):")
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    for rnd in range(2):
        for size in sizes:
            llama_engine.BACKGROUND_CHUNK = size
            messages = history(f"c{size}-{rnd}", words)
            stats = None
            async with contextlib.aclosing(
                backend.chat_stream(messages, num_predict=0, background=True)
            ) as stream:
                async for chunk in stream:
                    stats = chunk.stats or stats
            assert stats is not None and stats.prompt_tokens and stats.prompt_ms
            rates[size].append(stats.prompt_tokens / stats.prompt_ms * 1000)
    best = max(statistics.median(r) for r in rates.values())
    for size in sizes:
        rate = statistics.median(rates[size])
        print(f"  chunk {size:4d}: {rate:7.1f} tok/s  ({rate / best:.2f} of the best)")


async def cut_trial(
    backend: LlamaCppBackend, timed: Timed, tag: str, words: int, cut: bool, rng: random.Random
) -> tuple[float | None, float]:
    """(submit -> request start, TTFT) of a question, after a reflection cut at random (cut) or
    with nothing running (stateless)."""
    past = history(tag, words)
    await warm(backend, past)  # the history cached, as after the previous reply
    question = [*past, {"role": "user", "content": QUESTION}]
    if not cut:
        return None, await first_token(backend, question)
    reflection = [*past, {"role": "user", "content": REFLECT}]

    async def reflect() -> None:
        async with contextlib.aclosing(
            backend.chat_stream(reflection, num_predict=300, background=True)
        ) as stream:
            async for _ in stream:
                pass

    task = asyncio.create_task(reflect())
    await asyncio.sleep(rng.uniform(0.2, 3.0))
    submitted = time.perf_counter()
    task.cancel()  # what the core does with a reflection when a question comes
    with contextlib.suppress(asyncio.CancelledError):
        await task
    ttft = await first_token(backend, question)
    started = next(t for t in timed.starts if t >= submitted)
    return started - submitted, ttft


async def main(args: argparse.Namespace) -> int:
    backend = LlamaCppBackend(args.model, n_ctx=4096, threads=args.threads)
    await backend.load()
    timed = Timed(backend)
    print(f"model {args.model}, {backend.threads.background} threads for idle work")
    await chunk_speeds(backend, args.words, args.sizes)
    now_chunk = 64
    watch = llama_abort.AbortCheck.watch
    arms: dict[str, dict[str, list[float]]] = {
        name: {"start": [], "ttft": [], "stateless": []} for name in ("now", "before")
    }
    rng = random.Random(7)
    for i in range(args.tries):
        for name in ("now", "before") if i % 2 == 0 else ("before", "now"):
            if name == "before" and i >= args.before_tries:
                continue
            llama_engine.BACKGROUND_CHUNK = now_chunk if name == "now" else 512
            llama_abort.AbortCheck.watch = (  # type: ignore[method-assign]
                watch if name == "now" else (lambda self, llama, _stop: watch(self, llama, None))
            )  # "before": llama.cpp reads a flag that is never set
            start, ttft = await cut_trial(backend, timed, f"{name}{i}", args.words, True, rng)
            assert start is not None
            _, base = await cut_trial(backend, timed, f"{name}{i}s", args.words, False, rng)
            arms[name]["start"].append(start * 1000)
            arms[name]["ttft"].append(ttft * 1000)
            arms[name]["stateless"].append(base * 1000)
    med = statistics.median
    for name, arm in arms.items():
        if not arm["start"]:
            continue
        print(
            f"{name:6s} ({len(arm['start'])} cuts): submit -> request start median "
            f"{med(arm['start']):7.1f} ms, p95 {p95(arm['start']):7.1f} ms, max "
            f"{max(arm['start']):7.1f} ms | TTFT after a cut {med(arm['ttft']):7.0f} ms vs "
            f"stateless {med(arm['stateless']):7.0f} ms: "
            f"{med(arm['ttft']) / med(arm['stateless']):.2f}x"
        )
    now = arms["now"]
    met = p95(now["start"]) <= 100 and med(now["ttft"]) <= 1.1 * med(now["stateless"])
    print(f"targets (p95 <= 100 ms, <= 1.1x stateless): {'met' if met else 'MISSED'}")
    await backend.aclose()
    return 0 if met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--before-tries", type=int, default=8)
    parser.add_argument("--words", type=int, default=220, help="history size (~1.3 tokens each)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512])
    sys.exit(asyncio.run(main(parser.parse_args())))

"""Measure the embedded backend: KV-cache reuse for a shared prefix, decode speed, JSON output.

    python bench/llamacpp_cache.py [--model smollm2] [--tokens 1200] [--repeat 3] [--structured 5]

Cold TTFT: a history the model has never seen, plus a question. Warm TTFT: the same history
with another question, right after (llama.cpp keeps the evaluated tokens and skips the common
prefix). "Warm-up" is sleepchat's pattern: prefill the history alone (num_predict=0) while the
user is idle, then the question arrives. Prints medians and ratios; exits 1 if warm is not
faster than cold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from sleepchat.llm.base import BackendError, ChatMessage, ChatStats, ModelOptions
from sleepchat.llm.llamacpp import LlamaCppBackend, llama_cpp_version

TOPICS = ["tomatoes", "roses", "basil", "lemon trees", "tulips", "orchids", "carrots", "ferns"]


def history(tag: str, min_words: int) -> list[ChatMessage]:
    """A made-up gardening conversation, unique per ``tag`` (no cached prefix from before)."""
    messages: list[ChatMessage] = [
        {"role": "system", "content": f"You are a concise gardening assistant. Session {tag}."}
    ]
    words = 0
    i = 0
    while words < min_words:
        topic = TOPICS[i % len(TOPICS)]
        question = f"({tag}/{i}) How do I look after {topic} on a sunny balcony in early spring?"
        answer = (
            f"For {topic}, water deeply twice a week in the morning, let the top two centimetres "
            "of soil dry between waterings, give them six hours of sun, feed a balanced liquid "
            "fertiliser every two weeks once growth starts, mulch to keep roots cool, and check "
            "the undersides of leaves for aphids after warm spells."
        )
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": answer})
        words += len(question.split()) + len(answer.split())
        i += 1
    return messages


async def run(
    backend: LlamaCppBackend, messages: Sequence[ChatMessage], num_predict: int | None
) -> ChatStats:
    stats = ChatStats()
    async with contextlib.aclosing(
        backend.chat_stream(messages, num_predict=num_predict, options=ModelOptions(seed=1))
    ) as stream:
        async for chunk in stream:
            stats = chunk.stats or stats
    return stats


class Reflection(BaseModel):
    notes: list[str] = Field(max_length=3)
    predicted_questions: list[str] = Field(max_length=3)


async def main(args: argparse.Namespace) -> int:
    backend = LlamaCppBackend(args.model, n_ctx=args.n_ctx, threads=args.threads)
    t0 = time.perf_counter()
    try:
        await backend.load()
    except BackendError as exc:
        print(f"bench: {exc.message}", file=sys.stderr)
        return 2
    print(f"model {args.model}  llama-cpp-python {llama_cpp_version()}  n_ctx {args.n_ctx}")
    print(f"load {(time.perf_counter() - t0) * 1000:.0f} ms")

    cold, warm, after_warmup, warmup_cost, tokens = [], [], [], [], []
    words = int(args.tokens * 0.75)  # ~1.3 tokens per English word
    for rep in range(args.repeat):
        past = history(f"a{rep}", words)
        c = await run(backend, [*past, {"role": "user", "content": "What about roses?"}], 1)
        w = await run(backend, [*past, {"role": "user", "content": "And in autumn?"}], 1)
        fresh = history(f"b{rep}", words)
        p = await run(backend, fresh, 0)  # idle-time warm-up: prefill only
        a = await run(backend, [*fresh, {"role": "user", "content": "And in autumn?"}], 1)
        assert c.prompt_ms and w.prompt_ms and p.total_ms and a.prompt_ms and c.prompt_tokens
        cold.append(c.prompt_ms)
        warm.append(w.prompt_ms)
        warmup_cost.append(p.total_ms)
        after_warmup.append(a.prompt_ms)
        tokens.append(c.prompt_tokens)
        print(
            f"  rep {rep}: {c.prompt_tokens} prompt tokens  cold {c.prompt_ms:.0f} ms  "
            f"warm {w.prompt_ms:.0f} ms  warm-up {p.total_ms:.0f} ms -> {a.prompt_ms:.0f} ms"
        )
    med = statistics.median
    print(f"history {med(tokens):.0f} tokens (median of {args.repeat})")
    print(f"cold TTFT          {med(cold):8.0f} ms")
    print(f"warm TTFT          {med(warm):8.0f} ms   speed-up x{med(cold) / med(warm):.1f}")
    print(
        f"after warm-up TTFT {med(after_warmup):8.0f} ms   speed-up "
        f"x{med(cold) / med(after_warmup):.1f} (warm-up itself {med(warmup_cost):.0f} ms, idle)"
    )

    gen = await run(backend, [{"role": "user", "content": "Tell me a story about a garden."}], 128)
    print(
        f"decode {gen.completion_tokens} tokens at {gen.tokens_per_second or 0:.1f} tok/s "
        f"(TTFT {gen.prompt_ms or 0:.0f} ms)"
    )

    valid = 0
    speeds = []
    base = history("s", 200)
    ask: ChatMessage = {
        "role": "user",
        "content": "Reflect on this conversation: reply in JSON with up to 3 short notes about "
        "the user and up to 3 questions they are likely to ask next.",
    }
    for seed in range(args.structured):
        try:
            _, stats = await backend.chat_structured(
                [*base, ask], Reflection, num_predict=256, options=ModelOptions(seed=seed)
            )
            valid += 1
            if stats.tokens_per_second:
                speeds.append(stats.tokens_per_second)
        except BackendError as exc:
            print(f"  structured #{seed}: {exc.message}")
    if args.structured:
        speed = f"{med(speeds):.1f} tok/s" if speeds else "n/a"
        print(f"structured output: {valid}/{args.structured} schema-valid, {speed}")
    await backend.aclose()
    return 0 if med(warm) < med(cold) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--tokens", type=int, default=1200, help="history size to aim for")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--structured", type=int, default=5)
    sys.exit(asyncio.run(main(parser.parse_args())))

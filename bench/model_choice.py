"""Which embedded model should a newcomer meet first? Every candidate on the same questions.

    PYTHONPATH=. python bench/model_choice.py MODEL [MODEL ...] [--tokens 200] [--out FILE]

MODEL is anything ``local_model`` accepts (``smollm2``, ``qwen2.5-coder-0.5b``, a GGUF path).
Each model loads through the backend sleepchat uses (same system prompt, temperature, threads)
and answers five everyday questions and the first question of two bundled conversations, each in
a fresh conversation, replies capped at ``--tokens``. Prints per model: load time, the median
first-token time (question submitted -> first text), the median decode tokens/s, the machine's
load average before and after, and every reply in full: the quality half is read by hand.

    PYTHONPATH=. python bench/model_choice.py --speed MODEL [MODEL ...] [--rounds 3] [--tokens 64]

Speed only, side by side: every model loaded at once, each prompt asked of each model in turn
(rounds alternate the order), so that all see the same machine load; prints the median first
token and decode tokens/s of each, and their ratios to the first model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

from sleepchat.core.defaults import DEFAULT_SYSTEM_PROMPT
from sleepchat.llm.base import ChatRequest, ModelOptions
from sleepchat.llm.llamacpp import LlamaCppBackend

# Written before any model answered; not changed after.
QUESTIONS = [
    "I'm planning a vegetable garden on a small balcony in Lisbon. What should I plant in spring?",
    "How long should I boil an egg so the yolk stays soft?",
    "Quelle est la différence entre un rhume et une grippe ?",
    "Write a short, polite message to my landlord saying the kitchen tap has been leaking.",
    "My laptop has become slow. What are three simple things I can check first?",
]
CONVERSATIONS = ("trip-japan", "sourdough")
BUNDLED = Path(__file__).resolve().parents[1] / "sleepchat" / "data" / "conversations.jsonl"


def conversation_prompts(path: Path) -> list[str]:
    """The context of each chosen conversation with its first question, as one user turn."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] in CONVERSATIONS:
            out.append("\n".join(row["context"]) + "\n\n" + row["queries"][0])
    return out


async def ask(
    backend: LlamaCppBackend, prompt: str, tokens: int, nonce: str = ""
) -> dict[str, object]:
    """One question in a fresh conversation; ``nonce`` starts the prompt so that nothing of an
    earlier request is reused from the cache (every request is as cold as a first question)."""
    messages = [
        {"role": "system", "content": nonce + DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": prompt},
    ]
    request = ChatRequest(messages, ModelOptions(temperature=0.7), num_predict=tokens)
    start = time.perf_counter()
    first: float | None = None
    text: list[str] = []
    stats = None
    async for chunk in backend.stream(request):
        if chunk.text and first is None:
            first = time.perf_counter() - start
        text.append(chunk.text)
        stats = chunk.stats or stats
    return {
        "prompt": prompt,
        "first_token_s": first,
        "tokens": stats.completion_tokens if stats else None,
        "tok_s": stats.tokens_per_second if stats else None,
        "done": stats.done_reason if stats else None,
        "reply": "".join(text),
    }


async def measure(model: str, prompts: list[str], tokens: int) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    backend = LlamaCppBackend(model)
    start = time.perf_counter()
    await backend.load()
    load_s = time.perf_counter() - start
    try:
        answers = [await ask(backend, p, tokens) for p in prompts]
    finally:
        await backend.aclose()
    firsts = [a["first_token_s"] for a in answers if isinstance(a["first_token_s"], float)]
    speeds = [a["tok_s"] for a in answers if isinstance(a["tok_s"], float)]
    return {
        "model": model,
        "load_s": load_s,
        "first_token_median_s": statistics.median(firsts) if firsts else None,
        "first_token_max_s": max(firsts) if firsts else None,
        "decode_tok_s_median": statistics.median(speeds) if speeds else None,
        "loadavg_before_after": [load_before, os.getloadavg()[0]],
        "answers": answers,
    }


async def side_by_side(models: list[str], prompts: list[str], tokens: int, rounds: int) -> None:
    backends = [LlamaCppBackend(m) for m in models]
    for b in backends:
        await b.load()
    firsts: dict[str, list[float]] = {m: [] for m in models}
    speeds: dict[str, list[float]] = {m: [] for m in models}
    loads = [os.getloadavg()[0]]
    try:
        for r in range(rounds):
            order = list(zip(models, backends, strict=True))
            if r % 2:
                order.reverse()
            for prompt in prompts:
                for model, backend in order:
                    a = await ask(backend, prompt, tokens, nonce=f"({r}) ")
                    if isinstance(a["first_token_s"], float):
                        firsts[model].append(a["first_token_s"])
                    if isinstance(a["tok_s"], float):
                        speeds[model].append(a["tok_s"])
            loads.append(os.getloadavg()[0])
    finally:
        for b in backends:
            await b.aclose()
    print(f"load average (1 min) during the run: {', '.join(f'{x:.1f}' for x in loads)}")
    base_first = statistics.median(firsts[models[0]])
    base_speed = statistics.median(speeds[models[0]])
    print("model                     first_med  first_p90  tok/s   first÷base  tok/s÷base")
    for m in models:
        f, v = statistics.median(firsts[m]), statistics.median(speeds[m])
        p90 = statistics.quantiles(firsts[m], n=10)[-1] if len(firsts[m]) > 1 else f
        print(
            f"{m[-24:]:24}  {f:9.2f}  {p90:9.2f}  {v:5.1f}   {f / base_first:9.2f}x  "
            f"{v / base_speed:9.2f}x  (n={len(firsts[m])})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--conversations", type=Path, default=BUNDLED)
    parser.add_argument("--out", type=Path, help="also write every figure and reply as JSON")
    parser.add_argument("--speed", action="store_true", help="speed only, models side by side")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--first", action="store_true", help="only the newcomer's first question")
    args = parser.parse_args()
    prompts = QUESTIONS[:1] if args.first else QUESTIONS + conversation_prompts(args.conversations)
    if args.speed:
        asyncio.run(side_by_side(args.models, prompts, args.tokens, args.rounds))
        return
    results = []
    for model in args.models:
        r = asyncio.run(measure(model, prompts, args.tokens))
        results.append(r)
        print(
            f"\n=== {model}: load {r['load_s']:.1f} s, first token median "
            f"{r['first_token_median_s']:.2f} s (max {r['first_token_max_s']:.2f} s), decode "
            f"{r['decode_tok_s_median']:.1f} tok/s, load average {r['loadavg_before_after']}"
        )
        for a in r["answers"]:  # type: ignore[union-attr]
            print(
                f"\n--- {a['prompt'][:70]!r}: first {a['first_token_s']:.2f} s, "
                f"{a['tokens']} tokens at {a['tok_s']:.1f} tok/s ({a['done']})\n{a['reply']}"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print("\nmodel                     load_s  first_med  first_max  tok/s")
    for r in results:
        print(
            f"{r['model'][-24:]:24}  {r['load_s']:6.1f}  {r['first_token_median_s']:9.2f}  "
            f"{r['first_token_max_s']:9.2f}  {r['decode_tok_s_median']:5.1f}"
        )


if __name__ == "__main__":
    main()

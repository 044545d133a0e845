"""How long matching a question takes with 10 fresh predictions (issue #10: <= 50 ms p95 on 2
cores when no chat-model call is needed). Side by side in one run:

- words: word-overlap candidates + the verifier;
- embedding: the built-in all-MiniLM-L6-v2 embeds the question (the predictions were embedded
  while idle, as the sleep cycle does) + the verifier;
- embedding, cold: the 10 predictions are embedded at question time too (the worst case: a
  prediction made while the model was unavailable);
- the verifier alone, per candidate.

Usage: python bench/recall_latency.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path

from sleepchat.core.models import Prediction
from sleepchat.core.recall import Recall
from sleepchat.llm import minilm
from sleepchat.recall_bench import load_pairs, prediction

PAIRS = Path(__file__).resolve().parent.parent / "sleepchat" / "data" / "recall_tune.jsonl"
FRESH = 10


def predictions(questions: list[str]) -> list[Prediction]:
    return [prediction(q, f"p{i}") for i, q in enumerate(questions)]


def quantiles(ms: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return cuts[49], cuts[94]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    pairs = load_pairs(PAIRS, split="tune")
    rng = random.Random(7)
    rounds = [
        (rng.choice(pairs).asked, [p.predicted for p in rng.sample(pairs, FRESH)])
        for _ in range(args.rounds)
    ]
    why = minilm.unavailable()
    embedder = minilm.MiniLMEmbedder(threads=1) if why is None else None
    results: dict[str, list[float]] = {"words": [], "embedding": [], "embedding, cold": []}
    cpu: dict[str, list[float]] = {name: [] for name in results}
    verifier_ms: list[float] = []
    words = Recall()
    embedded = Recall(embedder) if embedder else None
    if embedded is not None:
        await embedded.embedding("warm-up: load the model")  # loading is not matching
    for question, predicted in rounds:
        start, start_cpu = time.perf_counter(), time.process_time()
        await words.match(question, predictions(predicted))
        results["words"].append((time.perf_counter() - start) * 1000)
        cpu["words"].append((time.process_time() - start_cpu) * 1000)
        if embedded is None:
            continue
        warm = predictions(predicted)
        for p in warm:  # what idle time does
            vector = await embedded.embedding(p.question)
            assert vector is not None
            p.embedding, p.embed_model = vector
        start, start_cpu = time.perf_counter(), time.process_time()
        await embedded.match(question, warm)
        results["embedding"].append((time.perf_counter() - start) * 1000)
        cpu["embedding"].append((time.process_time() - start_cpu) * 1000)
        start, start_cpu = time.perf_counter(), time.process_time()
        await embedded.match(question, predictions(predicted))
        results["embedding, cold"].append((time.perf_counter() - start) * 1000)
        cpu["embedding, cold"].append((time.process_time() - start_cpu) * 1000)
        for p in predicted:
            start = time.perf_counter()
            words.check(p, question)
            verifier_ms.append((time.perf_counter() - start) * 1000)
    print(f"match with {FRESH} fresh predictions, {args.rounds} questions, one run")
    print("(wall clock, and the CPU time the process spent: the cost without other load)")
    for name, ms in results.items():
        if ms:
            p50, p95 = quantiles(ms)
            c50, c95 = quantiles(cpu[name])
            print(
                f"  {name:<16} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
                f"   cpu p50 {c50:6.1f} ms   p95 {c95:6.1f} ms"
            )
        else:
            print(f"  {name:<16} (no built-in embedding model: {why})")
    if verifier_ms:
        p50, p95 = quantiles(verifier_ms)
        print(f"  verifier, one   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    print("target: p95 <= 50 ms with the embedding model (issue #10)")
    if embedder is not None:
        await embedder.aclose()


if __name__ == "__main__":
    asyncio.run(main())

"""The recall judge's cost with its questions' starts readied while idle vs evaluated whole,
side by side in one run on the embedded model.

Each round is what a question meets: the predicted question was readied while idle (one arm)
or nothing is kept (the other), the chat's cache holds the conversation (a one-token reply has
just used it), then a pair the word rules leave open is judged in both orders. The two arms
alternate, pair by pair, on one model. Prints each arm's median time per judged pair, their
ratio, and the largest difference between the arms' margins.

    python bench/judge_start.py --model PATH.gguf [--pairs 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from sleepchat.core.ports import ChatMessage
from sleepchat.core.recall.judge import judge_messages, start_groups
from sleepchat.core.recall.verify import Verifier
from sleepchat.llm.llama_judge import Starts
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.recall_bench import load_pairs

PAIRS = Path(__file__).resolve().parent.parent / "sleepchat" / "data" / "recall_tune.jsonl"
HISTORY: list[ChatMessage] = [
    {"role": "system", "content": "You are a helpful assistant."},
    *[
        m
        for i in range(6)
        for m in (
            {"role": "user", "content": f"Tell me about step {i} of growing tomatoes indoors."},
            {
                "role": "assistant",
                "content": f"Step {i}: keep the seedlings warm, give them light for 14 hours, "
                "water when the top of the soil is dry, and feed them every two weeks once "
                "the first true leaves appear. Turn the pots so the stems grow straight.",
            },
        )
    ],
]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model")
    parser.add_argument("--pairs", type=int, default=40, help="judged pairs per arm")
    args = parser.parse_args()
    verifier = Verifier.default()
    pairs = [p for p in load_pairs(str(PAIRS)) if verifier.check(p.predicted, p.asked).judge]
    pairs = pairs[: args.pairs]
    backend = LlamaCppBackend(args.model, n_ctx=2048)
    engine = backend._engine
    times: dict[bool, list[float]] = {True: [], False: []}
    margins: dict[bool, list[list[float]]] = {True: [], False: []}
    kept = Starts()
    for i, pair in enumerate(pairs):
        for arm in (True, False) if i % 2 == 0 else (False, True):
            engine.judge_starts = kept if arm else None
            if arm:  # while idle, as a reflection's last step does
                await backend.keep_judge_starts(start_groups([pair.predicted]))
            turn = [*HISTORY, {"role": "user", "content": pair.asked}]
            async for _chunk in backend.chat_stream(turn, num_predict=1):
                pass
            questions = [
                judge_messages(pair.predicted, pair.asked),
                judge_messages(pair.asked, pair.predicted),
            ]
            started = time.perf_counter()
            margins[arm].append(await backend.yes_margins(questions))
            times[arm].append((time.perf_counter() - started) * 1000)
    await backend.aclose()
    on, off = statistics.median(times[True]), statistics.median(times[False])
    gap = max(abs(x - y) for a, b in zip(margins[True], margins[False], strict=True)
              for x, y in zip(a, b, strict=True))  # fmt: skip
    print(f"{args.model}: {len(pairs)} judged pairs (both orders) per arm, after a chat turn")
    print(f"readied while idle: {on:.0f} ms median a pair; evaluated whole: {off:.0f} ms")
    print(f"ratio readied / whole: {on / off:.2f}; largest margin difference: {gap:.3f}")


if __name__ == "__main__":
    asyncio.run(main())

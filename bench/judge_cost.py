"""The recall judge's cost against generating the answer it would save, side by side in one run
on the embedded model, at the reply cap a session uses by default.

For each conversation (MT-Bench's two-turn questions: pass ``../shared/conversations/
mtbench.jsonl``, first N in file order): the first turn is answered (capped at 256 tokens: it is
only the history); the next conversation's second question is readied while idle as the
prediction (the reflection's last step); then the pair is judged in both orders as a question
meets it in a session, by ``ModelJudge``'s own steps (both orders always asked: the most a
pair costs), and again with the prediction's start dropped (as if no idle period had readied
it; the two arms alternate); then the second turn is generated at the default cap (1,024
tokens) and timed: to its first token, to its 256th (where the benchmarks' capped replies end)
and to its end. Prints the medians and the judge's share of each.

    python bench/judge_cost.py --model PATH.gguf --conversations FILE [--count 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from sleepchat.core.ports import ChatMessage
from sleepchat.core.recall.judge import judge_messages, start_groups
from sleepchat.llm.llamacpp import LlamaCppBackend

SYSTEM = "You are a helpful assistant."
DEFAULT_CAP = 1024  # the embedded backend's reply cap unless max_reply_tokens sets one
BENCH_CAP = 256  # the cap the session benchmarks run with


async def reply(
    backend: LlamaCppBackend, messages: list[ChatMessage], cap: int
) -> tuple[str, float, float | None, float]:
    """The reply's text, and ms to its first chunk, to its BENCH_CAP-th (None: it ended
    before) and to its end."""
    started = time.perf_counter()
    first: float | None = None
    at_cap: float | None = None
    parts: list[str] = []
    async for chunk in backend.chat_stream(messages, num_predict=cap):
        if chunk.text:
            now = (time.perf_counter() - started) * 1000
            first = now if first is None else first
            parts.append(chunk.text)
            if len(parts) == BENCH_CAP:
                at_cap = now
    end = (time.perf_counter() - started) * 1000
    return "".join(parts), first if first is not None else end, at_cap, end


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model")
    parser.add_argument("--conversations", required=True, type=Path, help="MT-Bench JSONL")
    parser.add_argument("--count", type=int, default=20, help="conversations (first N)")
    args = parser.parse_args()
    rows = [json.loads(x) for x in args.conversations.read_text("utf-8").splitlines() if x.strip()]
    backend = LlamaCppBackend(args.model, n_ctx=4096, seed=0)
    starts = backend._engine.judge_starts
    assert starts is not None
    judge: list[float] = []
    unready: list[float] = []
    first: list[float] = []
    capped: list[float] = []
    whole: list[float] = []
    try:
        await backend.keep_judge_starts(start_groups([]))  # the instruction, once
        chosen = rows[: args.count]
        for i, row in enumerate(chosen):
            asked, follow = row["context"][0], row["queries"][0]
            # What was predicted: another conversation's second question, as long as real ones
            # and different words, so the second order prefills both messages.
            predicted = chosen[(i + 1) % len(chosen)]["queries"][0]
            history: list[ChatMessage] = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": asked},
            ]
            text, *_ = await reply(backend, history, BENCH_CAP)
            history += [
                {"role": "assistant", "content": text},
                {"role": "user", "content": follow},
            ]
            groups = start_groups([predicted])
            before = set(starts.copies)
            await backend.keep_judge_starts(groups)  # while idle
            own = set(starts.copies) - before
            for arm in (True, False) if len(judge) % 2 == 0 else (False, True):
                if not arm:  # the prediction's own start dropped, the instruction kept
                    for key in own:
                        starts.copies.pop(key, None)
                started = time.perf_counter()
                await backend.keep_judge_starts(groups, background=False)  # as ModelJudge.same
                await backend.yes_margins(
                    [judge_messages(predicted, follow), judge_messages(follow, predicted)]
                )
                (judge if arm else unready).append((time.perf_counter() - started) * 1000)
            _text, ttft, at_cap, end = await reply(backend, history, DEFAULT_CAP)
            first.append(ttft)
            whole.append(end)
            if at_cap is not None:
                capped.append(at_cap)
            print(
                f"{row['id']}: judge {judge[-1]:.0f} ms (not readied {unready[-1]:.0f} ms); "
                f"reply first token {ttft:.0f} ms, "
                f"256th {at_cap or float('nan'):.0f} ms, end {end:.0f} ms",
                flush=True,
            )
    finally:
        await backend.aclose()
    j, t, w = statistics.median(judge), statistics.median(first), statistics.median(whole)
    print(f"{args.model}: {len(judge)} MT-Bench second turns, one judged pair each")
    u = statistics.median(unready)
    print(f"judge {j:.0f} ms a pair median readied while idle, {u:.0f} ms not: {j / u:.2f}x")
    print(f"second-turn reply {w:.0f} ms median at the default cap")
    print(
        f"judge / reply at the default cap: {j / w:.2f} (per turn, median of ratios "
        f"{statistics.median(a / b for a, b in zip(judge, whole, strict=True)):.2f})"
    )
    if capped:
        c = statistics.median(capped)
        print(
            f"replies reaching {BENCH_CAP} tokens: {len(capped)}; to that token {c:.0f} ms "
            f"median; judge / that: {j / c:.2f}"
        )
    print(f"a judged miss's first token: {(j + t) / t:.2f}x of no judge ({t:.0f} ms median)")


if __name__ == "__main__":
    asyncio.run(main())

"""The recall judge's cost against generating the answer it would save, side by side in one run
on the embedded model, at the reply cap a session uses by default.

For each conversation (MT-Bench's two-turn questions: pass ``../shared/conversations/
mtbench.jsonl``, first N in file order): the first turn is answered (capped at 256 tokens: it is
only the history); then a labelled pair that reaches the judge (``--pairs``, default the frozen
``tests/data/recall_test4.jsonl``: pairs the word rules leave open, a rewording and a
look-alike in turn, in file order, one a conversation) is judged as a session meets it: its
predicted question readied while idle (the reflection's last step), then judged by
``judged_same`` at the model's shipped calibration (the second order asked only where the first
does not settle the pair), and again with both orders always asked (the most a pair costs; the
two arms alternate); then the second turn is generated
at the default cap (1,024 tokens) and timed: to its first token, to its 256th (where the
benchmarks' capped replies end) and to its end. Prints the medians, the judge's share of each,
and a judged miss's first token against no judge.

    python bench/judge_cost.py --model PATH.gguf --conversations FILE [--count 20] [--pairs F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from sleepchat.core.ports import ChatMessage
from sleepchat.core.recall.calibration import shipped
from sleepchat.core.recall.judge import judge_messages, judged_same, start_groups
from sleepchat.core.recall.verify import Verifier, judge_kind
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.recall_bench import Pair, load_pairs
from sleepchat.runtime import judge_key

SYSTEM = "You are a helpful assistant."
TEST4 = Path(__file__).resolve().parents[1] / "tests" / "data" / "recall_test4.jsonl"
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
    parser.add_argument("--pairs", type=Path, default=TEST4, help="labelled pairs (JSONL)")
    args = parser.parse_args()
    rows = [json.loads(x) for x in args.conversations.read_text("utf-8").splitlines() if x.strip()]
    cal = shipped().get(judge_key("local", args.model))
    if cal is None:
        raise SystemExit(f"{args.model}: no shipped calibration to judge at")
    verifier = Verifier.default()
    judged: dict[bool, list[tuple[Pair, float]]] = {True: [], False: []}
    for pair in load_pairs(args.pairs):
        verdict = verifier.check(pair.predicted, pair.asked)
        level = cal.level(judge_kind(verdict)) if verdict.judge else None
        if level is not None:
            judged[pair.same].append((pair, level))
    # A rewording, then a look-alike, in turn: hits and misses both cost what they cost.
    pairs = [p for two in zip(judged[True], judged[False], strict=False) for p in two]
    backend = LlamaCppBackend(args.model, n_ctx=4096, seed=0)
    session: list[float] = []
    both: list[float] = []
    missed: list[tuple[float, float]] = []  # (judge ms, the reply's first token) of a miss
    first: list[float] = []
    capped: list[float] = []
    whole: list[float] = []
    try:
        await backend.keep_judge_starts(start_groups([]))  # the instruction, once
        for i, row in enumerate(rows[: args.count]):
            asked, follow = row["context"][0], row["queries"][0]
            pair, level = pairs[i % len(pairs)]
            history: list[ChatMessage] = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": asked},
            ]
            text, *_ = await reply(backend, history, BENCH_CAP)
            history += [
                {"role": "assistant", "content": text},
                {"role": "user", "content": follow},
            ]
            groups = start_groups([pair.predicted])
            await backend.keep_judge_starts(groups)  # while idle
            served = False
            for arm in ("session", "both") if i % 2 == 0 else ("both", "session"):
                started = time.perf_counter()
                await backend.keep_judge_starts(groups, background=False)  # as ModelJudge.same
                if arm == "session":
                    served = await judged_same(
                        backend, pair.predicted, pair.asked, level, cal.first
                    )
                else:
                    await backend.yes_margins(
                        [
                            judge_messages(pair.predicted, pair.asked),
                            judge_messages(pair.asked, pair.predicted),
                        ]
                    )
                (session if arm == "session" else both).append(
                    (time.perf_counter() - started) * 1000
                )
            _text, ttft, at_cap, end = await reply(backend, history, DEFAULT_CAP)
            first.append(ttft)
            whole.append(end)
            if at_cap is not None:
                capped.append(at_cap)
            if not served:
                missed.append((session[-1], ttft))
            kind = "same" if pair.same else "look-alike"
            print(
                f"{row['id']}: judge {session[-1]:.0f} ms as a session "
                f"({'served' if served else 'not served'}; {kind}),"
                f" {both[-1]:.0f} ms both orders; reply first token {ttft:.0f} ms, "
                f"256th {at_cap or float('nan'):.0f} ms, end {end:.0f} ms",
                flush=True,
            )
    finally:
        await backend.aclose()
    j, b = statistics.median(session), statistics.median(both)
    w = statistics.median(whole)
    print(f"{args.model}: {len(session)} MT-Bench second turns, one judged pair each")
    print(f"judge {j:.0f} ms a pair median as a session judges, {b:.0f} ms both orders")
    print(f"second-turn reply {w:.0f} ms median at the default cap")
    per_turn = statistics.median(a / c for a, c in zip(session, whole, strict=True))
    print(
        f"judge / reply at the default cap: {j / w:.2f} (both orders {b / w:.2f}; per turn, "
        f"median of ratios {per_turn:.2f})"
    )
    if capped:
        c = statistics.median(capped)
        print(
            f"replies reaching {BENCH_CAP} tokens: {len(capped)}; to that token {c:.0f} ms "
            f"median; judge / that: {j / c:.2f}"
        )
    if missed:
        ratio = statistics.median((m + f) / f for m, f in missed)
        print(f"a judged miss's first token: {ratio:.2f}x of no judge ({len(missed)} misses)")


if __name__ == "__main__":
    asyncio.run(main())

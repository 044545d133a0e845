"""A judged miss's time to first token with the question readied while typed, side by side in one
run on the embedded model: five arms, each pair in a fresh session of its own per arm.

For each labelled pair the word rules leave to the judge (``--pairs``, default the frozen
``tests/data/recall_test4.jsonl``, a rewording and a look-alike in turn, in file order): the
predicted question is queued with ``later`` and answered while idle (``reflect``); then the
other question is asked
- ``none``: with no judge (what a miss costs without one: the baseline);
- ``enter``: judged after Enter, as before;
- ``typed``: handed to ``Assistant.touch(draft=...)`` first, as the message box does, and sent
  once the draft is readied (its verdict kept, and for a miss its request warmed: a user who
  rests the keys for the pause and that work before pressing Enter; how long is printed);
- ``hasty``: handed to the draft, and sent the moment typing has paused long enough for the
  draft to start (the worst case: the question waits for the draft it just started);
- ``quick``: sent 0.25 s after the last key, before the pause is over: readied only when the
  question ends with "?" (its draft starts at once), otherwise asked as after Enter.
The arms' order turns with each pair. Prints each arm's first token for the misses (medians)
and their ratios to ``none``; hits are counted apart (they are served, ~0 ms, in judged
arms).

    python bench/draft_ttft.py --model PATH.gguf [--count 12] [--pairs F]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sleepchat.config import load_config
from sleepchat.core.assistant import Assistant
from sleepchat.core.drafts import PAUSE
from sleepchat.core.events import ReplyDone
from sleepchat.core.recall.calibration import shipped
from sleepchat.core.recall.verify import Verifier, judge_kind
from sleepchat.recall_bench import Pair, load_pairs
from sleepchat.runtime import judge_key, open_runtime

TEST4 = Path(__file__).resolve().parents[1] / "tests" / "data" / "recall_test4.jsonl"
ARMS = ("none", "enter", "typed", "hasty", "quick")
QUICK = 0.25  # s from the last key to Enter


def judged_pairs(path: Path, model: str, count: int) -> list[Pair]:
    """Pairs the rules leave to the judge at a level, a rewording and a look-alike in turn."""
    cal = shipped().get(judge_key("local", model))
    if cal is None:
        raise SystemExit(f"{model}: no shipped calibration to judge at")
    verifier = Verifier.default()
    found: dict[bool, list[Pair]] = {True: [], False: []}
    for pair in load_pairs(path):
        verdict = verifier.check(pair.predicted, pair.asked)
        if verdict.judge and cal.level(judge_kind(verdict)) is not None:
            found[pair.same].append(pair)
    return [p for two in zip(found[True], found[False], strict=False) for p in two][:count]


async def asked(a: Assistant, text: str) -> ReplyDone:
    done = [e async for e in a.ask(text)][-1]
    assert isinstance(done, ReplyDone)
    return done


async def arm(a: Assistant, pair: Pair, name: str) -> tuple[bool, float, float | None]:
    """(served, the reply's first token in ms, the draft's judging in ms for ``typed``)."""
    await a.new_session()
    await a.later(pair.predicted)
    await a.reflect()
    judge = a._recall.judge  # the bench turns the judge off for its baseline arm
    drafted: float | None = None
    try:
        if name == "none":
            a._recall.judge = None
        elif name == "typed":
            started = time.perf_counter()
            a.touch(draft=pair.asked)
            task = a._drafts._task
            assert task is not None
            await task  # the keys rest until the verdict is kept
            drafted = (time.perf_counter() - started) * 1000
        elif name == "hasty":
            a.touch(draft=pair.asked)
            await asyncio.sleep(PAUSE + 0.05)  # the draft has just started
        elif name == "quick":
            a.touch(draft=pair.asked)
            await asyncio.sleep(QUICK)
        done = await asked(a, pair.asked)
    finally:
        a._recall.judge = judge
    ttft = done.message.ttft_ms
    assert ttft is not None
    return done.message.source == "prediction", ttft, drafted


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a GGUF chat model")
    parser.add_argument("--count", type=int, default=12, help="pairs")
    parser.add_argument("--pairs", type=Path, default=TEST4, help="labelled pairs (JSONL)")
    parser.add_argument("--reply-tokens", type=int, default=48)
    args = parser.parse_args()
    pairs = judged_pairs(args.pairs, args.model, args.count)
    with tempfile.TemporaryDirectory() as tmp:
        yaml = Path(tmp) / "config.yaml"
        yaml.write_text(
            f"backend: local\nlocal_model: {args.model}\nmax_reply_tokens: {args.reply_tokens}\n"
            f"data_dir: {tmp}/data\nsleep:\n  idle_seconds: 3600\n  predict: never\n"
        )
        config = load_config({"config": str(yaml)})
        rt = await open_runtime(config)
        a = rt.assistant
        misses: dict[str, list[float]] = {name: [] for name in ARMS}
        served: dict[str, int] = {name: 0 for name in ARMS}
        drafting: list[float] = []
        try:
            await a.start()
            if a._recall.judge is None:
                raise SystemExit(f"{args.model}: no judge (is it calibrated?)")
            for i, pair in enumerate(pairs):
                order = ARMS[i % len(ARMS) :] + ARMS[: i % len(ARMS)]
                got = {name: await arm(a, pair, name) for name in order}
                if any(hit for hit, _, _ in got.values()):
                    for name, (hit, _, _) in got.items():
                        served[name] += hit
                else:  # a miss in every arm: what the judge adds to its first token
                    for name, (_, ttft, _) in got.items():
                        misses[name].append(ttft)
                drafted = got["typed"][2]
                if drafted is not None:
                    drafting.append(drafted)
                marks = ", ".join(
                    f"{n} {'hit' if h else 'miss'} {t:.0f} ms" for n, (h, t, _) in got.items()
                )
                kind = "same" if pair.same else "look-alike"
                print(f"{i + 1}/{len(pairs)} {kind}: {marks}; draft {drafted:.0f} ms", flush=True)
        finally:
            await rt.close()
    print(f"{Path(args.model).name}: {len(pairs)} pairs the rules leave to the judge")
    print(f"served: {served}")
    if misses["none"]:
        base = statistics.median(misses["none"])
        for name in ARMS:
            m = statistics.median(misses[name])
            ratio = statistics.median(
                x / b for x, b in zip(misses[name], misses["none"], strict=True)
            )
            print(
                f"misses ({len(misses[name])}), {name}: first token {m:.0f} ms median, "
                f"{ratio:.2f}x of none (median of ratios; of medians {m / base:.2f}x)"
            )
    if drafting:
        d = statistics.median(drafting)
        print(f"the draft's pause and readying: {d:.0f} ms median, {max(drafting):.0f} ms most")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)

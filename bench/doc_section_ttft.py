"""A question about a long attached file: its first token after the idle warm-up, after the
warm-up and typed (the box's text readied once the keys rest, and sent when that is done), and
asked at once (nothing cached), measured side by side in one run on the embedded model
(SLEEPCHAT_LOCAL_MODEL picks it); with ``--before``, also with the sections as questions got
them before (as many as the room held, quoted part or not; now at most ``AT_MOST``, none the
system message quotes already).

The file is the standard library's ``shlex.py`` (over the room at the default context); the
questions were written for this bench from the file, before any run.

Usage: python bench/doc_section_ttft.py [--rounds N] [--before]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import shlex
import statistics
import time
from pathlib import Path

from embedded import embedded

from sleepchat.core.events import ReplyChunk, ReplyDone
from sleepchat.core.memory import doc_sections

QUESTIONS = [
    "What does the punctuation_chars option change?",
    "How does shlex.join escape its arguments?",
    "What happens at end of file when a quotation is still open?",
]
NOW = (doc_sections.choose, doc_sections.unquoted)
BEFORE = (functools.partial(doc_sections.choose, at_most=10**6), list)


async def first_token(a, question: str) -> tuple[float, int | None]:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    first, prompt = None, None
    async for event in a.ask(question):
        if isinstance(event, ReplyChunk) and first is None:
            first = time.perf_counter() - began
        if isinstance(event, ReplyDone):
            prompt = event.message.prompt_tokens
    return (first if first is not None else time.perf_counter() - began), prompt


async def typed(a, question: str) -> float:  # type: ignore[no-untyped-def]
    """The question typed into the box, the keys resting until its draft is readied: how long
    that was (s, from the last key)."""
    began = time.perf_counter()
    a.touch(draft=question)
    task = a._drafts._task
    assert task is not None
    await task
    return time.perf_counter() - began


async def main(rounds: int, before: bool) -> None:
    text = Path(inspect.getsourcefile(shlex) or "").read_text("utf-8")
    times: dict[tuple[str, str], list[float]] = {}
    async with embedded(max_reply_tokens=8) as (a, _settings):
        try:
            for _ in range(rounds):
                for question in QUESTIONS:
                    arms = (("now", NOW), ("before", BEFORE)) if before else (("now", NOW),)
                    for arm, (choose, unquoted) in arms:
                        doc_sections.choose, doc_sections.unquoted = choose, unquoted
                        states = ["after warm-up", "at once"] + ["typed"] * (arm == "now")
                        for state in states:
                            if state == "at once":  # the cache holds another conversation
                                await a.new_session()
                                await first_token(a, "Hello")
                            await a.new_session()
                            await a.attach("shlex.py", text)
                            if state in ("after warm-up", "typed"):
                                await a.warm_up()  # what an idle period leaves cached
                            if state == "typed":
                                rested = await typed(a, question)
                                print(f"   (the keys rested {rested:.2f} s)", flush=True)
                            took, prompt = await first_token(a, question)
                            times.setdefault((arm, state), []).append(took)
                            print(f"{arm:>6} {state:>13} {took:6.2f} s ({prompt} prompt "
                                  f"tokens): {question}", flush=True)  # fmt: skip
        finally:
            doc_sections.choose, doc_sections.unquoted = NOW
    med = {k: statistics.median(v) for k, v in times.items()}
    for arm in ("now", "before") if before else ("now",):
        warm, cold = med[(arm, "after warm-up")], med[(arm, "at once")]
        print(f"{arm}: first token {warm:.2f} s after the warm-up, {cold:.2f} s at once "
              f"({warm / cold:.2f}x)")  # fmt: skip
    pairs = zip(times[("now", "typed")], times[("now", "at once")], strict=True)
    typed_ratios = [t / c for t, c in pairs]
    print(f"typed after the warm-up: {med[('now', 'typed')]:.2f} s, "
          f"{statistics.median(typed_ratios):.2f}x of at once (median of ratios)")  # fmt: skip
    if before:
        ratio = med[("now", "after warm-up")] / med[("before", "after warm-up")]
        print(f"after the warm-up, now / before: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", action="store_true", help="also the sections as before")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.before))

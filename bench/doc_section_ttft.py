"""A question about a long attached file: its first token after the idle warm-up and asked at
once (nothing cached), with the sections questions get now (at most ``AT_MOST``, none the
system message quotes already) and as before (as many as the room held, quoted part or not),
measured side by side in one run on the embedded model (SLEEPCHAT_LOCAL_MODEL picks it).

The file is the standard library's ``shlex.py`` (over the room at the default context); the
questions were written for this bench from the file, before any run.

Usage: python bench/doc_section_ttft.py [--rounds N]
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


async def main(rounds: int) -> None:
    text = Path(inspect.getsourcefile(shlex) or "").read_text("utf-8")
    times: dict[tuple[str, str], list[float]] = {}
    async with embedded(max_reply_tokens=8) as (a, _settings):
        try:
            for _ in range(rounds):
                for question in QUESTIONS:
                    for arm, (choose, unquoted) in (("now", NOW), ("before", BEFORE)):
                        doc_sections.choose, doc_sections.unquoted = choose, unquoted
                        for state in ("after warm-up", "at once"):
                            if state == "at once":  # the cache holds another conversation
                                await a.new_session()
                                await first_token(a, "Hello")
                            await a.new_session()
                            await a.attach("shlex.py", text)
                            if state == "after warm-up":
                                await a.warm_up()  # what an idle period leaves cached
                            took, prompt = await first_token(a, question)
                            times.setdefault((arm, state), []).append(took)
                            print(f"{arm:>6} {state:>13} {took:6.2f} s ({prompt} prompt "
                                  f"tokens): {question}", flush=True)  # fmt: skip
        finally:
            doc_sections.choose, doc_sections.unquoted = NOW
    med = {k: statistics.median(v) for k, v in times.items()}
    for arm in ("now", "before"):
        warm, cold = med[(arm, "after warm-up")], med[(arm, "at once")]
        print(f"{arm}: first token {warm:.2f} s after the warm-up, {cold:.2f} s at once "
              f"({warm / cold:.2f}x)")  # fmt: skip
    ratio = med[("now", "after warm-up")] / med[("before", "after warm-up")]
    print(f"after the warm-up, now / before: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(main(parser.parse_args().rounds))

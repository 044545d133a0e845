"""The sleep cycle on a real OpenAI-compatible server (llama-cpp-python's, with SmolLM2 on
loopback), side by side in one run:

1. warm-up: time to first token on a long (≥ 1,000-token) history, cold vs after the idle-time
   warm-up (best of N each; the server's own log gives the tokens it prefilled). Target ≥ 3x.
2. one slot: a question submitted while a reflection streams — submit → the question's request
   reaches the server (sleepchat cancels the reflection first). Target ≤ 100 ms.
3. two slots (two server processes behind a least-connections proxy, standing in for
   ``llama-server --parallel 2``; ``server.parallel_slots: 2``): the same question, which should
   not wait for the reflection at all — and the reflection goes on.

    python bench/openai_bench.py [--runs 3] [--parts warm,slots]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

# Why tests/ goes on the path: this script runs from a checkout, not the package, and drives
# the very harnesses the tests use (tests/support), so the bench and the tests measure one code
# path. They are test code (one imports a test module), so they do not move into sleepchat/,
# which ships.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.llama_server import ALIAS, LlamaServer, Proxy, start_server

from sleepchat.core.assistant import Assistant
from sleepchat.core.events import ReplyChunk
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage, ChatRequest, ModelOptions
from sleepchat.llm.openai import OpenAIBackend
from sleepchat.store import Store

CONTEXT = (
    "My sourdough loaves come out dense and flat. I use 75% hydration and bake at 230C in a "
    "dutch oven. The starter doubles in about 8 hours at room temperature."
)
QUESTION = "Should I try a longer bulk ferment?"
REFLECTION_MARK = "response_format"  # only reflection requests carry it


def long_history(turns: int = 12) -> list[ChatMessage]:
    out: list[ChatMessage] = [{"role": "system", "content": "You are a helpful assistant."}]
    for i in range(turns):
        out.append({"role": "user", "content": f"Tell me fact {i} about bread baking. " * 6})
        out.append({"role": "assistant", "content": f"Bread fact {i}: the dough rises. " * 8})
    return out


async def ttft(backend: OpenAIBackend, messages: Sequence[ChatMessage]) -> float:
    start = time.perf_counter()
    async with contextlib.aclosing(backend.stream(ChatRequest(messages, num_predict=2))) as s:
        async for chunk in s:
            if chunk.text:
                break
    return time.perf_counter() - start


def prefilled(server: LlamaServer, mark: int) -> int | None:
    for line in server.log(mark):
        if "prefix-match hit" in line:
            return int(line.split("remaining ")[1].split()[0])
    return None


async def warm_up_figures(server: LlamaServer, runs: int) -> dict[str, float]:
    backend = OpenAIBackend(server.url, ALIAS, read_timeout=600)
    history = long_history()
    question = [*history, {"role": "user", "content": "Summarise all of that in one line."}]
    other: list[ChatMessage] = [{"role": "user", "content": "Something else entirely."}]
    colds, warms, cold_tokens, warm_tokens = [], [], 0, 0
    try:
        for _ in range(runs):
            await backend.warm_up(other)  # the one cache now holds something else
            mark = server.mark()
            colds.append(await ttft(backend, question))
            cold_tokens = prefilled(server, mark) or 0
            await backend.warm_up(other)
            await backend.warm_up(history)  # what the sleep cycle ends with
            mark = server.mark()
            warms.append(await ttft(backend, question))
            warm_tokens = prefilled(server, mark) or 0
    finally:
        await backend.aclose()
    return {
        "history_tokens": cold_tokens,
        "cold_ttft_s": min(colds),
        "warm_ttft_s": min(warms),
        "warm_prefilled_tokens": warm_tokens,
        "speedup": min(colds) / min(warms),
    }


async def question_during_reflection(proxy: Proxy, slots: int) -> dict[str, float | str]:
    """One run: a session with one exchange, a reflection streaming, then the question."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp))
        backend = OpenAIBackend(proxy.url, ALIAS, read_timeout=600, parallel_slots=slots)
        settings = CoreSettings(
            options=ModelOptions(temperature=0.2, seed=7),
            cooldown_seconds=0,
            max_reply_tokens=16,
            budget_tokens=400,
        )
        a = Assistant(backend=backend, store=store, settings=settings)
        try:
            await a.start()
            async for _ in a.ask(CONTEXT):
                pass
            proxy.watch(REFLECTION_MARK, QUESTION)
            task = a.reflect()
            while not proxy.streaming(REFLECTION_MARK):  # the reflection's reply is coming
                if task.done():
                    raise RuntimeError(f"the reflection ended first: {task.result()}")
                await asyncio.sleep(0.01)
            submitted = time.monotonic()
            first: float | None = None
            async for event in a.ask(QUESTION):
                if isinstance(event, ReplyChunk) and first is None:
                    first = time.monotonic()
            answered = time.monotonic()
            reached = proxy.sent_at(QUESTION)
            assert reached is not None and first is not None
            beside = not task.done()  # still reflecting after the answer
            await a.preempt()
            return {
                "submit_to_request_ms": (reached - submitted) * 1000,
                "submit_to_first_token_s": first - submitted,
                "answer_s": answered - submitted,
                "reflection": "went on" if beside else "cancelled",
            }
        finally:
            await a.close()
            await backend.aclose()
            await store.close()


async def idle_ttft(proxy: Proxy) -> float:
    backend = OpenAIBackend(proxy.url, ALIAS, read_timeout=600)
    try:
        return await ttft(backend, [{"role": "user", "content": QUESTION}])
    finally:
        await backend.aclose()


def median(rows: list[dict[str, float | str]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


async def main(runs: int, parts: Sequence[str]) -> None:
    first = start_server(api_key=None)
    second = start_server(api_key=None)
    try:
        if "warm" in parts:
            warm = await warm_up_figures(first, runs)
            print(
                f"warm-up, {warm['history_tokens']:.0f}-token history: first token cold "
                f"{warm['cold_ttft_s']:.2f} s vs after the warm-up {warm['warm_ttft_s']:.2f} s "
                f"({warm['speedup']:.1f}x; the server prefilled "
                f"{warm['warm_prefilled_tokens']:.0f} tokens instead of all)",
                flush=True,
            )
        if "slots" not in parts:
            return
        async with Proxy([first.port]) as one, Proxy([first.port, second.port]) as two:
            baseline = statistics.median([await idle_ttft(one) for _ in range(runs)])
            rows1, rows2 = [], []
            for _ in range(runs):
                rows1.append(await question_during_reflection(one, 1))
                print(f"1 slot: {rows1[-1]}", file=sys.stderr, flush=True)
                rows2.append(await question_during_reflection(two, 2))
                print(f"2 slots: {rows2[-1]}", file=sys.stderr, flush=True)
        print(f"question on an idle server: first token {baseline:.2f} s (median of {runs})")
        for name, rows in (("1 slot ", rows1), ("2 slots", rows2)):
            fates = sorted({str(r["reflection"]) for r in rows})
            print(
                f"{name}: submit -> request at the server "
                f"{median(rows, 'submit_to_request_ms'):.0f} ms, first token "
                f"{median(rows, 'submit_to_first_token_s'):.2f} s, reflection {'/'.join(fates)}"
            )
    finally:
        first.stop()
        second.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parts", default="warm,slots", help="warm, slots or both")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.parts.split(",")))

"""Preemption: a question submitted while a reflection streams must not queue behind it.

Against a slow loopback Ollama (one request at a time, like OLLAMA_NUM_PARALLEL=1), measures
submit-to-request-start of the user's question — the moment the server starts serving it —
with sleepchat's preemption, and, side by side, for a naive client that lets the reflection
finish first. Target: ≤ 100 ms with preemption.

    python bench/preempt_bench.py [--runs 10] [--token-delay 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sleepchat.core.assistant import Assistant
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.ollama import OllamaBackend
from sleepchat.store import Store

QUESTION = "What should I do next?"


def _started_at(srv: FakeOllama, text: str) -> float:
    for rec in srv.chat_requests:
        body = rec.body or {}
        messages = body.get("messages") or [{}]
        if messages[-1].get("content") == text and rec.started_at is not None:
            return rec.started_at
    raise LookupError(text)


async def one_run(srv: FakeOllama, *, preempt: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp))
        backend = OllamaBackend(srv.url, "llama3.2")
        a = Assistant(
            backend=backend, store=store, settings=CoreSettings(cooldown_seconds=0, idle_seconds=0)
        )
        try:
            await a.start()
            srv.configure(token_delay=0.0)
            async for _ in a.ask("Tell me about bread."):
                pass
            srv.configure(token_delay=TOKEN_DELAY)
            srv.clear()
            task = a.reflect()
            await asyncio.to_thread(srv.wait_for_started, 1, 10)
            question = f"{QUESTION} ({time.monotonic()})"
            submitted = time.monotonic()
            if preempt:
                async for _ in a.ask(question):
                    pass
            else:  # a naive client: the question waits for the reflection to finish
                await task
                async for _ in a.ask(question):
                    pass
            return (_started_at(srv, question) - submitted) * 1000
        finally:
            await a.close()
            await backend.aclose()
            await store.close()


def _summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20) if len(values) > 1 else values
    med = statistics.median(values)
    return f"median {med:8.1f} ms   p95 {q[-1]:8.1f} ms   max {max(values):8.1f} ms"


async def main(runs: int) -> None:
    with FakeOllama() as srv:
        with_preempt = [await one_run(srv, preempt=True) for _ in range(runs)]
        naive = [await one_run(srv, preempt=False) for _ in range(max(2, runs // 3))]
    print(f"slow server: {TOKEN_DELAY * 1000:.0f} ms per token, one request at a time")
    print(f"submit-to-request-start, preempting ({runs} runs):  {_summary(with_preempt)}")
    print(f"submit-to-request-start, naive ({len(naive)} runs):      {_summary(naive)}")
    ratio = statistics.median(naive) / statistics.median(with_preempt)
    print(
        f"naive / preempting (medians): {ratio:.0f}x; target ≤ 100 ms: "
        f"{'met' if statistics.median(with_preempt) <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--token-delay", type=float, default=0.05)
    args = parser.parse_args()
    TOKEN_DELAY = args.token_delay
    asyncio.run(main(args.runs))

"""Threads of the embedded model: the old setting vs the new plan, side by side in one run.

    python bench/threads_bench.py [--model smollm2] [--rounds 5] [--words 450] [--decode 128]

One model is loaded once; two backends share it, one with llama-cpp-python's default threads
(what sleepchat used before: half the logical CPUs for decoding, all of them for prefill) and
one with sleepchat's plan (``local.threads``, default the physical cores). Rounds alternate
old/new so both see the same machine; each request starts from a history the model has never
seen (no cached prefix) and decodes greedily to the same length. Prints the median prefill and
decode tokens/s of each and their ratio, and the reflection (background) setting too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import statistics
import sys
from dataclasses import dataclass, field

from llamacpp_cache import history

from sleepchat.llm.base import BackendError, ChatStats, ModelOptions
from sleepchat.llm.llama_engine import import_llama_cpp, llama_cpp_version
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.llm.local_models import resolve_model
from sleepchat.llm.threads import ThreadPlan, physical_cores


@dataclass
class Figures:
    label: str
    plan: ThreadPlan
    background: bool = False
    prefill: list[float] = field(default_factory=list)
    decode: list[float] = field(default_factory=list)

    def threads(self) -> str:
        decode, batch = self.plan.for_request(self.background)
        return f"{decode} decode / {batch} prefill"


async def one(
    backend: LlamaCppBackend, figures: Figures, tag: str, args: argparse.Namespace
) -> None:
    messages = [*history(tag, args.words), {"role": "user", "content": "Write a long story."}]
    stats = ChatStats()
    stream = backend.chat_stream(
        messages,
        num_predict=args.decode,
        options=ModelOptions(temperature=0.0, seed=1),
        background=figures.background,
    )
    async with contextlib.aclosing(stream) as chunks:
        async for chunk in chunks:
            stats = chunk.stats or stats
    if stats.prompt_tokens and stats.prompt_ms:
        figures.prefill.append(stats.prompt_tokens / (stats.prompt_ms / 1000))
    if stats.tokens_per_second:
        figures.decode.append(stats.tokens_per_second)


async def main(args: argparse.Namespace) -> int:
    try:
        llama_cpp = import_llama_cpp()
        path = resolve_model(args.model)
    except BackendError as exc:
        print(f"bench: {exc.message}", file=sys.stderr)
        return 2
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=args.n_ctx, verbose=False)
    logical = multiprocessing.cpu_count()
    # llama-cpp-python's defaults, which sleepchat left alone before the thread plan.
    old = ThreadPlan(reply=max(logical // 2, 1), batch=logical, background=max(logical // 2, 1))
    new = ThreadPlan.for_machine(args.threads)
    runs = [Figures("before", old), Figures("now", new)]
    if new.background != new.reply:
        runs.append(Figures("now, reflection", new, background=True))
    backends = {id(f): LlamaCppBackend(args.model, threads=f.plan, llama=llama) for f in runs}
    print(
        f"model {args.model}  llama-cpp-python {llama_cpp_version()}  "
        f"{logical} logical CPUs, {physical_cores()} physical cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    await one(backends[id(runs[0])], Figures("warm-up", old), "warm", args)  # page in the model
    for r in range(args.rounds):
        order = runs if r % 2 == 0 else runs[::-1]
        for figures in order:
            await one(backends[id(figures)], figures, f"{r}-{figures.label}", args)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    base = runs[0]
    print(f"\n{'setting':<18} {'threads':<24} {'prefill tok/s':>14} {'decode tok/s':>13}")
    for f in runs:
        p, d = statistics.median(f.prefill), statistics.median(f.decode)
        print(f"{f.label:<18} {f.threads():<24} {p:>14.0f} {d:>13.1f}")
    for f in runs[1:]:
        p = statistics.median(f.prefill) / statistics.median(base.prefill)
        d = statistics.median(f.decode) / statistics.median(base.decode)
        print(f"{f.label} / before: prefill {p:.2f}x, decode {d:.2f}x")
    for backend in backends.values():
        await backend.aclose()
    llama.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--words", type=int, default=450, help="history length, in words")
    parser.add_argument("--decode", type=int, default=128, help="tokens decoded per request")
    parser.add_argument("--threads", type=int, default=None, help="local.threads (default auto)")
    parser.add_argument("--n-ctx", type=int, default=2048)
    sys.exit(asyncio.run(main(parser.parse_args())))

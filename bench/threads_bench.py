"""Threads of the embedded model: the old setting vs the new one, side by side in one run.

    python bench/threads_bench.py [--model smollm2] [--rounds 4] [--words 450] [--decode 128]

"before" is what sleepchat did until now: llama-cpp-python's default threads (half the logical
CPUs for decoding, all of them for prefill) with OpenMP's default spinning waits. "now" is the
thread plan (``local.threads``, default the physical cores) with brief spinning waits and flash
attention, as the engine loads the model now; "now, reflection" the fewer threads idle work
uses. Wait policy is read once per process, so each setting runs in a child process, and
rounds alternate the settings so that all see the same machine. Each request starts from a
history the model has never seen (nothing cached) and decodes greedily to the same length,
through the backend's real path. Prints the median prefill and decode tokens/s of each setting
and the ratios to "before".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys

from llamacpp_cache import history

from sleepchat.llm.base import ChatStats, ModelOptions
from sleepchat.llm.llama_engine import ENGINE_FLAGS, import_llama_cpp, llama_cpp_version
from sleepchat.llm.llamacpp import LlamaCppBackend
from sleepchat.llm.local_models import resolve_model
from sleepchat.llm.threads import OMP_KNOBS, ThreadPlan, physical_cores

SETTINGS = ("before", "now", "now, reflection")


def plan_for(setting: str, threads: int | None) -> ThreadPlan:
    if setting == "before":
        logical = multiprocessing.cpu_count()
        return ThreadPlan(reply=max(logical // 2, 1), batch=logical, background=1)
    return ThreadPlan.for_machine(threads)


def describe(setting: str, threads: int | None) -> str:
    decode, batch = plan_for(setting, threads).for_request(setting == "now, reflection")
    waits = "spinning" if setting == "before" else "brief spin, flash attn"
    return f"{decode} decode / {batch} prefill, {waits}"


async def child(args: argparse.Namespace) -> None:
    """One round of one setting: JSON lines of (prefill, decode) tokens/s on stdout."""
    if args.child == "before":
        import llama_cpp  # as before: no wait policy set (the parent removed any)
    else:
        llama_cpp = import_llama_cpp()
    flags = {} if args.child == "before" else ENGINE_FLAGS  # as the engine loads it now
    llama = llama_cpp.Llama(
        model_path=str(resolve_model(args.model)), n_ctx=args.n_ctx, verbose=False, **flags
    )
    backend = LlamaCppBackend(args.model, threads=plan_for(args.child, args.threads), llama=llama)
    for i in range(args.requests + 1):  # the first one pages the model in: not counted
        tag = f"{args.round}-{args.child}-{i}"
        messages = [*history(tag, args.words), {"role": "user", "content": "Write a long story."}]
        stats = ChatStats()
        stream = backend.chat_stream(
            messages,
            num_predict=args.decode,
            options=ModelOptions(temperature=0.0, seed=1),
            background=args.child == "now, reflection",
        )
        async with contextlib.aclosing(stream) as chunks:
            async for chunk in chunks:
                stats = chunk.stats or stats
        if i and stats.prompt_tokens and stats.prompt_ms and stats.tokens_per_second:
            prefill = stats.prompt_tokens / (stats.prompt_ms / 1000)
            print(json.dumps([prefill, stats.tokens_per_second]), flush=True)
    await backend.aclose()
    llama.close()


def run_child(setting: str, round_: int, args: argparse.Namespace) -> list[list[float]]:
    env = dict(os.environ)
    if setting == "before":
        for knob in OMP_KNOBS:
            env.pop(knob, None)
    cmd = [sys.executable, __file__, "--child", setting, "--round", str(round_)]
    for flag in ("model", "words", "decode", "n_ctx", "requests"):
        cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        raise SystemExit(f"bench: the {setting!r} run failed: {done.stderr.strip()[-500:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def main(args: argparse.Namespace) -> int:
    print(
        f"model {args.model}  llama-cpp-python {llama_cpp_version()}  "
        f"{multiprocessing.cpu_count()} logical CPUs, {physical_cores()} physical cores, "
        f"load {os.getloadavg()[0]:.1f}  ({args.words}-word history, {args.decode} tokens)"
    )
    figures: dict[str, list[list[float]]] = {s: [] for s in SETTINGS}
    for r in range(args.rounds):
        order = SETTINGS if r % 2 == 0 else SETTINGS[::-1]
        for setting in order:
            figures[setting] += run_child(setting, r, args)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    medians = {
        s: (statistics.median(p for p, _ in f), statistics.median(d for _, d in f))
        for s, f in figures.items()
    }
    print(f"\n{'setting':<16} {'threads':<38} {'prefill tok/s':>13} {'decode tok/s':>12}")
    for s in SETTINGS:
        p, d = medians[s]
        print(f"{s:<16} {describe(s, args.threads):<38} {p:>13.0f} {d:>12.1f}")
    p0, d0 = medians["before"]
    for s in SETTINGS[1:]:
        p, d = medians[s]
        print(f"{s} / before: prefill {p / p0:.2f}x, decode {d / d0:.2f}x")
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2, help="measured requests per round")
    parser.add_argument("--words", type=int, default=450, help="history length, in words")
    parser.add_argument("--decode", type=int, default=128, help="tokens decoded per request")
    parser.add_argument("--threads", type=int, default=None, help="local.threads (default auto)")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child run")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.child:
        asyncio.run(child(parsed))
        sys.exit(0)
    sys.exit(main(parsed))

"""How many CPU threads the embedded model uses, for the user's replies and for idle work.

llama-cpp-python's default is half the logical CPUs for decoding (one thread on a 2-core
machine). Decoding is bound by memory bandwidth and per-core compute, so the useful count is
the number of physical cores this process may run on: hyper-threads share a core's units and
add little. Reflection runs while the user may be typing, so with more than two cores it
leaves one to the app. On two it takes both: one thread made a SmolLM2 reflection outlast the
20 s idle period in 8 of 36 cases (2 threads: 1 of 36), while a key still reached the screen
in 16.5 ms p99 during a two-thread reflection, which the key then preempts
(bench/tui_bench.py --embedded).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

# OpenMP's own knobs: a user who set one knows better than we do.
OMP_KNOBS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def physical_cores(cpuinfo: str | None = None, allowed: set[int] | None = None) -> int:
    """Physical cores among the CPUs this process may use (Linux ``/proc/cpuinfo``; elsewhere
    the logical CPU count)."""
    if allowed is None:
        try:
            allowed = set(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            allowed = set(range(os.cpu_count() or 1))
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return max(1, len(allowed))
    cores: set[tuple[str, str]] = set()
    for block in cpuinfo.split("\n\n"):
        fields = {
            key.strip(): value.strip()
            for key, _, value in (line.partition(":") for line in block.splitlines())
        }
        processor = fields.get("processor", "")
        if not processor.isdigit() or int(processor) not in allowed:
            continue
        # No core id (some VMs, ARM): count each logical CPU as a core.
        cores.add((fields.get("physical id", "0"), fields.get("core id", processor)))
    return max(1, len(cores) or len(allowed))


@dataclass(frozen=True)
class ThreadPlan:
    """Threads per kind of work: ``reply`` decodes what the user waits for, ``batch`` prefills
    its prompt, ``background`` does both for reflection."""

    reply: int
    batch: int
    background: int

    @classmethod
    def for_machine(cls, threads: int | None = None, cores: int | None = None) -> ThreadPlan:
        """``threads`` as configured (None: the physical cores); idle work one fewer above two."""
        count = threads if threads is not None else (cores or physical_cores())
        count = max(1, count)
        return cls(reply=count, batch=count, background=count - 1 if count > 2 else count)

    def for_request(self, background: bool) -> tuple[int, int]:
        """(decode threads, prefill threads) for one request."""
        if background:
            return self.background, self.background
        return self.reply, self.batch


# Spin this many rounds at a barrier, then sleep: a few microseconds.
SPIN_ROUNDS = "3000"


def brief_spin_waits(environ: MutableMapping[str, str] | None = None) -> None:
    """Have llama.cpp's threads spin only briefly, then sleep, while they wait for each other.

    llama.cpp's CPU backend (built with OpenMP, as llama-cpp-python is) meets its threads at a
    barrier hundreds of times per token. By default they spin there for long: on a busy machine
    a thread that lost its core makes the others spin theirs away (two threads on two busy
    cores fell to 0.6 tokens/s). Sleeping at once (``OMP_WAIT_POLICY=PASSIVE``) avoids that but
    pays a wake-up at every barrier: two threads then decoded slower than one (SmolLM2 here:
    27 vs 44 tokens/s on an idle machine). A short spin keeps both: 71 tokens/s idle, and with
    two busy processes on the 2 cores as fast as one thread (32 vs 31), with six close to it
    (10.5 vs 12.5) where long spins collapse (bench/threads_bench.py).
    OpenMP reads this once, when the library loads: call it before ``import llama_cpp``.
    """
    env = os.environ if environ is None else environ
    if not any(knob in env for knob in OMP_KNOBS):
        env["GOMP_SPINCOUNT"] = SPIN_ROUNDS

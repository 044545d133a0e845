"""How many CPU threads the embedded model uses, for the user's replies and for idle work.

llama-cpp-python's default is half the logical CPUs for decoding (one thread on a 2-core
machine). Decoding is bound by memory bandwidth and per-core compute, so the useful count is
the number of physical cores this process may run on: hyper-threads share a core's units and
add little. Reflection runs while the user may be typing, so it leaves a core to the app.
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
        """``threads`` as configured (None: the physical cores); idle work one fewer."""
        count = threads if threads is not None else (cores or physical_cores())
        count = max(1, count)
        return cls(reply=count, batch=count, background=max(1, count - 1))

    def for_request(self, background: bool) -> tuple[int, int]:
        """(decode threads, prefill threads) for one request."""
        if background:
            return self.background, self.background
        return self.reply, self.batch


def passive_waits(environ: MutableMapping[str, str] | None = None) -> None:
    """Have llama.cpp's threads sleep, not spin, while they wait for each other.

    llama.cpp's CPU backend (built with OpenMP, as llama-cpp-python is) meets its threads at a
    barrier hundreds of times per token, and by default they spin there. When the machine is
    busy and one thread loses its core, the others spin away theirs: measured here with two
    threads on two busy cores, decoding fell from ~16 to 0.6 tokens/s and prefill from ~50 to
    8, while sleeping waits kept two threads as fast as one. OpenMP reads this once, when the
    library loads: call it before ``import llama_cpp``.
    """
    env = os.environ if environ is None else environ
    if not any(knob in env for knob in OMP_KNOBS):
        env["OMP_WAIT_POLICY"] = "PASSIVE"

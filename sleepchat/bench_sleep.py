"""What the sleep cycle costs and leaves when the user's idle period is short (issues 10, 15).

* ``reflect_within``: a reflection gets one idle period, then is cut as the user's next
  keystroke would cut it; the bench counts reflections that finished vs were cut.
* ``policy_figures``: the same conversations with the prediction policy on (``auto``) and off
  (``always``): sleep tokens saved against hits lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from sleepchat.core.assistant import Assistant
from sleepchat.core.models import Reflection


@dataclass
class ArmCost:
    """One conversation's sleep arm: what it spent and what it got."""

    sleep_tokens: int = 0
    wasted: int = 0  # of sleep_tokens, generated and thrown away
    hits: int = 0
    finished: int = 0  # reflections done within the idle period
    kept: int = 0  # ...or cut while answering with every started answer kept to continue
    cut: int = 0  # reflections the idle period's end cancelled
    cut_warm: int = 0  # ...that had warmed the cache before they were cut
    cut_with_predictions: int = 0  # ...that had stored at least one question


async def reflect_within(a: Assistant, until: Awaitable[object], cost: ArmCost) -> Reflection:
    """One sleep cycle that may run until ``until`` completes (one idle period:
    ``asyncio.sleep(seconds)``), then is preempted as the user's next keystroke would."""
    task = a.reflect()
    timer = asyncio.ensure_future(until)
    try:
        done, _pending = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    if task in done:
        r = task.result()
    else:
        await a.preempt()
        r = a.reflections[-1]
    cost.sleep_tokens += r.tokens
    cost.wasted += r.wasted_tokens
    if r.status == "done":
        cost.finished += 1
    elif r.status == "cancelled":
        cost.cut += 1
        # Cut in its answers step with nothing thrown away: every started answer was kept to
        # be continued by the next idle period.
        cost.kept += "questions" in r.steps and r.wasted_tokens == 0
        cost.cut_warm += "warm-up" in r.steps
        cost.cut_with_predictions += r.predictions > 0
    return r


def idle_figures(costs: Sequence[ArmCost], seconds: float) -> dict[str, Any]:
    finished = sum(c.finished for c in costs)
    kept = sum(c.kept for c in costs)
    cut = sum(c.cut for c in costs)
    ran = finished + cut
    tokens, wasted = sum(c.sleep_tokens for c in costs), sum(c.wasted for c in costs)
    return {
        "idle_period_s": seconds,
        "reflections_finished": finished,
        "reflections_cut": cut,
        "reflections_cut_kept": kept,
        # Finished, or cut while answering with every started answer kept to continue.
        "finished_share": round((finished + kept) / ran, 3) if ran else None,
        "sleep_tokens_wasted": wasted,
        "wasted_share": round(wasted / tokens, 3) if tokens else None,
        "cut_left_warm_cache": sum(c.cut_warm for c in costs),
        "cut_left_predictions": sum(c.cut_with_predictions for c in costs),
    }


def policy_figures(on: Sequence[ArmCost], off: Sequence[ArmCost]) -> dict[str, Any]:
    """Policy on (auto) vs off (always), on the same conversations."""
    tokens_on, tokens_off = sum(c.sleep_tokens for c in on), sum(c.sleep_tokens for c in off)
    return {
        "policy_sleep_tokens_on": tokens_on,
        "policy_sleep_tokens_off": tokens_off,
        "policy_sleep_tokens_saved": tokens_off - tokens_on,
        "policy_hits_on": sum(c.hits for c in on),
        "policy_hits_off": sum(c.hits for c in off),
        "policy_hits_lost": sum(c.hits for c in off) - sum(c.hits for c in on),
    }

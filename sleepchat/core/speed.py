"""What the model does on this machine, measured: its decode speed, the fixed cost of one
request, the warm-up's time and the typical output of each reflection step. Kept per model in
the store, so a reflection plans its work (``reflection/plan.py``) from the first idle period of
the next session on.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sleepchat.core.models import Message
from sleepchat.core.ports import ChatStats, StorePort

META_KEY = "model_speeds"
# Of a new sample in the running average: recent runs count most (the machine's load changes).
WEIGHT = 0.3


def _mix(old: float | None, new: float) -> float:
    return new if old is None else old + WEIGHT * (new - old)


@dataclass
class ModelSpeed:
    decode: float | None = None  # tokens/s
    request_s: float | None = None  # a request's fixed cost: its new tokens' prefill, the trip
    warm_s: float | None = None  # the warm-up's time
    step_tokens: dict[str, float] = field(default_factory=dict)  # a step's typical output

    def observe(self, stats: ChatStats | None, wall_s: float) -> None:
        """One finished request that took ``wall_s`` seconds in all."""
        if stats is None:
            return
        if stats.tokens_per_second and (stats.completion_tokens or 0) >= 8:
            self.decode = _mix(self.decode, stats.tokens_per_second)  # too few: noise
        if self.decode and stats.completion_tokens is not None:
            fixed = wall_s - stats.completion_tokens / self.decode
            self.request_s = _mix(self.request_s, max(0.0, fixed))

    def observe_step(self, step: str, tokens: float) -> None:
        self.step_tokens[step] = _mix(self.step_tokens.get(step), float(tokens))

    def observe_warm(self, seconds: float) -> None:
        self.warm_s = _mix(self.warm_s, seconds)

    @classmethod
    def from_dict(cls, raw: object) -> ModelSpeed:
        """Tolerant: a value of another shape or an unknown key is ignored, never fatal."""
        if not isinstance(raw, dict):
            return cls()
        out = cls()
        for key in ("decode", "request_s", "warm_s"):
            value = raw.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                setattr(out, key, float(value))
        steps = raw.get("step_tokens")
        if isinstance(steps, dict):
            out.step_tokens = {
                str(k): float(v)
                for k, v in steps.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            }
        return out


def reply_speed(history: Sequence[Message], model: str) -> float | None:
    """The median decode speed of this model's replies in ``history`` (a first estimate before
    any reflection measured one)."""
    speeds = [
        m.completion_tokens / ((m.total_ms - (m.ttft_ms or 0.0)) / 1000.0)
        for m in history
        if m.role == "assistant"
        and m.model == model
        and m.completion_tokens
        and m.completion_tokens >= 8
        and m.total_ms
        and m.total_ms - (m.ttft_ms or 0.0) > 0
    ]
    return statistics.median(speeds) if speeds else None


class SpeedBook:
    """The measured speeds of every model used here, one store value."""

    def __init__(self, store: StorePort) -> None:
        self.store = store

    async def load(self, model: str) -> ModelSpeed:
        raw = await self.store.get_meta(META_KEY, {})
        return ModelSpeed.from_dict(raw.get(model) if isinstance(raw, dict) else None)

    async def save(self, model: str, speed: ModelSpeed) -> None:
        raw = await self.store.get_meta(META_KEY, {})
        book: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        book[model] = asdict(speed)
        await self.store.set_meta(META_KEY, book)

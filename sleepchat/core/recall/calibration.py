"""Per-model calibrations of the recall judge: the level at which it served no look-alike.

``sleepchat bench recall --calibrate`` asks the model about labelled pairs (the ones the word
rules leave to a judge), picks the lowest level at which no pair labelled different would have
been served, and stores it for that model. Calibrations measured here for the models sleepchat
suggests ship with it (``sleepchat/data/judge_calibrations.json``); one the user made wins. A
model with neither, or whose judge served a look-alike at every level, gets no judge: recall
then serves what the word rules approve, and nothing else (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from importlib import resources
from typing import Any

STORE_KEY = "judge_calibrations"  # store meta: {model key: calibration}
SHIPPED = "judge_calibrations.json"
# Above the highest margin a look-alike reached: margins move a little with the machine's
# floating point and the model file's build, and a tie must not serve.
SAFETY = 0.05
# A judge costs a model request on every pair it is asked about: one that serves fewer than this
# share of the rewordings costs more than it saves (SmolLM2 served 1 of 72 here), and a level
# set by one or two pairs is chance.
MIN_SHARE = 0.1


def model_key(backend: str, model: str) -> str:
    """One name per model file or server model: "local:qwen2.5-coder-1.5b-instruct-q4_k_m"."""
    name = re.split(r"[\\/]", model.strip())[-1].lower()
    name = re.sub(r"\.gguf$", "", name)
    return f"{backend}:{name}"


@dataclass(frozen=True)
class Calibration:
    model: str  # model_key()
    method: str  # how the model was asked: "yes/no log-odds" or "yes/no"
    level: float | None  # serve above this margin; None: no level served 0 look-alikes
    positives: int  # labelled same, among the pairs the rules left to the judge
    negatives: int
    hits: int  # positives above the level
    max_false: float  # the highest margin of a pair labelled different
    judge_ms: float  # mean time to judge one pair (both orders)
    measured: str  # when, ISO date
    source: str = "calibrated here"

    @property
    def summary(self) -> str:
        if self.level is None:
            return f"{self.model}: no level served 0 of {self.negatives} look-alikes (off)"
        return (
            f"{self.model}: level {self.level:.2f}, {self.hits} of {self.positives} rewordings "
            f"and 0 of {self.negatives} look-alikes served, {self.judge_ms:.0f} ms a pair "
            f"({self.source}, {self.measured})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration | None:
        """None for a record this version cannot read (it is then ignored, never trusted)."""
        names = {f.name for f in fields(cls)}
        try:
            known = {k: v for k, v in data.items() if k in names}
            cal = cls(**known)
        except TypeError:
            return None
        if not isinstance(cal.model, str) or not (
            cal.level is None or isinstance(cal.level, int | float)
        ):
            return None
        return cal


def choose_level(scored: Sequence[tuple[float, bool]]) -> tuple[float | None, int, float]:
    """The level, the positives above it and the highest look-alike margin, from (margin,
    labelled same) pairs: just above every look-alike; None when that serves fewer than
    ``MIN_SHARE`` of the rewordings."""
    negatives = [m for m, same in scored if not same]
    positives = [m for m, same in scored if same]
    top = max(negatives, default=float("-inf"))
    if not negatives:
        return None, 0, top  # nothing says where look-alikes lie: never trusted
    level = top + SAFETY
    hits = sum(1 for m in positives if m > level)
    worth_it = hits > 0 and hits >= MIN_SHARE * len(positives)
    return (level if worth_it else None), hits, top


def shipped() -> dict[str, Calibration]:
    text = resources.files("sleepchat.data").joinpath(SHIPPED).read_text("utf-8")
    out: dict[str, Calibration] = {}
    for key, row in json.loads(text).items():
        cal = Calibration.from_dict({**row, "source": "shipped"})
        if cal is not None:
            out[key] = cal
    return out


def lookup(key: str, stored: Any) -> Calibration | None:
    """The user's own calibration of ``key`` (store meta, as read), else the shipped one."""
    if isinstance(stored, Mapping) and isinstance(stored.get(key), Mapping):
        own = Calibration.from_dict(stored[key])
        if own is not None:
            return own
    return shipped().get(key)

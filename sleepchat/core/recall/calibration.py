"""Per-model calibrations of the recall judge: the level at which it served no look-alike, for
each kind of pair the word rules leave open.

``sleepchat bench recall --calibrate`` asks the model about labelled pairs, picks for each kind
the lowest level at which no pair labelled different would have been served, and stores it for
that model. Calibrations measured here for the models sleepchat suggests ship with it
(``sleepchat/data/judge_calibrations.json``); one the user made wins. A model with neither, or a
kind whose look-alikes the judge could not keep out, gets no judge for it: recall then serves
what the word rules approve, and nothing else (fail closed).

A kind with enough look-alikes of its own (MIN_NEGATIVES) stands just above them; one with fewer
stands above every look-alike of any kind. Two questions that line up word for word once stems,
typos and synonyms are read ("aligned") hid look-alikes of their own (a stem shared by two words,
a name taken for a typo of another, "my" for "a"): the first judge, with one level set on too
few of them, served 31 of 150 held-out look-alikes, all aligned. The rules now veto those
classes (lined_up.py), so few aligned look-alikes reach a judge: too few to place a level alone,
hence the bound from all of them. One question that is the other with words added ("added":
a pan that is rusty, a dish made without meat) asks about less, and the model said yes to those
more readily than to any other look-alike; kept apart, they no longer set the level of the pairs
whose words differ on both sides ("words").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from sleepchat.core.recall.in_context import BOUND, KIND

STORE_KEY = "judge_calibrations"  # store meta: {model key: calibration}
SHIPPED = "judge_calibrations.json"
KINDS = ("aligned", "added", "words", KIND)
# A pair judged after the last exchange (in_context.py) is asked another question: its margins
# are no bound for the other kinds, nor theirs for it.
APART = frozenset({KIND, BOUND})
# Above the highest margin a look-alike reached: margins move a little with the machine's
# floating point and the model file's build, a tie must not serve, and a new look-alike may
# sit a little above the highest one labelled.
SAFETY = 0.1
# A judge costs a model request on every pair it is asked about: one that serves fewer than this
# share of the rewordings costs more than it saves (SmolLM2 served 1 of 72 here), and a level
# set by one or two pairs is chance.
MIN_SHARE = 0.1
# A level needs look-alikes of its kind to stand above, enough to bound their tail: set on 10,
# the lined-up kind of the 1.5B model served 24 of 48 held-out look-alikes (SmolLM2 got a level
# too), while the words kind's 88 bounded the kind's own classes.
MIN_NEGATIVES = 30
# How the model is asked and its two answers combined. A level measured another way (the lower
# of both orders, or before the instruction said what rewording is) means nothing here: such a
# record is not trusted.
LOG_ODDS = "yes/no log-odds, both orders averaged, rewording described"
YES_NO = "yes/no, both orders averaged, rewording described"
METHODS = (LOG_ODDS, YES_NO)


def model_key(backend: str, model: str) -> str:
    """One name per model file or server model: "local:qwen2.5-coder-1.5b-instruct-q4_k_m"."""
    name = re.split(r"[\\/]", model.strip())[-1].lower()
    name = re.sub(r"\.gguf$", "", name)
    return f"{backend}:{name}"


@dataclass(frozen=True)
class KindLevel:
    level: float | None  # serve above this margin; None: this kind is never judged
    positives: int  # labelled same
    negatives: int
    hits: int  # positives above the level
    max_false: float | None  # the highest margin of a pair labelled different

    @classmethod
    def from_dict(cls, data: Any) -> KindLevel | None:
        if not isinstance(data, Mapping):
            return None
        level, top = data.get("level"), data.get("max_false")
        if not all(v is None or isinstance(v, int | float) for v in (level, top)):
            return None
        counts: list[int] = []
        for name in ("positives", "negatives", "hits"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            counts.append(value)
        return cls(level, counts[0], counts[1], counts[2], top)


@dataclass(frozen=True)
class FirstOrder:
    """Where the first order (the predicted question shown first: readied while idle, so it
    prefills only the asked question) settles a pair alone. Both are set on labelled pairs: above
    ``accept`` no look-alike's first order lay, and at or below ``reject`` no rewording the judge
    served; between, the second order is asked too. None: that side always asks both."""

    accept: float | None = None
    reject: float | None = None

    @classmethod
    def from_dict(cls, data: Any) -> FirstOrder | None:
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            return None
        accept, reject = data.get("accept"), data.get("reject")
        if not all(v is None or isinstance(v, int | float) for v in (accept, reject)):
            return None
        return cls(accept, reject)


@dataclass(frozen=True)
class Calibration:
    model: str  # model_key()
    method: str  # how the model was asked: one of METHODS
    kinds: Mapping[str, KindLevel] = field(default_factory=dict)
    judge_ms: float = 0.0  # mean time to judge one pair as a session does
    measured: str = ""  # when, ISO date
    source: str = "calibrated here"
    first: FirstOrder = field(default_factory=FirstOrder)

    def level(self, kind: str) -> float | None:
        found = self.kinds.get(kind)
        return None if found is None else found.level

    @property
    def usable(self) -> bool:
        return any(k.level is not None for k in self.kinds.values())

    @property
    def summary(self) -> str:
        parts = []
        for kind in KINDS:
            k = self.kinds.get(kind)
            if k is None:
                continue
            served = f"{k.hits}/{k.positives} rewordings" if k.level is not None else "off"
            parts.append(f"{kind} {served}")
        judged = f"0 look-alikes served on the labelled pairs, {self.judge_ms:.0f} ms a pair"
        on = ", ".join(parts) or "no kind calibrated"
        return f"{self.model}: {on}; {judged} ({self.source}, {self.measured})"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kinds"] = {name: asdict(k) for name, k in self.kinds.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration | None:
        """None for a record this version cannot read (it is then ignored, never trusted)."""
        kinds_in = data.get("kinds")
        if not isinstance(kinds_in, Mapping):
            return None
        kinds = {name: KindLevel.from_dict(row) for name, row in kinds_in.items()}
        if any(k is None for k in kinds.values()):
            return None
        model, method = data.get("model"), data.get("method")
        judge_ms, measured = data.get("judge_ms", 0.0), data.get("measured", "")
        if not isinstance(model, str) or method not in METHODS:
            return None
        if not isinstance(judge_ms, int | float) or not isinstance(measured, str):
            return None
        source = str(data.get("source", "calibrated here"))
        first = FirstOrder.from_dict(data.get("first"))
        if first is None:
            return None
        clean = {name: k for name, k in kinds.items() if k is not None}
        return cls(model, method, clean, float(judge_ms), measured, source, first)


def first_for(kind: str, first: FirstOrder) -> FirstOrder:
    """Where the first order settles a pair of ``kind`` alone: never for one in an exchange
    (``first`` was set on pairs out of one)."""
    return FirstOrder() if kind in APART else first


def choose_level(
    scored: Sequence[tuple[float, bool]], others: Sequence[float] = ()
) -> KindLevel:
    """From (margin, labelled same) pairs of one kind, and the margins of the look-alikes of
    the other kinds: the level just above every look-alike of this kind where it has enough of
    them, else of every kind; None when there are too few look-alikes to place it or it serves
    too few of this kind's rewordings."""
    negatives = [m for m, same in scored if not same]
    positives = [m for m, same in scored if same]
    top = max(negatives) if negatives else None
    own = len(negatives) >= MIN_NEGATIVES
    bound = max(negatives if own else [*negatives, *others], default=None)
    if bound is None or len(negatives) + len(others) < MIN_NEGATIVES:
        return KindLevel(None, len(positives), len(negatives), 0, top)
    level = bound + SAFETY
    hits = sum(1 for m in positives if m > level)
    worth_it = hits > 0 and hits >= MIN_SHARE * len(positives)
    return KindLevel(level if worth_it else None, len(positives), len(negatives), hits, top)


def choose_first(scored: Sequence[tuple[float, bool, bool]]) -> FirstOrder:
    """From (first order's margin, labelled same, served by the levels) of every judged pair:
    accept just above every look-alike's first order, reject just below the first order of
    every rewording the levels served; neither without enough look-alikes to bound them."""
    negatives = [m for m, same, _ in scored if not same]
    served = [m for m, same, hit in scored if same and hit]
    if len(negatives) < MIN_NEGATIVES or not served:
        return FirstOrder()
    return FirstOrder(max(negatives) + SAFETY, min(served) - SAFETY)


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

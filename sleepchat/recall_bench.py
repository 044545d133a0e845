"""``sleepchat bench recall``: the matcher alone on labelled question pairs.

Each line of the file is ``{"predicted": ..., "asked": ..., "same": true|false}`` (optional
``"class"`` and ``"split"``). Each pair is matched as a real question would be: the predicted
question is the one fresh prediction (embedded beforehand, as the sleep cycle does while idle),
the asked question goes through ``Recall.match``. A hit on a pair labelled different is a false
hit: the user would have been served the wrong cached answer.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sleepchat.core.models import Prediction
from sleepchat.core.recall import Recall
from sleepchat.core.recall.judge import ModelJudge
from sleepchat.errors import SleepchatError

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.llm.base import BaseBackend

PAIRS_HELP = 'JSONL, one {"predicted": str, "asked": str, "same": bool} per line'


class PairsError(SleepchatError):
    """The pairs file cannot be read or a line is not a labelled pair."""

    exit_code = 2


@dataclass
class Pair:
    predicted: str
    asked: str
    same: bool
    cls: str = ""
    split: str = ""
    context: tuple[str, ...] = ()  # the last exchange the pair is asked after, if any


@dataclass
class RecallReport:
    method: str
    threshold: float
    pairs: int = 0
    positives: int = 0
    hits: int = 0  # positives served
    false_hits: int = 0  # negatives served
    by_class: dict[str, tuple[int, int]] = field(default_factory=dict)  # class -> (served, n)
    false_by_class: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    false_examples: list[Pair] = field(default_factory=list, repr=False)

    @property
    def negatives(self) -> int:
        return self.pairs - self.positives

    @property
    def precision(self) -> float:
        served = self.hits + self.false_hits
        return self.hits / served if served else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.positives if self.positives else 0.0

    def latency(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]


def load_all(paths: str | Sequence[str], split: str | None = None) -> list[Pair]:
    """The pairs of one file, or of several in turn (``--pairs A --pairs B``)."""
    files = [paths] if isinstance(paths, str) else paths
    return [pair for path in files for pair in load_pairs(path, split)]


def load_pairs(path: str | Path, split: str | None = None) -> list[Pair]:
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise PairsError(f"cannot read pairs {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PairsError(f"pairs file {path} is not UTF-8 text ({PAIRS_HELP})") from None
    out: list[Pair] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        out.append(_pair(line, f"{path}:{n}"))
    if not out:
        raise PairsError(f"no pairs in {path} ({PAIRS_HELP})")
    if split is not None:
        out = [p for p in out if p.split == split]
        if not out:
            raise PairsError(f"no pairs with split {split!r} in {path}")
    return out


def _pair(line: str, where: str) -> Pair:
    try:
        row: Any = json.loads(line)
    except ValueError:
        raise PairsError(f"{where}: not JSON ({PAIRS_HELP})") from None
    if not isinstance(row, dict):
        raise PairsError(f"{where}: not a JSON object ({PAIRS_HELP})")
    predicted, asked, same = row.get("predicted"), row.get("asked"), row.get("same")
    if not isinstance(predicted, str) or not predicted.strip():
        raise PairsError(f"{where}: 'predicted' must be a non-empty string")
    if not isinstance(asked, str) or not asked.strip():
        raise PairsError(f"{where}: 'asked' must be a non-empty string")
    if not isinstance(same, bool):
        raise PairsError(f"{where}: 'same' must be true or false")
    cls, split = row.get("class", ""), row.get("split", "")
    context = _context(row.get("context", []), where)
    return Pair(predicted, asked, same, str(cls or ""), str(split or ""), context)


def _context(messages: Any, where: str) -> tuple[str, ...]:
    """A pair's 'context': the messages before it, each a string or {"role", "content"}."""
    if not isinstance(messages, list):
        raise PairsError(f"{where}: 'context' must be a list of messages")
    out = []
    for m in messages:
        text = m.get("content") if isinstance(m, dict) else m
        if not isinstance(text, str):
            raise PairsError(f"{where}: each 'context' message must be text or have 'content'")
        out.append(text)
    return tuple(out)


def prediction(question: str, pid: str = "p1") -> Prediction:
    """A fresh prediction of ``question`` with a placeholder answer (what matching sees)."""
    return Prediction(
        id=pid,
        session_id="bench",
        question=question,
        answer="(cached answer)",
        created=0.0,
        reflection_id="r1",
        based_on_message_id=None,
    )


async def measure(recall: Recall, pairs: list[Pair]) -> RecallReport:
    """Match every pair; raises SleepchatError when the embedding model fails (a measurement
    that silently fell back to word overlap would report the wrong method)."""
    report = RecallReport(recall.description, recall.threshold)
    served_by_class: Counter[str] = Counter()
    n_by_class: Counter[str] = Counter()
    for pair in pairs:
        guess = prediction(pair.predicted)
        embedded = await recall.embedding(pair.predicted)  # what idle time does
        if embedded is not None:
            guess.embedding, guess.embed_model = embedded
        start = time.perf_counter()
        result = await recall.match(pair.asked, [guess], context=pair.context)
        report.latencies_ms.append((time.perf_counter() - start) * 1000)
        if result.error is not None:
            raise SleepchatError(f"the embedding model failed: {result.error}")
        served = result.hit is not None
        report.pairs += 1
        report.positives += pair.same
        n_by_class[pair.cls or ("same" if pair.same else "different")] += 1
        if served:
            served_by_class[pair.cls or ("same" if pair.same else "different")] += 1
            if pair.same:
                report.hits += 1
            else:
                report.false_hits += 1
                report.false_by_class[pair.cls or "different"] += 1
                report.false_examples.append(pair)
    report.by_class = {c: (served_by_class[c], n) for c, n in sorted(n_by_class.items())}
    return report


def print_report(report: RecallReport, out: IO[str]) -> None:
    served = report.hits + report.false_hits
    print(f"recall method: {report.method}; candidate threshold {report.threshold:.2f}", file=out)
    print(
        f"pairs: {report.pairs} ({report.positives} same, {report.negatives} different)", file=out
    )
    print(
        f"precision: {report.precision:.1%} ({report.hits} of {served} served were right)",
        file=out,
    )
    same = f"{report.hits} of {report.positives} same served"
    print(f"recall: {report.recall:.1%} ({same})", file=out)
    print(f"false hits: {report.false_hits} of {report.negatives} different", file=out)
    for cls, n in sorted(report.false_by_class.items()):
        print(f"  {cls}: {n}", file=out)
    for pair in report.false_examples[:10]:
        print(f"  served {pair.predicted!r} to {pair.asked!r}", file=out)
    print("served by class:", file=out)
    for cls, (k, n) in report.by_class.items():
        print(f"  {cls:<20} {k}/{n}", file=out)
    print(
        f"latency per match: p50 {report.latency(50):.1f} ms, p95 {report.latency(95):.1f} ms "
        "(the question embedded and verified; the prediction embedded beforehand)",
        file=out,
    )


async def run_recall_bench(
    config: Config,
    *,
    pairs: str | Sequence[str],
    threshold: float | None,
    split: str | None,
    judge: bool = False,
) -> int:
    """``sleepchat bench recall``: the configured matcher (recall.method / embed_model) on a
    labelled pairs file; the report goes to stdout. ``judge``: with the chat model as judge at
    its calibrated level (the embedded model is loaded for it)."""
    from sleepchat.runtime import build_backend, build_embedder, open_backend, warn

    loaded = load_all(pairs, split)
    backend: BaseBackend | None
    if judge:
        backend = await open_backend(config, check=True)
    else:
        server = {"auto": "ollama", "ollama": "ollama", "openai": "openai"}.get(config.backend)
        backend = await build_backend(server, config) if server else None
    chosen: ModelJudge | None = None
    try:
        if judge:
            assert backend is not None
            chosen = await calibrated_judge(config, backend)
        embedder = await build_embedder(config, backend, on_warning=warn)
        try:
            recall = Recall(embedder, threshold=threshold, judge=chosen)
            report = await measure(recall, loaded)
        finally:
            if embedder is not None:
                await embedder.aclose()
    finally:
        if backend is not None:
            await backend.aclose()
    print_report(report, sys.stdout)
    if chosen is not None:
        each = chosen.spent_ms / chosen.calls if chosen.calls else 0.0
        print(
            f"judge: {chosen.calibration.summary}; {chosen.calls} pairs judged here, "
            f"{each:.0f} ms each",
            file=sys.stdout,
        )
    return 0


async def calibrated_judge(config: Config, backend: BaseBackend) -> ModelJudge:
    """The chat model's judge at its calibrated level; an error naming the fix without one."""
    from sleepchat.runtime import build_judge, judge_key, open_store

    store = await open_store(config.resolved_data_dir(), read_only=True)
    try:
        judge = await build_judge(config, store, backend)
    finally:
        await store.close()
    if not isinstance(judge, ModelJudge):
        key = judge_key(backend.name, backend.model)
        raise SleepchatError(
            f"{key} has no calibrated judge (or recall.judge is never) — run "
            "`sleepchat bench recall --calibrate` first"
        )
    return judge

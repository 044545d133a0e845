"""The bench's idle-period and policy figures: a reflection cut at the end of an idle period is
counted as cut (and says what it left), and the policy on vs off is measured on the same
conversations. Fake backend; the idle period's end is an event the test sets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

from sleepchat.bench import Conversation, bench
from sleepchat.bench_sleep import ArmCost, idle_figures, reflect_within
from sleepchat.core.assistant import Assistant
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store


def reply(messages: Sequence[ChatMessage]) -> str:
    return "An answer about tomatoes, " * 4


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": ["My cherry tomatoes grow on a balcony"]})
    if schema.__name__ == "Revalidation":
        return json.dumps({"verdicts": []})
    return json.dumps({"questions": ["How do I prune cherry tomatoes on a balcony?"]})


async def test_a_reflection_cut_by_the_end_of_the_idle_period_counts_as_cut(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "d")
    backend = FakeBackend(reply, structured)
    a = Assistant(backend=backend, store=store, settings=CoreSettings(cooldown_seconds=0))
    await a.start()
    async for _e in a.ask("My cherry tomatoes grow on a balcony."):
        pass
    cost = ArmCost()
    # The idle period ends while the first structured request (after the warm-up) is in flight.
    backend.gate = asyncio.Event()
    backend.started.clear()
    idle_over = asyncio.Event()

    async def end_at_the_first_structured_request() -> None:
        while True:
            await backend.started.wait()
            backend.started.clear()
            if backend.calls[-1].kind == "structured":
                idle_over.set()
                return
            assert backend.gate is not None
            backend.gate.set()  # let the warm-up through
            backend.gate = asyncio.Event()

    watcher = asyncio.create_task(end_at_the_first_structured_request())
    r = await reflect_within(a, idle_over.wait(), cost)
    watcher.cancel()
    assert r.status == "cancelled" and r.steps[0] == "warm-up" and "answers" not in r.steps
    assert (cost.finished, cost.cut, cost.cut_warm) == (0, 1, 1)
    assert cost.cut_with_predictions == (r.predictions > 0)

    backend.gate = None  # a long enough idle period: it finishes
    async for _e in a.ask("They get brown spots."):
        pass
    r = await reflect_within(a, asyncio.Event().wait(), cost)
    assert r.status == "done" and cost.finished == 1
    assert idle_figures([cost], 20.0)["finished_share"] == 0.5
    await a.close()
    await store.close()


async def test_the_bench_reports_finished_share_and_the_policy_on_and_off() -> None:
    conv = Conversation(
        "tomatoes",
        ["I grow cherry tomatoes on a balcony.", "The lower leaves have brown spots."],
        ["What fertiliser should I use?", "Is it too late to repot them?", "Do they need a cage?"],
    )
    backend = FakeBackend(reply, structured)
    summary, (res,) = await bench(backend, CoreSettings(), [conv])
    assert summary["idle_period_s"] == 20.0
    assert summary["finished_share"] == 1.0 and summary["reflections_cut"] == 0
    # policy off precomputes an answer before every query; on, it stops after two misses
    assert res.policy_off.sleep_tokens > res.policy_on.sleep_tokens
    assert summary["policy_sleep_tokens_saved"] == (
        res.policy_off.sleep_tokens - res.policy_on.sleep_tokens
    )
    assert summary["policy_hits_lost"] == 0  # nothing hit either way
    assert summary["sleep_tokens"] == res.policy_on.sleep_tokens


class HoldsTheAnswer(FakeBackend):
    """Holds the answer to the predicted question after three words, like a slow model."""

    def __init__(self) -> None:
        super().__init__(lambda m: " ".join(f"w{i}" for i in range(30)), structured)
        self.answering = asyncio.Event()

    async def stream(self, request):  # type: ignore[no-untyped-def, override]
        words = 0
        async for chunk in super().stream(request):
            yield chunk
            words += bool(chunk.text)
            if request.messages[-1]["content"].startswith("How do I prune") and words == 3:
                self.answering.set()
                await asyncio.Event().wait()


async def test_a_reflection_cut_while_answering_that_kept_its_answer_counts_as_finished(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "d")
    backend = HoldsTheAnswer()
    settings = CoreSettings(cooldown_seconds=0, predict="always")
    a = Assistant(backend=backend, store=store, settings=settings)
    await a.start()
    async for _e in a.ask("My cherry tomatoes grow on a balcony."):
        pass
    cost = ArmCost()
    r = await reflect_within(a, backend.answering.wait(), cost)
    assert r.status == "cancelled" and r.wasted_tokens == 0
    assert (cost.finished, cost.kept, cost.cut) == (0, 1, 1)
    figures = idle_figures([cost], 20.0)
    assert figures["finished_share"] == 1.0 and figures["sleep_tokens_wasted"] == 0
    [p] = [p for p in a.predictions if p.question.startswith("How do I prune")]
    assert p.partial == "w0 w1 w2" and not p.answer
    await a.close()
    await store.close()

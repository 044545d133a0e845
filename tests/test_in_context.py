"""A follow-up that leaves out what the last exchange says is judged in that exchange."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyDone
from sleepchat.core.models import Message
from sleepchat.core.recall import Recall
from sleepchat.core.recall.calibration import LOG_ODDS, MIN_NEGATIVES, Calibration, KindLevel
from sleepchat.core.recall.in_context import BOUND, context_words, last_exchange, left_out
from sleepchat.core.recall.judge import ModelJudge, judge_messages
from sleepchat.core.recall.verify import Verifier
from sleepchat.core.settings import CoreSettings
from sleepchat.judge_bench import Scored, calibration_from, kind_levels, kind_of
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.recall_bench import Pair, PairsError, load_pairs
from sleepchat.store import Store
from tests.test_recall import prediction

EXCHANGE = (
    "I cleaned my bike chain with degreaser this morning.",
    "Good start. Once the degreaser is off, dry the chain well and apply a light chain lube to "
    "each link, then wipe off the excess so it does not collect grit.",
)
SPELT_OUT = "Should I lube the bike chain after degreasing it?"


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.default()


def said(verifier: Verifier) -> frozenset[str]:
    return context_words(verifier, EXCHANGE)


@pytest.mark.parametrize(
    "asked", ["should I lube it?", "Should I lube the chain?", "should i lube the bike chain?"]
)
def test_a_short_follow_up_leaves_out_only_what_the_exchange_said(
    verifier: Verifier, asked: str
) -> None:
    assert left_out(verifier, SPELT_OUT, asked, said(verifier))


@pytest.mark.parametrize(
    ("predicted", "asked"),
    [
        ("Should I lube the bike chain with a wax lube?", "should I lube it?"),  # wax: not said
        (SPELT_OUT, "should I not lube it?"),  # the other way
        (SPELT_OUT, "should I oil it?"),  # a word of its own
        ("How often should I lube the bike chain?", "should I lube it?"),  # another kind
        ("Could I lube the bike chain after degreasing it?", "should I lube it?"),  # modal
        ("Should I lube the chain 2 times?", "Should I lube the chain 3 times?"),
        (SPELT_OUT, SPELT_OUT),  # nothing left out: the rules' to decide
    ],
)
def test_anything_else_is_no_follow_up_for_the_exchange(
    verifier: Verifier, predicted: str, asked: str
) -> None:
    assert not left_out(verifier, predicted, asked, said(verifier))


def message(role: str, content: str, n: int) -> Message:
    return Message(id=f"m{n}", session_id="s", role=role, content=content, created=float(n))  # type: ignore[arg-type]


def test_the_last_exchange_is_the_last_reply_and_the_message_it_answered() -> None:
    history = [
        message("user", "first", 1),
        message("assistant", "one", 2),
        message("user", EXCHANGE[0], 3),
        message("assistant", EXCHANGE[1], 4),
    ]
    assert last_exchange(history) == EXCHANGE
    assert last_exchange(history[:3]) == ()  # no reply to it yet
    assert last_exchange([]) == ()


def test_the_judge_is_shown_the_exchange_before_the_two_messages() -> None:
    text = judge_messages(SPELT_OUT, "should I lube it?", EXCHANGE)[1]["content"]
    assert text.index("degreaser this morning") < text.index("wipe off the excess")
    assert text.index("wipe off the excess") < text.index("should I lube it?")
    assert "degreaser this morning" not in judge_messages(SPELT_OUT, "should I lube it?")[1][
        "content"
    ]


class Recording:
    """A judge that answers as told and records each pair with the exchange it was shown."""

    name = "recording judge"
    judges_exchanges = True

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str, tuple[str, ...]]] = []

    async def same(self, predicted, asked, answer, options=None, context=()):  # type: ignore[no-untyped-def]
        self.asked.append((predicted, asked, tuple(context)))
        return self.answer

    async def prepare(self, predicted, options=None, context=()):  # type: ignore[no-untyped-def]
        """Nothing to ready."""


async def test_a_short_follow_up_is_served_when_the_judge_says_so_in_the_exchange() -> None:
    judge = Recording(answer=True)
    recall = Recall(None, judge=judge)
    spelt = prediction(SPELT_OUT)
    other = prediction("What lube is best for a road bike in wet weather?", "p2")
    result = await recall.match("should I lube it?", [other, spelt], context=EXCHANGE)
    assert result.hit is spelt and result.judged
    assert judge.asked == [(SPELT_OUT, "should I lube it?", EXCHANGE)]  # once, in the exchange


async def test_the_judges_no_in_the_exchange_serves_nothing() -> None:
    refused = Recording(answer=False)
    spelt = prediction(SPELT_OUT)
    result = await Recall(None, judge=refused).match(
        "should I lube it?", [spelt], context=EXCHANGE
    )
    assert result.hit is None and refused.asked == [(SPELT_OUT, "should I lube it?", EXCHANGE)]
    assert result.reason == "judge: another question in the last exchange"


async def test_a_judge_not_calibrated_for_exchanges_weighs_the_pair_as_before() -> None:
    judge = Recording(answer=True)
    judge.judges_exchanges = False
    spelt = prediction(SPELT_OUT)
    result = await Recall(None, judge=judge).match("should I lube it?", [spelt], context=EXCHANGE)
    assert result.hit is spelt  # out of the exchange, at the level of its kind, as before
    assert judge.asked == [(SPELT_OUT, "should I lube it?", ())]


async def test_a_prediction_with_words_the_exchange_never_said_is_judged_without_it() -> None:
    judge = Recording(answer=False)
    waxed = prediction("Should I lube the bike chain with a wax lube?")
    await Recall(None, judge=judge).match("should I lube it?", [waxed], context=EXCHANGE)
    assert judge.asked == [(waxed.question, "should I lube it?", ())]


class Margins:
    """A model that says yes with a fixed margin and records what it was asked."""

    def __init__(self, margin: float) -> None:
        self.margin = margin
        self.questions: list[str] = []

    async def yes_margins(self, questions, *, options=None, stop_outside=None):  # type: ignore[no-untyped-def]
        self.questions += [q[1]["content"] for q in questions]
        return [self.margin for _ in questions]

    async def keep_judge_starts(self, groups, *, options=None, background=True):  # type: ignore[no-untyped-def]
        return None


def calibration(context_level: float | None) -> Calibration:
    kinds = {
        "added": KindLevel(1.0, 10, 40, 5, 0.9),
        "context": KindLevel(context_level, 10, 40, 5, 0.5),
    }
    return Calibration("local:test", LOG_ODDS, kinds)


async def test_the_exchange_is_judged_at_its_own_level_and_never_without_one() -> None:
    model = Margins(2.0)
    judge = ModelJudge(model, calibration(1.5))
    assert await judge.same(SPELT_OUT, "should I lube it?", "yes", context=EXCHANGE)
    assert all("degreaser this morning" in q for q in model.questions)
    assert not await ModelJudge(Margins(1.4), calibration(1.5)).same(
        SPELT_OUT, "should I lube it?", "yes", context=EXCHANGE
    )
    uncalibrated = Margins(3.0)
    assert not await ModelJudge(uncalibrated, calibration(None)).same(
        SPELT_OUT, "should I lube it?", "yes", context=EXCHANGE
    )
    assert uncalibrated.questions == []  # a kind without a level costs nothing


def test_labelled_pairs_carry_their_exchange_and_are_judged_as_a_session_would(
    tmp_path: Path, verifier: Verifier
) -> None:
    row = {"predicted": SPELT_OUT, "asked": "should I lube it?", "same": True}
    exchange = [
        {"role": "user", "content": EXCHANGE[0]},
        {"role": "assistant", "content": EXCHANGE[1]},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(row | {"context": exchange}) + "\n" + json.dumps(row) + "\n")
    with_it, without = load_pairs(path)
    assert with_it.context == EXCHANGE and without.context == ()
    assert kind_of(verifier, with_it) == "context"
    assert kind_of(verifier, without) == "added"
    waxed = dataclasses.replace(with_it, predicted="Should I lube the bike chain with wax?")
    assert kind_of(verifier, waxed) == BOUND  # judged in the exchange, to bound the level
    path.write_text(json.dumps(row | {"context": "not a list"}) + "\n")
    with pytest.raises(PairsError, match="'context' must be a list of messages"):
        load_pairs(path)


def test_the_exchange_kind_is_bounded_by_look_alikes_asked_in_an_exchange_only() -> None:
    own = [("context", 3.5, False), ("context", 4.5, True), ("context", 3.0, True)]
    # asked in an exchange, but not left out there: never served, their look-alikes bound it
    bound = [(BOUND, 3.6 + i / 100, False) for i in range(MIN_NEGATIVES)] + [(BOUND, 9.0, True)]
    others = [("words", 3.0, False)] * MIN_NEGATIVES + [("words", 3.2, True)]
    aligned = [("aligned", 0.2, False), ("aligned", 3.2, True)]  # too few look-alikes alone
    levels = kind_levels([*own, *bound, *others, *aligned])
    context = levels["context"]
    assert context.level == pytest.approx(3.6 + (MIN_NEGATIVES - 1) / 100 + 0.1)
    assert (context.hits, context.positives, context.negatives) == (1, 2, 1)
    # bounded by every other kind's look-alikes, none asked in an exchange
    assert levels["aligned"].level == pytest.approx(3.1)
    alone = kind_levels(own + bound[: MIN_NEGATIVES - 2] + others)
    assert alone["context"].level is None  # too few look-alikes in exchanges: never judged


async def test_a_session_serves_a_short_follow_up_judged_in_the_last_exchange(
    tmp_path: Path,
) -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        return EXCHANGE[1] if "degreaser" in messages[-1]["content"] else "Yes: a thin coat."

    def structured(messages: Sequence[ChatMessage], schema: type) -> str:
        docs = {"Facts": {"facts": []}, "QuestionList": {"questions": [SPELT_OUT]}}
        return json.dumps(docs.get(schema.__name__, {}))

    store = await Store.open(tmp_path / "data")
    judge = Recording(answer=True)
    settings = CoreSettings(idle_seconds=10, cooldown_seconds=0, max_predictions=3)
    backend = FakeBackend(reply, structured)
    a = Assistant(backend=backend, store=store, settings=settings, clock=FakeClock(), judge=judge)
    await a.start()
    try:
        _ = [e async for e in a.ask(EXCHANGE[0])]
        await a.reflect()
        assert [p.question for p in a.fresh_predictions] == [SPELT_OUT]
        done = [e async for e in a.ask("should I lube it?")][-1]
        assert isinstance(done, ReplyDone)
        assert done.message.source == "prediction" and done.prediction is not None
        assert judge.asked[-1] == (SPELT_OUT, "should I lube it?", EXCHANGE)
    finally:
        await a.close()
        await store.close()


def test_a_calibration_stores_the_exchange_kind_and_keeps_the_first_order_apart() -> None:
    def scored(kind: str, margin: float, same: bool) -> Scored:
        return Scored(Pair("p", "a", same, "c"), kind, margin, margin, 10.0, 10.0)

    pairs = [scored(BOUND, -1.0 + i / 100, False) for i in range(MIN_NEGATIVES)]
    pairs += [scored(BOUND, 3.0, True), scored("context", 2.0, True), scored("context", 0, True)]
    pairs += [scored("words", 3.5, False)] * MIN_NEGATIVES + [scored("words", 3.9, True)]
    cal = calibration_from("local:test", LOG_ODDS, pairs)
    assert cal.level("context") == pytest.approx(-1.0 + (MIN_NEGATIVES - 1) / 100 + 0.1)
    assert cal.kinds["context"].hits == 2 and BOUND not in cal.kinds
    # the first order is set on the words pairs alone: below every one served out of exchanges
    assert cal.first.reject == pytest.approx(3.9 - 0.1)

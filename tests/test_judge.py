"""Recall's judge: the chat model asked, both ways, whether a reworded question is the same one,
served only above the level calibrated for that model; no calibration, no judge (fail closed)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat import judge_bench
from sleepchat.config import load_config
from sleepchat.core.clock import FakeClock
from sleepchat.core.ports import ChatMessage, ModelOptions, settled
from sleepchat.core.recall import Recall
from sleepchat.core.recall.calibration import (
    LOG_ODDS,
    MIN_NEGATIVES,
    SAFETY,
    STORE_KEY,
    Calibration,
    FirstOrder,
    KindLevel,
    choose_first,
    choose_level,
    lookup,
    model_key,
)
from sleepchat.core.recall.judge import ModelJudge, judge_messages
from sleepchat.llm.fake import FakeBackend
from sleepchat.recall_bench import Pair, prediction
from sleepchat.runtime import build_judge, judge_key
from sleepchat.store import Store

PREDICTED = "How do I start a compost heap in a small garden?"
# The rules leave it to a judge, as a pair that differs in content words ("words").
REWORDED = "how do i set up a compost heap in a small garden"
LOOK_ALIKE = "How do I start 3 compost heaps in a small garden?"  # the rules veto it


def calibration(
    level: float | None = 0.5,
    model: str = "fake:fake-model",
    aligned: float | None = None,
    first: FirstOrder | None = None,
) -> Calibration:
    """Calibrated for pairs that differ in content words (``level``) and, when given, for
    those that line up after stems, typos and synonyms (``aligned``)."""
    words = KindLevel(level, 10, 10, 6 if level is not None else 0, 0.45)
    lined_up = KindLevel(aligned, 10, 10 if aligned is not None else 0, 5, 0.4)
    kinds = {"words": words, "aligned": lined_up}
    return Calibration(model, LOG_ODDS, kinds, 900.0, "2026-12-04", first=first or FirstOrder())


class Scripted:
    """A model whose margin for (A, B) is given per pair, in the order A then B."""

    def __init__(self, margins: dict[tuple[str, str], float], default: float = -5.0) -> None:
        self.margins = margins
        self.default = default
        self.asked: list[tuple[str, str]] = []
        self.options: list[ModelOptions | None] = []
        self.prepared: list[str] = []  # the message shown first in each start kept

    async def yes_margins(
        self,
        questions: Sequence[Sequence[ChatMessage]],
        *,
        options: ModelOptions | None = None,
        stop_outside: tuple[float, float] | None = None,
    ) -> list[float]:
        self.options.append(options)
        out: list[float] = []
        for messages in questions:
            a, b = _pair(messages[-1]["content"])
            self.asked.append((a, b))
            out.append(self.margins.get((a, b), self.default))
            if settled(out[-1], stop_outside):
                break
        return out

    async def keep_judge_starts(self, groups: Any, **_: Any) -> None:
        for group in groups:  # the message shown first in both orders
            text = group[0][-1]["content"]
            self.prepared.append(re.findall(r'Message [AB]: "(.*)"', text)[0])


def _pair(text: str) -> tuple[str, str]:
    """(the message whose best reply is asked about, the one it should answer): messages A and
    B, in whichever order they are shown."""
    found = dict(re.findall(r'Message ([AB]): "(.*)"', text))
    return found.get("A", ""), found.get("B", "")


# the judge ------------------------------------------------------------------------------------


async def test_the_mean_of_both_orders_decides_each_clamped() -> None:
    model = Scripted({(PREDICTED, REWORDED): 2.0, (REWORDED, PREDICTED): -1.2})
    judge = ModelJudge(model, calibration(0.5))
    # One order says yes firmly, the other no: small models say yes to one order of almost
    # any look-alike, so both are asked and a firm no pulls the mean under the level.
    assert not await judge.same(PREDICTED, REWORDED, "answer")
    assert model.asked == [(PREDICTED, REWORDED), (REWORDED, PREDICTED)]
    model.margins[(REWORDED, PREDICTED)] = 0.2  # mean 1.1
    assert await judge.same(PREDICTED, REWORDED, "answer")
    model.margins[(REWORDED, PREDICTED)] = -1.0  # mean 0.5: at the level is not above it
    assert not await judge.same(PREDICTED, REWORDED, "answer")
    # a certainty beyond the ceiling cannot carry a no
    model.margins[(PREDICTED, REWORDED)] = 40.0
    model.margins[(REWORDED, PREDICTED)] = -3.5
    assert not await judge.same(PREDICTED, REWORDED, "answer")
    assert judge.calls == 4 and judge.spent_ms >= 0


async def test_a_first_order_too_low_for_any_second_ends_the_judging() -> None:
    model = Scripted({(PREDICTED, REWORDED): -3.5, (REWORDED, PREDICTED): 9.0})
    assert not await ModelJudge(model, calibration(0.5)).same(PREDICTED, REWORDED, "answer")
    assert model.asked == [(PREDICTED, REWORDED)]  # a clear miss costs one question, not two
    model = Scripted({(PREDICTED, REWORDED): 0.2, (REWORDED, PREDICTED): 3.0})
    assert await ModelJudge(model, calibration(0.5)).same(PREDICTED, REWORDED, "answer")


async def test_a_first_order_past_where_it_was_calibrated_to_settle_a_pair_decides_alone() -> None:
    # The first order is readied while idle (it prefills only the asked question); where it
    # settles the pair on the labelled pairs, the second order's cost is spared.
    first = FirstOrder(accept=3.0, reject=0.0)
    model = Scripted({(PREDICTED, REWORDED): 3.2, (REWORDED, PREDICTED): -4.0})
    assert await ModelJudge(model, calibration(0.5, first=first)).same(PREDICTED, REWORDED, "a")
    assert model.asked == [(PREDICTED, REWORDED)]  # served on the first order alone
    # at or below where it rejects: not served, though a second order at 3.0 would lift the
    # mean (1.5) above the level
    model = Scripted({(PREDICTED, REWORDED): 0.0, (REWORDED, PREDICTED): 3.0})
    assert not await ModelJudge(model, calibration(0.5, first=first)).same(PREDICTED, REWORDED, "a")
    assert model.asked == [(PREDICTED, REWORDED)]
    assert await ModelJudge(model, calibration(0.5)).same(PREDICTED, REWORDED, "a")
    # between the two, both orders decide, as without a first-order calibration
    model = Scripted({(PREDICTED, REWORDED): 2.9, (REWORDED, PREDICTED): -2.0})
    assert not await ModelJudge(model, calibration(0.5, first=first)).same(PREDICTED, REWORDED, "a")
    assert model.asked == [(PREDICTED, REWORDED), (REWORDED, PREDICTED)]


def test_the_first_order_accepts_above_every_look_alike_and_rejects_below_every_hit() -> None:
    look_alikes = [(m / 10, False, False) for m in range(-20, 10)]  # first orders -2.0 .. 0.9
    hits = [(2.5, True, True), (1.2, True, True), (-0.4, True, True)]
    missed = (-3.0, True, False)  # a rewording the levels did not serve says nothing
    first = choose_first([*look_alikes, *hits, missed])
    assert first.accept == pytest.approx(0.9 + SAFETY)
    assert first.reject == pytest.approx(-0.4 - SAFETY)
    # too few look-alikes to bound their first orders: both orders are always asked
    assert choose_first([*look_alikes[: MIN_NEGATIVES - 1], *hits]) == FirstOrder()
    assert choose_first(look_alikes) == FirstOrder()  # no hit: nothing to keep above


def test_a_calibration_keeps_where_the_first_order_settles_and_reads_older_records() -> None:
    cal = calibration(0.5, first=FirstOrder(2.4, -0.3))
    assert Calibration.from_dict(cal.to_dict()) == cal
    older = cal.to_dict()
    del older["first"]
    read = Calibration.from_dict(older)
    assert read is not None and read.first == FirstOrder()  # both orders, as it was set
    broken = {**cal.to_dict(), "first": {"accept": "high", "reject": None}}
    assert Calibration.from_dict(broken) is None  # never trusted


async def test_a_model_that_answers_too_few_questions_serves_nothing() -> None:
    class Short(Scripted):
        async def yes_margins(self, questions: Any, **_: Any) -> list[float]:
            return [5.0]  # a yes to the first order, and no second answer

    recall = Recall(judge=ModelJudge(Short({}), calibration(0.5)))
    result = await recall.match(REWORDED, [prediction(PREDICTED)])
    assert result.hit is None and result.reason.startswith("judge")


async def test_the_judge_asks_with_the_chats_own_options() -> None:
    options = ModelOptions(num_ctx=8192)  # another num_ctx makes Ollama reload the model
    model = Scripted({})
    await ModelJudge(model, calibration(), options).same(PREDICTED, REWORDED, "answer")
    assert model.options == [options]


async def test_a_pasted_text_is_not_judged() -> None:
    model = Scripted({}, default=9.0)
    judge = ModelJudge(model, calibration())
    assert not await judge.same(PREDICTED, "why " + "x" * 500, "answer")
    assert model.asked == []


def test_the_question_names_both_messages_and_asks_for_yes_or_no() -> None:
    [system, user] = judge_messages(" A? ", "B")
    assert system["role"] == "system" and user["role"] == "user"
    assert user["content"].startswith("Would the best reply to message A also be a complete")
    assert user["content"].endswith('Message A: "A?"\nMessage B: "B"')
    assert "yes or no" in user["content"]


async def test_the_judge_readies_the_questions_predicted_and_judges_them_as_asked() -> None:
    model = Scripted({(PREDICTED, REWORDED): 2.0, (REWORDED, PREDICTED): 1.0})
    judge = ModelJudge(model, calibration(0.5))
    await judge.prepare([PREDICTED, "x" * 500])  # a pasted text is never judged: not readied
    # the instruction, then the first order's start for the prediction
    assert model.prepared == ["x", PREDICTED]
    assert await judge.same(PREDICTED, REWORDED, "answer")
    assert model.asked == [(PREDICTED, REWORDED), (REWORDED, PREDICTED)]


def test_an_uncalibrated_level_cannot_make_a_judge() -> None:
    with pytest.raises(ValueError):
        ModelJudge(Scripted({}), calibration(None))


# calibration ----------------------------------------------------------------------------------


def looks(*margins: float) -> list[tuple[float, bool]]:
    """Look-alikes at these margins, and enough more far below to place a level."""
    filler = [(-5.0, False)] * max(0, MIN_NEGATIVES - len(margins))
    return [(m, False) for m in margins] + filler


def test_the_level_sits_just_above_every_look_alike() -> None:
    found = choose_level([(3.0, True), (1.2, True), (0.9, True), *looks(1.0, -2.0)])
    assert found.max_false == 1.0 and found.level == pytest.approx(1.0 + SAFETY)
    assert found.hits == 2 and found.positives == 3 and found.negatives == MIN_NEGATIVES


def test_a_judge_that_serves_too_few_rewordings_above_the_look_alikes_stays_off() -> None:
    assert choose_level([(0.5, True), *looks(1.0)]).level is None
    # one rewording of twenty above the look-alikes: chance, and not worth a request per pair
    one = [(2.0, True)] + [(0.1, True)] * 19 + looks(1.0)
    assert choose_level(one).level is None and choose_level(one).hits == 1
    assert choose_level([(2.0, True)] * 2 + [(0.1, True)] * 18 + looks(1.0)).level is not None


def test_a_kind_with_few_look_alikes_stands_above_every_look_alike() -> None:
    # The rules veto most look-alikes that line up: those left are too few to place a level
    # alone, so it stands above the look-alikes of every kind (and above its own).
    aligned = [(3.0, True), (1.5, True), (1.0, False)]
    found = choose_level(aligned, others=[1.2, *([-2.0] * MIN_NEGATIVES)])
    assert found.level == pytest.approx(1.2 + SAFETY) and found.hits == 2
    assert found.max_false == 1.0 and found.negatives == 1
    found = choose_level([(3.0, True), (1.4, False)], others=[0.0] * MIN_NEGATIVES)
    assert found.level == pytest.approx(1.4 + SAFETY)


def test_a_kind_with_enough_look_alikes_of_its_own_stands_above_its_own() -> None:
    # Questions with words added ("a rusty pan") drew the model's highest margins of all
    # look-alikes: they must not hold up the level of a kind with look-alikes enough to bound.
    words = [(1.0, True), (0.5, True), *looks(0.3)]
    found = choose_level(words, others=[1.5, 0.9])
    assert found.level == pytest.approx(0.3 + SAFETY) and found.hits == 2


def test_too_few_look_alikes_of_a_kind_say_nothing_about_where_they_lie() -> None:
    # The first judge had one level for every kind; the kind without labelled look-alikes
    # (questions that line up after stems and typos) then served look-alikes of its own.
    assert choose_level([(0.5, True), (2.0, True)]).level is None
    few = [(3.0, True)] * 5 + [(-1.0, False)] * (MIN_NEGATIVES - 1)
    assert choose_level(few).level is None


async def test_each_kind_of_open_pair_is_judged_at_its_own_level() -> None:
    aligned = (PREDICTED, "how do i begin a compost heap in a small garden")  # a synonym
    model = Scripted({}, default=0.7)
    judge = ModelJudge(model, calibration(0.5, aligned=None))
    assert await judge.same(PREDICTED, REWORDED, "answer")  # content words: calibrated
    assert judge.level(*aligned) is None
    assert not await judge.same(*aligned, "answer")  # lined up after stems: never judged
    assert (aligned[0], aligned[1]) not in model.asked
    added = (PREDICTED, "how am i supposed to start a compost heap in a small garden")
    assert judge.level(*added) is None  # a record made before this kind: never judged
    assert not await judge.same(*added, "answer")
    narrower = (PREDICTED, "how do i start a compost heap in a small shady garden")
    assert judge.level(*narrower) is None  # the rules veto it: never judged, whatever the level
    assert not await judge.same(*narrower, "answer") and narrower not in model.asked
    judge = ModelJudge(model, calibration(0.5, aligned=0.9))
    assert judge.level(*aligned) == 0.9 and not await judge.same(*aligned, "answer")
    model.default = 1.0
    assert await judge.same(*aligned, "answer")


def test_a_model_is_known_by_its_file_name_whatever_the_path() -> None:
    assert model_key("local", "/models/Qwen2.5-1.5B-Q4_K_M.gguf") == "local:qwen2.5-1.5b-q4_k_m"
    assert model_key("local", "C:\\m\\x.GGUF") == "local:x"
    assert model_key("ollama", "llama3.2:3b") == "ollama:llama3.2:3b"


def test_an_embedded_model_is_known_by_its_file_by_whichever_name_it_is_set(
    tmp_path: Path,
) -> None:
    gguf = tmp_path / "Some-Model.Q4.gguf"
    gguf.write_bytes(b"GGUF")
    assert judge_key("local", str(gguf)) == "local:some-model.q4"
    assert judge_key("local", str(tmp_path / "gone.gguf")) == "local:gone"  # missing: its name


def test_the_users_own_calibration_wins_and_an_unreadable_one_is_never_trusted() -> None:
    shipped = next(iter(json.loads(_shipped_text()).items()), None)
    own = calibration(1.5, "local:mine").to_dict()
    assert lookup("local:mine", {"local:mine": own}) == Calibration.from_dict(own)
    assert lookup("local:mine", {"local:mine": {"model": "local:mine"}}) is None  # incomplete
    broken = {**own, "kinds": {"words": {**own["kinds"]["words"], "level": "high"}}}
    assert lookup("local:mine", {"local:mine": broken}) is None
    assert lookup("local:mine", "not a mapping") is None
    # a level measured as the lower of both orders (an older version) means nothing now
    older = {**own, "method": "yes/no log-odds"}
    assert lookup("local:mine", {"local:mine": older}) is None
    if shipped is not None:
        key, row = shipped
        found = lookup(key, {})
        assert found is not None and found.source == "shipped"
        assert found.level("words") == row["kinds"]["words"]["level"]


def _shipped_text() -> str:
    from importlib import resources

    return resources.files("sleepchat.data").joinpath("judge_calibrations.json").read_text()


# wiring ---------------------------------------------------------------------------------------


def _config(tmp_path: Path, judge: str = "auto") -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrecall:\n  judge: {judge}\n")
    return load_config({"config": str(path)}, {})


async def test_a_calibrated_model_gets_a_judge_and_others_none(store, tmp_path: Path) -> None:
    backend = FakeBackend(model="fake-model")
    config = _config(tmp_path)
    assert await build_judge(config, store, backend) is None  # never calibrated
    await store.set_meta(STORE_KEY, {"fake:fake-model": calibration(None).to_dict()})
    assert await build_judge(config, store, backend) is None  # calibrated, but off
    await store.set_meta(STORE_KEY, {"fake:fake-model": calibration(0.7).to_dict()})
    judge = await build_judge(config, store, backend)
    assert isinstance(judge, ModelJudge) and judge.calibration.level("words") == 0.7
    assert await build_judge(_config(tmp_path, judge="never"), store, backend) is None


async def test_a_server_answering_yes_or_no_is_read_from_its_first_word() -> None:
    said = iter(["**Yes.**", "No, they differ.", "Maybe"])
    backend = FakeBackend(lambda _m: next(said))
    margins = await backend.yes_margins([judge_messages("a", "b")] * 3)
    assert margins == [1.0, -1.0, -1.0]
    # a yes past where the pair is settled ends the asking
    said = iter(["yes", "yes"])
    backend = FakeBackend(lambda _m: next(said))
    asked = [judge_messages("a", "b")] * 2
    assert await backend.yes_margins(asked, stop_outside=(-2, 0.5)) == [1.0]
    assert all(c.options.get("temperature") == 0.0 for c in backend.calls)
    assert all(c.num_predict is not None and c.num_predict <= 3 for c in backend.calls)


async def test_a_rewording_is_served_from_the_cache_when_the_judge_says_yes(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, predict="off", budget_tokens=0)
    model = Scripted({}, default=2.0)
    a._recall.judge = ModelJudge(model, calibration(0.5))
    await ask(a, "I have a small garden and lots of kitchen scraps.")
    await a.later(PREDICTED)
    await a.reflect()
    [p] = [p for p in a.predictions if p.queued]
    assert model.prepared.count(PREDICTED) == 1  # readied while idle
    calls = len(backend.calls)
    done = await ask(a, REWORDED)
    assert done.prediction is not None and done.prediction.id == p.id
    assert done.message.source == "prediction" and done.message.content == p.answer
    assert len(backend.calls) == calls
    # A look-alike the rules veto (another number) never reaches the judge: the model answers.
    a._recall.judge = ModelJudge(Scripted({}, default=9.0), calibration(0.5))
    done = await ask(a, LOOK_ALIKE)
    assert done.message.source != "prediction"


async def test_a_rewording_is_a_miss_when_the_judge_says_no(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, predict="off", budget_tokens=0)
    a._recall.judge = ModelJudge(Scripted({}, default=-3.0), calibration(0.5))
    await ask(a, "I have a small garden and lots of kitchen scraps.")
    await a.later(PREDICTED)
    await a.reflect()
    done = await ask(a, REWORDED)
    assert done.prediction is None and done.message.source != "prediction"


class Slow(Scripted):
    """A judge whose turn takes 1.5 s of the assistant's clock."""

    def __init__(self, clock: FakeClock, default: float) -> None:
        super().__init__({}, default=default)
        self.clock = clock

    async def yes_margins(self, questions, *, options=None, stop_outside=None) -> list[float]:  # type: ignore[no-untyped-def]
        self.clock.advance(1.5)
        return await super().yes_margins(questions, options=options, stop_outside=stop_outside)


@pytest.mark.parametrize("margin", [2.0, -3.0])
async def test_the_judges_turn_counts_in_the_wait_the_reply_records(store, margin: float) -> None:
    """A reply's time to first token runs from the question's arrival: a judged hit is not
    "0 ms", and a judged miss shows what the judge added."""
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend, predict="off", budget_tokens=0)
    assert isinstance(a.clock, FakeClock)
    a._recall.judge = ModelJudge(Slow(a.clock, margin), calibration(0.5))
    await ask(a, "I have a small garden and lots of kitchen scraps.")
    await a.later(PREDICTED)
    await a.reflect()
    done = await ask(a, REWORDED)
    assert (done.message.source == "prediction") is (margin > 0)
    assert done.message.ttft_ms is not None and done.message.ttft_ms >= 1500
    assert done.message.total_ms is not None and done.message.total_ms >= done.message.ttft_ms


# the calibrate command ------------------------------------------------------------------------

COLOURS = ["red", "blue", "green", "white", "black", "grey", "pink", "brown", "orange", "yellow"]
# Look-alikes enough to place a level: another colour, otherwise the same words.
PAINT = [
    Pair(f"How do I paint a {c} {thing}?", f"how do i paint a {d} {thing}", False, "colour")
    for c, d in itertools.pairwise(COLOURS)
    for thing in ("fence", "door", "boat", "shed")
]
PAIRS = [
    Pair(PREDICTED, REWORDED, True, "synonym"),
    Pair("Give me a recipe for pancakes", "how do i make pancakes", True, "request"),
    Pair(PREDICTED, "how do i begin a compost heap on a balcony", False, "place"),
    *PAINT,
    Pair("How do I start a compost heap?", "How do I start a compost heap?", True, "same"),
]


def oracle(false_yes: bool) -> FakeBackend:
    """Says yes to the pairs labelled same (and to the look-alike when ``false_yes``)."""
    same = {(p.predicted, p.asked) for p in PAIRS if p.same or false_yes}
    same |= {(b, a) for a, b in same}

    def answer(messages: Sequence[ChatMessage]) -> str:
        return "yes" if _pair(messages[-1]["content"]) in same else "no"

    return FakeBackend(answer)


async def test_calibrating_asks_only_what_the_rules_leave_open_and_stores_the_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = oracle(false_yes=False)
    await _calibrate(tmp_path, monkeypatch, backend)
    out = capsys.readouterr().out
    asked = {_pair(c.messages[-1]["content"]) for c in backend.calls if c.num_predict == 3}
    identical = ("How do I start a compost heap?", "How do I start a compost heap?")
    assert identical not in asked  # the rules approve it alone
    assert (PREDICTED, "how do i begin a compost heap on a balcony") in asked
    assert "2 of 2 same served, 0 of 37 different" in out
    stored = await _stored(tmp_path)
    assert stored is not None and stored.level("words") == pytest.approx(-1.0 + SAFETY)
    assert stored.kinds["words"].hits == 2 and stored.kinds["words"].negatives == 37
    # a server says yes or no: every look-alike's first order said no, every hit's yes
    assert stored.first == FirstOrder(-1.0 + SAFETY, 1.0 - SAFETY)


async def test_a_model_that_serves_a_look_alike_is_stored_as_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _calibrate(tmp_path, monkeypatch, oracle(false_yes=True))
    assert "the judge stays off" in capsys.readouterr().out
    stored = await _stored(tmp_path)
    assert stored is not None and not stored.usable
    store = await Store.open(tmp_path / "data")
    try:
        assert await build_judge(_config(tmp_path), store, FakeBackend()) is None
    finally:
        await store.close()


async def _calibrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: FakeBackend) -> None:
    async def fake_open_backend(config: Any, **_: Any) -> FakeBackend:
        return backend

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"predicted": p.predicted, "asked": p.asked, "same": p.same, "class": p.cls})
            + "\n"
            for p in PAIRS
        )
    )
    monkeypatch.setattr("sleepchat.runtime.open_backend", fake_open_backend)
    code = await judge_bench.run_calibrate(_config(tmp_path), pairs=str(pairs), split=None)
    assert code == 0


async def _stored(tmp_path: Path) -> Calibration | None:
    store = await Store.open(tmp_path / "data")
    try:
        return lookup("fake:fake-model", await store.get_meta(STORE_KEY))
    finally:
        await store.close()


def test_doctor_says_whether_reworded_questions_have_a_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sleepchat.commands import _doctor_judge

    reported: list[tuple[bool, str]] = []
    config = _config(tmp_path)
    _doctor_judge(config, "ollama", None, lambda ok, what, fix="": reported.append((ok, what)))
    assert "is not calibrated" in capsys.readouterr().out and not reported
    key = model_key("ollama", config.model)
    own = {key: calibration(0.8, key).to_dict()}
    _doctor_judge(config, "ollama", own, lambda ok, what, fix="": reported.append((ok, what)))
    assert reported and reported[0][0] and "words 6/10 rewordings" in reported[0][1]
    _doctor_judge(_config(tmp_path, "never"), "ollama", own, lambda *a: reported.append(a))
    assert "recall.judge is never" in capsys.readouterr().out and len(reported) == 1

"""`sleepchat bench` quick run on a fake backend that models prefill/decode cost and a KV cache."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from sleepchat.bench import QUERY_WEIGHT, Conversation, bench, load_conversations
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend

CONV = Conversation(
    "tomatoes",
    ["I grow cherry tomatoes on a balcony. " * 20, "The lower leaves have brown spots. " * 20],
    ["Should I remove the yellow leaves?", "What fertiliser should I use?"],
)


def reply(messages: Sequence[ChatMessage]) -> str:
    return "A reasonably detailed answer about tomatoes, " * 6


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": ["Grows cherry tomatoes on a balcony"]})
    return json.dumps(
        {"questions": ["Should I remove the yellow leaves?", "How often should I water them?"]}
    )


async def test_quick_bench_reports_every_figure() -> None:
    backend = FakeBackend(reply, structured, prefill_s_per_token=0.0002, decode_s_per_token=0.004)
    summary, results = await bench(backend, CoreSettings(), [CONV])
    assert summary["queries"] == 2 and summary["hits"] == 1
    assert summary["hit_rate"] == 0.5
    # a hit skips the whole generation: far faster than asking the model
    assert summary["hit_speedup"] > 5
    # query-time tokens drop with a hit; sleep tokens are spent instead
    assert summary["query_tokens_ratio"] < 1 and summary["sleep_tokens"] > 0
    # the amortised cost is the one the report's own token counts give
    expected = (QUERY_WEIGHT * summary["sleep_query_tokens"] + summary["sleep_tokens"]) / 2
    assert summary["amortised_cost_sleep"] == round(expected, 1)
    # the warm-up leaves the chat prefix cached: reopening is faster than cold
    assert summary["resume_ttft_speedup"] > 1.5
    assert summary["resume_history_tokens"] > 200
    # a hit forced by asking a prediction verbatim beats the model answering it
    assert summary["forced_hit_speedup"] > 5
    # a miss starts no slower than asking without sleep would, give or take a busy machine
    # (the warm-up left the cache right; faster is fine: it had less to prefill)
    assert 0 < summary["miss_ttft_ratio"] < 2
    (res,) = results
    assert [t.source for t in res.sleep] == ["prediction", "model"]
    assert res.sleep[1].best_question is not None  # how close the best prediction came
    # What was predicted when each was asked, to read coverage from apart from recall.
    assert "Should I remove the yellow leaves? [answered]" in res.sleep[0].predicted
    assert res.sleep[0].served == "Should I remove the yellow leaves?"  # which one served
    assert res.sleep[1].served is None


class Yes:
    """A judge that takes any pair the rules leave open for the same question."""

    name = "yes"
    judges_exchanges = False

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def same(
        self, predicted: str, asked: str, answer: str, options: object = None, context: object = ()
    ) -> bool:
        self.asked.append((predicted, asked))
        return True

    async def prepare(
        self, predicted: object, options: object = None, context: object = ()
    ) -> None:
        """Nothing to ready."""


async def test_the_sleep_arm_matches_with_the_models_judge_as_a_session_does() -> None:
    reworded = Conversation("tomatoes", CONV.context, ["Do I take off the yellow leaves?"])
    backend = FakeBackend(reply, structured)
    summary, _ = await bench(backend, CoreSettings(), [reworded])
    assert summary["hits"] == 0  # the word rules alone: another verb is not theirs to serve
    judge = Yes()
    summary, (res,) = await bench(backend, CoreSettings(), [reworded], judge=judge)
    assert summary["hits"] == 1 and res.sleep[0].served == "Should I remove the yellow leaves?"
    assert judge.asked and judge.asked[0][1] == "Do I take off the yellow leaves?"


class NoCache(FakeBackend):
    """The same costs with no prompt cache: every request prefills its whole prompt."""

    def _prefill(self, tokens: list[str]) -> int:
        self._cached = []
        return len(tokens)


async def test_the_bench_measures_the_cache_and_the_hits_it_reports() -> None:
    """The speed-ups are measured, not implied by the fake's costs: with the same costs and no
    prompt cache, reopening a session gains nothing; with predictions that never match, no hit
    and no hit speed-up are reported."""
    costs = {"prefill_s_per_token": 0.0001, "decode_s_per_token": 0.001}
    cached, _ = await bench(FakeBackend(reply, structured, **costs), CoreSettings(), [CONV])
    uncached, _ = await bench(NoCache(reply, structured, **costs), CoreSettings(), [CONV])
    assert cached["resume_ttft_speedup"] > 1.5 and uncached["resume_ttft_speedup"] < 1.3

    def elsewhere(messages: Sequence[ChatMessage], schema: type) -> str:
        if schema.__name__ == "Facts":
            return json.dumps({"facts": []})
        return json.dumps({"questions": ["Which pot size suits basil?"]})

    missed, _ = await bench(FakeBackend(reply, elsewhere, **costs), CoreSettings(), [CONV])
    assert missed["hits"] == 0 and missed["hit_speedup"] is None
    assert missed["query_tokens_ratio"] == 1  # every answer generated, as without sleep


def test_bundled_conversations_load() -> None:
    convs = load_conversations(None, None)
    assert len(convs) >= 8 and all(c.context and c.queries for c in convs)
    assert len(load_conversations(None, 2)) == 2


def test_bench_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    with FakeOllama() as srv:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sleepchat",
                "bench",
                "--backend",
                "ollama",
                "--host",
                srv.url,
                "--model",
                "llama3.2",
                "--limit",
                "1",
                "--json",
                str(out),
            ],
            capture_output=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    table = proc.stdout.decode()
    for key in (
        "hit_rate",
        "hit_speedup",
        "miss_ttft_ratio",
        "resume_ttft_speedup",
        "query_tokens_ratio",
        "sleep_tokens",
        "amortised_cost_sleep",
    ):
        assert key in table
    doc = json.loads(out.read_text())
    assert doc["summary"]["queries"] == 3 and doc["summary"]["backend"] == "ollama"
    # piped: the progress is plain lines (no bar, no carriage returns), with the time left
    progress = proc.stderr.decode()
    assert "\r" not in progress and "\x1b" not in progress
    lines = [line for line in progress.splitlines() if line.startswith("bench ")]
    assert lines[0].startswith("bench 1/4: ") and lines[0].endswith("left")
    assert lines[-1].startswith("bench 4/4: resuming a long session")
    assert "bench: 1 conversations in " in progress


def test_bad_conversations_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"id": "x"}\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sleepchat",
            "bench",
            "--backend",
            "ollama",
            "--conversations",
            str(bad),
        ],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    err = proc.stderr.decode().strip()
    assert err.count("\n") == 0 and "line 1" in err and "Traceback" not in err

"""`sleepchat bench memory --locomo FILE`: scoring by the gold answer's key tokens and F1, the
last-turns baseline held to the context window, and the three arms on one model: only the
memory arm quotes a fact said long before the last turns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli

from sleepchat.config import Config
from sleepchat.core.clock import FakeClock
from sleepchat.core.context import estimate
from sleepchat.core.recall import Recall
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.memory_bench import contains, f1, last_turns, load_locomo, measure, report


def locomo(sessions: int = 30) -> dict[str, Any]:
    data: dict[str, Any] = {"speaker_a": "Sam", "speaker_b": "Kim"}
    for k in range(1, sessions + 1):
        data[f"session_{k}_date_time"] = f"1:56 pm on {k % 28 + 1} May, 2023"
        turns = []
        for t in range(10):
            text = f"Filler talk number {t} about the weather and the traffic in town. " * 3
            turns.append(
                {"speaker": "Sam" if t % 2 == 0 else "Kim", "dia_id": f"D{k}:{t}", "text": text}
            )
        data[f"session_{k}"] = turns
    data["session_1"][0]["text"] = "I adopted a greyhound called Pixel yesterday!"
    data["session_1_summary"] = "NOT FOR THE PRODUCT"
    data["qa"] = [
        {"question": "What pet did Sam adopt?", "answer": "A greyhound", "category": 1},
        {"question": "When did Sam adopt Pixel?", "answer": "1 May 2023", "category": 2},
        {"question": "What does Kim like?", "answer": "tea", "category": 1},  # not the user
        {"question": "What did Sam say about aliens?", "category": 5, "adversarial_answer": "x"},
    ]
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "conv-1.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("answer", "gold", "held"),
    [
        ("She went on May 7th, 2023.", "7 May 2023", True),
        ("On 7 May 2023", "7 May 2023", True),
        ("In May 2023", "7 May 2023", False),
        ("Adoption agencies, mostly.", "Adoption agencies", True),
        ("A dog", "A greyhound", False),
        ("The week before 9 June 2023", "The week before 9 June 2023", True),
        ("Jun 9 2023", "9 June 2023", True),
    ],
)
def test_an_answer_holds_the_gold_answers_key_tokens(answer: str, gold: str, held: bool) -> None:
    assert contains(answer, gold) is held


def test_token_f1() -> None:
    assert f1("adoption agencies", "Adoption agencies") == 1.0
    assert f1("she researched adoption", "adoption agencies") == pytest.approx(0.5)  # "she" aside
    assert f1("nothing alike", "adoption agencies") == 0.0


def test_the_conversation_the_user_and_the_questions_about_them(tmp_path: Path) -> None:
    loaded = load_locomo(write(tmp_path, locomo()))
    assert (loaded.user, loaded.other, len(loaded.sessions)) == ("Sam", "Kim", 30)
    assert [q.text for q in loaded.questions] == [
        "What pet did Sam adopt?",
        "When did Sam adopt Pixel?",
    ]
    first = loaded.sessions[0]
    assert first.messages[0][:2] == ("user", "I adopted a greyhound called Pixel yesterday!")
    assert first.messages[1][0] == "assistant"
    assert all(
        "NOT FOR THE PRODUCT" not in text for s in loaded.sessions for _, text, _ in s.messages
    )


def test_the_last_turns_fit_the_budget_and_start_with_the_user(tmp_path: Path) -> None:
    loaded = load_locomo(write(tmp_path, locomo()))
    kept = last_turns(loaded.sessions, 1000)
    assert sum(estimate(m["content"]) for m in kept) <= 1000
    assert kept[0]["role"] == "user" and len(kept) > 4
    assert kept[-1]["content"] == loaded.sessions[-1].messages[-1][1]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{", "is not a LoCoMo conversation"),
        ('{"speaker_a": "A"}', "is not a LoCoMo conversation"),
    ],
)
def test_a_file_that_is_not_locomo_gets_one_line(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    done = run_cli("--data-dir", str(tmp_path / "d"), "bench", "memory", "--locomo", str(path))
    err = done.stderr.decode()
    assert done.returncode == 2 and says in err and "Traceback" not in err


def knows(messages: Sequence[ChatMessage]) -> str:
    """A model that answers from what its prompt holds, and only that."""
    seen = " ".join(m["content"] for m in messages[:-1])
    if "greyhound called Pixel" in seen:
        if messages[-1]["content"].startswith("When"):
            return "On 1 May 2023." if "[1 May 2023]" in seen else "Yesterday."
        return "A greyhound."
    return "I don't know."


async def test_only_memory_recalls_a_fact_from_before_the_last_turns(tmp_path: Path) -> None:
    loaded = load_locomo(write(tmp_path, locomo()))
    backend = FakeBackend(knows)
    result = await measure(
        Config(), backend, Recall(), loaded, tmp_path / "conv-1.json", limit=None, clock=FakeClock()
    )
    held = {(a.arm, a.question.category): a.contains for a in result.answers}
    assert held == {
        ("none", 1): False,
        ("none", 2): False,
        ("last", 1): False,
        ("last", 2): False,
        ("memory", 1): True,
        ("memory", 2): True,  # its "yesterday" quoted as the day it meant
    }
    by_arm = {a.arm: a.prompt_tokens for a in result.answers}
    assert by_arm["memory"] < by_arm["last"] / 4
    assert result.items >= 1 and result.consolidation_s >= 0
    lines: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            lines.append(text)

    report(result, Out())
    text = "".join(lines)
    assert "single-hop" in text and "temporal" in text and "memory's prompt" in text

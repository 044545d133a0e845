"""Recall end to end through script mode (a real process, a fake model that predicts exactly P
while the user idles, then the user asks A): a look-alike of each class the word rules once
served is answered by the model, and the same question in another form gets the cached answer.
The pairs are this file's own; the frozen set is measured the same way by the README figures."""

from __future__ import annotations

from pathlib import Path

from support.recall_script import served_in_script_mode

LOOK_ALIKES = [
    ("Why does my rabbit hop so much?", "Why does my rabbit hope so much?"),  # stem merge
    ("What is my tax code?", "What is a tax code?"),  # "my X" / "a X"
    ("What can I say in an interview?", "What should I say in an interview?"),  # modal
    ("What changed when I moved?", "What changes when I move?"),  # -ed tense
    ("Can I return it if it is not opened?", "Can I not return it if it is opened?"),  # negation
    ("Are some of the roads closed?", "Are the roads closed?"),  # quantifier dropped
    ("Is Strapi free for commercial use?", "Is Strap free for commercial use?"),  # a name
    ("How do I resolve a DNS name?", "How do I fix a DNS name?"),  # synonym out of context
    ("How do I convert Kelvin to Celsius?", "How do I convert Celsius to Kelvin?"),  # direction
    ("Is 16GB of RAM enough?", "Is 32GB of RAM enough?"),  # number
]
SAME = [
    ("Why doesn't the fridge get cold?", "why does the fridge not get cold"),
    ("Should I learn Rust or Go?", "Should I learn Go or Rust?"),
    ("Is 5°C too cold for tomatoes?", "Is 5 degrees Celsius too cold for tomatoes?"),
]


def test_look_alikes_get_the_model_and_the_same_question_gets_the_cached_answer(
    tmp_path: Path,
) -> None:
    outcomes = served_in_script_mode(LOOK_ALIKES + SAME, tmp_path / "d")
    assert all(o.predicted_ok for o in outcomes), [o for o in outcomes if not o.predicted_ok]
    served = [o for o in outcomes[: len(LOOK_ALIKES)] if o.served]
    assert served == [], [f"served {o.predicted!r} to {o.asked!r}" for o in served]
    assert all(o.served for o in outcomes[len(LOOK_ALIKES) :]), outcomes[len(LOOK_ALIKES) :]

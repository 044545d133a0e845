"""The follow-up catalogue's matcher (examples of our own; the frozen set is measured in
test_followups_frozen.py)."""

from __future__ import annotations

import pytest

from sleepchat.core.recall import followups
from sleepchat.core.recall.followups import CATALOGUE, match, normalize


def name(text: str) -> str | None:
    found = match(text)
    return found.name if found is not None else None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("shorter", "shorter"),
        ("OK thanks, now make your last reply shorter please :)", "shorter"),
        ("MAKE IT SHORTER!!!", "shorter"),
        ("Great answer! Can you give me an example?", "example"),
        ("So... why?", "why"),
        ("Nice. Go on.", "continue"),
        ("please explain like I am 5", "eli5"),
        ("Now, explain them again like I'm five.", "eli5"),
        ("could u elaborate a bit more on that pls", "detail"),
        ("Is it correct?", "check"),
        ("Please evaluate and critique your own response.", "critique"),
        ("any corner cases?", "edge_cases"),
    ],
)
def test_an_intent_in_any_form_is_recognised(text: str, intent: str) -> None:
    assert name(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "make the function shorter and add types",  # another request beside it
        "shorter ways to cook rice?",  # the word about another subject
        "why is the sky blue?",
        "give me an example of a closure in Rust",
        "please do not shorten it",  # negation
        "make it shorter than 50 words",  # a constraint
        "That is right.",  # agreeing is not asking to check
        "more",  # detail or continue: in no intent
        "thanks",
        "what about edge cases in the parser?",
        "",
        "x" * 500,
    ],
)
def test_anything_beside_the_intent_is_no_match(text: str) -> None:
    assert name(text) is None


def test_each_request_is_its_own_intent_and_no_phrasing_is_two() -> None:
    # Building the table raises when a phrasing is all form or belongs to two intents.
    table = followups._table()
    assert all(table[normalize(i.request)] == i.name for i in CATALOGUE)
    assert len({i.name for i in CATALOGUE}) == len(CATALOGUE)


def test_a_reference_is_kept_apart_from_a_statement() -> None:
    assert normalize("Is your answer right?") == normalize("is that right")
    assert normalize("that is right") != normalize("is that right")

"""A code file that defines two forms of one thing ("encode" and "encodes", "mean" and
"fmean"): idle time precomputes how they differ, and a reader asking just that, in their own
words, is served it while reading the file; a question that says more, or names another pair,
goes to the model."""

from __future__ import annotations

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat.core.assistant import Assistant
from sleepchat.core.models import Prediction
from sleepchat.core.recall import doc_pairs
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

CODEC = '''"""Tiny codec for tally marks."""


class TallyError(ValueError):
    """A bad tally."""


class Tally:
    """A count kept as marks."""


class TallySheet:
    """Many tallies."""


def encode(n, out):
    """Write n as marks to the file out."""
    out.write("|" * n)


def encodes(n):
    """Return n as a string of marks."""
    return "|" * n


def decode(text):
    """The count the marks in text stand for."""
    return text.count("|")


def decode_lenient(text):
    """The count, skipping anything that is no mark."""
    return sum(1 for c in text if c == "|")


def render():
    """Draw the marks."""
'''


def test_two_forms_of_one_thing_are_the_pairs_nearest_first() -> None:
    assert doc_pairs.pairs(CODEC) == [
        ("encode", "encodes"),
        ("Tally", "TallySheet"),
        ("decode", "decode_lenient"),
    ]
    # an exception beside its class, a function beside a class, and unlike names are none
    text = "class Pipe:\n    pass\n\nclass PipeError(Exception):\n    pass\n\ndef pipes(): ...\n"
    assert doc_pairs.pairs(text) == []
    assert doc_pairs.pairs("def mean(xs): ...\ndef fmean(xs): ...\ndef mode(xs): ...\n") == [
        ("mean", "fmean")
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("What's the difference between encode and encodes?", True),
        ("so whats the diff between encodes() and encode() in this module", True),
        ("encode vs encodes?", True),
        ("`encodes` versus `encode`", True),
        ("how does encodes differ from encode?", True),
        ("How are the encode and encodes functions different?", True),
        ("what is the main difference between encode and encodes here?", True),
        ("What's the difference between encode and decode?", False),  # not a pair it offers
        ("What's the difference between encode and encodes on Windows?", False),
        ("when should I use encodes instead of encode for big files?", False),
        ("What does encodes return?", False),
    ],
)
def test_the_difference_is_known_in_the_readers_words_and_no_more(text: str, found: bool) -> None:
    asked = doc_pairs.asked(text, doc_pairs.pairs(CODEC))
    assert asked == (doc_pairs.intent("encode", "encodes") if found else None)


async def studied(
    store: Store, name: str = "tally.py"
) -> tuple[Assistant, FakeBackend, dict[str, Prediction]]:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach(name, CODEC)
    await a.reflect()
    return a, backend, {p.intent: p for p in a.predictions if p.intent}


async def test_how_two_forms_differ_is_precomputed_and_served(store) -> None:
    a, backend, made = await studied(store)
    pair = made[doc_pairs.intent("encode", "encodes")]
    assert pair.question == (
        "What is the difference between `encode` and `encodes` in tally? Say when to use each."
    )
    assert doc_pairs.intent("decode", "decode_lenient") in made
    calls = len(backend.calls)
    done = await ask(a, "hey, what's the difference between encodes() and encode() here?")
    assert done.message.source == "prediction" and done.message.content == pair.answer
    assert len(backend.calls) == calls  # served: no model request
    # after the model answered a question of the file, still while it is read
    assert (await ask(a, "What does encodes return?")).message.source == "model"
    await a.reflect()  # an idle period keeps the file's answers current
    lenient = made[doc_pairs.intent("decode", "decode_lenient")]
    done = await ask(a, "decode vs decode_lenient?")
    assert done.message.source == "prediction" and done.message.content == lenient.answer


async def test_a_difference_that_says_more_or_of_a_file_not_read_goes_to_the_model(store) -> None:
    a, _, _ = await studied(store)
    asked = "What's the difference between encode and encodes on Windows?"
    assert (await ask(a, asked)).message.source == "model"
    for other in ("What is a tally mark?", "Who invented tally marks?", "How old are they?"):
        await ask(a, other)  # the talk has moved on from the file
    await a.reflect()
    done = await ask(a, "What's the difference between encode and encodes?")
    assert done.message.source == "model"


async def test_prose_gets_no_difference_answer(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach("notes.md", "# Notes\n\nWe call encode and encodes from the codec.\n")
    await a.reflect()
    assert not any(doc_pairs.is_difference(p.intent) for p in a.predictions)

"""Why this project, where other tools exist: asked of a paper or README that compares itself
with others, precomputed while idle and served in the reader's words, naming the reader's
tools only when the answer does."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat.core.recall import doc_intents, doc_need
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

PAPER = """# marmotsim: burrow networks for field ecologists

## Summary

marmotsim simulates how alpine marmot colonies dig and share burrow networks.

## Statement of need

Existing packages such as TunnelKit and Digger model one burrow at a time; neither shares
tunnels between families, which field ecologists need to compare colonies.
"""
NAMES = ["marmotsim", "marmotsim-paper", "marmotsim-paper.md"]


def compares(messages: Sequence[ChatMessage]) -> str:
    """A model whose answer on why marmotsim names the tools the paper names."""
    asked = messages[-1]["content"]
    if asked.startswith("Why marmotsim, where other tools exist?"):
        return "TunnelKit and Digger model one burrow at a time; marmotsim shares tunnels."
    return reply(messages)


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        ("What need does this package fill?", []),
        ("how does marmotsim compare to existing tools?", []),
        ("why was this library written?", []),
        ("what's the statement of need", []),
        ("Which existing packages do the authors compare it to?", []),
        ("so what's the actual need it fills", []),
        ("why not just use Digger?", ["digger"]),
        ("why not just use TunnelKit or Digger? what's wrong with them, in the authors' view",
         ["tunnelkit", "digger"]),
        ("why not Digger - what do they lack according to the paper", ["digger"]),
        ("how is it different from scikit-learn", ["scikit learn"]),
        ("marmotsim vs TunnelKit", ["tunnelkit"]),
        ("why would I pick this over Digger?", ["digger"]),
        ("so why would I use marmotsim instead of just Digger?", ["digger"]),
        # a tool of Python's own, said so
        ("how does it differ from Python's builtin csv module?", ["csv"]),
        # asked the other way round, and a tool of Python's own by its owner's name
        ("why wouldn't I just use Digger?", ["digger"]),
        ("why shouldn't I simply use Python's json module?", ["json"]),
        ("how does it compare to the standard library's sqlite3", ["sqlite3"]),
        ("so why pick it over plain csv?", ["csv"]),
        # more than why it: a clause where a tool goes, or a question of its own
        ("why not just use a loop over the rows of my table to count burrows?", None),
        ("what's wrong with my code", None),
        ("what's wrong with it", None),  # of the file itself: a critique, not why it
        ("how does it compare to Digger on Windows?", None),
        ("how do I install it?", None),
    ],
)
def test_why_it_is_known_in_the_readers_words_and_no_more(
    text: str, tools: list[str] | None
) -> None:
    assert doc_need.asked(text, NAMES) == tools
    assert (doc_intents.match(text, NAMES) == "need") == (tools is not None)


def test_it_is_precomputed_only_for_prose_that_compares_itself_with_others() -> None:
    assert "need" in doc_intents.shown(PAPER)
    assert "need" in doc_intents.shown("Unlike existing libraries, ours streams.")
    # a design note asking why not the others, a heading of one against another, a replacement
    assert "need" in doc_intents.shown("# Why not…\n\n## … Digger?\n\nDigger digs less.\n")
    assert "need" in doc_intents.shown("## marmotsim vs Digger\n\nFaster.\n")
    # ... underlined as reStructuredText writes a heading
    assert "need" in doc_intents.shown("Why marmotsim?\n==\n\nWhy not Digger?\n---\n\nSlow.\n")
    assert "need" not in doc_intents.shown("Why not Digger? It is slow.\n")
    assert "need" in doc_intents.shown("A drop-in replacement for the csv module.\n")
    assert "need" not in doc_intents.shown("# burrow\n\nDigs burrows.\n")
    assert "need" not in doc_intents.shown("## Why\n\nBecause burrows matter.\n")
    assert "need" not in doc_intents.shown('"""Unlike other packages."""\n', code=True)


async def studied(store: Store, backend: FakeBackend):
    a = await assistant(store, backend)
    await a.attach("marmotsim-paper.md", PAPER)
    await a.reflect()
    return a, {p.intent: p for p in a.predictions if p.intent}


async def test_why_it_is_precomputed_and_served_with_the_readers_tools(store) -> None:
    backend = FakeBackend(compares, nothing_to_predict)
    a, made = await studied(store, backend)
    assert made["need"].question.startswith("Why marmotsim, where other tools exist?")
    calls = len(backend.calls)
    done = await ask(a, "why not just use TunnelKit or Digger?")
    assert done.message.source == "prediction" and done.message.content == made["need"].answer
    assert len(backend.calls) == calls  # served: no model request


async def test_a_tool_the_answer_does_not_name_goes_to_the_model(store) -> None:
    backend = FakeBackend(compares, nothing_to_predict)
    a, made = await studied(store, backend)
    assert "need" in made
    done = await ask(a, "why not just use GopherNet?")
    assert done.message.source == "model"
    assert done.message.content.startswith("Answer to «why not just use GopherNet?»")


def keeps_all(messages: Sequence[ChatMessage], schema: type) -> str:
    """A model that predicts nothing and, asked to re-validate, keeps every answer listed."""
    listed = re.findall(r"(?m)^(\S+): .*\n {3}prepared answer:", messages[-1]["content"])
    verdicts = [{"id": pid, "verdict": "keep"} for pid in listed]
    return json.dumps({"facts": [], "questions": [], "verdicts": verdicts})


async def test_named_later_it_is_served_only_with_the_readers_tools(store) -> None:
    backend = FakeBackend(compares, keeps_all)
    a, made = await studied(store, backend)
    await ask(a, "Which burrow depth suits marmots?")  # the talk moved on
    await a.reflect()  # re-validated
    done = await ask(a, "why would I use marmotsim over GopherNet?")
    assert done.message.source == "model"
    await a.reflect()
    done = await ask(a, "why would I use marmotsim over Digger?")
    assert done.message.source == "prediction" and done.message.content == made["need"].answer

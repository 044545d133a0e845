"""A long attached document (many times the context window): each question gets the sections
of it that it is about, after the conversation, within the room for documents; the answer can
hold a fact from deep inside the file, and the request stays within the context budget."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict

from sleepchat.core.context import estimate
from sleepchat.core.memory.doc_sections import AT_MOST, choose, sections_of, split
from sleepchat.core.memory.documents import subject_of
from sleepchat.core.models import Document
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

TOPICS = ["harbour", "orchard", "railway", "library", "foundry", "vineyard", "observatory"]


def chapter(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    return (
        f"## Chapter {n}\n\nThe town's {topic} was rebuilt in year {1800 + n}. Records of the "
        f"{topic} list its wardens, its ledgers and the disputes over its upkeep. "
        "Travellers wrote about the weather, the roads and the price of bread. " * 3
    )


FACT = (
    "The lighthouse keeper, Ines Duarte, kept a logbook bound in green leather and recorded "
    "exactly 4,211 ships passing the cape."
)


def long_document() -> str:
    """About 20,000 tokens (five times a 4,096-token window), the fact two thirds in."""
    parts = [chapter(n) for n in range(160)]
    parts.insert(110, f"## The cape\n\n{FACT}")
    return "\n\n".join(parts)


def answers_from_prompt(messages: Sequence[ChatMessage]) -> str:
    """A model that answers only from what its request holds."""
    seen = " ".join(m["content"] for m in messages[:-1])
    if "4,211 ships" in seen and "lighthouse" in messages[-1]["content"]:
        return "Ines Duarte's logbook recorded 4,211 ships."
    return "The document does not say."


def test_sections_hold_the_whole_text_cut_between_paragraphs() -> None:
    text = long_document()
    parts = split(text)
    assert len(parts) > 50
    assert all(estimate(p) <= 300 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert any(FACT in p for p in parts)  # a paragraph is never cut in two


async def test_a_question_about_a_long_document_gets_the_section_it_is_about(
    store: Store,
) -> None:
    backend = FakeBackend(answers_from_prompt, nothing_to_predict)
    a = await assistant(store, backend, documents_max_tokens=1600)
    await ask(a, "I am reading about the history of our town.")
    doc = await a.attach("town-history.md", long_document())
    assert doc.total_tokens >= 4 * 4096 and not doc.whole and doc.source
    done = await ask(a, "How many ships did the lighthouse keeper record in the logbook?")
    assert "4,211" in done.message.content  # answered from the right section
    request = backend.calls[-1].messages
    assert FACT not in request[0]["content"]  # not in the first part the system message holds
    tail = [m for m in request if m["role"] == "system"][1:]
    assert any(FACT in m["content"] for m in tail)
    # After the conversation, before the question: the cached prefix stays as it was.
    assert [m["content"] for m in request[1:3]] == [
        "I am reading about the history of our town.",
        request[2]["content"],
    ]
    assert request[-1] == {
        "role": "user",
        "content": "How many ships did the lighthouse keeper record in the logbook?",
    }
    # Within the room for documents, and the whole request within the context window.
    quoted = sum(estimate(m["content"]) for m in tail)
    assert doc.tokens + quoted <= 1600 + 50
    assert sum(estimate(m["content"]) for m in request) <= 4096
    # The stored question is the user's words only.
    session = a.session
    assert session is not None
    asked = [m.content for m in await store.messages(session.id) if m.role == "user"]
    assert asked[-1] == "How many ships did the lighthouse keeper record in the logbook?"


async def test_another_question_gets_other_sections(store: Store) -> None:
    backend = FakeBackend(answers_from_prompt, nothing_to_predict)
    a = await assistant(store, backend, documents_max_tokens=1600)
    await a.attach("town-history.md", long_document())
    await ask(a, "When was the observatory rebuilt?")
    tail = " ".join(m["content"] for m in backend.calls[-1].messages[1:-1])
    assert "observatory" in tail and FACT not in tail


def test_a_section_cannot_close_its_quote_early() -> None:
    doc = Document("d1", "s", "x.md", "head", 1, 9000, 0.0, source="a </section> b\n\nmore")
    [section] = sections_of([doc])
    chosen = choose([section], "a b", 500)
    from sleepchat.core.memory.doc_sections import block

    quoted = block(chosen)
    assert quoted.count("</section>") == 1 and "<\\/section> b" in quoted


def quoted_sections(messages: Sequence[ChatMessage]) -> list[str]:
    """The sections the request quotes after the conversation."""
    tail = " ".join(m["content"] for m in messages if m["role"] == "system")
    return [part.split("\n", 1)[1] for part in tail.split("<section ")[1:]]


async def test_a_question_gets_no_section_the_system_message_quotes_already(
    store: Store,
) -> None:
    backend = FakeBackend(answers_from_prompt, nothing_to_predict)
    a = await assistant(store, backend, documents_max_tokens=1600)
    doc = await a.attach("town-history.md", long_document())
    await ask(a, "When was the harbour rebuilt?")  # chapters 0 and 7 are in the first part
    quoted = quoted_sections(backend.calls[-1].messages)
    assert quoted and "harbour" in " ".join(quoted)
    assert not any(" ".join(s.split("</section>")[0].split()) in " ".join(doc.text.split())
                   for s in quoted)  # fmt: skip


async def test_a_question_gets_a_few_sections_however_large_the_room(store: Store) -> None:
    """Each section is prefilled before the reply's first word: the most related few."""
    backend = FakeBackend(answers_from_prompt, nothing_to_predict)
    a = await assistant(store, backend, documents_max_tokens=6000)
    await a.attach("town-history.md", long_document())
    done = await ask(a, "How many ships did the lighthouse keeper record in the logbook?")
    assert "4,211" in done.message.content
    assert len(quoted_sections(backend.calls[-1].messages)) == AT_MOST


HEADER = """---
title: 'Kite: a library for flying kites at dusk'
tags:
  - Python
authors:
  - name: A. Flyer
    affiliation: 1
date: 1 May 2024
bibliography: paper.bib
---

"""


@pytest.mark.parametrize(
    "name, text, subject",
    [
        ("skyline-README.md", "# skyline\n\nDraws skylines.", "skyline"),
        ("tern-README.md", "Description\n===========\n\n`tern` rounds dates.", "tern"),
        ("tern-README.md", "## Getting started\n\nRun tern.", "tern"),
        ("orbit-paper.md", "# Summary\n\nWe model orbits.", "orbit"),
        ("sorter.py (module)", '"""Sorts a graph of nodes.\n-----\n"""', "sorter"),
        ("kite-notes.md", "A tiny library that flies paper kites\n===\n", "kite"),
        # a name with its tagline is called by the name ("How do I install Kite?")
        ("kite-README.md", "# Kite: the kite library\n\nFlies kites.", "Kite"),
        ("kite-README.md", "Kite -- flies kites\n===\n", "Kite"),
        ("kite-README.md", "# Kite — the kite library\n", "Kite"),
        ("kite-README.md", "# Paper kites of Japan: a field guide\n", "kite"),  # a sentence
        ("x-README.md", "# git-kite\n\nFlies kites.", "git-kite"),  # a hyphen in a name
        ("kite-2.4.1-README.md", "Flies kites.\n", "kite"),  # a source archive's version
        ("kite-v3.0-paper.md", "## Summary\n\nFlies kites.\n", "kite"),
        # a title asked as a question, or opening like one, names nothing; a file named after
        # its release's folder is of that project
        ("kite-3.1.0-design.md", "# Why not…\n\nWhy kites?\n", "kite"),
        ("kite-notes.md", "# How it works\n\nThe string.\n", "kite"),
        # ... but one asked of the subject names it; a section opening with an article does not
        ("why.rst", "Why Kite?\n=========\n\nBecause.\n", "Kite"),
        ("changes.rst", "What's New in Kite 3.0.0\n========================\n", "Kite"),
        ("kite-README.rst", "The problem\n===========\n\nStrings tangle.\n", "kite"),
        # a README named for nothing is of the package it installs or imports
        ("README.rst", "The problem\n===\n\n    >>> from kitefly import fly\n", "kitefly"),
        ("README.md", "# The kite library\n\n```\npip install -U kitefly\n```\n", "kitefly"),
        ("kite.py", "import os\nimport os\n", "kite"),  # a module's imports are what it uses
        # a paper's YAML header: its title names it, the line above its closing "---" never
        ("paper.md", f"{HEADER}# Summary\n\nWe fly kites.", "Kite"),
        ("paper", HEADER.replace("title: 'Kite: a library for flying kites at dusk'\n", ""),
         "paper"),
        ("kite-paper.md", HEADER.replace("title: 'Kite: a", "title: 'A"), "kite"),
    ],
)
def test_a_file_opening_with_a_section_or_a_sentence_is_called_by_its_name(
    name: str, text: str, subject: str
) -> None:
    # A README opening with "Description" once had its project called "Description".
    assert subject_of(Document("d1", "s", name, text, 1, 10, 0.0)) == subject

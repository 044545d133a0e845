"""What a reader asks first of a file just attached, beside its summary: how to install and how
to use what it describes (precomputed while idle where the file shows how, served to those
questions in the reader's words), and several summary questions in one message."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from support.core_assistant import ask, assistant, nothing_to_predict, reply

from sleepchat.core.assistant import Assistant
from sleepchat.core.models import Prediction
from sleepchat.core.recall import doc_intents
from sleepchat.core.recall.followups import match
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

README = """# skyline

Skyline draws city skylines in the terminal.

## Installation

    pip install skyline

## Usage

```python
import skyline
skyline.draw("Lisbon")
```
"""
NAMES = ["skyline", "skyline-README", "skyline-README.md"]


async def studied(
    store: Store, name: str = "skyline-README.md", text: str = README
) -> tuple[Assistant, FakeBackend, dict[str, Prediction]]:
    """An assistant whose idle period studied the file ``name`` just attached, its backend, and
    what it precomputed, by intent."""
    backend = FakeBackend(reply, nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach(name, text)
    await a.reflect()
    return a, backend, {p.intent: p for p in a.predictions if p.intent}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("How would I install this package?", "install"),
        ("so how would I install this thing?", "install"),  # a casual name for the project
        ("How do I install skyline?", "install"),
        ("Installation?", "install"),
        ("could you tell me how to install the library, please", "install"),
        ("explain how I'd use it", "usage"),  # asked to be told how, in a clause
        ("and how I can install it?", "install"),
        ("tell me where I can get it", "install"),
        ("tell me how to install it on a Mac", None),
        ("explain how I would uninstall it", None),
        ("describe how it works", None),
        ("ok so how do I use it?", "usage"),
        ("show me how to use this library", "usage"),
        ("quick start?", "usage"),
        ("how can I get started with skyline?", "usage"),
        ("how do I begin using it?", "usage"),
        ("how do I install it on Windows?", None),  # more than the intent
        ("how do i install it with conda", None),
        ("how do I use it with asyncio?", None),
        ("how do I use the draw function?", None),
        ("how do I uninstall it?", None),
        ("why would I install it?", None),
    ],
)
def test_install_and_usage_are_known_in_the_readers_words_and_no_more(
    text: str, intent: str | None
) -> None:
    assert doc_intents.match(text, NAMES) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("which classes does this module define?", "api"),
        ("what functions does skyline export", "api"),
        ("List its public functions, please", "api"),
        ("what's in its API?", "api"),
        ("what can I import from skyline?", "api"),
        ("what classes are there", "api"),
        ("what classes does it have for drawing?", None),  # which of them: more
        ("what does the draw function return?", None),
        ("what functions does it call?", None),  # what it uses, not what it provides
        ("which classes should I subclass?", None),
        # its parts in its own domain's word
        ("what buffers are in this module?", "api"),
        ("which checks does skyline define", "api"),
        ("what buffers does it need?", None),
        ("what buffers are in numpy?", None),
    ],
)
def test_what_a_code_file_provides_is_known_in_the_readers_words_and_no_more(
    text: str, intent: str | None
) -> None:
    assert doc_intents.match(text, NAMES) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("which python versions does skyline support?", "requirements"),
        ("what Python version do I need to run it", "requirements"),
        ("does it bring in any dependencies?", "requirements"),
        ("what are its requirements", "requirements"),
        ("which python versions is skyline tested against?", "requirements"),
        ("any deps?", "requirements"),
        ("what does it depend on?", "requirements"),
        # the platforms its answer names beside the versions
        ("what OSes and python versions can I run skyline on?", "requirements"),
        ("what platforms does it support?", "requirements"),
        ("which OSes does it run on?", "requirements"),
        ("what Python versions and platforms is it supported on?", "requirements"),
        ("does it work on windows and linux?", None),  # named platforms: the answer may not say
        ("which operating systems can I deploy it to?", None),
        ("how do I get it?", "install"),
        ("how do i instal it", "install"),  # a typo of its words
        ("how do I uninstal it?", None),  # the typo of another word
        ("which pyhton versions does it support", "requirements"),
        ("does it run on python 2?", None),  # one version: the answer may not settle it
        ("does it have any dependencies on numpy?", None),
        ("which python version did you use?", None),
        ("does it work on windows?", None),
        ("what do the dependencies do?", None),
    ],
)
def test_what_a_project_needs_is_known_in_the_readers_words_and_no_more(
    text: str, intent: str | None
) -> None:
    assert doc_intents.match(text, NAMES) == intent


@pytest.mark.parametrize(
    ("text", "shows"),
    [
        ("## Requirements\n\n- a terminal\n", True),
        ("Requires Python 3.9+ and nothing else.", True),
        ("Skyline works on Python 3.10 or later.", True),
        ("python >= 3.9", True),
        ("skyline has no dependencies.", True),
        ("We need python to be fast, so the core is in C.", False),  # no version, no list
        ("This is a python 3 library.", False),
    ],
)
def test_what_a_project_needs_is_precomputed_only_where_its_text_says(
    text: str, shows: bool
) -> None:
    assert ("requirements" in doc_intents.shown(text)) is shows
    assert "requirements" not in doc_intents.shown(text, code=True)  # imports are not it


def test_what_a_file_contains_is_known_with_a_typo_of_its_words() -> None:
    assert doc_intents.contents("so what does this module contian?", NAMES)
    assert doc_intents.contents("what is in skyline?", NAMES)
    assert not doc_intents.contents("what does this module contian about cities?", NAMES)
    assert not doc_intents.contents("what does this module contian?", [])


def test_without_a_file_just_attached_they_are_nothing() -> None:
    assert doc_intents.match("how do I install it?", []) is None


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("So what is skyline, and who is it meant for?", True),
        ("short summary pls: what's this module for and who would use it?", True),
        ("what's this module for and what functions does it provide?", False),  # a list of names
        ("who is it for?", True),
        ("so what is this thing for", True),
        ("What are the main things skyline can do?", True),
        ("what is it and how do I install it?", False),  # the second is not in a summary
        ("what is it, and should I pick it over curses?", False),
        ("summarize it and translate it to French", False),
        ("what does it do and what does it not do", False),
        # run on with a filler "like", or with the length in the middle
        ("hm what does skyline do exactly, like who would use it", True),
        ("what problem is skyline solving?", True),
        ("pls sum up this readme in a couple of sentences - is skyline a library, and what "
         "problem is it solving", False),  # a yes/no the summary may not settle
        ("sum up this readme in a couple of sentences, what is skyline and what does it do", True),
    ],
)
def test_summary_questions_joined_are_the_summary_of_a_file_just_attached(
    text: str, summary: bool
) -> None:
    found = match(text, documents=NAMES, just_attached=True)
    assert (found is not None and found.name == "summary") is summary, found
    assert match(text) is None  # with no file just attached, "it" may be anything


async def test_how_to_install_and_use_it_are_precomputed_and_served(store) -> None:
    a, backend, made = await studied(store)
    assert set(made) == {"summary", "install", "usage"}
    assert made["install"].question == "How do I install skyline?"  # by its title
    # what the project is and does, not what kind of file this is ("a README for skyline")
    summary = made["summary"].question
    assert "first what skyline is and does, in one or two sentences" in summary
    assert "the document's own key terms" in summary  # what a reader's check looks for
    usage = "How do I use skyline? Show a short example."
    assert made["usage"].question == usage
    assert made["usage"].answer.startswith(f"Answer to «{usage}»")
    [idle] = [c for c in backend.calls if c.messages[-1]["content"] == made["install"].question]
    assert "pip install skyline" in idle.messages[0]["content"]  # asked as a chat turn would be
    calls = len(backend.calls)
    done = await ask(a, "how can I install this library?")
    assert done.message.source == "prediction" and done.message.content == made["install"].answer
    assert len(backend.calls) == calls  # served: no model request


async def test_a_question_saying_more_goes_to_the_model(store) -> None:
    a, _, _ = await studied(store)
    done = await ask(a, "how do I install it on Windows?")
    assert done.message.source == "model"
    assert done.message.content.startswith("Answer to «how do I install it on Windows?»")


async def test_after_an_answer_install_it_is_a_question_for_the_model(store) -> None:
    """Once the talk moved on, "it" may be the last answer's subject: the precomputed answer
    was for the file just attached, and is not served."""
    a, _, _ = await studied(store)
    await ask(a, "Which terminal fonts look best?")
    done = await ask(a, "how do I install it?")
    assert done.message.source == "model"


async def test_it_is_still_the_file_while_the_reader_kept_asking_of_it(store) -> None:
    """The model answered a question asked of the file by "it": the file's own answers are
    still served to "it" (not its summary, and not after a question that named another
    thing, whose answer "it" may be about)."""
    a, backend, made = await studied(store)
    assert (await ask(a, "where does it keep its cache?")).message.source == "model"
    await a.reflect()  # an idle period keeps the file's answers current
    calls = len(backend.calls)
    done = await ask(a, "how do I install it?")
    assert done.message.source == "prediction" and done.message.content == made["install"].answer
    assert len(backend.calls) == calls
    # a question asked of the file again, then one of its own
    assert (await ask(a, "can it draw at night?")).message.source == "model"
    await a.reflect()
    assert (await ask(a, "how do I use it?")).message.content == made["usage"].answer


async def test_summarize_it_after_the_models_answer_is_not_the_files_summary(store) -> None:
    a, _, made = await studied(store)
    assert (await ask(a, "where does it keep its cache?")).message.source == "model"
    await a.reflect()
    assert (await ask(a, "summarize it")).message.content != made["summary"].answer


async def test_it_is_the_newer_file_once_another_is_attached(store) -> None:
    """A file attached since is what "it" means: the earlier file's answers are not served."""
    a, _, made = await studied(store)
    assert (await ask(a, "where does it keep its cache?")).message.source == "model"
    await a.attach("minutes.txt", "Minutes of the garden club: we meet on Fridays at noon.\n")
    await a.reflect()
    done = await ask(a, "how do I install it?")
    assert done.message.content != made["install"].answer


async def test_it_is_not_the_file_after_a_question_that_named_another_thing(store) -> None:
    a, _, _ = await studied(store)
    assert (await ask(a, "does it work with Redis?")).message.source == "model"
    await a.reflect()
    assert (await ask(a, "how do I install it?")).message.source == "model"


async def test_after_the_files_own_summary_it_is_still_the_file(store) -> None:
    """The summary's subject is the file: "how do I install it?" right after it is served the
    answer precomputed with it (made on the same message, so it accounts for the talk)."""
    a, _, made = await studied(store)
    first = await ask(a, "a quick summary of what skyline does?")
    assert first.message.content == made["summary"].answer
    then = await ask(a, "ok, how do I install it?")
    assert then.message.source == "prediction" and then.message.content == made["install"].answer
    # once the model answered something else, "it" may be that answer's subject
    await ask(a, "Which terminal fonts look best?")
    assert (await ask(a, "how do I use it?")).message.source == "model"


async def test_what_it_does_and_how_to_get_started_are_served_together(store) -> None:
    a, backend, made = await studied(store)
    calls = len(backend.calls)
    done = await ask(a, "so what is skyline for, and how can I get started with it?")
    assert done.message.source == "prediction"
    assert done.message.content == f"{made['summary'].answer}\n\n{made['usage'].answer}"
    assert len(backend.calls) == calls


async def test_what_a_project_needs_is_precomputed_and_served_with_how_to_install_it(
    store,
) -> None:
    needs = README + "\n## Requirements\n\nPython 3.9 or later; no other dependencies.\n"
    a, backend, made = await studied(store, text=needs)
    assert set(made) == {"summary", "install", "usage", "requirements"}
    assert made["requirements"].question.startswith("What does skyline need: which versions")
    calls = len(backend.calls)
    done = await ask(a, "how do I install it, and which Python versions does it support?")
    assert done.message.source == "prediction"
    assert done.message.content == f"{made['install'].answer}\n\n{made['requirements'].answer}"
    assert len(backend.calls) == calls


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("license?", "license"),
        ("whats the licence on this", "license"),
        ("what license is skyline released under?", "license"),
        ("is it open source?", "license"),
        ("how should I cite it?", "citation"),
        ("if I use it in my thesis, how do I cite it?", "citation"),
        ("does it have a DOI?", "citation"),
        ("bibtex?", "citation"),
        ("can I use it commercially?", None),  # what the licence allows: the model's
        ("what license does numpy use?", None),  # another project
        ("is it open source and free to use at work?", None),
        ("how do I cite the paper it is based on?", None),
        ("who should I credit in my slides?", None),
    ],
)
def test_its_licence_and_how_to_cite_it_are_known_in_the_readers_words_and_no_more(
    text: str, intent: str | None
) -> None:
    assert doc_intents.match(text, NAMES) == intent


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("## License\n\nSee LICENSE.txt.\n", ["license"]),
        ("Skyline is released under the BSD 3-Clause License.", ["license"]),
        ("Licensed under the Apache License, Version 2.0.", ["license"]),
        # a licence named before "licensed"
        ("Skyline: a few hundred MIT-licensed helpers for drawing.", ["license"]),
        ("All of it is GPLv3 licensed.", ["license"]),
        ("Citation\n--------\n\nDOI: 10.5281/zenodo.1234\n", ["citation"]),
        ("Please cite doi.org/10.21105/joss.01234 if you use it.", ["citation"]),
        ("We compare licenses of many projects and how papers cite them.", []),
        # a markup's "Citations" feature is no way to cite the file; a reference under it is
        ("Citations\n---------\n\nCitations are like footnotes: [CIT2002]_ refers to one.\n", []),
        ("How to cite\n-----------\n\nLee, K. et al. (2021). Spline fits. Journal of Fits.\n",
         ["citation"]),
    ],
)
def test_a_licence_and_a_citation_are_precomputed_only_where_its_text_gives_them(
    text: str, shown: list[str]
) -> None:
    assert [i for i in doc_intents.shown(text) if i in ("license", "citation")] == shown


async def test_its_licence_and_citation_are_precomputed_and_served_once_asked_twice(
    store,
) -> None:
    given = README + "\n## Citing\n\nPlease cite doi:10.5281/zenodo.42.\n\n## License\n\nMIT\n"
    a, backend, made = await studied(store, text=given)
    assert {"license", "citation"} <= set(made)
    assert made["license"].question.startswith("What license is skyline released under?")
    calls = len(backend.calls)
    done = await ask(a, "If I use it in my thesis, how am I supposed to cite it? Is there a DOI?")
    assert done.message.source == "prediction"
    assert done.message.content == made["citation"].answer  # the one answer, not twice
    licence = await ask(a, "and what's the licence?")
    assert licence.message.source == "prediction"
    assert licence.message.content == made["license"].answer
    assert len(backend.calls) == calls


async def test_what_it_is_and_how_it_is_licensed_are_served_together(store) -> None:
    given = README + "\nSkyline is a set of MIT-licensed drawing helpers.\n"
    a, backend, made = await studied(store, text=given)
    calls = len(backend.calls)
    done = await ask(a, "What exactly is skyline, and how is it licensed?")
    assert done.message.source == "prediction"
    assert done.message.content == f"{made['summary'].answer}\n\n{made['license'].answer}"
    assert len(backend.calls) == calls


async def test_a_file_that_shows_no_install_gets_no_install_answer(store) -> None:
    tally = '"""Counting."""\n\ndef tally(xs):\n    return len(xs)\n'
    a, _, made_ = await studied(store, "tally.py", tally)
    made = {intent: p.question for intent, p in made_.items()}
    assert made == {
        "summary": made["summary"],
        "usage": "How do I use tally? Show a short example.",  # its name: code has no title
    }
    done = await ask(a, "how do i install it?")
    assert done.message.source == "model"


MODULE = '''"""Ring buffers."""


class Ring:
    """A fixed-size buffer."""

    def push(self, item):
        ...


def drain(ring):
    return list(ring)
'''


async def test_what_a_code_file_provides_is_precomputed_and_served(store) -> None:
    a, backend, made = await studied(store, "ring.py", MODULE)
    assert set(made) == {"summary", "usage", "api"}
    asked = made["api"].question
    assert asked.startswith("What does ring provide? List its public classes and functions")
    calls = len(backend.calls)
    done = await ask(a, "which classes and functions does this module give me?")
    assert done.message.source == "prediction" and done.message.content == made["api"].answer
    assert len(backend.calls) == calls


async def test_what_a_module_is_and_what_it_defines_are_served_together(store) -> None:
    """Two of its questions joined by a comma, the second hedged: both prepared answers."""
    a, backend, made = await studied(store, "ring.py", MODULE)
    calls = len(backend.calls)
    done = await ask(a, "what's this module, broadly what does it define?")
    assert done.message.source == "prediction"
    assert done.message.content == f"{made['summary'].answer}\n\n{made['api'].answer}"
    assert len(backend.calls) == calls
    # a clause before the comma that is none of its questions: the model's
    assert (await ask(a, "if I vendor ring.py, what does it define?")).message.source == "model"


async def test_its_parts_asked_in_their_domains_word_are_not_served_an_answer_without_it(
    store,
) -> None:
    a, backend, made = await studied(store, "ring.py", MODULE)
    calls = len(backend.calls)
    # the fake model's answer lists Ring and drain without calling them buffers
    answer = made["api"].answer
    assert "buffer" not in answer.lower()
    assert (await ask(a, "what buffers are in this module?")).message.source == "model"
    assert len(backend.calls) > calls
    assert doc_intents.answers("api", "what buffers are in it?", ["ring"], "Ring: a buffer.")
    assert not doc_intents.answers("api", "what buffers are in it?", ["ring"], answer)


async def test_its_parts_asked_in_their_domains_word_are_served_an_answer_using_it(
    store,
) -> None:
    # a module whose answer says the word (its own name here)
    a, backend, made = await studied(store, "buffer_kit.py", MODULE)
    calls = len(backend.calls)
    done = await ask(a, "which buffers does this module provide?")
    assert done.message.source == "prediction" and done.message.content == made["api"].answer
    assert len(backend.calls) == calls


async def test_a_readme_gets_no_answer_on_what_it_provides(store) -> None:
    """Its definitions are examples of use, not what the package provides."""
    examples = "\n```python\ndef a(): ...\ndef b(): ...\n```\n"
    _, _, made = await studied(store, "skyline-README.md", README + examples)
    assert "api" not in made


def keeps_all(messages: Sequence[ChatMessage], schema: type) -> str:
    """A model that predicts nothing and, asked to re-validate, keeps every answer listed."""
    listed = re.findall(r"(?m)^(\S+): .*\n {3}prepared answer:", messages[-1]["content"])
    verdicts = [{"id": pid, "verdict": "keep"} for pid in listed]
    return json.dumps({"facts": [], "questions": [], "verdicts": verdicts})


async def test_a_files_own_answers_outlive_the_talk_and_its_name_asks_for_them(store) -> None:
    """After the model answered something else, the file's answers are re-validated like any
    prediction; asked by the file's name they are served, by "it" not (it may be the last
    answer's subject), and the last answer's "summarize it" is never the file's summary."""
    backend = FakeBackend(reply, keeps_all)
    a = await assistant(store, backend)
    await a.attach("skyline-README.md", README)
    await a.reflect()
    made = {p.intent: p for p in a.predictions if p.intent}
    await ask(a, "Which terminal fonts look best?")
    # not yet re-validated: they never saw that exchange
    assert (await ask(a, "How do I install skyline?")).message.source == "model"
    await a.reflect()
    assert (await ask(a, "how do I install it?")).message.source == "model"
    await a.reflect()
    assert (await ask(a, "summarize it")).message.source == "model"
    assert (await ask(a, "what is a skyline?")).message.source == "model"  # the thing, not the file
    await a.reflect()
    done = await ask(a, "how do i install skyline")
    assert done.message.source == "prediction" and done.message.content == made["install"].answer
    # and then "it" is the file again: its own answer was the last one
    then = await ask(a, "how do I use it?")
    assert then.message.source == "prediction" and then.message.content == made["usage"].answer


async def test_a_file_named_is_served_only_its_own_answers(store) -> None:
    backend = FakeBackend(reply, keeps_all)
    a = await assistant(store, backend)
    await a.attach("skyline-README.md", README)
    await a.reflect()
    other = README.replace("skyline", "harbour").replace("Skyline", "Harbour")
    await a.attach("harbour-README.md", other)
    await a.reflect()
    await ask(a, "Which terminal fonts look best?")
    await a.reflect()
    done = await ask(a, "How do I install harbour?")
    assert done.message.source == "prediction" and "harbour" in done.message.content
    await a.reflect()
    done = await ask(a, "How do I install skyline?")
    assert done.message.source == "prediction" and "install skyline" in done.message.content
    await a.reflect()
    await a.attach("harbour-README.md", None)  # removed: its answers go with it
    assert not [p for p in a.fresh_predictions if p.document == "d2"]
    assert (await ask(a, "How do I install harbour?")).message.source == "model"


async def test_what_a_code_file_holds_is_what_it_provides_and_a_readmes_its_summary(
    store, tmp_path: Path
) -> None:
    a, _, made = await studied(store, "ring.py", MODULE)
    done = await ask(a, "so what does this module contain?")
    assert done.message.source == "prediction" and done.message.content == made["api"].answer
    # later, by its name, after another answer: the same (re-validated) answer
    later = await Store.open(tmp_path / "later")
    try:
        b = await assistant(later, FakeBackend(reply, keeps_all))
        await b.attach("ring.py", MODULE)
        await b.reflect()
        provides = next(p for p in b.predictions if p.intent == "api")
        await ask(b, "Which terminal fonts look best?")
        await b.reflect()
        named = await ask(b, "what is in ring?")
        assert named.message.source == "prediction" and named.message.content == provides.answer
    finally:
        await later.close()
    other = await Store.open(tmp_path / "readme")
    try:
        readme, _, facts = await studied(other, "skyline-README.md", README)
        done = await ask(readme, "what does this library contain?")
        assert done.message.content == facts["summary"].answer  # no list of parts: its summary
    finally:
        await other.close()

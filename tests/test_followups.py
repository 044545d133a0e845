"""The follow-up catalogue's matcher (examples of our own; the frozen set is measured in
test_followups_frozen.py)."""

from __future__ import annotations

import pytest

from sleepchat.core.recall import followups
from sleepchat.core.recall.followups import BY_NAME, CATALOGUE, match, normalize

NAMES = ["report.pdf", "report", "pendulum-README.md", "pendulum"]  # what documents are called


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
        ("can you make it even shorter", "shorter"),  # a hedge is form
        ("why exactly?", "why"),
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


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("give me an exmaple", "example"),
        ("explain it more simpyl", "simpler"),
        ("could you elaborte on that", "detail"),
        ("how do I sue it", None),  # a word, not a typo: never changed
        ("give me an ample", None),  # a real word too (and the first letter differs)
        ("give me an exampel of a closure", None),  # respelt, it still says more
    ],
)
def test_a_typo_of_the_catalogues_words_is_read_as_the_word(text: str, intent: str) -> None:
    assert name(text) == intent


def test_a_typo_of_a_files_reference_asks_for_its_summary() -> None:
    found = match("what is this libary about?", documents=NAMES, just_attached=True)
    assert found is not None and found.name == "summary"
    assert match("what is this libary about?") is None  # no file: the library may be anything


@pytest.mark.parametrize(
    ("asked", "summary"),
    [
        ("I attached the paper. Can you summarize it?", True),
        ("hey, I just uploaded the file - what is it about?", True),
        ("here is the report: tl;dr?", True),
        ("ok i just put this library in, what does it realy do?", True),  # and a typo
        ("I just attached the paper, what does table 2 show?", False),  # the question says more
        ("I attached the paper", False),  # no question
        ("I attached the paper, now write a poem", False),
    ],
)
def test_saying_the_file_came_before_asking_for_its_summary_asks_nothing_more(
    asked: str, summary: bool
) -> None:
    found = match(asked, documents=NAMES, just_attached=True)
    assert (found is not None and found.name == "summary") is summary
    assert match(asked, documents=NAMES) is None  # only right after a file came


def test_each_request_is_its_own_intent_and_no_phrasing_is_two() -> None:
    # Building the table raises when a phrasing is all form or belongs to two intents.
    table = followups._table()
    assert all(table[normalize(i.request)] == i.name for i in CATALOGUE)
    assert len({i.name for i in CATALOGUE}) == len(CATALOGUE)


def test_a_reference_is_kept_apart_from_a_statement() -> None:
    assert normalize("Is your answer right?") == normalize("is that right")
    assert normalize("that is right") != normalize("is that right")


@pytest.mark.parametrize(
    "asked",
    [
        "What are the main points of this paper?",
        "summarize the document",
        "can you sum up the attached file?",
        "what are the key points of the article",
        "give me the gist of it",
        "tl;dr of this readme please",
        # what the whole file is, asked of the file by name
        "What is this article about?",
        "what does the attached script do",
        "Could you give me an overview of the report?",
        "What does this module cover?",
        # with a length every summary meets
        "could you sum up the attached report in a couple of sentences",
        "Briefly, what is the article about?",
        "a quick summary of the readme please",
        "what does this script do, in a few words?",
        # what a README is of
        "what is this tool used for",
        "What can this package do?",
        "what is this framework, basically?",
        # documents of other kinds: a proposal, a guide, a specification
        "what does this RFC propose?",
        "give me the gist of this tutorial",
        "What is the spec about, in short?",
        # asked to be told what the file is
        "explain what this file does",
        "Please describe what the article covers.",
        # a summary of what it is, and lengths its opening meets
        "could I get a short overview of what the pendulum library offers?",
        "give me a rough idea of what this package is for",
        "Summarize what report.pdf covers, please",
        "what is this tool for, like in a sentence or two",
        "what does the attached script do, in a nutshell",
        "what is pendulum, at a glance?",
        # hedges that ask nothing more
        "so what does this library actually do?",
        "what exactly is the attached paper about",
        "what is this package even for",
        # a question on what it is, then a request for the summary, or the other way round
        "What does this library do? Sum it up briefly.",
        "Give me an overview. What is the paper about?",
    ],
)
def test_a_summary_of_the_attached_document_is_the_summary_intent(asked: str) -> None:
    assert match(asked, documents=NAMES) is not None
    assert match(asked, documents=NAMES).name == "summary"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "asked",
    [
        "make the document shorter",  # shorten the document, not the last answer
        "summarize the first chapter",  # one part of it
        "what are the main points of the argument",
        "summary of the code changes",
        "summarize this paper in Spanish",
        "what does it do?",  # not named: perhaps the last answer's subject
        "what does the report say about pricing?",  # one thing in it
        "Can you explain this code?",  # perhaps the last answer's code
        "What does this function do?",
        # a length or a form a summary may not meet, or a part of the file, briefly
        "summarize the paper in one sentence",
        "summary of the readme in 3 bullet points",
        "summarize the first chapter briefly",
        "what does the report say about pricing, briefly?",
        "in short?",
        "what does the library do with timezones?",
        "What is this?",  # nothing named
        "tell me what it does",
        "explain what this function does",  # one part of it
        "an overview of what the function returns",
        "a summary of what the report says about pricing",
        "what is this tool for, in one sentence",  # shorter than the summary opens with
        "summarize what you said about the paper",
        "what does the library actually do with timezones?",  # a hedge beside a part of it
        "what does this function really do?",
        # what it is, then another request: the other one is asked too
        "What does this library do? Show me an example.",
        "What is the paper about? Who wrote it?",
    ],
)
def test_a_document_named_with_more_or_another_operation_is_not(asked: str) -> None:
    assert match(asked, documents=NAMES) is None


def test_without_an_attached_document_this_paper_is_not_the_last_answer() -> None:
    assert match("What are the main points of this paper?") is None
    assert match("what is pendulum for?") is None


@pytest.mark.parametrize(
    "asked",
    [
        # by its name, with or without what it is
        "what is pendulum for?",
        "What problem does the pendulum library solve?",
        "whats the purpose of report.pdf",
        "When would I use pendulum?",
        # what it is for, in more of a reader's words
        "what is this package meant for",
        "What's the main idea of this paper?",
        "what exactly does this module do?",
        "what would i use this library for",
        # what a paper presents, proposes or introduces
        "Could you sum up what this paper is presenting?",
        "what does the paper propose?",
        "explain what this report introduces",
        # its name followed by the kind of thing it describes, or that kind alone
        "what does this pendulum plugin do?",
        "what is the pendulum extension for?",
        "what does this add-on do",
    ],
)
def test_what_a_named_document_is_for_is_its_summary(asked: str) -> None:
    assert match(asked, documents=NAMES) is BY_NAME["summary"]


@pytest.mark.parametrize(
    "asked",
    [
        "what does pendulums do",  # another word
        "what is pendulum.now() for?",  # one part of it
        "what does pendulum do with timezones?",
        "what is the purpose of this function",
        "is pendulum for python 2?",
        "what is the paper presenting at the meetup in May?",
        "what does the pendulum plugin do with timezones?",
    ],
)
def test_a_name_with_more_or_a_part_is_not(asked: str) -> None:
    assert match(asked, documents=NAMES, just_attached=True) is None


@pytest.mark.parametrize(
    "asked", ["what does it do?", "What is this?", "tell me what it does", "why use it?"]
)
def test_right_after_attaching_it_and_this_are_the_file(asked: str) -> None:
    # Asked before any other message since the file came, "it" is the file ...
    assert match(asked, documents=NAMES, just_attached=True) is BY_NAME["summary"]
    # ... and after one, it may be the last answer's subject (the test above this one).
    assert match(asked, documents=NAMES) is None

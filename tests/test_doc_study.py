"""A long attached document studied section by section across idle periods (issue 22, item 2):
a line per section kept with the document as each is read, a misread value never kept, a key
losing at most the section being read, and a summary made from the whole file's outline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from support.cli import events, run_cli, sleepchat
from support.core_assistant import ask, assistant

from sleepchat.core.memory.doc_sections import OUTLINE_HEADER, outline_block, split
from sleepchat.core.reflection.facts import Facts
from sleepchat.core.reflection.reflect_run import finished_strings
from sleepchat.core.speed import META_KEY as SPEEDS
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import ChatMessage, ChatRequest
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

TOPICS = ["harbour", "orchard", "railway", "library", "foundry", "vineyard", "observatory"]
CHAPTERS = 14


def chapter(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    return (
        f"The town's {topic} was rebuilt in {1800 + n}. Its wardens kept ledgers of the upkeep, "
        "the disputes over it and the people who came to see it, season after season, with "
        "notes on the weather, the roads and the price of bread in the market square nearby."
    )


TEXT = "\n\n".join(chapter(n) for n in range(CHAPTERS))


def section_of(tail: str) -> str:
    found = re.search(r"<section>\n(.*)\n</section>", tail, re.S)
    return found.group(1) if found else ""


def reader(misread: bool = False):  # type: ignore[no-untyped-def]
    """A model that says what a section says (one year too late when ``misread``)."""

    def structured(messages: Sequence[ChatMessage], schema: type) -> str:
        section = section_of(messages[-1]["content"])
        if schema.__name__ == "Facts" and section:
            m = re.search(r"The town's (\w+) was rebuilt in (\d+)", section)
            assert m is not None
            year = int(m.group(2)) + (1 if misread else 0)
            return json.dumps({"facts": [f"The {m.group(1)} was rebuilt in {year}."]})
        return json.dumps({"facts": [], "questions": [], "verdicts": []})

    return structured


def summarizer(messages: Sequence[ChatMessage]) -> str:
    """A summary from what the request holds: the years it was shown."""
    seen = " ".join(m["content"] for m in messages[:-1])
    return "Rebuilt in " + ", ".join(sorted(set(re.findall(r"rebuilt in (\d+)", seen))))


async def attached(store: Store, backend: FakeBackend):  # type: ignore[no-untyped-def]
    a = await assistant(store, backend, documents_max_tokens=600, predict="always")
    await ask(a, "I am reading about the history of our town.")
    doc = await a.attach("town.md", TEXT)
    assert doc.source and len(split(doc.source)) >= 10  # a long file: studied in parts
    return a


async def test_each_idle_period_studies_the_next_sections_until_the_whole_file(store) -> None:
    a = await attached(store, FakeBackend(summarizer, reader()))
    total = len(split(TEXT))
    first = await a.reflect()
    [doc] = a.documents
    assert "sections" in first.steps and first.more  # more left: the loop goes on
    assert 0 < len(doc.outline) < total
    assert doc.outline[0] == "The harbour was rebuilt in 1800."
    while (r := await a.reflect()).more:
        assert "sections" in r.steps
    [doc] = a.documents
    assert len(doc.outline) == total
    assert doc.outline[-1] == f"The {TOPICS[(CHAPTERS - 1) % 7]} was rebuilt in {1799 + CHAPTERS}."


async def test_a_line_with_a_value_its_section_does_not_hold_is_not_kept(store) -> None:
    a = await attached(store, FakeBackend(summarizer, reader(misread=True)))
    await a.reflect()
    [doc] = a.documents
    assert doc.outline and all(line == "" for line in doc.outline)
    assert outline_block([doc], 1000) == ""  # nothing to quote: questions get sections


async def test_a_summary_of_a_long_file_is_made_from_its_outline_and_precomputed(store) -> None:
    backend = FakeBackend(summarizer, reader())
    a = await attached(store, backend)
    first = await a.reflect()
    assert not any(p.intent == "summary" for p in a.predictions)  # not before the whole file
    while (await a.reflect()).more:
        pass
    [summary] = [p for p in a.predictions if p.intent == "summary"]
    years = ", ".join(str(1800 + n) for n in range(CHAPTERS))
    assert summary.answer == f"Rebuilt in {years}"  # the last chapters too, not the first part
    request = next(c for c in backend.calls if c.messages[-1]["content"] == summary.question)
    assert any(OUTLINE_HEADER in m["content"] for m in request.messages)
    served = [e async for e in a.ask("Can you sum it up?")][-1]
    assert served.message.source == "prediction"  # type: ignore[attr-defined]
    assert first.status == "done"


async def test_a_summary_longer_than_one_idle_period_is_finished_by_the_next_ones(
    store,
) -> None:
    """The study ends in an idle period with too little budget left for the summary: the
    sleep cycle goes on with it (as /idle does) rather than stop with it half made."""

    def long_summary(messages: Sequence[ChatMessage]) -> str:
        return summarizer(messages) + ". " + " ".join(f"Ledger {n} was kept." for n in range(60))

    backend = FakeBackend(long_summary, reader())
    a = await assistant(store, backend, documents_max_tokens=600, budget_tokens=120)
    await ask(a, "I am reading about the history of our town.")
    await a.attach("town.md", TEXT)
    for _ in range(200):  # as /idle: reflection after reflection while one says more is left
        if not (await a.reflect()).more:
            break
    [summary] = [p for p in a.predictions if p.intent == "summary"]
    assert summary.answer.startswith("Rebuilt in 1800")
    assert summary.answer.endswith("Ledger 59 was kept.")
    served = [e async for e in a.ask("What does this file cover?")][-1]
    assert served.message.source == "prediction"  # type: ignore[attr-defined]


async def test_a_summary_the_model_cannot_give_is_tried_twice_not_forever(store) -> None:
    def looping(messages: Sequence[ChatMessage]) -> str:  # never stored: not an answer
        return " ".join(["The wardens kept ledgers."] * 60)

    backend = FakeBackend(looping, reader())
    a = await assistant(store, backend, documents_max_tokens=600, budget_tokens=120)
    await ask(a, "I am reading about the history of our town.")
    await a.attach("town.md", TEXT)
    reflections = 0
    while reflections < 200 and (await a.reflect()).more:
        reflections += 1
    asked = [c for c in backend.calls if c.messages[-1]["content"].startswith("Summarize the")]
    assert reflections < 20 and len(asked) == 2
    assert not [p.answer for p in a.predictions if p.intent == "summary" and p.answer]


async def test_a_question_about_a_part_still_gets_that_part_not_the_outline(store) -> None:
    backend = FakeBackend(summarizer, reader())
    a = await attached(store, backend)
    while (await a.reflect()).more:
        pass
    await ask(a, "When was the observatory rebuilt?")
    tail = [m["content"] for m in backend.calls[-1].messages[:-1]]
    assert not any(OUTLINE_HEADER in t for t in tail)


class Stalling(FakeBackend):
    """Holds the third section's request until it is cancelled (a key)."""

    def __init__(self) -> None:
        super().__init__(summarizer, reader())
        self.reading = 0
        self.stalled = asyncio.Event()

    async def stream(self, request: ChatRequest):  # type: ignore[no-untyped-def]
        if "<section>" in request.messages[-1]["content"]:
            self.reading += 1
            if self.reading == 3:
                self.stalled.set()
                await asyncio.Event().wait()
        async for chunk in super().stream(request):
            yield chunk


async def test_a_key_loses_at_most_the_section_being_read(store) -> None:
    backend = Stalling()
    a = await attached(store, backend)
    task = a.reflect()
    await backend.stalled.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    [doc] = a.documents
    assert len(doc.outline) == 2  # the two read before the key, kept
    await a.reflect()  # the next idle period goes on from the third
    [doc] = a.documents
    assert doc.outline[2] == "The railway was rebuilt in 1802."


def test_a_script_shows_how_far_the_study_went_and_the_export_keeps_the_outline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "town.md"
    path.write_text(TEXT)
    config = tmp_path / "config.yaml"
    config.write_text("documents:\n  max_tokens: 600\n")

    def reply(request: dict) -> str:  # type: ignore[type-arg]
        if isinstance(request.get("format"), dict):
            return reader()(request["messages"], Facts)
        return "Noted."

    with FakeOllama() as srv:
        srv.configure(reply=reply)
        stdin = b"I am reading about the history of our town.\n/idle\n/docs\n"
        proc = sleepchat(
            "--json",
            "-f",
            str(path),
            "--config",
            str(config),
            data=tmp_path / "d",
            host=srv.url,
            stdin=stdin,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    evs = events(proc.stdout)
    [doc] = [e for e in evs if e["type"] == "document"]
    done, parts = doc["studied"]
    assert parts == len(split(TEXT)) and done == parts  # /idle: the whole cycle
    # Done over several reflections, each saying whether more was left for the next.
    more = [e["more"] for e in evs if e["type"] == "reflection"]
    assert len(more) >= 2 and more[-1] is False and all(more[:-1])
    exported = run_cli("export", "--format", "json", "--data-dir", str(tmp_path / "d"))
    [kept] = json.loads(exported.stdout)["documents"]
    assert kept["outline"][0] == "The harbour was rebuilt in 1800."


def test_a_cut_list_keeps_its_whole_items_and_nothing_after_it() -> None:
    assert finished_strings('{"facts": ["a b c", "d e', "facts") == ["a b c"]
    assert finished_strings('{"questions": [], "verdicts": ["x"]}', "questions") == []
    assert finished_strings('{"questions": ["Why?"], "facts": ["y"', "questions") == ["Why?"]


async def test_a_long_file_attached_to_a_new_session_is_studied_too(store) -> None:
    a = await assistant(store, FakeBackend(summarizer, reader()), documents_max_tokens=600)
    await a.attach("town.md", TEXT)  # nothing said yet
    first = await a.reflect()
    assert "sections" in first.steps
    [doc] = a.documents
    assert doc.outline[0] == "The harbour was rebuilt in 1800."


async def test_the_questions_a_reader_asks_of_a_long_file_follow_its_summary(store) -> None:
    """The idle period that reads a long file's last section goes on to its summary and the
    questions a reader asks of it, as for a file held whole: nothing else would, since the
    conversation does not change until the user asks."""
    invited = "When was the observatory rebuilt?"
    study = reader()

    def structured(messages: Sequence[ChatMessage], schema: type) -> str:
        if schema.__name__ == "QuestionList":
            about_it = 'I just attached the document "town.md"' in messages[-1]["content"]
            return json.dumps({"questions": [invited] if about_it else []})
        return study(messages, schema)

    # A model measured fast enough for a question or two per idle period: the study's plan
    # leaves none while sections are left, and must still ask the reader's after the last.
    await store.set_meta(SPEEDS, {"fake-model": {"decode": 50.0, "request_s": 0.5}})
    a = await attached(store, FakeBackend(summarizer, structured))
    while (r := await a.reflect()).more:
        assert r.plan is not None
    assert [p.intent for p in a.predictions if p.answer].count("summary") == 1
    [question] = [p for p in a.predictions if p.question == invited]
    assert question.answer  # answered while idle, as a chat turn would

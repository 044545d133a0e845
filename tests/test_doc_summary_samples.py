"""A file's summary says what it is in the file's own terms: while idle, a summary that
paraphrases them away is sampled again with the same request, and the one holding most of the
words the file describes itself with is the one served."""

from __future__ import annotations

from collections.abc import Sequence

from support.core_assistant import ask, assistant, nothing_to_predict

from sleepchat.core.reflection.document_step import SUMMARY_SAMPLES
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend

README = (
    "# tidewatch\n\n[![ci](https://ci.example/b.svg)](https://ci.example)\n\n"
    "tidewatch predicts harbour tide heights from harmonic constituents.\n\n"
    "## Notes\n\nIt was started on a rainy weekend.\n"
)
VAGUE = "It is a small tool for the sea, with a few options."
PARTLY = "tidewatch is a tool that predicts tides."
WHOLE = "tidewatch predicts harbour tide heights from harmonic constituents, for sailors."


def summaries(*said: str):  # type: ignore[no-untyped-def]
    """A model whose summaries of the file are ``said``, in turn (the last one again after)."""
    left = list(said)

    def reply(messages: Sequence[ChatMessage]) -> str:
        if messages[-1]["content"].startswith("Summarize the attached document"):
            return left.pop(0) if len(left) > 1 else left[0]
        return "Another answer."

    return reply


def summary_requests(backend: FakeBackend) -> int:
    return sum(
        1
        for c in backend.calls
        if c.kind == "stream" and c.messages[-1]["content"].startswith("Summarize the attached")
    )


async def test_a_summary_missing_the_files_own_terms_is_sampled_again(store) -> None:
    backend = FakeBackend(summaries(VAGUE, PARTLY, WHOLE), nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach("README.md", README)
    await a.reflect()
    assert summary_requests(backend) == SUMMARY_SAMPLES == 3
    [summary] = [p for p in a.predictions if p.intent == "summary"]
    assert summary.answer == WHOLE
    done = await ask(a, "what does it do?")
    assert done.message.source == "prediction" and done.message.content == WHOLE


async def test_a_later_sample_that_holds_fewer_terms_does_not_replace_a_better_one(
    store,
) -> None:
    backend = FakeBackend(summaries(PARTLY, VAGUE, VAGUE), nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach("README.md", README)
    await a.reflect()
    [summary] = [p for p in a.predictions if p.intent == "summary"]
    assert summary.answer == PARTLY and summary_requests(backend) == 3


async def test_a_summary_that_holds_them_all_is_asked_for_once(store) -> None:
    backend = FakeBackend(summaries(WHOLE, VAGUE), nothing_to_predict)
    a = await assistant(store, backend)
    await a.attach("README.md", README)
    await a.reflect()
    [summary] = [p for p in a.predictions if p.intent == "summary"]
    assert summary.answer == WHOLE and summary_requests(backend) == 1

"""Runaway replies: the loop detector, the stream it stops, the cap, and what the user is told."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator

import pytest

from sleepchat.core.assistant import Assistant, CoreError
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyChunk, ReplyDone, ReplyStarted
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import Capabilities
from sleepchat.llm.fake import FakeBackend
from sleepchat.llm.loops import MIN_SPAN, LoopGuard
from sleepchat.store import Store

STORY = (
    "Once upon a time a gardener planted tomatoes by the river. Every morning she watered "
    "them, pulled the weeds, and talked to the bees that came to visit the yellow flowers. "
    "By August the plants were taller than the fence, and the neighbours came to ask how. "
    "She told them about compost, patience, and the old song her grandmother used to sing."
)


def feed_words(guard: LoopGuard, text: str, piece: int = 3) -> int | None:
    """Stream ``text`` in pieces of ``piece`` characters; the word count at which it loops."""
    for i in range(0, len(text), piece):
        if guard.feed(text[i : i + piece]):
            return len(guard.words)
    return None


@pytest.mark.parametrize(
    "block",
    [
        "the",  # one word over and over
        "I am a helpful assistant.",  # a sentence
        STORY,  # a whole paragraph (~60 words)
    ],
)
def test_a_repeated_block_is_a_loop_soon_after_its_third_copy(block: str) -> None:
    words = len(block.split())
    at = feed_words(LoopGuard(), " ".join([block] * 100) + " ")
    assert at is not None
    assert at <= max(3 * words, MIN_SPAN) + words  # caught within one more copy


@pytest.mark.parametrize(
    "text",
    [
        STORY * 1,
        # A numbered list whose items share most words.
        " ".join(f"{i}. Water plant number {i} twice a week in the morning." for i in range(60)),
        # A Markdown table: the separator and cell pattern repeat, the contents do not.
        "| day | task |\n|---|---|\n"
        + "\n".join(f"| {d} | water the {d} bed |" for d in range(80)),
        # Code with a repeated statement shape.
        "\n".join(f"    total += values[{i}]  # add item {i}" for i in range(60)),
        # A refrain repeated twice is a poem, not a loop.
        ("Row, row, row your boat gently down the stream. " * 2) + STORY,
    ],
)
def test_ordinary_text_is_not_a_loop(text: str) -> None:
    assert feed_words(LoopGuard(), text + " ") is None


async def reply(a: Assistant, events: AsyncIterator[object]) -> tuple[str, ReplyDone]:
    text, done = "", None
    async with contextlib.aclosing(events) as stream:  # type: ignore[type-var]
        async for event in stream:
            if isinstance(event, ReplyChunk):
                text += event.text
            elif isinstance(event, ReplyDone):
                done = event
    assert done is not None
    return text, done


async def test_a_looping_reply_is_stopped_and_marked_cut(store: Store) -> None:
    looping = "Tomatoes like sun. " + "I love tomatoes so much. " * 2000
    backend = FakeBackend(lambda m: looping)
    a = Assistant(backend=backend, store=store, clock=FakeClock())
    await a.start()
    text, done = await reply(a, a.ask("Tell me about tomatoes"))
    assert done.message.cut == "repetition" and not done.message.interrupted
    assert len(text.split()) < 100  # stopped after a few copies, not 10,000 words
    assert backend.calls[-1].cancelled  # the stream was closed: the server stopped too
    stored = (await store.messages(a.session.id))[-1]  # type: ignore[union-attr]
    assert stored.cut == "repetition" and stored.content == text


async def test_a_reply_never_exceeds_the_cap_and_says_it_was_cut(store: Store) -> None:
    words = " ".join(f"w{i}" for i in range(3000))  # never loops
    capped = Capabilities("schema", prefix_cache=True, reply_tokens=200)
    for settings, cap in ((CoreSettings(), 200), (CoreSettings(max_reply_tokens=50), 50)):
        backend = FakeBackend(lambda m: words)
        backend.capabilities = capped
        a = Assistant(backend=backend, store=store, settings=settings, clock=FakeClock())
        await a.start()
        await a.new_session()
        text, done = await reply(a, a.ask("Count"))
        assert len(text.split()) == cap and done.message.completion_tokens == cap
        assert done.message.cut == "length"
    short = FakeBackend(lambda m: "Short answer.")
    a = Assistant(backend=short, store=store, clock=FakeClock())
    await a.start()
    _, done = await reply(a, a.ask("Hi"))
    assert done.message.cut is None


async def test_continue_adds_to_the_cut_reply(store: Store) -> None:
    parts = itertools.chain(["alpha beta gamma delta"], itertools.repeat("epsilon zeta."))
    backend = FakeBackend(lambda m: next(parts), model="m")
    a = Assistant(
        backend=backend, store=store, settings=CoreSettings(max_reply_tokens=3), clock=FakeClock()
    )
    await a.start()
    first, done = await reply(a, a.ask("Greek letters?"))
    assert first == "alpha beta gamma" and done.message.cut == "length"
    events = [e async for e in a.continue_reply()]
    started = events[0]
    assert isinstance(started, ReplyStarted) and started.continues == done.message
    more = "".join(e.text for e in events if isinstance(e, ReplyChunk))
    assert more == " epsilon zeta."  # a space where the two texts meet
    final = events[-1]
    assert isinstance(final, ReplyDone) and final.message.id == done.message.id
    assert final.message.content == "alpha beta gamma epsilon zeta."
    assert final.message.completion_tokens == 5 and final.message.cut is None
    # The model saw the cut reply and was asked to go on; the store holds one grown reply.
    sent = backend.calls[-1].messages
    assert sent[-2] == {"role": "assistant", "content": "alpha beta gamma"}
    assert sent[-1]["role"] == "user" and "Continue" in sent[-1]["content"]
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert [m.content for m in stored] == ["Greek letters?", "alpha beta gamma epsilon zeta."]


async def test_continue_needs_a_model_reply_last(store: Store) -> None:
    a = Assistant(backend=FakeBackend(), store=store, clock=FakeClock())
    await a.start()
    with pytest.raises(CoreError, match="nothing to continue"):
        [e async for e in a.continue_reply()]

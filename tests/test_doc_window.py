"""A file that needs more than half the context window grows the window (up to
``documents.max_window``) instead of being cut, on servers whose window a request sets; every
request of the session, the judge's too, then carries that window, so the model is loaded once
for it."""

from __future__ import annotations

from typing import Any

from support.core_assistant import ask, assistant, nothing_to_predict, reply
from test_judge import PREDICTED, REWORDED, Scripted, calibration

from sleepchat.core.ports import ModelOptions
from sleepchat.core.recall.judge import ModelJudge
from sleepchat.core.settings import CoreSettings, grown_window
from sleepchat.llm.fake import FakeBackend

LAST_WORDS = "The ferry's last crossing of the season leaves at dusk on the ninth of October."


def handbook(paragraphs: int) -> str:
    """A made-up harbour handbook of about 60 tokens a paragraph, ending in ``LAST_WORDS``."""
    body = [
        f"Section {i}: the harbour office keeps berth {i} for fishing boats between May and "
        f"August, charges a mooring fee by the metre, and asks skippers to radio channel {i % 16} "
        "an hour before they arrive, so the crane and the fuel barge are ready for them."
        for i in range(paragraphs)
    ]
    return "\n\n".join([*body, LAST_WORDS])


def windows(backend: FakeBackend) -> set[Any]:
    return {c.options.get("num_ctx") for c in backend.calls if c.kind != "embed"}


def test_the_window_grows_in_steps_to_hold_the_files_in_half_of_it() -> None:
    settings = CoreSettings(options=ModelOptions(num_ctx=4096))
    assert grown_window(settings, 1500) == 4096  # fits in half already
    assert grown_window(settings, 2100) == 5120
    assert grown_window(settings, 3000) == 6144
    assert grown_window(settings, 30_000) == 8192  # no more than documents_max_window
    assert grown_window(CoreSettings(options=ModelOptions(num_ctx=16384)), 3000) == 16384


def test_the_window_stays_when_the_user_set_the_room_or_turned_growing_off() -> None:
    options = ModelOptions(num_ctx=4096)
    assert grown_window(CoreSettings(options=options, documents_max_tokens=1000), 3000) == 4096
    assert grown_window(CoreSettings(options=options, documents_max_window=0), 3000) == 4096


async def test_a_file_over_half_the_window_is_quoted_whole_in_a_grown_window(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict, sets_window=True)
    a = await assistant(store, backend, options=ModelOptions(num_ctx=4096), predict="off")
    text = handbook(45)  # about 2,900 tokens: over the 2,048 of half the window
    doc = await a.attach("harbour.md", text)
    assert doc.source is None and doc.tokens == doc.total_tokens  # whole, not its first part
    await ask(a, "When does the last ferry leave?")
    chat = backend.calls[-1]
    assert LAST_WORDS in chat.messages[0]["content"]
    assert windows(backend) == {6144}  # every request the same window: loaded once
    await a.attach(doc.id, None)  # detached: the configured window again
    await ask(a, "And the mooring fee?")
    assert backend.calls[-1].options.get("num_ctx") == 4096


async def test_a_server_whose_window_is_its_own_gets_the_first_part_as_before(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict)  # an OpenAI-compatible server's way
    a = await assistant(store, backend, options=ModelOptions(num_ctx=4096), predict="off")
    doc = await a.attach("harbour.md", handbook(45))
    assert doc.source is not None and doc.tokens <= 1024
    await ask(a, "When does the last ferry leave?")
    assert LAST_WORDS not in backend.calls[-1].messages[0]["content"]
    assert windows(backend) == {4096}


async def test_a_file_longer_than_the_largest_window_keeps_its_first_part_there(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict, sets_window=True)
    a = await assistant(store, backend, options=ModelOptions(num_ctx=4096), predict="off")
    doc = await a.attach("harbour.md", handbook(300))  # about 19,000 tokens
    assert doc.source is not None and 1024 < doc.tokens <= 2048  # half of half of 8,192
    await ask(a, "When does the last ferry leave?")
    assert windows(backend) == {8192}


async def test_the_judge_asks_in_the_grown_window_too(store) -> None:
    backend = FakeBackend(reply, nothing_to_predict, sets_window=True)
    configured = ModelOptions(num_ctx=4096)
    a = await assistant(store, backend, options=configured, predict="off", budget_tokens=0)
    model = Scripted({(PREDICTED, REWORDED): 3.0, (REWORDED, PREDICTED): 3.0})
    a._recall.judge = ModelJudge(model, calibration(0.5), configured)
    await a.attach("harbour.md", handbook(45))
    await ask(a, "I keep a compost heap next to the harbour office.")
    await a.later(PREDICTED)
    await a.reflect()
    done = await ask(a, REWORDED)
    assert done.message.source == "prediction"  # the judge served it
    assert model.options and {o.num_ctx for o in model.options if o} == {6144}
    assert windows(backend) == {6144}

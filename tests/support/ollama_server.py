"""Fixtures for talking to the fake Ollama over loopback with the real ``ollama`` client.

Use in a test module: ``from support.ollama_server import fake_ollama, ollama_backend``.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.llm.ollama import OllamaBackend

MODEL = "llama3.2"  # installed on the fake as "llama3.2:latest"


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture
async def ollama_backend(fake_ollama: FakeOllama) -> AsyncIterator[OllamaBackend]:
    backend = OllamaBackend(fake_ollama.url, MODEL, connect_timeout=2.0, read_timeout=10.0)
    yield backend
    await backend.aclose()


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

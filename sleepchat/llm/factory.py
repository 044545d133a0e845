"""Backend selection: ``backend: auto | ollama | local``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sleepchat.llm.base import Backend, BackendError, BackendUnreachable, ModelNotFound

if TYPE_CHECKING:
    from sleepchat.config import Config


class NoBackendError(BackendError):
    """Neither Ollama nor the embedded model can be used."""


def ollama_backend(config: Config) -> Backend:
    from sleepchat.llm.ollama import OllamaBackend

    return OllamaBackend(
        config.host,
        config.model,
        connect_timeout=config.timeouts.connect,
        read_timeout=config.timeouts.read,
    )


async def local_backend(config: Config) -> Backend:
    """The embedded llama.cpp model, loaded (raises BackendError with the fix)."""
    from sleepchat.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(
        config.local_model, n_ctx=config.options.num_ctx, seed=config.options.seed
    )
    await backend.ensure_model()
    return backend


async def make_backend(
    config: Config, *, notice: Callable[[str], None], check: bool = True
) -> Backend:
    if config.backend == "ollama":
        return ollama_backend(config)
    if config.backend == "local":
        return await local_backend(config)
    # auto: Ollama when it is there with the model, else the embedded model, else one error.
    ollama = ollama_backend(config)
    if not check:
        return ollama
    try:
        await ollama.health()
        await ollama.ensure_model()
        return ollama
    except (BackendUnreachable, ModelNotFound) as exc:
        why = exc.message
    except BackendError as exc:
        why = exc.message
    await ollama.aclose()
    try:
        local = await local_backend(config)
    except BackendError as exc:
        raise NoBackendError(
            f"{why}; the embedded model is not usable either ({exc.message}) — "
            "start Ollama, or install the embedded model (see README: `make run`)"
        ) from None
    notice(f"{why.split(' — ')[0]}; using the embedded model ({local.model}) instead")
    return local

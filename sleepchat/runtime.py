"""Wiring shared by every mode: open the store, pick the backend, build the assistant."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.assistant import Assistant
    from sleepchat.llm.base import Backend
    from sleepchat.store import Store

log = logging.getLogger("sleepchat")


def warn(message: str) -> None:
    print(f"sleepchat: {message}", file=sys.stderr, flush=True)


@dataclass
class Runtime:
    config: Config
    store: Store
    backend: Backend
    assistant: Assistant

    async def close(self) -> None:
        try:
            await self.assistant.close()
            await self.backend.aclose()
        finally:
            await self.store.close()


async def open_store(config: Config, on_warning: Callable[[str], None] = warn) -> Store:
    from sleepchat.store import Store

    return await Store.open(config.resolved_data_dir(), on_warning=on_warning)


async def open_runtime(
    config: Config,
    *,
    on_warning: Callable[[str], None] = warn,
    check_backend: bool = True,
) -> Runtime:
    """Everything a chat needs. With ``check_backend`` a down server is reported up front only
    when no fallback exists; requests still fail cleanly (and retry) if it dies later."""
    from sleepchat.core.assistant import Assistant
    from sleepchat.llm.factory import make_backend

    store = await open_store(config, on_warning)
    try:
        backend = await make_backend(config, notice=on_warning, check=check_backend)
    except BaseException:
        await store.close()
        raise
    assistant = Assistant(backend=backend, store=store, settings=config.core_settings(), log=log)
    return Runtime(config, store, backend, assistant)

"""An Assistant on the embedded model (SLEEPCHAT_LOCAL_MODEL picks it) in a throwaway data
folder, with the built-in embedding model and the sleep cycle off, for the benchmarks that drive
one turn by turn."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sleepchat.config import load_config
from sleepchat.core.assistant import Assistant
from sleepchat.core.settings import CoreSettings
from sleepchat.runtime import build_assistant, build_backend, build_embedder, open_store


@contextlib.asynccontextmanager
async def embedded(max_reply_tokens: int) -> AsyncIterator[tuple[Assistant, CoreSettings]]:
    """The assistant and its settings; replies capped at ``max_reply_tokens``."""
    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-") as tmp:
        config = load_config({"backend": "local", "data_dir": tmp}, dict(os.environ))
        backend = await build_backend("local", config)
        store = await open_store(Path(tmp))
        settings = dataclasses.replace(
            config.core_settings(), max_reply_tokens=max_reply_tokens, sleep_enabled=False
        )
        embedder = await build_embedder(config, None)
        a = build_assistant(backend, store, settings, embedder=embedder)
        try:
            yield a, settings
        finally:
            await a.close()
            if embedder is not None:
                await embedder.aclose()
            await backend.aclose()
            await store.close()

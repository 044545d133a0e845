"""A question about a file a little over half the context window: its first token after the
idle warm-up and asked at once, with the window grown to hold the file whole
(``documents.max_window``, the default) and with it fixed (``max_window: 0``: the file's first
part quoted, the sections of the rest each question is about read with it), side by side in one
run on one embedded model (SLEEPCHAT_LOCAL_MODEL picks it), the arms taking turns.

The files are three standard-library modules of 2,100-3,400 tokens (over the 2,048 of half the
default 4,096 window); the questions were written for this bench from the files, before any run.
Asked at once, a grown window also pays for loading the model again with it (timed: a user who
attaches a file and asks at once waits for it too).

Usage: python bench/doc_window_ttft.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import graphlib
import inspect
import os
import shelve
import shlex
import statistics
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

from doc_section_ttft import first_token

from sleepchat.config import load_config
from sleepchat.core.assistant import Assistant
from sleepchat.runtime import build_assistant, build_backend, build_embedder, open_store

FILES: list[tuple[ModuleType, list[str]]] = [
    (shlex, ["What does the punctuation_chars option change?",
             "What happens at end of file when a quotation is still open?"]),
    (graphlib, ["What exception is raised when the graph has a cycle?",
                "How do I get the nodes that are ready to be processed in parallel?"]),
    (shelve, ["What does the writeback option do?",
              "Which dbm module does shelve.open use?"]),
]  # fmt: skip
ARMS = {"grown": None, "fixed": 0}  # documents.max_window: the default, or never grown


@contextlib.asynccontextmanager
async def assistants() -> AsyncIterator[dict[str, Assistant]]:
    """One embedded model and embedding model; an assistant per arm, each on its own store."""
    with tempfile.TemporaryDirectory(prefix="sleepchat-bench-") as tmp:
        config = load_config({"backend": "local", "data_dir": tmp}, dict(os.environ))
        backend = await build_backend("local", config)
        embedder = await build_embedder(config, None)
        base = dataclasses.replace(
            config.core_settings(), max_reply_tokens=8, sleep_enabled=False
        )
        made: dict[str, Assistant] = {}
        stores = []
        try:
            for arm, window in ARMS.items():
                store = await open_store(Path(tmp) / arm)
                stores.append(store)
                settings = base
                if window is not None:
                    settings = dataclasses.replace(base, documents_max_window=window)
                made[arm] = build_assistant(backend, store, settings, embedder=embedder)
            yield made
        finally:
            for a in made.values():
                await a.close()
            if embedder is not None:
                await embedder.aclose()
            await backend.aclose()
            for store in stores:
                await store.close()


async def main(rounds: int) -> None:
    times: dict[tuple[str, str], list[float]] = {}
    async with assistants() as made:
        for _ in range(rounds):
            for module, questions in FILES:
                path = Path(inspect.getsourcefile(module) or "")
                text = path.read_text("utf-8")
                for question in questions:
                    for state in ("after warm-up", "at once"):
                        for arm, a in made.items():
                            if state == "at once":  # the cache holds another conversation
                                await a.new_session()
                                await first_token(a, "Hello")
                            await a.new_session()
                            doc = await a.attach(path.name, text)
                            if state == "after warm-up":
                                await a.warm_up()  # what an idle period leaves cached
                            took, prompt = await first_token(a, question)
                            times.setdefault((arm, state), []).append(took)
                            whole = "whole" if doc.whole else f"first {doc.tokens} tokens"
                            print(f"{arm:>5} {state:>13} {took:6.2f} s ({prompt} prompt tokens,"
                                  f" {path.name} {whole}): {question}", flush=True)  # fmt: skip
    med = {k: statistics.median(v) for k, v in times.items()}
    for arm in ARMS:
        warm, cold = med[(arm, "after warm-up")], med[(arm, "at once")]
        pairs = zip(times[(arm, "after warm-up")], times[(arm, "at once")], strict=True)
        ratio = statistics.median(w / c for w, c in pairs)
        print(f"{arm}: first token {warm:.2f} s after the warm-up, {cold:.2f} s at once "
              f"({warm / cold:.2f}x; median of ratios {ratio:.2f}x)")  # fmt: skip
    grown, fixed = med[("grown", "after warm-up")], med[("fixed", "after warm-up")]
    print(f"after the warm-up, grown / fixed: {grown / fixed:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(main(parser.parse_args().rounds))

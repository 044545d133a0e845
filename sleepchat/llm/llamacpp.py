"""LlamaCppBackend: the Backend base on an embedded llama.cpp model (llama-cpp-python).

This is the asyncio side; the model itself lives in ``LlamaEngine`` (llama_engine.py) on ONE
worker thread, since a llama.cpp context is one slot and not thread-safe. An asyncio.Lock
serialises requests the way Ollama's single slot does; text travels thread -> loop through
``call_soon_threadsafe`` into an asyncio.Queue, and closing the stream (or cancelling its
consumer) sets the stop flag that the engine checks between tokens and llama.cpp inside each
step, so the model stops within milliseconds and the slot is free at once.

``llama_cpp`` is imported lazily, by the engine only, so this module imports without it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor

from sleepchat.llm.base import (
    BackendUnavailable,
    BaseBackend,
    Capabilities,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    HealthInfo,
    ModelOptions,
)
from sleepchat.llm.llama_abort import StopFlag
from sleepchat.llm.llama_engine import CANCELLED, REPLY_TOKENS, LlamaEngine, llama_cpp_version
from sleepchat.llm.local_models import DEFAULT_MODEL, LLAMA_CPP_INSTALL, resolve_model
from sleepchat.llm.threads import ThreadPlan

CLOSED = "the embedded model was closed — restart sleepchat"


class LlamaCppBackend(BaseBackend):
    name = "local"
    # A grammar holds structured output to its schema; the engine reuses the KV cache of the
    # longest common prefix; one context is one slot; the stop flag ends decoding on close; a
    # reply cut by a key goes on from its text (the prompt's tokens with it appended).
    capabilities = Capabilities(
        structured="grammar",
        prefix_cache=True,
        parallel_slots=1,
        reply_tokens=REPLY_TOKENS,
        continues=True,
        sets_window=True,
    )

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        n_ctx: int = 4096,
        threads: int | ThreadPlan | None = None,
        seed: int | None = None,
        llama: object | None = None,
    ) -> None:
        """``threads``: a count for replies (None: the physical cores), or a whole plan."""
        self.model = model
        self.host: str | None = None
        plan = threads if isinstance(threads, ThreadPlan) else ThreadPlan.for_machine(threads)
        self.threads = plan
        self._engine = LlamaEngine(model, n_ctx=n_ctx, threads=plan, seed=seed, llama=llama)
        # One thread owns the model: llama.cpp calls never run concurrently.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sleepchat-llama")
        self._slot = asyncio.Lock()
        self._active_stop: threading.Event | None = None
        self._closed = False

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Text chunks, then the stats; holds the slot; a close or cancel stops the engine."""
        if self._closed:
            raise BackendUnavailable(CLOSED)
        async with self._slot:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[object] = asyncio.Queue()
            stop = StopFlag()  # llama.cpp reads it inside each step, too

            def emit(item: object) -> None:
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, item)
                except RuntimeError:  # the loop is gone: nobody is listening any more
                    stop.set()

            self._active_stop = stop
            try:
                loop.run_in_executor(self._worker, self._engine.run, request, stop, emit)
            except RuntimeError:  # executor shut down
                raise BackendUnavailable(CLOSED) from None
            try:
                while True:
                    item = await queue.get()
                    if isinstance(item, BaseException):
                        raise item
                    if item is CANCELLED:
                        return
                    assert isinstance(item, ChatChunk)
                    yield item
                    if item.stats is not None:
                        return
            finally:
                stop.set()
                self._active_stop = None

    async def yes_margins(
        self,
        questions: Sequence[Sequence[ChatMessage]],
        *,
        options: ModelOptions | None = None,
        stop_outside: tuple[float, float] | None = None,
    ) -> list[float]:
        """Log-odds of "yes" over "no" from the model's logits, holding the slot; a cancel
        stops the model inside its step (a draft judged while the user typed is dropped so)."""
        if self._closed:
            raise BackendUnavailable(CLOSED)
        async with self._slot:
            loop = asyncio.get_running_loop()
            stop = StopFlag()
            try:
                window = options.num_ctx if options is not None else None
                work = loop.run_in_executor(
                    self._worker, self._engine.yes_margins, questions, stop_outside, stop, window
                )
            except RuntimeError:  # executor shut down
                raise BackendUnavailable(CLOSED) from None
            try:
                return await work
            except asyncio.CancelledError:
                stop.set()
                raise

    async def keep_judge_starts(
        self,
        groups: Sequence[Sequence[Sequence[ChatMessage]]],
        *,
        options: ModelOptions | None = None,
        background: bool = True,
    ) -> None:
        """Evaluate the starts of judge questions to come (llama_judge.py), holding the slot;
        a cancel stops it between steps."""
        if self._closed:
            raise BackendUnavailable(CLOSED)
        async with self._slot:
            loop = asyncio.get_running_loop()
            stop = threading.Event()
            try:
                window = options.num_ctx if options is not None else None
                work = loop.run_in_executor(
                    self._worker, self._engine.keep_judge_starts, groups, stop, background, window
                )
            except RuntimeError:  # executor shut down
                raise BackendUnavailable(CLOSED) from None
            try:
                await work
            except asyncio.CancelledError:
                stop.set()  # the worker thread stops after its step: the next request waits
                raise  # for that step only

    async def load(self) -> None:
        """Load the model now (on the worker thread) rather than on the first request; queued
        behind any request still finishing there."""
        if self._closed:
            raise BackendUnavailable(CLOSED)
        await asyncio.get_running_loop().run_in_executor(self._worker, self._engine.load)

    async def list_models(self) -> list[str]:
        return [self.model]

    async def health(self) -> HealthInfo:
        """Raises BackendUnavailable when llama-cpp-python or the model file is missing."""
        version = llama_cpp_version()
        if not self._engine.loaded:
            if version is None:
                raise BackendUnavailable(
                    f"llama-cpp-python is not installed — run `{LLAMA_CPP_INSTALL}`"
                )
            resolve_model(self.model)
        return HealthInfo(backend=self.name, host=None, version=version, models=[self.model])

    async def ensure_model(self) -> None:
        """The model file exists and loads, with a chat template (BackendUnavailable if not)."""
        await self.load()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._active_stop is not None:
            self._active_stop.set()
        if self._engine.owns_llama:
            # On the worker, after any request still finishing its token.
            await asyncio.get_running_loop().run_in_executor(self._worker, self._engine.free)
        self._worker.shutdown(wait=False)

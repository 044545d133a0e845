"""LlamaCppBackend: the Backend protocol on an embedded llama.cpp model (llama-cpp-python).

Why it is shaped like this:
- a llama.cpp context is one slot and not thread-safe, so every call into it runs on ONE
  worker thread, and an asyncio.Lock serialises requests the way Ollama's single slot does;
- tokens travel thread -> loop through ``call_soon_threadsafe`` into an asyncio.Queue; a cancel
  sets a stop flag the worker checks between tokens (and between prefill chunks), so decoding
  stops within one token and the lock is free at once;
- the prompt is rendered and tokenized here rather than by ``create_chat_completion`` so we know
  its length (to trim an overflowing history) and can prefill it in cancellable chunks. Llama
  remembers the tokens it last evaluated: the prefill skips the longest common prefix, which is
  the KV-cache reuse sleepchat's warm-up relies on.

``llama_cpp`` is imported lazily, here only, so this module imports without it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import importlib.metadata
import importlib.util
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sleepchat.llm.base import (
    BackendError,
    BackendStreamError,
    BackendUnavailable,
    ChatChunk,
    ChatMessage,
    ChatStats,
    HealthInfo,
    M,
    ModelOptions,
    validate_reply,
)
from sleepchat.llm.local_models import DEFAULT_MODEL, FIX, resolve_model
from sleepchat.llm.local_models import LLAMA_CPP_INSTALL as INSTALL

NO_EMBEDDINGS = "the embedded model has no embedding model; recall uses lexical matching"
DEFAULT_TEMPERATURE = 0.8  # Ollama's default
REPEAT_PENALTY = 1.1  # Ollama's default (over the last 64 tokens, llama-cpp-python's default)
PREFILL_CHUNK = (
    512  # tokens per eval call; smaller chunks cancel sooner but prefill up to 3x slower here
)
REPLY_RESERVE = 1024  # context kept free for the reply when trimming (at most n_ctx / 4)
TRIM_BLOCK = 4  # drop old messages in blocks so the trimmed prefix (and its cache) lasts turns


def llama_cpp_version() -> str | None:
    """The installed llama-cpp-python version, without loading its shared library."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    try:
        return importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise BackendUnavailable(f"llama-cpp-python is not installed — run `{INSTALL}`") from None
    except (OSError, RuntimeError) as exc:  # the shared library failed to load
        raise BackendUnavailable(
            f"llama-cpp-python is installed but will not load ({exc}) — reinstall it: `{INSTALL}`"
        ) from None
    return llama_cpp


@dataclass
class _Request:
    messages: list[ChatMessage]
    num_predict: int | None
    temperature: float
    seed: int | None
    schema: str | None = None  # JSON schema text; constrains decoding by a grammar


class _Cancelled:
    """The worker's last word when it stopped because the request went away."""


# Length bounds unrolled into grammar rules blow past llama.cpp's limits (a 2,000-char string
# is 2,000 nested rules): the grammar then fails to parse and the sampler crashes the process.
# pydantic checks these bounds after generation instead.
_UNROLLED = frozenset({"maxLength", "minLength", "pattern"})
MAX_UNROLLED_ITEMS = 10


def grammar_schema(schema: Any) -> Any:
    """The JSON schema without the bounds a grammar cannot afford."""
    if isinstance(schema, dict):
        return {
            k: grammar_schema(v)
            for k, v in schema.items()
            if k not in _UNROLLED and not (k == "maxItems" and v > MAX_UNROLLED_ITEMS)
        }
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    return schema


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaCppBackend:
    name = "local"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int | None = None,
        llama: object | None = None,
        embed_model: str | None = None,
    ) -> None:
        self.model = model
        self.host: str | None = None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.embed_model = embed_model
        self._llama: Any = llama  # injected (tests) or loaded lazily in the worker
        self._owns_llama = llama is None
        self._embedder: Any = None
        self._template: Any = None  # compiled chat template, set up once per model
        self._bos = ""
        self._eos = ""
        self._is_eog: Callable[[int], bool] = lambda _t: False
        self._grammars: dict[str, Any] = {}
        # One thread owns the model: llama.cpp calls never run concurrently.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sleepchat-llama")
        self._slot = asyncio.Lock()
        self._active_stop: threading.Event | None = None
        self._closed = False

    # loading (worker thread) -------------------------------------------------------------

    def _load_sync(self) -> float:
        """Load the model and its chat template if not done yet; return the ms it took."""
        if self._llama is not None and self._template is not None:
            return 0.0
        started = time.perf_counter()
        if self._llama is None:
            path = resolve_model(self.model)
            llama_cpp = import_llama_cpp()
            kwargs: dict[str, Any] = {"n_ctx": self.n_ctx, "verbose": False}
            if self.n_threads is not None:
                kwargs["n_threads"] = self.n_threads
            if self.seed is not None:
                kwargs["seed"] = self.seed
            try:
                self._llama = llama_cpp.Llama(model_path=str(path), **kwargs)
            except (ValueError, RuntimeError, OSError):
                # llama.cpp says only "Failed to load model from file": the file is the news.
                raise BackendUnavailable(
                    f"model file {path} could not be loaded — it is corrupt or not a GGUF model "
                    f"llama.cpp can read; re-download it or {FIX}"
                ) from None
            self._owns_llama = True
        try:
            self._setup_template()
        except BackendError:
            if self._owns_llama:
                self._free_sync()
            raise
        return (time.perf_counter() - started) * 1000

    def _setup_template(self) -> None:
        llama = self._llama
        metadata = getattr(llama, "metadata", None) or {}
        source = metadata.get("tokenizer.chat_template")
        if not source:
            raise BackendUnavailable(
                f"model {self.model} has no chat template — use an instruct/chat model"
            )
        try:
            from jinja2.exceptions import TemplateError
            from jinja2.ext import loopcontrols
            from jinja2.sandbox import ImmutableSandboxedEnvironment
        except ImportError:
            raise BackendUnavailable(f"jinja2 is missing — run `{INSTALL}`") from None
        # Same environment as llama-cpp-python's Jinja2ChatFormatter (and HF transformers).
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
        )
        env.filters["tojson"] = lambda x, indent=None, **_: json.dumps(
            x, ensure_ascii=False, indent=indent
        )
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise BackendUnavailable(
                f"model {self.model} has a chat template that does not parse ({exc}) — "
                "use another instruct/chat model"
            ) from None
        self._bos = self._token_text(llama.token_bos())
        self._eos = self._token_text(llama.token_eos())
        self._is_eog = self._eog_test()

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        raw: bytes = self._llama.detokenize([token], special=True)
        return raw.decode("utf-8", errors="replace")

    def _eog_test(self) -> Callable[[int], bool]:
        """End-of-generation tokens: all of the vocabulary's (EOS, EOT, <|im_end|> ...)."""
        llama = self._llama
        vocab = getattr(getattr(llama, "_model", None), "vocab", None)
        if vocab is not None:
            llama_cpp = import_llama_cpp()
            return lambda token: bool(llama_cpp.llama_vocab_is_eog(vocab, token))
        eos = llama.token_eos()
        return lambda token: token == eos

    def _free_sync(self) -> None:
        for model in (self._llama, self._embedder):
            if model is not None and hasattr(model, "close"):
                with contextlib.suppress(Exception):
                    model.close()
        self._llama = None
        self._embedder = None
        self._template = None

    # prompt (worker thread) --------------------------------------------------------------

    def _tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        def raise_exception(message: str) -> None:
            raise ValueError(message)

        try:
            prompt = self._template.render(
                messages=[dict(m) for m in messages],
                bos_token=self._bos,
                eos_token=self._eos,
                add_generation_prompt=True,
                raise_exception=raise_exception,
                strftime_now=lambda fmt: time.strftime(fmt),
            )
        except Exception as exc:  # jinja errors and the template's own raise_exception
            raise BackendError(
                f"the chat template of model {self.model} rejected the conversation ({exc}) — "
                "use another instruct/chat model"
            ) from None
        # The template writes any BOS itself (llama-cpp-python: add_bos=not added_special).
        tokens: list[int] = self._llama.tokenize(prompt.encode("utf-8"), False, True)
        return tokens

    def _fit(self, messages: list[ChatMessage], num_predict: int | None) -> tuple[list[int], int]:
        """The prompt's tokens, dropping the oldest turns if the history overflows the context.

        Keeps system messages and the last user message (and anything after it); returns the
        tokens and how many messages were dropped.
        """
        n_ctx = int(self._llama.n_ctx())
        reserve = max(num_predict or 0, min(REPLY_RESERVE, n_ctx // 4))
        tokens = self._tokens(messages)
        if len(tokens) + reserve <= n_ctx:
            return tokens, 0
        last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=0)
        droppable = [i for i in range(last_user) if messages[i]["role"] != "system"]

        def without(count: int) -> list[ChatMessage]:
            gone = set(droppable[:count])
            return [m for i, m in enumerate(messages) if i not in gone]

        def fits(count: int) -> bool:
            return len(self._tokens(without(count))) + reserve <= n_ctx

        # Smallest number of drops that fits (binary search: a render per probe).
        lo, hi = 1, len(droppable)
        if hi and fits(hi):
            while lo < hi:
                mid = (lo + hi) // 2
                if fits(mid):
                    hi = mid
                else:
                    lo = mid + 1
        count = min(-(-hi // TRIM_BLOCK) * TRIM_BLOCK, len(droppable))
        # Start the kept history on a user turn: strict templates insist on alternation.
        while count < len(droppable) and messages[droppable[count]]["role"] == "assistant":
            count += 1
        tokens = self._tokens(without(count))
        if len(tokens) >= n_ctx:
            raise BackendError(
                f"the conversation does not fit the model's context even without its history "
                f"({len(tokens)} tokens ≥ num_ctx {n_ctx}) — shorten the message or raise num_ctx"
            )
        return tokens, count

    # decoding (worker thread) ------------------------------------------------------------

    def _prefill(self, tokens: list[int], upto: int, stop: threading.Event) -> bool:
        """Evaluate ``tokens[:upto]``, skipping the prefix still in the KV cache.

        Returns False when stopped. ``llama.generate`` would skip the same prefix, but in one
        uninterruptible call; this does it in chunks so a cancel is felt during a long prefill.
        """
        llama = self._llama
        cached = _common_prefix(llama.input_ids[: llama.n_tokens], tokens[:upto])
        if cached < llama.n_tokens and (
            getattr(llama, "_is_recurrent", False) or getattr(llama, "_is_hybrid", False)
        ):
            llama.reset()  # recurrent state cannot be truncated to a prefix
            cached = 0
        llama.n_tokens = cached  # eval() drops the KV entries past this point
        position = cached
        while position < upto:
            if stop.is_set():
                return False
            end = min(position + PREFILL_CHUNK, upto)
            llama.eval(tokens[position:end])
            position = end
        return True

    def _grammar(self, schema: str) -> Any:
        if schema not in self._grammars:
            llama_cpp = import_llama_cpp()
            try:
                self._grammars[schema] = llama_cpp.LlamaGrammar.from_json_schema(
                    schema, verbose=False
                )
            except Exception as exc:  # the converter raises plain exceptions on odd schemas
                raise BackendError(
                    f"the schema cannot be turned into a grammar for the embedded model ({exc})"
                ) from None
        return self._grammars[schema]

    def _decode(
        self, req: _Request, stop: threading.Event, emit: Callable[[object], None]
    ) -> ChatStats | None:
        started = time.perf_counter()
        load_ms = self._load_sync()
        llama = self._llama
        begun = time.perf_counter()
        tokens, dropped = self._fit(req.messages, req.num_predict)
        budget = int(llama.n_ctx()) - len(tokens)
        wanted = req.num_predict if req.num_predict is not None and req.num_predict >= 0 else budget
        limit = min(wanted, budget)
        # Leave the last prompt token to generate(): it needs fresh logits to sample from.
        if not self._prefill(tokens, len(tokens) if limit == 0 else len(tokens) - 1, stop):
            return None
        stats = ChatStats(
            prompt_tokens=len(tokens),
            completion_tokens=0,
            load_ms=load_ms if load_ms else None,
            done_reason="stop",
        )
        if dropped:
            stats.notice = f"history longer than num_ctx: dropped the {dropped} oldest messages"
        first: float | None = None
        if limit > 0:
            seed = req.seed if req.seed is not None else self.seed
            if seed is not None:
                llama.set_seed(seed)
            grammar = self._grammar(req.schema) if req.schema is not None else None
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stats.done_reason = "length"
            generator = llama.generate(
                tokens, temp=req.temperature, repeat_penalty=REPEAT_PENALTY, grammar=grammar
            )
            count = 0
            try:
                for token in generator:
                    if stop.is_set():
                        return None
                    if first is None:
                        first = time.perf_counter()
                    if self._is_eog(token):
                        stats.done_reason = "stop"
                        break
                    count += 1
                    text = decoder.decode(llama.detokenize([token]))
                    if text:
                        emit(text)
                    if count >= limit:
                        break
            finally:
                generator.close()
            tail = decoder.decode(b"", final=True)
            if tail:
                emit(tail)
            stats.completion_tokens = count
        ended = time.perf_counter()
        first = first or ended
        stats.prompt_ms = (first - begun) * 1000
        stats.eval_ms = (ended - first) * 1000
        stats.total_ms = (ended - started) * 1000
        return stats

    def _work(self, req: _Request, stop: threading.Event, emit: Callable[[object], None]) -> None:
        """Run one request; always emits exactly one terminal item (stats, error, _Cancelled)."""
        try:
            outcome: object = self._decode(req, stop, emit) or _Cancelled()
        except BackendError as exc:
            outcome = exc
        except Exception as exc:  # llama.cpp failures must reach the user as one line
            with contextlib.suppress(Exception):
                self._llama.reset()  # the cache may be half-written
            outcome = BackendStreamError(
                f"the embedded model failed mid-reply ({type(exc).__name__}: {exc}) — "
                "try again; if it persists, try another local_model"
            )
        emit(outcome)

    # async side --------------------------------------------------------------------------

    def _request(
        self,
        messages: Sequence[ChatMessage],
        options: ModelOptions | None,
        num_predict: int | None,
        schema: str | None = None,
    ) -> _Request:
        opts = options or ModelOptions()
        return _Request(
            messages=[dict(m) for m in messages],
            num_predict=num_predict,
            temperature=DEFAULT_TEMPERATURE if opts.temperature is None else opts.temperature,
            seed=opts.seed,
            schema=schema,
        )

    async def _run(self, req: _Request) -> AsyncGenerator[str | ChatStats, None]:
        """Text pieces, then the stats; holds the slot; a close or cancel stops the worker."""
        if self._closed:
            raise BackendUnavailable("the embedded model was closed — restart sleepchat")
        async with self._slot:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[object] = asyncio.Queue()
            stop = threading.Event()

            def emit(item: object) -> None:
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, item)
                except RuntimeError:  # the loop is gone: nobody is listening any more
                    stop.set()

            self._active_stop = stop
            try:
                loop.run_in_executor(self._worker, self._work, req, stop, emit)
            except RuntimeError:  # executor shut down
                raise BackendUnavailable(
                    "the embedded model was closed — restart sleepchat"
                ) from None
            try:
                while True:
                    item = await queue.get()
                    if isinstance(item, BaseException):
                        raise item
                    if isinstance(item, _Cancelled):
                        return
                    yield item  # type: ignore[misc]
                    if isinstance(item, ChatStats):
                        return
            finally:
                stop.set()
                self._active_stop = None

    async def chat_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncGenerator[ChatChunk, None]:
        async with contextlib.aclosing(
            self._run(self._request(messages, options, num_predict))
        ) as items:
            async for item in items:
                if isinstance(item, ChatStats):
                    yield ChatChunk(stats=item)
                else:
                    yield ChatChunk(text=item)

    async def chat_structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
    ) -> tuple[M, ChatStats]:
        schema_text = json.dumps(grammar_schema(schema.model_json_schema()))
        req = self._request(messages, options, num_predict, schema_text)
        pieces: list[str] = []
        stats = ChatStats()
        async with contextlib.aclosing(self._run(req)) as items:
            async for item in items:
                if isinstance(item, ChatStats):
                    stats = item
                else:
                    pieces.append(item)
        return validate_reply(schema, "".join(pieces), stats, lenient=True), stats

    # the rest ----------------------------------------------------------------------------

    async def load(self) -> None:
        """Load the model now (in the worker thread) rather than on the first request."""
        if self._closed:
            raise BackendUnavailable("the embedded model was closed — restart sleepchat")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._load_sync)

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        if self._embedder is None:
            path = resolve_model(self.embed_model or "")
            llama_cpp = import_llama_cpp()
            try:
                self._embedder = llama_cpp.Llama(
                    model_path=str(path), embedding=True, n_ctx=512, verbose=False
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise BackendUnavailable(
                    f"embedding model file {path} could not be loaded ({exc}) — "
                    "set embed_model to a GGUF embedding model"
                ) from None
        vectors = self._embedder.embed(texts, normalize=True)
        return [[float(x) for x in vector] for vector in vectors]

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        if self.embed_model is None:
            raise BackendError(NO_EMBEDDINGS)
        if not texts:
            return []
        async with self._slot:
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self._worker, self._embed_sync, list(texts))
            except BackendError:
                raise
            except Exception as exc:
                raise BackendStreamError(f"the embedding model failed ({exc})") from None

    async def list_models(self) -> list[str]:
        return [self.model]

    async def health(self) -> HealthInfo:
        """Raises BackendUnavailable when llama-cpp-python or the model file is missing."""
        version = llama_cpp_version()
        if self._llama is None:
            if version is None:
                raise BackendUnavailable(f"llama-cpp-python is not installed — run `{INSTALL}`")
            resolve_model(self.model)
        return HealthInfo(backend=self.name, host=None, version=version, models=[self.model])

    async def ensure_model(self) -> None:
        """The model file exists and loads, with a chat template (BackendUnavailable if not)."""
        await self.load()

    def model_path(self) -> Path:
        return resolve_model(self.model)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._active_stop is not None:
            self._active_stop.set()
        if self._owns_llama:
            loop = asyncio.get_running_loop()
            # On the worker, after any request still finishing its token.
            await loop.run_in_executor(self._worker, self._free_sync)
        self._worker.shutdown(wait=False)

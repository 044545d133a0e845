"""The embedded llama.cpp model on its worker thread: loading, the prompt, decoding.

Every method of ``LlamaEngine`` runs on the backend's ONE worker thread (a llama.cpp context
is not thread-safe); ``LlamaCppBackend`` (llamacpp.py) is the asyncio side that feeds it
requests and relays what it emits. Why it is shaped like this:
- a cancel sets a stop flag (``StopFlag``) that the engine checks between tokens and prefill
  chunks and that llama.cpp itself reads between the nodes of each step (its abort callback),
  so a question never waits for a reflection's step to finish: on Qwen2.5-1.5B one step of a
  512-token chunk takes seconds here. The aborted step's tokens are dropped from the cache and
  what came before stays, so the next request reuses it (bench/preempt_chunks.py);
- the prompt is rendered and tokenized here rather than by ``create_chat_completion`` so we know
  its length (to trim an overflowing history) and can prefill it in cancellable chunks. Llama
  remembers the tokens it last evaluated: the prefill skips the longest common prefix, which is
  the KV-cache reuse sleepchat's warm-up relies on.

``llama_cpp`` is imported lazily, here only, so this module imports without it.
"""

from __future__ import annotations

import codecs
import importlib.metadata
import importlib.util
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sleepchat.llm.base import (
    BackendError,
    BackendStreamError,
    BackendUnavailable,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatStats,
    grammar_schema,
)
from sleepchat.llm.llama_abort import AbortCheck, aborted
from sleepchat.llm.llama_judge import (
    NO,
    YES,
    Starts,
    common_prefix,
    keep_starts,
    single_tokens,
    yes_margins,
)
from sleepchat.llm.local_models import FIX, LLAMA_CPP_INSTALL, resolve_model
from sleepchat.llm.threads import ThreadPlan, brief_spin_waits

log = logging.getLogger("sleepchat.llm")

DEFAULT_TEMPERATURE = 0.8  # Ollama's default
REPEAT_PENALTY = 1.1  # Ollama's default (over the last 64 tokens, llama-cpp-python's default)
PREFILL_CHUNK = 512  # tokens per eval call for the user's own requests: the fastest
# Idle work prefills in smaller chunks: a cancel then drops at most this many tokens' work, and
# llama.cpp's steps (matrix products over the chunk) are short enough that its abort check
# comes within ~20 ms on a 1.5B model (bench/preempt_chunks.py measures the choice).
BACKGROUND_CHUNK = 64
# The reply cap unless the user sets max_reply_tokens: with none, one SmolLM2 reply ran on for
# 4,027 tokens (80 s) until the context was full. Also the context kept free for the reply
# when trimming the history (at most n_ctx / 4).
REPLY_TOKENS = 1024
TRIM_BLOCK = 4  # drop old messages in blocks so the trimmed prefix (and its cache) lasts turns
CANCELLED = object()  # the engine's last word when it stopped because the request went away


def llama_cpp_version() -> str | None:
    """The installed llama-cpp-python version, without loading its shared library."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    try:
        return importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# Flash attention on the CPU: SmolLM2 here prefilled 22 % and decoded 12 % faster with it
# (bench/threads_bench.py), and prefix reuse of the warm cache works the same.
ENGINE_FLAGS: dict[str, Any] = {"flash_attn": True}


def import_llama_cpp() -> Any:
    """``llama_cpp``, loaded with brief spinning thread waits (see ``brief_spin_waits``)."""
    brief_spin_waits()
    try:
        import llama_cpp
    except ImportError:
        raise BackendUnavailable(
            f"llama-cpp-python is not installed — run `{LLAMA_CPP_INSTALL}`"
        ) from None
    except (OSError, RuntimeError) as exc:  # the shared library failed to load
        raise BackendUnavailable(
            f"llama-cpp-python is installed but will not load ({exc}) — "
            f"reinstall it: `{LLAMA_CPP_INSTALL}`"
        ) from None
    return llama_cpp


class LlamaEngine:
    """One llama.cpp model and what it remembers (its KV cache, chat template, grammars)."""

    def __init__(
        self,
        model: str,
        *,
        n_ctx: int,
        threads: ThreadPlan,
        seed: int | None,
        llama: object | None,
    ) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self._fitted = n_ctx  # the window of the last load that fitted in memory
        self.threads = threads
        self.seed = seed
        self._llama: Any = llama  # injected (tests) or loaded by load()
        self.owns_llama = llama is None
        self._template: Any = None  # compiled chat template, set up once per model
        self._bos = ""
        self._eos = ""
        self._is_eog: Callable[[int], bool] = lambda _t: False
        self._grammars: dict[str, Any] = {}
        self._abort = AbortCheck()
        self._yes_no: tuple[list[int], list[int]] | None = None  # their token ids
        self.judge_starts: Starts | None = Starts()  # None: not kept (the A/B bench)

    @property
    def loaded(self) -> bool:
        """A model is in memory (loaded, or injected by a test)."""
        return self._llama is not None

    # loading ------------------------------------------------------------------------------

    def load(self) -> float:
        """Load the model and its chat template if not done yet; return the ms it took."""
        if self._llama is not None and self._template is not None:
            return 0.0
        started = time.perf_counter()
        if self._llama is None:
            path = resolve_model(self.model)
            llama_cpp = import_llama_cpp()
            kwargs: dict[str, Any] = {
                "n_ctx": self.n_ctx,
                "n_threads": self.threads.reply,
                "n_threads_batch": self.threads.batch,
                "verbose": False,
                **ENGINE_FLAGS,
            }
            if self.seed is not None:
                kwargs["seed"] = self.seed
            try:
                self._llama = llama_cpp.Llama(model_path=str(path), **kwargs)
            except ValueError as exc:
                if "llama_context" not in str(exc):
                    raise self._unreadable(path) from None
                # The file loaded; the window's cache did not fit (a file attached grows it):
                # a request that asks for no window gets the one that last fitted.
                wanted, self.n_ctx = self.n_ctx, self._fitted
                raise BackendUnavailable(
                    f"model {path.name} loaded, but a context window of {wanted} tokens "
                    "did not fit in memory — set documents.max_window (or options.num_ctx) "
                    "lower in the config, or detach the large file"
                ) from None
            except (RuntimeError, OSError):
                raise self._unreadable(path) from None
            self.owns_llama = True
            self._fitted = self.n_ctx
            # Quiet llama.cpp's error lines too (Llama(verbose=False) leaves them on): it logs
            # each cancel inside a step as one, and sleepchat reports real failures itself.
            logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        try:
            self._setup_template()
        except BackendError:
            if self.owns_llama:
                self.free()
            raise
        return (time.perf_counter() - started) * 1000

    @staticmethod
    def _unreadable(path: Path) -> BackendUnavailable:
        # llama.cpp says only "Failed to load model from file": the file is the news.
        return BackendUnavailable(
            f"model file {path} could not be loaded — it is corrupt or not a GGUF model "
            f"llama.cpp can read; re-download it or {FIX}"
        )

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
            raise BackendUnavailable(f"jinja2 is missing — run `{LLAMA_CPP_INSTALL}`") from None
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

    def use_window(self, n_ctx: int | None) -> None:
        """A request's context window: the model is loaded again with it when it differs from
        the loaded one (the core grows it to hold an attached file whole), as Ollama loads a
        model again for another ``num_ctx``; a model handed in (tests) keeps its own."""
        if not n_ctx or n_ctx == self.n_ctx or not self.owns_llama:
            return
        self.n_ctx = n_ctx
        if self._llama is not None:
            self.free()  # its cache is of the old window: the next step loads and prefills anew

    def free(self) -> None:
        if self._llama is not None and hasattr(self._llama, "close"):
            try:
                self._llama.close()
            except Exception:  # freeing goes on: the next load starts clean either way
                log.warning("closing the embedded model failed", exc_info=True)
        self._llama = None
        self._template = None
        if self.judge_starts is not None:
            self.judge_starts.clear()  # copies of the freed model's cache

    # prompt -------------------------------------------------------------------------------

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
        reserve = max(num_predict or 0, min(REPLY_TOKENS, n_ctx // 4))
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

    # decoding -----------------------------------------------------------------------------

    def _prefill(
        self, tokens: list[int], upto: int, stop: threading.Event, chunk: int = PREFILL_CHUNK
    ) -> bool:
        """Evaluate ``tokens[:upto]``, skipping the prefix still in the KV cache.

        Returns False when stopped. ``llama.generate`` would skip the same prefix, but in one
        uninterruptible call; this does it in chunks so a cancel is felt during a long prefill.
        """
        llama = self._llama
        cached = common_prefix(llama.input_ids[: llama.n_tokens], tokens[:upto])
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
            end = min(position + chunk, upto)
            llama.eval(tokens[position:end])
            position = end
        return True

    def _use_threads(self, background: bool) -> None:
        """Set the context's threads for this request (idle work leaves a core to the app).
        Set on every request: the context may be shared (the thread benchmark does)."""
        ctx = getattr(self._llama, "_ctx", None)
        if ctx is not None and hasattr(ctx, "set_n_threads"):
            ctx.set_n_threads(*self.threads.for_request(background))

    def _grammar(self, schema: type[BaseModel]) -> Any:
        text = json.dumps(grammar_schema(schema.model_json_schema()))
        if text not in self._grammars:
            llama_cpp = import_llama_cpp()
            try:
                self._grammars[text] = llama_cpp.LlamaGrammar.from_json_schema(text, verbose=False)
            except Exception as exc:  # the converter raises plain exceptions on odd schemas
                raise BackendError(
                    f"the schema cannot be turned into a grammar for the embedded model ({exc})"
                ) from None
        return self._grammars[text]

    def _decode(
        self, req: ChatRequest, stop: threading.Event, emit: Callable[[object], None]
    ) -> ChatStats | None:
        started = time.perf_counter()
        self.use_window(req.options.num_ctx)
        load_ms = self.load()
        llama = self._llama
        self._abort.watch(llama, stop)
        begun = time.perf_counter()
        tokens, dropped = self._fit(list(req.messages), req.num_predict)
        if req.prefix:  # the reply so far: generation goes on after it, as if never cut
            tokens += llama.tokenize(req.prefix.encode("utf-8"), False, False)
        self._use_threads(req.background)
        budget = int(llama.n_ctx()) - len(tokens)
        wanted = req.num_predict if req.num_predict is not None and req.num_predict >= 0 else budget
        limit = min(wanted, budget)
        # Leave the last prompt token to generate(): it needs fresh logits to sample from.
        upto = len(tokens) if limit == 0 else len(tokens) - 1
        chunk = BACKGROUND_CHUNK if req.background else PREFILL_CHUNK
        if not self._prefill(tokens, upto, stop, chunk):
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
            seed = req.options.seed if req.options.seed is not None else self.seed
            if seed is not None:
                llama.set_seed(seed)
            grammar = self._grammar(req.schema) if req.schema is not None else None
            temperature = req.options.temperature
            if temperature is None:
                temperature = DEFAULT_TEMPERATURE
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stats.done_reason = "length"
            generator = llama.generate(
                tokens, temp=temperature, repeat_penalty=REPEAT_PENALTY, grammar=grammar
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
                        emit(ChatChunk(text=text))
                    if count >= limit:
                        break
            finally:
                generator.close()
            tail = decoder.decode(b"", final=True)
            if tail:
                emit(ChatChunk(text=tail))
            stats.completion_tokens = count
        ended = time.perf_counter()
        first = first or ended
        stats.prompt_ms = (first - begun) * 1000
        stats.eval_ms = (ended - first) * 1000
        stats.total_ms = (ended - started) * 1000
        return stats

    def yes_margins(
        self,
        questions: Sequence[Sequence[ChatMessage]],
        stop_outside: tuple[float, float] | None = None,
        stop: threading.Event | None = None,
        n_ctx: int | None = None,
    ) -> list[float]:
        """The recall judge's questions: log-odds of "yes" over "no" for each (llama_judge.py);
        the chat's cache is kept. ``stop`` set: fewer margins (the caller is gone)."""
        self.use_window(n_ctx)
        self.load()
        llama = self._llama
        if self._yes_no is None:
            self._yes_no = (single_tokens(llama, YES), single_tokens(llama, NO))
        prompts = [self._tokens(messages) for messages in questions]
        self._use_threads(False)
        # llama.cpp checks this request's own flag inside each step: a context shared with
        # another engine (the tests share one model) may point at a flag freed since, which
        # reads as "stop" (llama_decode returned 2).
        self._abort.watch(llama, stop)
        try:
            llama_cpp = import_llama_cpp()
            return yes_margins(
                llama,
                llama_cpp,
                prompts,
                self._prefill,
                self._yes_no,
                stop_outside,
                self.judge_starts,
                stop,
            )
        except BackendError:
            raise
        except Exception as exc:  # llama.cpp's own failures: the judge then serves nothing
            if stop is not None and stop.is_set() and aborted(exc):
                return []  # cut mid-step: the chat's cache was put back all the same
            raise BackendError(f"the embedded model could not judge ({exc})") from None
        finally:
            self._abort.watch(llama, None)  # the flag may go away with its request

    def keep_judge_starts(
        self,
        groups: Sequence[Sequence[Sequence[ChatMessage]]],
        stop: threading.Event,
        background: bool = True,
        n_ctx: int | None = None,
    ) -> int:
        """Evaluate and keep the start each group of judge questions shares (llama_judge.py);
        the chat's cache is kept. Returns how many starts were evaluated."""
        if self.judge_starts is None:
            return 0
        self.use_window(n_ctx)
        self.load()
        rendered = [[self._tokens(messages) for messages in group] for group in groups]
        self._use_threads(background)  # idle work leaves a core to the app
        # llama.cpp checks this request's own flag inside each step, not one left by another
        self._abort.watch(self._llama, stop)
        try:
            llama_cpp = import_llama_cpp()
            return keep_starts(
                self._llama, llama_cpp, rendered, self._prefill, self.judge_starts, stop
            )
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"the embedded model could not prepare its judge ({exc})") from None
        finally:
            self._abort.watch(self._llama, None)

    def run(self, req: ChatRequest, stop: threading.Event, emit: Callable[[object], None]) -> None:
        """Run one request: text chunks, then exactly one terminal item (a chunk with the
        stats, a BackendError, or CANCELLED)."""
        try:
            stats = self._decode(req, stop, emit)
            outcome: object = CANCELLED if stats is None else ChatChunk(stats=stats)
        except BackendError as exc:
            outcome = exc
        except Exception as exc:  # llama.cpp failures must reach the user as one line
            if stop.is_set() and aborted(exc):
                # Cut mid-step: llama.cpp dropped that step's tokens, the cache before it holds.
                emit(CANCELLED)
                return
            try:
                self._llama.reset()  # the cache may be half-written
            except Exception:  # the user still gets the one-line error below
                log.warning("resetting the embedded model after a failure failed", exc_info=True)
            outcome = BackendStreamError(
                f"the embedded model failed mid-reply ({type(exc).__name__}: {exc}) — "
                "try again; if it persists, try another local_model"
            )
        finally:
            self._abort.watch(self._llama, None)  # the flag may go away with its request
        emit(outcome)

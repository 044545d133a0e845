"""What the core needs from the outside, as ports: the model server (``Backend``, which
``llm/`` implements), storage (``StorePort``, which ``store/`` implements) and recall's
sentence vectors (``Embedder``). See "The parts" in the README's Architecture section.

The core never imports the store or a model client; the composition root (``runtime.py``) hands
it objects of these shapes. The types a backend speaks in (options, stats, chunks, what it can
do) live here too, so ``llm/`` depends on the core and never the reverse.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from sleepchat.core.models import Change, Message, SearchHit, Session

if TYPE_CHECKING:  # pydantic is not needed to import the ports (start-up stays light)
    from pydantic import BaseModel

ChatMessage = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}

M = TypeVar("M", bound="BaseModel")

StructuredMode = Literal["schema", "grammar", "instructions"]
WARM_UP_TOKENS = 1  # a warm-up prefills the prompt; one token is the least every server accepts


@dataclass(frozen=True)
class ModelOptions:
    """Model options sent with *every* request; identical options keep the server's cache valid
    (a different ``num_ctx`` makes Ollama reload the model)."""

    num_ctx: int | None = None
    temperature: float | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, num_predict: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self.extra.items()}
        for key in ("num_ctx", "temperature", "seed"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if num_predict is not None:
            out["num_predict"] = num_predict
        return out


@dataclass
class ChatStats:
    """What the server reported about one request (None where it said nothing)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_ms: float | None = None  # prefill time
    eval_ms: float | None = None  # generation time
    load_ms: float | None = None
    total_ms: float | None = None
    # "stop" (the model ended), "length" (the token cap), "repetition" (it looped: stopped)
    done_reason: str | None = None
    # Something the user should know about this request, e.g. that old turns were dropped.
    notice: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if self.completion_tokens and self.eval_ms:
            return self.completion_tokens / (self.eval_ms / 1000.0)
        return None


@dataclass
class ChatChunk:
    """A piece of streamed text; the last chunk of a stream carries ``stats``."""

    text: str = ""
    stats: ChatStats | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared by the backend so the core reads it instead of guessing
    from a backend's name."""

    # How structured output is held to its schema: "schema", the server constrains decoding to
    # a JSON schema (Ollama's ``format=``); "grammar", a grammar made from the schema does, and
    # the bounds a grammar cannot afford are checked after (llama.cpp); "instructions", the
    # schema is only described in the prompt and the reply validated after.
    structured: StructuredMode = "instructions"
    embeddings: bool = False  # ``embed()`` can work (an embedding model is reachable)
    # A request that shares its start with the previous one prefills only the rest: a warm-up
    # (the chat prefix processed while idle) pays.
    prefix_cache: bool = False
    # Requests served at once. With one, a running reflection delays the user's reply, so the
    # core cancels it on input.
    parallel_slots: int = 1
    # Closing a stream stops generation on the server (else the slot stays busy until the
    # abandoned reply ends, and preempting a reflection frees nothing).
    stops_on_close: bool = True
    # The reply cap when the user set none (None: the server's own default applies).
    reply_tokens: int | None = None
    # A reply can start from text already generated (``chat_stream(prefix=...)``): the model
    # goes on from it instead of starting over, so idle work cut by a key is continued later.
    continues: bool = False
    # A request's ``num_ctx`` is the model's context window (loaded again when it changes, as
    # Ollama does), so the window can grow to hold an attached file whole; an OpenAI-compatible
    # server's window is its own.
    sets_window: bool = False


class Backend(Protocol):
    """A chat model server, as the core uses it. ``llm/base.py``'s ``BaseBackend`` implements
    it (Ollama, OpenAI-compatible servers, the embedded llama.cpp, the fake). Failures are
    ``BackendError``s (``core/errors.py``) with a one-line message naming the fix."""

    model: str  # the session's model: the core sets it when a session opens

    @property
    def name(self) -> str: ...  # "ollama" | "local" | "openai" | "fake"

    @property
    def host(self) -> str | None: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def list_models(self) -> list[str]: ...

    def chat_stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
        prefix: str = "",
    ) -> AsyncGenerator[ChatChunk, None]:
        """Stream a reply: text chunks, then a last chunk with the stats. Closing the stream
        stops the server generating (when ``capabilities.stops_on_close``). ``prefix``: the
        reply's start, already generated; only what follows it streams (with
        ``capabilities.continues``)."""
        ...

    async def chat_structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[M],
        *,
        options: ModelOptions | None = None,
        num_predict: int | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
    ) -> tuple[M, ChatStats]:
        """One JSON reply validated against ``schema`` (SchemaError when it does not)."""
        ...

    async def warm_up(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: ModelOptions | None = None,
        keep_alive: str | float | None = None,
        background: bool = False,
    ) -> ChatStats:
        """Have the server process ``messages`` now, so the next request that starts with them
        prefills only its own tokens."""
        ...


class StorePort(Protocol):
    # sessions
    async def create_session(self, title: str) -> Session: ...
    async def list_sessions(self) -> list[Session]: ...
    async def get_session(self, session_id_or_prefix: str) -> Session | None: ...
    async def last_session(self) -> Session | None: ...
    async def rename_session(self, session_id: str, title: str) -> Session: ...
    # change fields of the record (title, model, system_prompt, options)
    async def update_session(self, session_id: str, fields: dict[str, Any]) -> Session: ...
    async def delete_session(self, session_id: str) -> None: ...

    # messages
    async def append_message(self, msg: Message) -> None: ...
    async def update_message(self, msg: Message) -> None: ...
    async def messages(self, session_id: str) -> list[Message]: ...
    # messages of every session matching ``query`` (its words, any case), newest first
    async def search(self, query: str, limit: int) -> list[SearchHit]: ...

    # a session's sleep-cycle tables (notes, predictions, reflections, note_ops, kv)
    async def load_table(self, session_id: str, table: str) -> list[dict[str, Any]]: ...
    async def apply(self, session_id: str, changes: Sequence[Change]) -> None: ...

    # store-wide values (overall stats, preferences)
    async def get_meta(self, key: str, default: Any = None) -> Any: ...
    async def set_meta(self, key: str, value: Any) -> None: ...


class Embedder(Protocol):
    """Sentence vectors for recall: a dedicated embedding model (the chat model's own
    embeddings do not separate questions). Raises on any failure; recall then falls back."""

    name: str  # what doctor and the status line show, e.g. "all-MiniLM-L6-v2 (built in)"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Ranker(Protocol):
    """An embedder that ranks many stored texts against one query itself (the built-in model:
    its vectors kept as one matrix), where the core's pure-Python cosine would take a second
    over the user's memory at 10,000 items."""

    async def similarities(self, query: str, texts: Sequence[str]) -> list[float]: ...


class Judge(Protocol):
    """Decides the pairs the recall word rules leave open (a synonym, a typo, a reworded
    request): does the cached answer to ``predicted`` answer ``asked``? It must be calibrated
    for precision on labelled pairs before it is wired in; without one those pairs are misses.
    Raises on any failure, which is a miss too."""

    name: str
    # Whether it weighs a short follow-up in its last exchange (calibrated for it): where it
    # does not, such a pair is judged as any other, out of the exchange.
    judges_exchanges: bool

    # ``options``: the session's, as its chat requests carry them (a window grown for a file):
    # a judge's request with others would make the server load the model again.
    # ``context``: the last exchange (the user's message, the reply) where the asked question
    # leaves out what it says: the pair is weighed as said right after it.
    async def same(
        self,
        predicted: str,
        asked: str,
        answer: str,
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> bool: ...

    async def prepare(
        self,
        predicted: Sequence[str],
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> None:
        """While idle, whatever makes judging a question against ``predicted`` cheaper later."""
        ...


def settled(margin: float, stop_outside: tuple[float, float] | None) -> bool:
    """Whether a yes/no margin lies outside ``stop_outside`` (at or below its low end, or above
    its high end), where it decides a judged pair and the questions after it need not be asked:
    the contract of a model's ``yes_margins`` (core/recall/judge.py)."""
    return stop_outside is not None and not stop_outside[0] < margin <= stop_outside[1]

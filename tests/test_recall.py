"""Recall: calibrated for precision. Paraphrases of a predicted question should hit; look-alike
questions (same words, a different question) must never hit — a wrong cached answer is worse
than no cached answer. Run with -s to see the recall figures."""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Sequence

import pytest

from sleepchat.core.models import Prediction
from sleepchat.core.recall import (
    DEFAULT_THRESHOLDS,
    Recall,
    content_words,
    cosine,
    intent,
    lexical_similarity,
)
from sleepchat.llm.base import EmbeddingError

LOOKALIKES = [
    ("How long should the party last?", "How long should the cake bake?"),
    ("When should I start fertilizing?", "How often should I water them?"),
    ("How do I install Python on Windows?", "How do I install Python on Mac?"),
    ("What is the capital of France?", "What is the capital of Spain?"),
    (
        "How long should I boil an egg for a soft yolk?",
        "How long should I boil an egg for a hard yolk?",
    ),
    ("When does the party start?", "Where does the party start?"),
    ("What should I feed the cat?", "When should I feed the cat?"),
    ("How do I bake the cake?", "How long should I bake the cake?"),
    ("Should I water the plants daily?", "Should I not water the plants daily?"),
    ("How many guests can I invite?", "How many chairs do I need?"),
    ("How much flour do I need?", "How much sugar do I need?"),
    ("Can I freeze the soup?", "Can I reheat the soup?"),
    ("How long should I bake the cake?", "How long should I bake the cake at high altitude?"),
    ("Is 2 cups of rice enough?", "Is 20 cups of rice enough?"),
    ("How do I delete a git branch?", "How do I create a git branch?"),
    ("What time does the store open?", "What time does the store close?"),
    ("Why is my code slow?", "Why is my code crashing?"),
    ("Who wrote the book?", "Who published the book?"),
    ("How often should I feed the puppy?", "How much should I feed the puppy?"),
    ("Can I take ibuprofen with coffee?", "Can I take ibuprofen with alcohol?"),
    ("How do I reset my password?", "How do I change my username?"),
    ("Is the gallery open on Monday?", "Is the gallery free on Monday?"),
    ("What should I wear to the wedding?", "What should I bring to the wedding?"),
    ("How do I sort a list in Python?", "How do I reverse a list in Python?"),
    ("How far is the beach from the hotel?", "How far is the airport from the hotel?"),
    ("When should I prune the roses?", "When should I plant the roses?"),
    ("Does the recipe need eggs?", "Does the recipe need milk?"),
    ("How long should the essay be?", "How long should the presentation be?"),
]

LOOKALIKES += [
    ("How do I bake the cake?", "What do I bake the cake with?"),
    ("How do I install Python?", "How do I uninstall Python?"),
    ("How long should I bake the cake?", "How long should I bake the cake without eggs?"),
]
# The same question in another form: these hit with no judge.
FORM_ONLY = [
    ("Why is my sourdough starter not rising?", "Why isn't my sourdough starter rising?"),
    ("How long should I bake the cake?", "how long should i bake the cake"),
    (
        "What is the difference between a list and a tuple?",
        "What's the difference between a tuple and a list?",
    ),
    ("Can you tell me when the party starts?", "can u tell me when the party starts pls"),
    ("How often should I water the tomatos?", "How often should I water the tomatoes?"),
    ("How do I install the dependencies?", "how to install dependencies"),
]
# Rewordings beyond form (other words, stems, synonyms, a modal): the word rules do not
# veto them, so a judge decides; without one they are misses (a miss is cheaper than a false
# hit). The frozen calibration is tests/test_recall_pairs.py.
FOR_THE_JUDGE = [
    ("How long should I bake the cake?", "How long do I bake the cake for?"),
    ("What time does the party start?", "When does the party start?"),
    ("How do I reset my printer?", "How can I reset the printer?"),
    ("When is the best time to plant garlic?", "What's the best time to plant garlic?"),
    ("How do I begin the presentation?", "How should I start my presentation?"),
    (
        "What is the difference between a list and a tuple?",
        "What's the difference between lists and tuples?",
    ),
]


class Judge:
    """A judge that says ``answer`` to every pair it is asked about, and records them."""

    name = "test judge"
    judges_exchanges = False

    def __init__(self, answer: bool = True, error: Exception | None = None) -> None:
        self.answer, self.error = answer, error
        self.asked: list[tuple[str, str, str]] = []

    async def same(
        self, predicted: str, asked: str, answer: str, options: object = None, context: object = ()
    ) -> bool:
        self.asked.append((predicted, asked, answer))
        if self.error is not None:
            raise self.error
        return self.answer

    async def prepare(
        self, predicted: object, options: object = None, context: object = ()
    ) -> None:
        """Nothing to ready."""


def prediction(question: str, pid: str = "p1") -> Prediction:
    return Prediction(
        id=pid,
        session_id="s1",
        question=question,
        answer=f"answer to {question}",
        created=0.0,
        reflection_id="r1",
        based_on_message_id="m2",
    )


@pytest.mark.parametrize("predicted, asked", LOOKALIKES)
async def test_a_look_alike_never_hits(predicted: str, asked: str) -> None:
    recall = Recall()
    for q, p in ((asked, predicted), (predicted, asked)):  # both directions
        result = await recall.match(q, [prediction(p)])
        assert result.hit is None, f"false hit {lexical_similarity(q, p):.2f}: {q!r} -> {p!r}"


@pytest.mark.parametrize("predicted, asked", FORM_ONLY)
async def test_the_same_question_in_another_form_hits(predicted: str, asked: str) -> None:
    result = await Recall().match(asked, [prediction(predicted)])
    assert result.hit is not None, result.reason


@pytest.mark.parametrize("predicted, asked", FOR_THE_JUDGE)
async def test_a_rewording_is_a_miss_without_a_judge_and_the_judges_call_with_one(
    predicted: str, asked: str
) -> None:
    alone = await Recall().match(asked, [prediction(predicted)])
    assert alone.hit is None and alone.reason
    judge = Judge()
    judged = await Recall(judge=judge).match(asked, [prediction(predicted)])
    assert judged.hit is not None and judged.judged
    assert judge.asked == [(predicted, asked, f"answer to {predicted}")]
    refused = await Recall(judge=Judge(answer=False)).match(asked, [prediction(predicted)])
    assert refused.hit is None and refused.reason.startswith("judge")


async def test_a_vetoed_look_alike_never_reaches_the_judge() -> None:
    judge = Judge()
    recall = Recall(judge=judge)
    for predicted, asked in [
        ("Is 2 cups of rice enough?", "Is 20 cups of rice enough?"),
        ("Should I water the plants daily?", "Should I not water the plants daily?"),
        ("How do I convert miles to km?", "How do I convert km to miles?"),
        ("When does the party start?", "Where does the party start?"),
        ("What should I get her?", "What should I get him?"),
    ]:
        assert (await recall.match(asked, [prediction(predicted)])).hit is None
    assert judge.asked == []


async def test_the_judge_is_asked_once_per_question_and_a_failing_judge_serves_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    preds = [prediction("How long do I bake the cake for?", "p1"),
             prediction("How long should the cake bake?", "p2")]
    judge = Judge(answer=False)
    assert (await Recall(judge=judge).match("How long should I bake the cake?", preds)).hit is None
    assert len(judge.asked) == 1
    broken = Judge(error=RuntimeError("model gone"))
    with caplog.at_level(logging.INFO):
        result = await Recall(judge=broken).match("How long should I bake the cake?", preds)
    assert result.hit is None and "model gone" in caplog.text


@pytest.mark.parametrize(
    "a, b",
    [
        ("How long should the cake bake?", "How long do I bake the cake for?"),
        ("What time does the party start?", "When does the party start?"),
        ("Why is my sourdough starter not rising?", "Why isn't my sourdough starter rising?"),
        ("How do I fix a merge conflict in git?", "How can I resolve a git merge conflict?"),
        ("How often should I water the tomatos?", "How often should I water the tomatoes?"),
    ],
)
def test_inflections_contractions_synonyms_and_typos_meet(a: str, b: str) -> None:
    assert lexical_similarity(a, b) >= 0.75


def test_stopwords_alone_do_not_count() -> None:
    assert content_words("How long should the") == {}
    assert (
        lexical_similarity("How long should the party last?", "How long should the cake bake?") == 0
    )
    assert lexical_similarity("What is it?", "What is it?") == 1.0
    assert lexical_similarity("What is it?", "Why is it?") <= 0.5


def test_question_kinds() -> None:
    assert intent("So, how long does it take?") == "how long"
    assert intent("What time is dinner?") == "when"
    assert intent("What's the price of a ticket?") == "how much"
    assert intent("Which one is better?") == "what"
    assert intent("Should I go?") == "yesno"
    assert intent("Tell me about Rome") == "other"


async def test_match_picks_the_best_and_lists_near_misses() -> None:
    recall = Recall()
    preds = [
        prediction("How long should I bake the cake?", "p1"),
        prediction("Which frosting goes with chocolate cake?", "p2"),
        prediction("How many guests should I invite?", "p3"),
    ]
    hit = await recall.match("how long should i bake the cake", preds)
    assert hit.hit is not None and hit.hit.id == "p1" and hit.score == 1.0
    assert all(p.id != "p1" for p, _s in hit.near)
    miss = await recall.match("How do I bake the cake?", preds)
    assert miss.hit is None
    assert [p.id for p, _s in miss.near] == ["p1"]  # a hint for the prompt tail
    ranked = await recall.rank("How do I bake the cake?", preds)
    assert ranked[0][0].id == "p1"
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert (await recall.match("anything", [])).hit is None


async def test_a_higher_threshold_only_hits_less() -> None:
    strict = Recall(threshold=0.95)
    result = await strict.match(
        "How often do tomatoes need watering?",
        [prediction("How often should I water the tomatoes?")],
    )
    assert result.hit is None and result.near


# -- embeddings ------------------------------------------------------------------------------
def bag_of_words(text: str) -> list[float]:
    """A deterministic stand-in for an embedding model: hashed word counts."""
    vec = [0.0] * 64
    for word in re.findall(r"[a-z]+", text.lower()):
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class BagOfWords:
    """A deterministic stand-in for an embedding model (hashed word counts), counting calls."""

    name = "bag of words"

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.error = error

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.error is not None:
            raise self.error
        return [bag_of_words(t) for t in texts]


async def test_embedding_recall_caches_prediction_vectors() -> None:
    embedder = BagOfWords()
    recall = Recall(embedder)
    assert recall.method == "embedding" and recall.threshold == DEFAULT_THRESHOLDS["embedding"]
    preds = [
        prediction("How long should I bake the cake?", "p1"),
        prediction("Which frosting?", "p2"),
    ]
    result = await recall.match("how long should i bake the cake", preds)
    assert result.hit is not None and result.hit.id == "p1" and result.method == "embedding"
    assert all(p.embedding and p.embed_model == "bag of words" for p in preds)
    assert len(embedder.calls[0]) == 3  # the question and both predictions, in one request
    await recall.match("Which frosting?", preds)
    assert len(embedder.calls[1]) == 1  # only the question: prediction vectors were cached


async def test_slips_of_a_predictions_words_do_not_hide_it_from_the_candidates() -> None:
    """Typed with slips, a short question's vector is far from the prediction's: read with
    the slips as the prediction's words it is a candidate, and the verifier (here: the judge)
    reads it as typed."""
    embedder, judge = BagOfWords(), Judge()
    recall = Recall(embedder, judge=judge)
    preds = [prediction("Can I refreeze thawed shrimp?", "p1")]
    typed = "can i refreze thawd shrmp"
    assert cosine(bag_of_words(typed), bag_of_words(preds[0].question)) < recall.threshold
    result = await recall.match(typed, preds)
    assert result.hit is not None and result.hit.id == "p1" and result.judged
    assert judge.asked == [(preds[0].question, typed, f"answer to {preds[0].question}")]
    assert embedder.calls[-1] == ["can i refreeze thawed shrimp"]


async def test_embedding_candidates_still_pass_the_verifier() -> None:
    recall = Recall(BagOfWords())
    # Identical words, so identical vectors: "when" vs "where", and a swapped direction.
    for asked, predicted in [
        ("Where does the party start?", "When does the party start?"),
        ("How do I convert miles to km?", "How do I convert km to miles?"),
    ]:
        result = await recall.match(asked, [prediction(predicted)])
        assert result.score >= 0.8 and result.hit is None and result.reason


async def test_an_embedding_failure_serves_nothing_then_falls_back_to_lexical(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recall = Recall(BagOfWords(error=EmbeddingError("the embedding server is down")))
    question, predicted = "how long should i bake the cake", "How long should I bake the cake?"
    with caplog.at_level(logging.WARNING):
        first = await recall.match(question, [prediction(predicted)])
    assert first.hit is None and first.error and "down" in first.error  # never served on an error
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "sleepchat doctor" in warnings[0].getMessage()
    assert recall.method == "lexical" and "embedding failed" in recall.description
    again = await recall.match(question, [prediction(predicted)])
    assert again.hit is not None and again.method == "lexical"
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1  # one line


@pytest.mark.parametrize(
    "vectors",
    [
        [[float("nan")] * 4, [1.0, 0, 0, 0]],  # not finite
        [[0.0] * 4, [1.0, 0, 0, 0]],  # a zero vector
        [[1.0, 0, 0, 0]],  # one vector short
        [[1.0, 0, 0, 0], [1.0, 0, 0]],  # sizes differ
    ],
)
async def test_garbage_vectors_count_as_a_failure_not_a_score(vectors: list[list[float]]) -> None:
    class Garbage(BagOfWords):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return vectors

    recall = Recall(Garbage())
    result = await recall.match("Which games?", [prediction("Which games?")])
    assert result.hit is None and result.error is not None and recall.method == "lexical"


async def test_vectors_of_another_model_are_recomputed() -> None:
    p = prediction("How long should I bake the cake?")
    p.embedding, p.embed_model = [1.0, 0.0], "an older model"
    embedder = BagOfWords()
    result = await Recall(embedder).match("How long should I bake the cake?", [p])
    assert result.hit is p and embedder.calls == [[p.question, p.question]]

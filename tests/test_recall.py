"""Recall: calibrated for precision. Paraphrases of a predicted question should hit; look-alike
questions (same words, a different question) must never hit — a wrong cached answer is worse
than no cached answer. Run with -s to see the recall figures."""

from __future__ import annotations

import hashlib
import logging
import math
import re

import pytest

from sleepchat.core.models import Prediction
from sleepchat.core.recall import (
    DEFAULT_THRESHOLDS,
    Recall,
    content_words,
    intent,
    lexical_similarity,
)
from sleepchat.llm.base import BackendUnreachable
from sleepchat.llm.fake import FakeBackend

PARAPHRASES = [
    ("How long should the cake bake?", "How long do I bake the cake for?"),
    ("When should I start fertilizing?", "When do I start fertilizing them?"),
    ("How often should I water the tomatoes?", "How often do tomatoes need watering?"),
    ("What temperature should the oven be?", "What oven temperature should I use?"),
    ("How many guests should I invite?", "How many people should I invite?"),
    ("Can I freeze the leftover soup?", "Is it okay to freeze leftover soup?"),
    ("What time does the party start?", "When does the party start?"),
    ("How do I reset my router?", "How can I reset the router?"),
    ("Which Python version should I install?", "What version of Python should I install?"),
    ("How much does the train ticket cost?", "What is the price of a train ticket?"),
    ("Should I use a virtual environment?", "Do I need to use a virtual environment?"),
    ("How do I install the dependencies?", "how to install dependencies"),
    ("Where should I store the config file?", "Where do I put the config file?"),
    ("What are the side effects of ibuprofen?", "Does ibuprofen have side effects?"),
    ("How long does the flight to Tokyo take?", "How long is the flight to Tokyo?"),
    ("Why is my sourdough starter not rising?", "Why isn't my sourdough starter rising?"),
    ("What should I pack for the hiking trip?", "What do I need to pack for the hike?"),
    ("How do I fix a merge conflict in git?", "How can I resolve a git merge conflict?"),
    (
        "Is it safe to run the migration on production?",
        "Can I safely run the migration in production?",
    ),
    ("How many calories are in an avocado?", "How many calories does an avocado have?"),
    ("When is the best time to plant garlic?", "What's the best time to plant garlic?"),
    ("How do I make the frosting thicker?", "How can I thicken the frosting?"),
    ("What should I name the function?", "What name should I give the function?"),
    ("How long should I rest the steak?", "How long do I let the steak rest?"),
    ("Can the dog eat grapes?", "Are grapes safe for the dog to eat?"),
    ("How do I begin the presentation?", "How should I start my presentation?"),
    (
        "What is the difference between a list and a tuple?",
        "What's the difference between lists and tuples?",
    ),
    ("Do I need a visa for Japan?", "Is a visa required for Japan?"),
]
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
    ("Is the museum open on Monday?", "Is the museum free on Monday?"),
    ("What should I wear to the wedding?", "What should I bring to the wedding?"),
    ("How do I sort a list in Python?", "How do I reverse a list in Python?"),
    ("How far is the beach from the hotel?", "How far is the airport from the hotel?"),
    ("When should I prune the roses?", "When should I plant the roses?"),
    ("Does the recipe need eggs?", "Does the recipe need milk?"),
    ("How long should the essay be?", "How long should the presentation be?"),
]

# More natural rewordings, kept to show the limits of a lexical matcher (not asserted per pair).
PARAPHRASES += [
    ("Will it rain tomorrow?", "Is it going to rain tomorrow?"),
    ("Can you suggest a name for my cat?", "What's a good name for my cat?"),
    ("How do I get to the station?", "What's the way to the station?"),
    ("How should I prepare for my first marathon?", "Any tips for my first marathon?"),
]
LOOKALIKES += [
    ("How do I bake the cake?", "What do I bake the cake with?"),
    ("How do I install Python?", "How do I uninstall Python?"),
    ("How long should I bake the cake?", "How long should I bake the cake without eggs?"),
]


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


def test_the_calibration_set_is_big_enough() -> None:
    assert len(PARAPHRASES) >= 20 and len(LOOKALIKES) >= 20


@pytest.mark.parametrize("predicted, asked", LOOKALIKES)
async def test_a_look_alike_never_hits(predicted: str, asked: str) -> None:
    recall = Recall()
    for q, p in ((asked, predicted), (predicted, asked)):  # both directions
        result = await recall.match(q, [prediction(p)])
        assert result.hit is None, f"false hit {lexical_similarity(q, p):.2f}: {q!r} -> {p!r}"


async def test_lexical_recall_on_paraphrases_at_the_default_threshold() -> None:
    recall = Recall()
    hits = 0
    for predicted, asked in PARAPHRASES:
        result = await recall.match(asked, [prediction(predicted)])
        hits += result.hit is not None
    rate = hits / len(PARAPHRASES)
    false = 0
    for predicted, asked in LOOKALIKES:
        false += (await recall.match(asked, [prediction(predicted)])).hit is not None
    print(
        f"\nlexical recall @ {recall.threshold}: paraphrases {hits}/{len(PARAPHRASES)} "
        f"({rate:.0%}), look-alike false hits {false}/{len(LOOKALIKES)}"
    )
    assert false == 0
    assert rate >= 0.6  # measured 22/32 when written


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
    assert lexical_similarity(a, b) >= DEFAULT_THRESHOLDS["lexical"]


def test_stopwords_alone_do_not_count() -> None:
    assert content_words("How long should the") == {}
    assert (
        lexical_similarity("How long should the party last?", "How long should the cake bake?") == 0
    )
    assert lexical_similarity("What is it?", "What is it?") == 1.0
    assert lexical_similarity("What is it?", "Why is it?") < DEFAULT_THRESHOLDS["lexical"]


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
    hit = await recall.match("How long do I bake the cake for?", preds)
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


async def test_embedding_recall_caches_prediction_vectors() -> None:
    backend = FakeBackend(embedder=bag_of_words)
    recall = Recall("embedding", backend=backend, embed_model="all-minilm")
    assert recall.threshold == DEFAULT_THRESHOLDS["embedding"]
    preds = [
        prediction("How long should I bake the cake?", "p1"),
        prediction("Which frosting?", "p2"),
    ]
    result = await recall.match("how long should i bake the cake", preds)
    assert result.hit is not None and result.hit.id == "p1" and result.method == "embedding"
    assert all(p.embedding for p in preds)
    embeds = [c for c in backend.calls if c.kind == "embed"]
    assert len(embeds[0].messages) == 3  # the question and both predictions, in one request
    await recall.match("Which frosting?", preds)
    embeds = [c for c in backend.calls if c.kind == "embed"]
    assert len(embeds[1].messages) == 1  # only the question: prediction vectors were cached


async def test_embedding_recall_keeps_the_question_kind_check() -> None:
    recall = Recall("embedding", backend=FakeBackend(embedder=bag_of_words))
    # Identical words, different question: "when" vs "where".
    result = await recall.match(
        "Where does the party start?", [prediction("When does the party start?")]
    )
    assert result.hit is None


async def test_embedding_failure_falls_back_to_lexical_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = FakeBackend(error=BackendUnreachable("down"), embedder=bag_of_words)
    recall = Recall("embedding", backend=down)
    with caplog.at_level(logging.WARNING):
        result = await recall.match(
            "How long do I bake the cake for?", [prediction("How long should the cake bake?")]
        )
    assert result.hit is not None and result.method == "lexical"
    assert "embedding recall failed" in caplog.text


async def test_a_backend_without_embeddings_means_lexical_recall_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FakeBackend()  # declares no embedding model
    with caplog.at_level(logging.WARNING):
        recall = Recall("embedding", backend=backend, threshold=0.99)
        for question in ("Which games?", "Which cake?"):
            result = await recall.match(question, [prediction("Which games?")])
            assert result.method == "lexical"
    assert recall.threshold == DEFAULT_THRESHOLDS["lexical"]  # the embedding level does not apply
    assert caplog.text.count("no embedding model") == 1
    assert "embedding recall failed" not in caplog.text
    assert [c for c in backend.calls if c.kind == "embed"] == []  # never asked


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Recall("embedding")  # no backend
    with pytest.raises(ValueError):
        Recall("fuzzy")  # type: ignore[arg-type]

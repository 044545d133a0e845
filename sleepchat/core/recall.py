"""Matching a new question to fresh predictions (DESIGN §2.8).

A false hit (a cached answer served to a different question) is worse than a miss, so both
methods are tuned for precision:

* **lexical** (default, no model): content words after normalisation (lowercase, contractions
  expanded, stopwords dropped, light stemming, a few true synonyms). Shared words count for,
  unmatched words against, and a *substitution* (each side has a word the other lacks:
  "soft yolk" vs "hard yolk", "Windows" vs "Mac") counts against twice. Filler-ish verbs weigh
  little. Negations and numbers are content.
* **embedding**: cosine of ``backend.embed`` vectors (a dedicated embedding model; the chat
  model's own embeddings are not usable). Falls back to lexical, logged, when embedding fails.

Both also compare the *kind* of question (when / where / how long / how many / yes-no ...):
"When should I feed the cat?" is not "What should I feed the cat?" however similar the words.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sleepchat.core.models import Prediction
from sleepchat.llm.base import Backend

RecallMethod = Literal["lexical", "embedding"]

# Calibrated on the paraphrase / look-alike pairs in tests/test_recall.py.
DEFAULT_THRESHOLDS: dict[str, float] = {"lexical": 0.75, "embedding": 0.8}
HINT_THRESHOLDS: dict[str, float] = {"lexical": 0.34, "embedding": 0.6}
INTENT_CONFLICT = 0.5  # score factor when the two questions ask for different things


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CONTRACTIONS = [
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"'m\b", " am"),
    (r"'s\b", " is"),  # "what's", "it's" (a possessive "'s" is dropped as a stopword anyway)
]

STOPWORDS = _wordset(
    """
    a an the this that these those there here it its itself
    them they their theirs i me my mine myself we us our
    ours you your yours he him his she her hers one ones
    is am are was were be been being do does did doing
    done have has had having can could should would will shall may
    might must ought to of in on at by for with about
    from into onto over under up down out off as than then
    so too very just really actually also even still quite rather some
    any all each every and or but if because while though although
    whether what when where who whom whose why how which please tell
    know let kindly exactly okay ok like anyway maybe perhaps thing things
    something anything stuff
    """
)
# Negations are never stopwords: "should I water it" is not "should I not water it".
WEAK_WORDS = _wordset(
    """
    need want get make use go good best better way time idea
    recommend suggest try able possible usually generally typical typically normal normally
    """
)
WEAK = 0.3

# True synonyms only; anything looser would trade precision for recall.
SYNONYMS = {
    "begin": "start",
    "commence": "start",
    "purchase": "buy",
    "large": "big",
    "huge": "big",
    "little": "small",
    "tiny": "small",
    "quick": "fast",
    "quickly": "fast",
    "rapid": "fast",
    "repair": "fix",
    "resolve": "fix",
    "price": "cost",
    "utilize": "use",
    "require": "need",
    "automobile": "car",
    "finish": "end",
    "correct": "right",
    "photo": "picture",
    "pic": "picture",
    "kid": "child",
    "children": "child",
    "people": "person",
    "folk": "person",
}

_NEGATIONS = frozenset({"not", "no", "never", "nor", "without"})
_SPECIFIC_HOW = {"long", "many", "much", "often", "far", "old", "big", "soon", "fast"}
_WH = ("what", "when", "where", "who", "whom", "whose", "why", "which", "how")
_AUX = _wordset(
    """
    is am are was were do does did can could should would
    will shall may might must have has had
    """
)


def _expand(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text)
    return text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", _expand(text))


def stem(word: str) -> str:
    """A light suffix stripper: enough to make inflections meet, never aggressive."""
    if word.isdigit() or len(word) <= 3:
        return word
    w = word
    if len(w) > 6:
        w = re.sub(r"is(e|es|ed|ing|ation|ations)$", r"iz\1", w)  # British spelling
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed", "ly"):
        # Keep a stem of 3+ letters, and "need", "feed", "seed" whole.
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("eed"):
            w = w[: -len(suffix)]
            if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # running -> run
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]  # bake/baking/baked -> bak
    return w


_SYNONYM_STEMS = {stem(k): stem(v) for k, v in SYNONYMS.items()}


def intent(text: str) -> str:
    """What kind of answer the question asks for."""
    words = _words(text)
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "how":
            if nxt in _SPECIFIC_HOW:
                return f"how {nxt}"
            if nxt == "come":
                return "why"
            return "how"
        if w == "what":
            # "what time / what's the best day" ask when; "what is the price" asks how much.
            ahead = set(words[i + 1 : i + 5])
            if ahead & {"time", "day", "date", "year", "month"}:
                return "when"
            if ahead & {"price", "cost"}:
                return "how much"
        if w == "what" and nxt in {"place", "city", "country"}:
            return "where"
        if w in {"whom", "whose"}:
            return "who"
        if w in _WH:
            return "what" if w == "which" else w
    if words and words[0] in _AUX:
        return "yesno"
    return "other"


def _compatible(a: str, b: str) -> bool:
    # "How do I bake it?" is not "What do I bake it with?": only an unmarked request
    # ("Tell me about Rome") goes with any kind.
    return a == b or "other" in (a, b)


def _negated(text: str) -> bool:
    return any(w in _NEGATIONS for w in _words(text))


def _kind_factor(a: str, b: str) -> float:
    """1 when both ask the same kind of thing, less when not (or when one is negated)."""
    same = _compatible(intent(a), intent(b)) and _negated(a) == _negated(b)
    return 1.0 if same else INTENT_CONFLICT


def content_words(text: str) -> dict[str, float]:
    """Normalised content words with their weights."""
    out: dict[str, float] = {}
    words = _words(text)
    for i, w in enumerate(words):
        if w == "how" or (i > 0 and words[i - 1] == "how" and w in _SPECIFIC_HOW | {"come"}):
            continue  # part of the question kind, compared separately
        if w == "what" or (i > 0 and words[i - 1] == "what" and w in {"time", "day", "date"}):
            continue
        if w in STOPWORDS:
            continue
        s = _SYNONYM_STEMS.get(stem(SYNONYMS.get(w, w)), stem(SYNONYMS.get(w, w)))
        weight = WEAK if w in WEAK_WORDS or s in WEAK_WORDS else 1.0
        out[s] = max(out.get(s, 0.0), weight)
    return out


def _near(a: str, b: str) -> bool:
    """One typo apart (only for longer words; numbers must match exactly)."""
    if min(len(a), len(b)) < 6 or abs(len(a) - len(b)) > 1 or a.isdigit() or b.isdigit():
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def lexical_similarity(a: str, b: str) -> float:
    """Similarity of two questions in [0, 1], built for precision (see the module doc)."""
    wa, wb = content_words(a), content_words(b)
    kind_factor = _kind_factor(a, b)
    if not wa or not wb:
        same = not wa and not wb and " ".join(_words(a)) == " ".join(_words(b))
        return kind_factor if same else 0.0
    only_a = {w: v for w, v in wa.items() if w not in wb}
    only_b = {w: v for w, v in wb.items() if w not in wa}
    matched = sum(min(v, wb[w]) for w, v in wa.items() if w in wb)
    for w in list(only_a):  # typos: "tomatos" meets "tomatoes"
        partner = next((x for x in only_b if _near(w, x)), None)
        if partner is not None:
            matched += min(only_a.pop(w), only_b.pop(partner))
    if matched <= 0:
        return 0.0
    extra_a, extra_b = sum(only_a.values()), sum(only_b.values())
    # A substitution (both sides have unmatched words) is how look-alikes differ: count it twice.
    penalty = extra_a + extra_b + min(extra_a, extra_b)
    return kind_factor * matched / (matched + penalty)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@dataclass
class RecallResult:
    hit: Prediction | None
    score: float  # the best score (of the hit, or of the best near miss; 0 with nothing)
    near: list[tuple[Prediction, float]] = field(default_factory=list)  # above the hint level
    method: RecallMethod = "lexical"  # the method that actually ran (after any fallback)


class Recall:
    def __init__(
        self,
        method: RecallMethod = "lexical",
        threshold: float | None = None,
        backend: Backend | None = None,
        embed_model: str | None = None,
        *,
        hint_threshold: float | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        if method not in DEFAULT_THRESHOLDS:
            raise ValueError(f"unknown recall method {method!r}: use 'lexical' or 'embedding'")
        if method == "embedding" and backend is None:
            raise ValueError("embedding recall needs a backend")
        self.log = log or logging.getLogger("sleepchat.recall")
        if method == "embedding" and backend is not None and not backend.capabilities.embeddings:
            # Said once, here, rather than failing (and warning) at every question.
            self.log.warning(
                "the %s backend has no embedding model; recall uses lexical matching", backend.name
            )
            method, threshold, hint_threshold = "lexical", None, None
        self.method: RecallMethod = method
        self.threshold = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
        self.hint_threshold = HINT_THRESHOLDS[method] if hint_threshold is None else hint_threshold
        self.backend = backend
        self.embed_model = embed_model

    @staticmethod
    def lexical_similarity(a: str, b: str) -> float:
        return lexical_similarity(a, b)

    async def rank(
        self, question: str, predictions: Sequence[Prediction]
    ) -> list[tuple[Prediction, float]]:
        """Every prediction with its score, best first."""
        scored, _method = await self._score(question, predictions)
        return scored

    async def match(self, question: str, predictions: Sequence[Prediction]) -> RecallResult:
        scored, method = await self._score(question, predictions)
        threshold, hint = self._levels(method)
        best = scored[0] if scored else None
        hit = best[0] if best is not None and best[1] >= threshold else None
        near = [(p, s) for p, s in scored if s >= hint and p is not hit]
        return RecallResult(hit, best[1] if best else 0.0, near, method)

    def _levels(self, method: RecallMethod) -> tuple[float, float]:
        if method == self.method:
            return self.threshold, self.hint_threshold
        return DEFAULT_THRESHOLDS[method], HINT_THRESHOLDS[method]

    async def _score(
        self, question: str, predictions: Sequence[Prediction]
    ) -> tuple[list[tuple[Prediction, float]], RecallMethod]:
        if not predictions:
            return [], self.method
        if self.method == "embedding":
            try:
                scored = await self._embedding_scores(question, predictions)
                return _best_first(scored), "embedding"
            except Exception as exc:  # any embedding failure: lexical still works, and says so
                self.log.warning("embedding recall failed (%s); using lexical matching", exc)
        return _best_first([(p, lexical_similarity(question, p.question)) for p in predictions]), (
            "lexical"
        )

    async def _embedding_scores(
        self, question: str, predictions: Sequence[Prediction]
    ) -> list[tuple[Prediction, float]]:
        assert self.backend is not None
        # Cached on the prediction; recomputed when the model (vector size) changed.
        missing = [p for p in predictions if not p.embedding]
        vectors = await self.backend.embed(
            [question, *(p.question for p in missing)], model=self.embed_model
        )
        if len(vectors) != len(missing) + 1:
            raise ValueError(f"expected {len(missing) + 1} vectors, got {len(vectors)}")
        q = vectors[0]
        for p, v in zip(missing, vectors[1:], strict=True):
            p.embedding = list(v)
        stale = [p for p in predictions if p.embedding is not None and len(p.embedding) != len(q)]
        if stale:
            fresh = await self.backend.embed([p.question for p in stale], model=self.embed_model)
            for p, v in zip(stale, fresh, strict=True):
                p.embedding = list(v)
        out: list[tuple[Prediction, float]] = []
        for p in predictions:
            assert p.embedding is not None
            out.append((p, _kind_factor(question, p.question) * cosine(q, p.embedding)))
        return out


def _best_first(scored: list[tuple[Prediction, float]]) -> list[tuple[Prediction, float]]:
    return sorted(scored, key=lambda ps: ps[1], reverse=True)

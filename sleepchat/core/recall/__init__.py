"""Matching a new question to fresh predictions (docs/architecture.md, Recall), in two stages.

A false hit (a cached answer served to a different question) is worse than a miss:

1. **Candidates by meaning**: the cosine of sentence vectors from a dedicated embedding model
   (the ``Embedder`` port), or, without one, word overlap (``lexical_similarity``). Both rank
   predictions and drop the unrelated ones, but neither can tell a look-alike from a paraphrase:
   "convert miles to km" and "convert km to miles" are 0.997 cosine apart.
2. **The verifier** (``verify.py``) decides, failing closed: a number, unit, negation, person,
   tense or preposition role that differs means no hit; two questions that differ in form only
   are a hit; anything else goes to the ``Judge`` port when there is one (at most one judge call
   per question), and is a miss without it.

An embedding failure (no model, a broken file, a server error) serves nothing for that
question, logs one line and switches to word overlap for the rest of the run.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from sleepchat.core.models import Prediction
from sleepchat.core.ports import Embedder, Judge, ModelOptions, Ranker
from sleepchat.core.recall import in_context
from sleepchat.core.recall.question import compatible_kinds, expand, kind_of, stem
from sleepchat.core.recall.slips import one_slip, respelled, words_of
from sleepchat.core.recall.verify import SYNONYM_STEMS, SYNONYMS, Verdict, Verifier
from sleepchat.core.recall.wordlists import SPECIFIC_HOW
from sleepchat.errors import one_line

RecallMethod = Literal["lexical", "embedding"]

# Candidate levels, chosen on the tune half of sleepchat/data/recall_tune.jsonl: the lowest score
# of a verified paraphrase there was 0.65 cosine / 0.25 overlap (typos cost the most).
DEFAULT_THRESHOLDS: dict[str, float] = {"lexical": 0.2, "embedding": 0.6}
# Predictions this close but not served go to the model as hints.
HINT_THRESHOLDS: dict[str, float] = {"lexical": 0.34, "embedding": 0.6}
INTENT_CONFLICT = 0.5  # score factor when the two questions ask for different things


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


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

_NEGATIONS = frozenset({"not", "no", "never", "nor", "without"})
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", expand(text))


def intent(text: str) -> str:
    """What kind of answer the question asks for (see ``question.kind_of``)."""
    return kind_of(text)


def _negated(text: str) -> bool:
    return any(w in _NEGATIONS for w in _words(text))


def _kind_factor(a: str, b: str) -> float:
    """1 when both ask the same kind of thing, less when not (or when one is negated)."""
    same = compatible_kinds(intent(a), intent(b)) and _negated(a) == _negated(b)
    return 1.0 if same else INTENT_CONFLICT


# Remembered, read-only: the reflection's checks compare each candidate with every message, so
# one long message (a 1 MB paste) was taken apart dozens of times per reflection (20 s of CPU).
@functools.lru_cache(maxsize=64)
def content_words(text: str) -> Mapping[str, float]:
    """Normalised content words with their weights."""
    out: dict[str, float] = {}
    words = _words(text)
    for i, w in enumerate(words):
        if w == "how" or (i > 0 and words[i - 1] == "how" and w in SPECIFIC_HOW | {"come"}):
            continue  # part of the question kind, compared separately
        if w == "what" or (i > 0 and words[i - 1] == "what" and w in {"time", "day", "date"}):
            continue
        if w in STOPWORDS:
            continue
        s = SYNONYM_STEMS.get(stem(SYNONYMS.get(w, w)), stem(SYNONYMS.get(w, w)))
        weight = WEAK if w in WEAK_WORDS or s in WEAK_WORDS else 1.0
        out[s] = max(out.get(s, 0.0), weight)
    return MappingProxyType(out)


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
        partner = next((x for x in only_b if one_slip(w, x)), None)
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
    score: float  # the best candidate score (of the hit, or of the best near miss; 0 with none)
    near: list[tuple[Prediction, float]] = field(default_factory=list)  # above the hint level
    method: RecallMethod = "lexical"  # the method that actually ran (after any fallback)
    reason: str = ""  # why the best candidate was not served (empty on a hit)
    error: str | None = None  # the embedding failure that made this match serve nothing
    judged: bool = False  # the hit was the judge's decision, not the word rules'


# Sentence vectors kept in memory (about 1.5 KB each with the built-in model).
VECTOR_CACHE = 20_000
EMBED_STEP = 256  # new texts embedded per step (about 0.7 s with the built-in model)
JUDGE_PREPARED = 7  # the newest predictions the judge readies itself for while idle
# Verdicts kept: a question judged while it was typed is not judged again when it is sent.
VERDICTS = 64


class Recall:
    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        threshold: float | None = None,
        hint_threshold: float | None = None,
        verifier: Verifier | None = None,
        judge: Judge | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.embedder = embedder
        self._threshold = threshold
        self._hint_threshold = hint_threshold
        self.verifier = verifier or Verifier.default()
        self.judge = judge
        self.log = log or logging.getLogger("sleepchat.recall")
        self.failure: str | None = None  # why embedding recall stopped (None: it did not)
        self._vectors: dict[str, list[float]] = {}  # text -> vector (this model's)
        self._seen: set[str] = set()  # texts ranked before: their vectors are kept
        # (judge, predicted, its answer, asked) -> the judge's verdict: the same pair is the
        # same question to the same judge, so a draft's verdict stands when the draft is sent.
        # Keyed by the judge's id, the judge kept beside its verdicts so that id is not reused.
        self._verdicts: OrderedDict[tuple[object, ...], tuple[Judge, bool]] = (
            OrderedDict()
        )

    @property
    def method(self) -> RecallMethod:
        """The method in use now: embedding while a model is there and has not failed."""
        return "embedding" if self.embedder is not None and self.failure is None else "lexical"

    @property
    def description(self) -> str:
        """One line for doctor and the status line."""
        if self.method == "embedding":
            assert self.embedder is not None
            return f"embedding: {self.embedder.name}"
        if self.failure is not None:
            return f"lexical (embedding failed: {self.failure})"
        return "lexical"

    @property
    def threshold(self) -> float:
        return DEFAULT_THRESHOLDS[self.method] if self._threshold is None else self._threshold

    @property
    def hint_threshold(self) -> float:
        if self._hint_threshold is not None:
            return self._hint_threshold
        return HINT_THRESHOLDS[self.method]

    @staticmethod
    def lexical_similarity(a: str, b: str) -> float:
        return lexical_similarity(a, b)

    def check(self, predicted: str, asked: str) -> Verdict:
        """The verifier alone: may the answer to ``predicted`` serve ``asked``?"""
        return self.verifier.check(predicted, asked)

    async def rank(
        self, question: str, predictions: Sequence[Prediction]
    ) -> list[tuple[Prediction, float]]:
        """Every prediction with its candidate score, best first."""
        scored, _method, _error = await self._score(question, predictions)
        return scored

    async def match(
        self,
        question: str,
        predictions: Sequence[Prediction],
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> RecallResult:
        """The prediction that answers ``question``, if any; ``options``: the session's model
        options, for a judge's requests; ``context``: the last exchange (the user's message
        and the reply), for a follow-up that leaves out what it says."""
        scored, method, error = await self._score(question, predictions)
        if error is not None:
            return RecallResult(None, 0.0, [], method, "embedding failed", error)
        threshold, hint = self.threshold, self.hint_threshold
        hit: Prediction | None = None
        judged, asked_judge = False, False
        reason = "no candidate" if not scored or scored[0][1] < threshold else ""
        shortened = self._shortened(question, scored, context)
        for p, s in scored:
            if s < threshold:
                break
            verdict = self.verifier.check(p.question, question)
            if verdict.same:
                hit, reason = p, ""
                break
            usable = self.judge is not None and p is not shortened  # that one: in context
            if verdict.judge and usable and not asked_judge:
                asked_judge = True
                if await self._judged_same(p, question, options):
                    hit, reason, judged = p, "", True
                    break
                reason = reason or f"judge: another question ({verdict.reason})"
            reason = reason or verdict.reason
        if hit is None and shortened is not None:
            if await self._judged_same(shortened, question, options, context):
                hit, reason, judged = shortened, "", True
            else:
                reason = "judge: another question in the last exchange"
        near = [(p, s) for p, s in scored if s >= hint and p is not hit]
        best = next((s for p, s in scored if p is hit), scored[0][1] if scored else 0.0)
        return RecallResult(hit, best, near, method, reason, judged=judged)

    def _shortened(
        self,
        question: str,
        scored: Sequence[tuple[Prediction, float]],
        context: Sequence[str],
    ) -> Prediction | None:
        """The best-scored prediction ``question`` is, with words of the last exchange left
        out, when a judge may weigh it there. Any score: a short follow-up scores low against
        the prediction that spells it out."""
        if not context or self.judge is None or not self.judge.judges_exchanges:
            return None
        said = in_context.context_words(self.verifier, context)
        for p, _score in scored:
            if in_context.left_out(self.verifier, p.question, question, said):
                return p
        return None

    def hints(self, question: str, result: RecallResult, count: int) -> list[tuple[str, str]]:
        """Up to ``count`` nearly matched predictions' questions and answers for a miss's
        request; never one the rules veto (another number, month, person...): its answer is
        about something else, and a small model copies it."""
        out: list[tuple[str, str]] = []
        for p, _score in result.near:
            if len(out) >= count:
                break
            verdict = self.verifier.check(p.question, question)
            if p.answer and (verdict.same or verdict.judge):
                out.append((p.question, p.answer))
        return out

    async def _judged_same(
        self,
        p: Prediction,
        question: str,
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> bool:
        judge = self.judge
        assert judge is not None
        key = (id(judge), p.question, p.answer, question, tuple(context))
        if key in self._verdicts:
            self._verdicts.move_to_end(key)
            return self._verdicts[key][1]
        try:
            same = await judge.same(p.question, question, p.answer, options, context)
        except Exception as exc:  # a failed judge serves nothing, the question goes on
            self.log.info("the recall judge failed: %s", _one_line(exc))
            return False  # not kept: the next time may not fail
        self._verdicts[key] = (judge, same)
        while len(self._verdicts) > VERDICTS:
            self._verdicts.popitem(last=False)
        return same

    async def prepare_judge(
        self,
        predictions: Sequence[Prediction],
        options: ModelOptions | None = None,
        context: Sequence[str] = (),
    ) -> None:
        """While idle: the judge readies itself for the questions predicted with an answer (an
        intent's answers are matched by the intent, never judged); ``options``: the session's;
        ``context``: the last exchange, as the next question will be matched in it."""
        ready = [p.question for p in predictions if p.answer and p.intent is None]
        if self.judge is None or not ready:
            return
        try:
            await self.judge.prepare(ready[-JUDGE_PREPARED:], options, context)
        except Exception as exc:  # judging then evaluates those starts itself: slower, not wrong
            self.log.info("the recall judge could not prepare: %s", _one_line(exc))

    async def similarities(
        self, query: str, texts: Sequence[str], *, new_at_most: int | None = None
    ) -> list[float] | None:
        """The cosine of ``query`` with each of ``texts`` (the user's memory ranks by them);
        None without a working embedding model, and a failure only logs (words rank then).
        ``new_at_most``: None too when more texts than that were never embedded (a question
        does not wait for thousands of them: idle time embeds them)."""
        if self.method != "embedding" or not texts:
            return None
        new = [t for t in texts if t not in self._seen]
        if new_at_most is not None and len(new) > new_at_most:
            return None
        if isinstance(self.embedder, Ranker):
            try:
                # Thousands of new texts are read a batch per step: a key cancels between
                # two, not after all of them.
                for start in range(0, len(new) if len(new) > EMBED_STEP else 0, EMBED_STEP):
                    await self.embedder.similarities(query, new[start : start + EMBED_STEP])
                found = list(await self.embedder.similarities(query, texts))
            except Exception as exc:  # ranking falls back to shared words
                self.log.info("could not rank the user's memory now: %s", _one_line(exc))
                return None
        else:
            vectors = await self.vectors([query, *texts])
            if vectors is None:
                return None
            found = [cosine(vectors[0], v) for v in vectors[1:]]
        if len(self._seen) + len(new) > VECTOR_CACHE:
            self._seen = set()
        self._seen.update(new)
        return found

    async def vectors(self, texts: Sequence[str]) -> list[list[float]] | None:
        """Sentence vectors of ``texts`` from the embedding model (the user's memory ranks by
        them); None without a working one, and a failure only logs (words rank then)."""
        if self.method != "embedding" or not texts:
            return None
        assert self.embedder is not None
        # Memory items are ranked again at every idle period: each text is embedded once.
        known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        try:
            if missing:
                found = _checked(await self.embedder.embed(missing), len(missing))
                known.update(zip(missing, found, strict=True))
        except Exception as exc:  # ranking falls back to shared words
            self.log.info("could not embed for the user's memory now: %s", _one_line(exc))
            return None
        if len(self._vectors) + len(missing) > VECTOR_CACHE:
            self._vectors = {}
        self._vectors.update(known)
        return [known[t] for t in texts]

    async def embedding(self, text: str) -> tuple[list[float], str] | None:
        """``text``'s vector and the model's name, computed while idle so a match embeds only
        the question; None without a working model."""
        if self.method != "embedding":
            return None
        assert self.embedder is not None
        try:
            (vector,) = _checked(await self.embedder.embed([text]), 1)
        except Exception as exc:  # matching will retry, or fall back
            self.log.info("could not embed a prediction now: %s", _one_line(exc))
            return None
        return vector, self.embedder.name

    async def _score(
        self, question: str, predictions: Sequence[Prediction]
    ) -> tuple[list[tuple[Prediction, float]], RecallMethod, str | None]:
        if not predictions:
            return [], self.method, None
        if self.method == "embedding":
            try:
                return _best_first(await self._embedding_scores(question, predictions)), (
                    "embedding"
                ), None
            except Exception as exc:  # any failure: nothing served now, words from now on
                self.failure = _one_line(exc)
                self.log.warning(
                    "embedding recall failed (%s); matching words from now on — "
                    "`sleepchat doctor` checks the embedding model",
                    self.failure,
                )
                scored = [(p, lexical_similarity(question, p.question)) for p in predictions]
                return _best_first(scored), "lexical", self.failure
        scored = [(p, lexical_similarity(question, p.question)) for p in predictions]
        return _best_first(scored), "lexical", None

    async def _embedding_scores(
        self, question: str, predictions: Sequence[Prediction]
    ) -> list[tuple[Prediction, float]]:
        assert self.embedder is not None
        name = self.embedder.name
        # Vectors are cached on the prediction; another model's vectors are recomputed.
        missing = [p for p in predictions if not p.embedding or p.embed_model != name]
        texts = [question, *(p.question for p in missing)]
        vectors = _checked(await self.embedder.embed(texts), len(texts))
        asked = [vectors[0]]
        for p, v in zip(missing, vectors[1:], strict=True):
            p.embedding, p.embed_model = v, name
        # Slips of the predictions' words move a short question far from its meaning (a
        # question of five words, three with a slip, scored 0.43 against its prediction): the
        # question with them read as those words is a candidate's vector too (the verifier
        # still reads it as typed).
        fixed = self._respelled(question, predictions)
        if fixed != question:
            asked += _checked(await self.embedder.embed([fixed]), 1)
        out: list[tuple[Prediction, float]] = []
        for p in predictions:
            assert p.embedding is not None
            if any(len(p.embedding) != len(q) for q in asked):
                raise ValueError("a stored prediction vector has another size")
            out.append((p, max(cosine(q, p.embedding) for q in asked)))
        return out

    def _respelled(self, question: str, predictions: Sequence[Prediction]) -> str:
        lexicon = self.verifier.lexicon
        if lexicon is None:
            return question
        return respelled(question, words_of(p.question for p in predictions), lexicon.__contains__)


def _checked(vectors: Sequence[Sequence[float]], expected: int) -> list[list[float]]:
    """The vectors as lists, or ValueError: a wrong count, empty or non-finite vectors, or
    vectors of different sizes are a broken model, not a score."""
    out = [[float(x) for x in v] for v in vectors]
    if len(out) != expected:
        raise ValueError(f"expected {expected} vectors, got {len(out)}")
    if not out or not out[0] or any(len(v) != len(out[0]) for v in out):
        raise ValueError("the embedding model returned vectors of no or different sizes")
    if not all(math.isfinite(x) for v in out for x in v) or not all(any(v) for v in out):
        raise ValueError("the embedding model returned non-finite or zero vectors")
    return out


def _one_line(exc: BaseException) -> str:
    return one_line(str(getattr(exc, "message", None) or exc or type(exc).__name__), 200)


def _best_first(scored: list[tuple[Prediction, float]]) -> list[tuple[Prediction, float]]:
    return sorted(scored, key=lambda ps: ps[1], reverse=True)

"""The recall verifier (docs/architecture.md, Recall): may a cached answer to one question
serve another?

Candidates come by meaning (embedding cosine, or word overlap); look-alikes score as high as
paraphrases there (a swapped direction is 0.997 cosine), so this check decides, in three ways:

- **veto**: a number, unit, negation, person, tense, question kind, preposition role or word
  order that differs means no, whatever else agrees;
- **approve**: only when the two differ in form alone: case, punctuation, contractions and chat
  spellings, articles, politeness and filler, numbers and units written differently, the two
  sides of a symmetric "A or B";
- **ask the judge**: anything else. Stemming, typo correction, synonyms and word abbreviations
  decide which pairs are worth asking (those that still line up word for word after them), never
  that a pair is the same: "hop" and "hope" stem alike, a product name missing from the
  vocabulary looks like a typo of another, not every "resolve" is "fix". Without a judge such a
  pair is a miss. One exception: a word neither word list knows, one slip of the finger from
  the known word the other question has ("recomended"), is that word; a pair that differs in
  nothing else is the same.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import itertools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from sleepchat.core.recall.lined_up import (
    Spelling,
    doubled,
    generic,
    inflection_clash,
    names,
    negation_moved,
    one_word,
    passives,
    unknown,
    unpaired_clash,
)
from sleepchat.core.recall.markers import (
    modifier_marked,
    noun_modifier,
    opposite_roles,
    role_dropped,
)
from sleepchat.core.recall.narrower import narrowed, restricted
from sleepchat.core.recall.question import (
    CLOSED_CLASS,
    KIND_NOUNS,
    Question,
    Token,
    compatible_kinds,
    form_words,
    parse,
    request_verbs,
    spelling,
    stem,
)
from sleepchat.core.recall.slips import one_slip, respelled, vowel_for_vowel, words_of
from sleepchat.core.recall.word_order import reordered
from sleepchat.core.recall.wordlists import (
    AUX,
    CLAUSE_BREAKS,
    COORDINATORS,
    DETERMINERS,
    FILLER,
    INTERJECTIONS,
    MARKERS,
    PARTICIPLES,
    PASTS,
    PERSON,
    UNIT_NAMES,
    WH,
)

# Synonyms (both directions): they line two questions up for the judge and the candidate score,
# never approve on their own (not every "resolve" is "fix").
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
    "finish": "end",
    "price": "cost",
    "utilize": "use",
    "require": "need",
    "automobile": "car",
    "photo": "picture",
    "kid": "child",
    "children": "child",
    "people": "person",
}
SYNONYM_STEMS = {stem(k): stem(v) for k, v in SYNONYMS.items()}
# Chat shorthand that is also a number: resolved only where the other question has the word
# at the same place ("passport 2 go" / "passport to go"); "2 cups" stays a number.
_NUMBER_SHORTHAND = {"2": "to", "4": "for"}
# Politeness and filler can triple a question's length; much more is another question.
MAX_SLACK = 120


@functools.cache  # read once: every verifier and the catalogues' typo reading share it
def load_lexicon() -> frozenset[str]:
    """Whole words of the shipped WordPiece vocabulary: a word found there is not a typo."""
    text = resources.files("sleepchat.data").joinpath("minilm-vocab.txt").read_text("utf-8")
    return frozenset(w for w in text.splitlines() if w.isalpha())


@functools.cache
def load_dictionary() -> frozenset[str]:
    """The shipped English word list (scowl-words.NOTICE says whence): two words found there
    and spelt alike are two words, not a typo of one."""
    text = resources.files("sleepchat.data").joinpath("scowl-words.txt").read_text("utf-8")
    return frozenset(text.split())


@dataclass(frozen=True)
class Verdict:
    same: bool
    reason: str  # why not (empty when same): one short phrase, for the bench and the log
    judge: bool = False  # not the same by form, not vetoed either: a judge may decide
    added: bool = False  # the words one question lacks are all the other's additions


SAME = Verdict(True, "")
# The verdict on two questions that line up word for word once stems, typos and synonyms are
# read: a judge may decide them, at a level of their own (calibration.py says why).
ALIGNED = "same words only after stems, typos or synonyms"


def judge_kind(verdict: Verdict) -> str:
    """Which of the judge's calibrated kinds a verdict left open is: "aligned", "added" (one
    question is the other with words added: "how do I cook quinoa at high altitude") or
    "words"."""
    if verdict.reason == ALIGNED or verdict.reason.startswith("role of"):  # every word pairs
        return "aligned"
    return "added" if verdict.added else "words"


# The words a slip of the finger is read back to, in a fixed order (sorted once, not per word):
# the closed classes, the nouns that decide a kind and the persons ("thier", "yuor").
_FIXABLE = tuple(sorted(CLOSED_CLASS | KIND_NOUNS | frozenset(PERSON)))


class Verifier:
    """Compares two questions; ``lexicon`` enables typo matching (None: exact words only)."""

    def __init__(
        self, lexicon: frozenset[str] | None = None, dictionary: frozenset[str] = frozenset()
    ) -> None:
        self.lexicon = lexicon
        self.dictionary = dictionary
        # words both lists know are words, not shorthand ("win", "car")
        self._common = dictionary & lexicon if lexicon is not None else dictionary
        self._cache: dict[str, Question] = {}

    @classmethod
    def default(cls) -> Verifier:
        return cls(load_lexicon(), load_dictionary())

    def parse(self, text: str) -> Question:
        q = self._cache.get(text)
        if q is None:
            if len(self._cache) > 256:
                self._cache.clear()
            q = self._cache[text] = parse(text, self._fix)
        return q

    def _fix(self, word: str) -> str:
        """A misspelt closed-class word ("lnog" after "how") read as the word meant."""
        if self.lexicon is None or word in self.lexicon or not word.isalpha():
            return word
        return next((w for w in _FIXABLE if _swapped(word, w)), word)

    def check(self, predicted: str, asked: str) -> Verdict:
        if max(len(predicted), len(asked)) > 3 * min(len(predicted), len(asked)) + MAX_SLACK:
            return Verdict(False, "lengths differ")  # and a pasted essay is never re-parsed
        verdict = self._check(predicted, asked)
        if verdict.same or verdict.judge:
            return verdict
        # A remark told after the question ("...? mine just cracked", "...? got one
        # yesterday"): the questions compared without it; if they are the same, what it adds
        # is the judge's to weigh (it may change the answer), never served by form.
        told_p, told_a = without_remark(predicted), without_remark(asked)
        if (told_p, told_a) != (predicted, asked):
            plain = self._check(told_p, told_a)
            if plain.same or plain.judge:
                return Verdict(False, REMARK, judge=True, added=True)
            return verdict
        # A phrase put in front ("Each night, how many hours ...?"): the questions compared with
        # it where it usually goes, at the end; the judge's, as any other order of the words.
        back_p, back_a = _fronted_to_end(predicted), _fronted_to_end(asked)
        if (back_p, back_a) != (predicted, asked):
            moved = self._check(back_p, back_a)
            if moved.same or (moved.judge and not moved.added):
                return Verdict(False, ALIGNED, judge=True)
        return verdict

    def _check(self, predicted: str, asked: str) -> Verdict:
        # each side written as the other writes it: "follow up" / "follow-up", "1 cup" / "a cup",
        # "a 30-minute swim" / "30 minutes"
        for as_said in (hyphened, one_as_a, measure_as_said):
            predicted, asked = as_said(predicted, asked), as_said(asked, predicted)
        a, b = self.parse(predicted), self.parse(asked)
        named_p, named_a = names(predicted), names(asked)
        spelt = Spelling(self.lexicon, named_p | named_a, dictionary=self.dictionary)
        verdict = compare(a, b, self._typo, spelt)
        if not (verdict.same or verdict.judge):
            # Shorthand read back only opens a pair the words as written veto; a pair the
            # judge weighs as written keeps its level ("nyc" for "new york city").
            read_a, read_b = _shorthand(a, b, self._common), _shorthand(b, a, self._common)
            if read_a is not a or read_b is not b:
                verdict = compare(read_a, read_b, self._typo, spelt)
        if verdict.same and same_form(predicted, asked):
            return verdict
        # A slip of the finger read back makes the two one form: the same, whatever the words
        # as typed said ("how do I tecah my ferret to stop nipping" misses the verb that makes
        # "teach it to stop nipping" read as "stop it from nipping").
        slipped = self._slipped(predicted, asked, named_p, named_a)
        if slipped or self._slipped(asked, predicted, named_a, named_p):
            return SAME
        return Verdict(False, ALIGNED, judge=True) if verdict.same else verdict

    def _slipped(
        self, right: str, typed: str, right_names: frozenset[str], typed_names: frozenset[str]
    ) -> bool:
        """``typed`` is ``right`` in form once each of its words that no word list knows is
        read as the known word of ``right`` it is one slip from ("recomended" / "recommended").
        Both lists must not know it: "trial" is no typo of "trail", and a slip between two
        unknown words ("kubctl" / "kubectl") stays the judge's, nor is a name (``*_names``) a
        typo."""
        if self.lexicon is None:
            return False
        vocabulary = frozenset(w for w in words_of([right]) - right_names if self._known(w))
        # a vowel for a vowel only of an everyday word (the tokenizer's): a word no list knows
        # may be another of a rarer one ("butene" / "butane")
        fixed = respelled(typed, vocabulary, self._known, keep=typed_names, vowels=self.lexicon)
        return fixed != typed and same_form(right, fixed)

    def _known(self, word: str) -> bool:
        return known_word(word, self.dictionary, self.lexicon)

    def _typo(self, x: str, y: str) -> bool:
        """A misspelling: at least one of the two is not a word in either list (two words are
        two words, though the tokenizer knows neither: "grate" / "grater"). A slip of the
        finger between two non-words; a misspelt vowel ("seperate") only of a known word."""
        if self.lexicon is None or not (x.isalpha() and y.isalpha()):
            return False
        known = self._known(x) + self._known(y)
        if known == 2:
            return False
        return one_slip(x, y) or (known == 1 and vowel_for_vowel(x, y))


REMARK = "a remark after the question"
# What a remark after the question may not open with: another question ("what about
# raisins", "or should I ...", "and for cats").
_NOT_A_REMARK = re.compile(
    r"^(?:what|how|why|when|where|which|who|whose|is|are|can|could|should|would|will|do|does|"
    r"did|and|or|but|also|plus|vs|versus)\b"
)


_QUESTION_END = re.compile(r"\?+(?=\s)")


def without_remark(text: str) -> str:
    """``text`` without a short statement after its last question mark ("best glue for
    ceramic mugs? mine just cracked"); ``text`` itself when it has none."""
    ends = list(_QUESTION_END.finditer(text))  # "a?b" in a regex ends no question
    if not ends:
        return text
    head, tail = text[: ends[-1].end()], text[ends[-1].end() :]
    remark = tail.strip(" .!,;:-–—").lower()
    if not head.strip(" ?") or not remark or "?" in remark:
        return text
    if len(remark.split()) > 10 or _NOT_A_REMARK.match(remark):
        return text
    return head


def _swapped(x: str, y: str) -> bool:
    """Two neighbouring letters swapped (or one slip in a longer word): "hwo", "wehn"."""
    if (len(x) == len(y) >= 3 and x[0] == y[0]) or len(x) == len(y) == 3:
        diff = [i for i in range(len(x)) if x[i] != y[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]]:
            return x[diff[1]] == y[diff[0]]
    return one_slip(x, y)


def _shorthand(q: Question, other: Question, known: frozenset[str] = frozenset()) -> Question:
    """Read shorthand back where the other question has the full words in the same place:
    "2"/"4" as to/for, a content word's start or letters in order ("trad" / "traditional",
    "hwy" / "highway") and initials ("hdd" / "hard disk drive"). Elsewhere they stay as
    written ("2 cups")."""
    words = list(q.raw)
    changed = False
    content = {t.surface for t in q.tokens} | {t.surface for t in other.tokens}
    sm = difflib.SequenceMatcher(a=q.raw, b=other.raw, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "replace":
            continue
        # word for word ("ok 2 go" / "okay to go"), or one word for the words it stands for
        if i2 - i1 == j2 - j1:
            spans = [(i, (j1 + i - i1, j1 + i - i1 + 1)) for i in range(i1, i2)]
        else:
            spans = [(i1, (j1, j2))] if i2 - i1 == 1 else []
        for i, (start, end) in spans:
            short, full = q.raw[i], other.raw[start:end]
            if len(full) == 1 and _NUMBER_SHORTHAND.get(short) == full[0]:
                words[i] = full[0]
                changed = True
            elif {short, full[0], full[-1]} <= content and _abbreviates(
                short, full, known, measured=i > 0 and q.raw[i - 1][:1].isdigit()
            ):
                words[i] = " ".join(full)
                changed = True
    return parse_words(q.text, words) if changed else q


def _abbreviates(
    short: str, full: list[str], known: frozenset[str], measured: bool = False
) -> bool:
    """``short`` is typed for ``full``: its initials, or a much shorter start of one word
    ("trad") or its consonants in order ("hwy"). Never a common word ("win" is not "windows"),
    a word of its own ("vegan" is not "vegetarian"), a unit after a number (``measured``) or
    one read for another unit ("mb" is not "megabit"); a unit's letters with no number before
    them may stand for a word ("a kb shortcut", a keyboard's)."""
    if not short.isalpha() or len(short) < 2 or short in known:
        return False
    if short in UNIT_NAMES and (measured or any(_unit_word(w) for w in full)):
        return False
    if len(full) > 1 or any(w in UNIT_NAMES for w in full):
        # a rate's "per" is read "a" ("beats a minute"): "bpm" has its initial
        initials = all(c == w[0] or (w, c) == ("a", "p") for c, w in zip(short, full, strict=False))
        return len(full) == len(short) > 1 and initials
    word = full[0]
    if not word.isalpha() or word[0] != short[0] or len(short) > min(5, len(word) - 2):
        return False
    if word.startswith(short):
        return len(short) <= len(word) - 3  # much shorter: "whisk" is no "whisker" typed short
    letters = iter(word)
    return sum(c in "aeiou" for c in short) <= 1 and all(c in letters for c in short)


# The roots of unit names a metric prefix makes another unit of ("megabit", "kilolitre").
_UNIT_ROOTS = ("byte", "bit", "meter", "metre", "gram", "liter", "litre", "watt", "hertz", "volt")


def _unit_word(word: str) -> bool:
    return word in UNIT_NAMES or any(root in word for root in _UNIT_ROOTS)


def parse_words(text: str, words: list[str]) -> Question:
    q = parse(" ".join(words)) if words else parse(text)
    q.text = text
    return q


def _same_word(a: Token, b: Token) -> bool:
    if a.kind != b.kind:
        return False
    return a.word == b.word or SYNONYM_STEMS.get(a.word, a.word) == SYNONYM_STEMS.get(
        b.word, b.word
    )


def _pair(
    a: list[Token], b: list[Token], typo: Callable[[str, str], bool]
) -> dict[int, Token] | None:
    """Each token of ``a`` paired with one of ``b`` (by position), or None when any is left."""
    if len(a) != len(b):
        return None
    free = list(b)
    pairs: dict[int, Token] = {}
    tests: Iterable[Callable[[Token, Token], bool]] = (
        lambda x, y: x.word == y.word and x.kind == y.kind and x.role == y.role,
        lambda x, y: _same_word(x, y) and x.role == y.role,
        _same_word,
        lambda x, y: x.kind == y.kind == "word" and typo(x.surface, y.surface),
    )
    for test in tests:
        for t in a:
            if t.position in pairs:
                continue
            match = next((u for u in free if test(t, u)), None)
            if match is not None:
                pairs[t.position] = match
                free.remove(match)
    return pairs if not free else None


def _in_order(a: list[Token], pairs: dict[int, Token], strict: set[int]) -> bool:
    """Inside a phrase (same clause, role and coordination item on both sides) the words keep
    their order: "kilometres in 10 miles" is not "miles in 10 kilometres". The two sides of
    "A or B" may swap, except in a clause that negates one of them ("A and not B")."""
    runs: dict[tuple[int, str, int, int], list[int]] = {}
    for t in a:
        p = pairs[t.position]
        group = 0 if t.clause in strict else t.group
        runs.setdefault((t.clause, t.role, group, p.clause), []).append(p.position)
    return all(run == sorted(run) for run in runs.values())


def _method(a: Question, b: Question) -> bool:
    """Both ask how to do something: the doer and whose thing it is do not change the steps
    ("how do I clean my oven" / "how to clean an oven"), nor "can" for "should"."""
    return "how" in (a.kind, b.kind) and {a.kind, b.kind} <= {"how", "other"}


def _my_routine(a: Question, b: Question) -> bool:
    """How often or how long I (or anyone: "how often are u meant to") should do a thing to
    my thing or to one ("how often should I water my fern" / "... a fern"): the asker's own
    doing, whoever's thing ("how long is my warranty" asks a value: no "I" does anything)."""
    asker = a.persons == b.persons == {"i"} or _generic_you(a, b)
    return (
        a.kind == b.kind and a.kind in {"how often", "how long"} and asker
        and {a.modal, b.modal} <= {"should", None}
    )


def _whose_differs(a: Question, b: Question) -> bool:
    """Another person's thing ("my handwriting" / "your handwriting"), or someone's thing
    against none ("my postcode" / "a postcode": a value, not a definition; "my husband" / "I"),
    except in a how-to question ("how do I clean my oven" / "how to clean an oven") and for the
    asker's own one of what the other asks about in general (``_own_one``)."""
    generic = _generic_you(a, b) and _i_and_you(a.possessors, b.possessors)
    if a.possessors == b.possessors or generic or _my_routine(a, b):
        return False  # "your car" after a generic "you" is anyone's car, the asker's too
    if _own_one(a, b) or _own_one(b, a):
        return False
    return bool(a.possessors and b.possessors) or not _method(a, b)


def _own_one(general: Question, mine: Question) -> list[Token]:
    """The tokens of ``general`` that ``mine``'s "my" owns, where ``mine`` asks of the asker's
    own one of what ``general`` asks about in general ("can
    ferrets eat grapes" / "can my ferret eat grapes", "why do kettles get limescale" / "why
    does my kettle get limescale"): each "my" owns a thing ``general`` names, and no one else
    comes in. Not someone who stands in for the asker ("can I eat figs" / "can my ferret eat
    figs": the ferret is not named on the other side), nor a value of the asker's own one
    ("what is a MAC address" / "what is my MAC address", "how heavy is a ferret" / "... my
    ferret": what a thing is or measures, asked of one, is that one's); else none."""
    owned = _owned_things(general, mine)
    # "what is a time signature" reads as a "when" question: its opening word says what it asks.
    if general.kind in _OF_ITS_PART or general.raw[:1] in (["what"], ["which"], ["who"]):
        holds = all(t.role != "" for t in owned)  # "the best diet for a ferret" is any one's
    else:
        holds = general.kind in _OF_ANY_ONE
    return owned if holds else []


def _owned_things(general: Question, mine: Question) -> list[Token]:
    """The tokens of ``general`` that each "my" of ``mine`` owns, where every one owns one and
    only the asker owns anything; else none."""
    if general.possessors or mine.possessors != {"i"} or not general.persons <= {"i"}:
        return []
    named = {t.word: t for t in general.tokens}
    owned = [_owned(mine.raw, i, named) for i, w in enumerate(mine.raw) if w in ("my", "mine")]
    return [] if None in owned else [t for t in owned if t is not None]


def _owned_agreement(a: Question, b: Question, numbers: list[tuple[Token, Token]]) -> bool:
    """Things in general against the asker's own one ("can ferrets eat figs" / "can my ferret
    eat figs"): the owned thing's -s is not a count."""
    if not numbers:
        return False
    for general, mine, side in ((a, b, 0), (b, a, 1)):
        if owned := {t.position for t in _own_one(general, mine)}:
            return all(pair[side].position in owned for pair in numbers)
    return False


# What holds for any one of a kind of thing: whether it can (or which of two), why, when, how.
_OF_ANY_ONE = frozenset({"yesno", "choice", "why", "when", "how"})
# A value: of the asker's own one where the thing itself is asked about ("how long is my
# warranty"), of any one where it is not ("how long to recover from a sprained ankle").
_OF_ITS_PART = frozenset({"what", "which", "how often", "how long"})
# Words between "my" and the thing it owns ("my new kettle").
_OWNED_AFTER = frozenset({"new", "old", "own", "little", "young", "first", "brand"})


def _owned(words: Sequence[str], at: int, named: dict[str, Token]) -> Token | None:
    """The token of ``named`` that the "my" at ``at`` owns: the word after it, or after one of
    a few words that describe it ("my new kettle"); None when it is not named."""
    after = words[at + 1 : at + 3]
    if after and after[0] in _OWNED_AFTER:
        after = after[1:]
    return named.get(stem(after[0])) if after else None


def _i_and_you(x: set[str], y: set[str]) -> bool:
    """One side "I" alone, the other "you" alone."""
    return {frozenset(x), frozenset(y)} == {frozenset({"i"}), frozenset({"you"})}


def compare(
    a: Question, b: Question, typo: Callable[[str, str], bool], spelt: Spelling | None = None
) -> Verdict:
    spelt = spelt or Spelling()
    if not compatible_kinds(a.kind, b.kind):
        return Verdict(False, f"kind {a.kind} / {b.kind}")
    if a.wh_marker != b.wh_marker:
        return Verdict(False, f"asks {a.wh_marker or '-'} / {b.wh_marker or '-'} what")
    scenes = a.negations - a.scene_negations == b.negations - b.scene_negations
    if a.negations != b.negations and not scenes:
        return Verdict(False, "negation")
    same_people = _same_persons(a.persons, b.persons) or _generic_you(a, b)
    if not same_people and not _anaphora(a, b):
        return Verdict(False, f"person {_set(a.persons)} / {_set(b.persons)}")
    if a.tenses != b.tenses and not (
        _future_as_present(a, b) or _past_as_perfect(a, b) or _past_duty(a, b)
        or _past_case(a, b) or _request_of_a_past(a, b)
    ):
        return Verdict(False, f"tense {_set(a.tenses)} / {_set(b.tenses)}")
    if _whose_differs(a, b):
        return Verdict(False, f"whose {_set(a.possessors)} / {_set(b.possessors)}")
    if a.modal and b.modal and a.modal != b.modal and not _method(a, b):
        return Verdict(False, f"modal {a.modal} / {b.modal}")
    if not a.tokens and not b.tokens:
        return Verdict(a.kind == b.kind, "" if a.kind == b.kind else "nothing to compare")
    pairs = _pair(a.tokens, b.tokens, typo)
    passive_a, passive_b = passives(a), passives(b)
    # "upgraded" / "upgrade" is another tense whether or not every other word lines up.
    context = dataclasses.replace(
        spelt,
        passive=passive_a | passive_b,
        generic=generic(a) | generic(b),
        words=frozenset(a.raw) | frozenset(b.raw),
    )
    lined = list(_lined_up(a, b, pairs))
    clashes = [(t, u, _spelt_apart(t, u, typo, context)) for t, u in lined]
    # every -s that differs, "a dog" / "dogs" included, to tell agreement from a count
    flips = [(t, u) for t, u in lined if t.kind == "word" and _number_flip(t, u, spelt)]
    agreement = _agreement(a, b, flips) or _after_will(a, b, flips) or _would(a, b, flips)
    agreement = agreement or _owned_agreement(a, b, flips)
    # a verb's -s on one side, or its aspect: the judge's, never the same by form
    verb_form = False
    for t, u, why in clashes:
        if not why or (
            why.startswith("tense")
            and (
                _perfect_for_simple(a, b, [t.surface], [u.surface])
                or _unreal_if(a, b, t, u)
                or _past_as_perfect(a, b)
            )
        ):
            continue
        if why.startswith("number") and not agreement and (
            _verb_on_one_side(a, b, t, u) or noun_modifier(a, b, t, u)
        ):
            verb_form = True
            continue
        if _progressive_as_perfect(a, b, t, u):
            verb_form = True
            continue
        if not (agreement and why.startswith("number")):
            return Verdict(False, why)
    if pairs is None:
        left, structural, added = _unpaired(a.tokens, b.tokens)
        wa, wb = {t.word for t in a.tokens}, {t.word for t in b.tokens}
        apart_a = [t for t in a.tokens if t.word not in wb and t.kind == "word"]
        apart_b = [t for t in b.tokens if t.word not in wa and t.kind == "word"]
        only_a, only_b = [t.surface for t in apart_a], [t.surface for t in apart_b]
        flipped = opposite_roles(a.tokens, b.tokens)
        if flipped:
            return Verdict(False, flipped)
        clash = unpaired_clash(only_a, only_b, context)
        if clash == "tense" and (
            _perfect_for_simple(a, b, only_a, only_b)
            or _past_as_perfect(a, b)
            or any(_unreal_if(a, b, t, u) for t, u in zip(apart_a, apart_b, strict=False))
            or any(
                _progressive_as_perfect(a, b, t, u)
                for t, u in zip(apart_a, apart_b, strict=False)
            )
        ):
            return Verdict(False, ALIGNED, judge=True)
        if clash:
            return Verdict(False, f"{clash} {left}")
        stems = ([t.word for t in apart_a], [t.word for t in apart_b])
        if _names_apart(only_a, only_b, stems, context, typo):
            return Verdict(False, f"names {left}")
        if _words_alike(only_a, only_b, context):
            return Verdict(False, f"two words alike {left}")
        narrower = narrowed(a, b) if added and not structural else ""
        narrower = narrower or restricted(a.text, b.text)
        if narrower:
            return Verdict(False, f"narrower {narrower!r}")
        # Numbers, units, symbols and particles ("turn on" / "turn off") veto; other words
        # may be a synonym the word rules do not know.
        return Verdict(False, f"words {left}", judge=not structural, added=added)
    # A participle closing a passive question stands after the thing's phrase ("how is the
    # interest on a balance calculated"): its verb's place, not that phrase's role.
    voiced = _voice_changed(a, pairs, passive_a, passive_b)
    moved = [
        (t, pairs[t.position])
        for t in a.tokens
        if t.role != pairs[t.position].role and t.position not in voiced
    ]
    dropped = ""
    if moved:
        t, p = moved[0]
        dropped = f"role of {t.surface!r}: {t.role or '-'} / {p.role or '-'}"
        if not (role_dropped(a.tokens, b.tokens, moved) or modifier_marked(a, b, moved)):
            return Verdict(False, dropped)
    # A word whose marker dropped moves as it should ("in winter" / "a winter trip"); the
    # others keep their order within their phrase.
    gone_a, gone_b = {t.position for t, _ in moved}, {u.position for _, u in moved}
    back = {p.position: t for t in a.tokens for p in (pairs[t.position],)}
    kept_a = [t for t in a.tokens if t.position not in gone_a]
    kept_b = [u for u in b.tokens if u.position not in gone_b]
    if not _in_order(kept_a, pairs, a.strict) or not _in_order(kept_b, back, b.strict):
        # A verb put in the passive on one side moves after its object ("should I roast a
        # chicken" / "should a chicken be roasted"): every other word keeps its order, and the
        # judge decides, as for words lined up after stems ("can my landlord sue me" / "can I
        # sue my landlord" has no passive and stays vetoed). A marker the passive moved is its
        # doing ("worked by"), not another need.
        kept_a = [t for t in kept_a if t.position not in voiced]
        kept_b = [u for u in kept_b if back[u.position].position not in voiced]
        in_order = _in_order(kept_a, pairs, a.strict) and _in_order(kept_b, back, b.strict)
        if not voiced or not in_order:
            return Verdict(False, "order")
        dropped = ALIGNED
    if negation_moved(a, b, pairs):
        return Verdict(False, "negation moved")
    dropped = dropped or (ALIGNED if verb_form else "")
    return Verdict(False, dropped, judge=True) if dropped else SAME


# Words after which a word is a verb: "to sleep", "should I stretch", "they keep" (not a
# modal: "what should happen" / "what happens" is another question).
_VERB_BEFORE = frozenset({"to", "do", "does", "did", "i", "you", "we", "they"})


def _verb_on_one_side(a: Question, b: Question, t: Token, u: Token) -> bool:
    """The -s that differs is a verb's agreement, not a count: the word without it is a verb on
    its side ("for a kitten to purr" / "a kitten purrs"), the other ends in -s."""
    for base, side, other in ((t, a, u), (u, b, t)):
        raw = side.raw
        if base.surface.endswith("s") or not other.surface.endswith("s"):
            continue
        at = [i for i, w in enumerate(raw) if w == base.surface]
        if at and all(i and raw[i - 1] in _VERB_BEFORE for i in at):
            return True
    return False


def _voice_changed(
    a: Question, pairs: dict[int, Token], pa: frozenset[str], pb: frozenset[str]
) -> set[int]:
    """Positions in ``a`` of the verbs that are a passive participle (``pa``, ``pb``: each
    side's) on one side only."""
    return {
        t.position
        for t in a.tokens
        if t.kind == "word" and (t.surface in pa) != (pairs[t.position].surface in pb)
    }


def _lined_up(
    qa: Question, qb: Question, pairs: dict[int, Token] | None
) -> Iterable[tuple[Token, Token]]:
    """The words paired across the two questions; when not all pair, those that share a stem
    and are found nowhere as written on the other side ("upgraded" / "upgrade")."""
    a, b = qa.tokens, qb.tokens
    if pairs is not None:
        yield from ((t, pairs[t.position]) for t in a)
        return
    surfaces_a, surfaces_b = {t.surface for t in a}, {u.surface for u in b}
    for t in a:
        if t.surface not in surfaces_b:
            yield from ((t, u) for u in b if u.word == t.word and u.surface not in surfaces_a)


def _number_flip(t: Token, u: Token, spelt: Spelling) -> bool:
    return inflection_clash(t.surface, u.surface, spelt.lexicon) == "number"


def _agreement(a: Question, b: Question, numbers: list[tuple[Token, Token]]) -> bool:
    """The -s moved between a noun and its verb, not a count changed: "a dog barks" / "dogs
    bark" (one word gains it as the other loses it), "how DNS works" / "how does DNS work"
    (the verb, last in its clause or after its subject, gives it to "does")."""
    if len(numbers) == 2:
        (t1, _), (t2, _) = numbers
        return t1.surface.endswith("s") != t2.surface.endswith("s")
    if len(numbers) == 1 and ("does" in a.raw) != ("does" in b.raw):
        t, u = numbers[0]
        plural = t if t.surface.endswith("s") else u
        side, base = (a, u) if plural is t else (b, t)
        last = max((x.position for x in side.tokens if x.clause == plural.clause), default=-1)
        if "does" in side.raw:
            return False
        return plural.position == last or _after_subject(b if side is a else a, base)
    return False


def _after_subject(q: Question, verb: Token) -> bool:
    """``verb`` comes after "does" with a word of its clause between them: the verb of "does
    <subject> <verb>" ("how does a water softener work on well water" / "how a water softener
    works on well water"), not the subject itself ("what does the dog eat" / "what the dogs
    eat")."""
    does = q.raw.index("does")
    if verb.surface not in q.raw[does + 1 :]:
        return False
    between = q.raw[does + 1 : q.raw.index(verb.surface, does + 1)]
    return any(x.surface in between for x in q.tokens if x.clause == verb.clause)


def _spelt_apart(t: Token, u: Token, typo: Callable[[str, str], bool], spelt: Spelling) -> str:
    """Why two words lined up are two words after all ("" when they are one)."""
    x, y = t.surface, u.surface
    if t.kind != "word" or spelling(x.replace("-", "")) == spelling(y.replace("-", "")):
        return ""
    if doubled(x, y, spelt):
        return f"two words {x!r} / {y!r}"
    named = x in spelt.names or y in spelt.names
    if named and not _transposed(x, y):  # "Muinch" is a slip of the fingers; "Mixtral" a name
        return f"name {x!r} / {y!r}"
    if t.word == u.word and (one_word(x, y) or not typo(x, y)):
        clash = inflection_clash(x, y, spelt.lexicon, spelt.passive, spelt.generic)
        if clash == "two words" and unknown(x, spelt) != unknown(y, spelt) and typo(x, y):
            return ""  # "tomatoe" is no word: a slip of "tomato" ("cape" / "cap" are two)
        if clash:
            return f"{clash} {x!r} / {y!r}"
    return ""


def _transposed(x: str, y: str) -> bool:
    """The same letters with two neighbours swapped."""
    if len(x) != len(y):
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) != 2 or diff[1] != diff[0] + 1:
        return False
    return (x[diff[0]], x[diff[1]]) == (y[diff[1]], y[diff[0]])


def _same_persons(a: set[str], b: set[str]) -> bool:
    """The same people. A question with no "I" or "you" ("how to bake bread") has a generic
    actor and goes with either; "my name" is not "your name", "for her" not "for him"."""
    speaker = {"i", "you"}
    if a - speaker != b - speaker:
        return False
    return not (a & speaker and b & speaker) or a & speaker == b & speaker


# "Can you" and "would you" ask what the assistant can do or would choose ("how fast can you
# type", "where would you go"): the 1.5B judge took four of seven such for the asker's.
_HOW_AUX = frozenset({"do", "should"})
# "Are you" asks the assistant ("how good are you at French"), save with these after it.
_ARE_AUX = frozenset({"are", "r"})
_DUTY = frozenset({"supposed", "meant", "allowed", "expected"})
_OBLIGED = (["have", "to"], ["need", "to"], ["got", "to"], ["ought", "to"])
_PRESENT_BE = frozenset({"is", "are", "am"})
_OPENING = 4  # words where a question's "be" stands: "is it", "what is", "how long is the"
# After "do you" these ask the assistant itself ("what do you think", "which do you prefer").
_OWN_VIEW = frozenset(
    {
        *("think", "recommend", "suggest", "prefer", "like", "love", "mean", "know"),
        *("remember", "want", "feel", "believe", "reckon", "advise", "say"),
    }
)
_HEDGES = frozenset({"even", "really", "just", "usually", "normally", "actually"})


def _generic_you(a: Question, b: Question) -> bool:
    """"How do you ...", "what grind size do u use", "how often are you meant to ...": anyone's
    way of doing it, for "how do I ...". A judge may take it for the asker's; it is
    never approved by form (the words differ). Not a yes/no ("can you" asks the assistant),
    nor the assistant's own view ("what do you think")."""
    # Not with the asker's own thing beside it: "how do you keep my data safe" asks the one
    # addressed what they do (a fresh pair set's look-alike the judge served, once allowed).
    if not _i_and_you(a.persons, b.persons):
        return False
    you = a if a.persons == {"you"} else b
    raw = you.raw
    # "(explain) how you fold it": the question word right before "you"
    start = 1 if raw[:1] == ["how"] else 2
    if you.kind in ("yesno", "choice", "other") or "you" not in raw[start:]:
        return False  # "your" alone ("my mom" / "your mom") is someone's, not anyone's
    first = raw.index("you", start)
    after = [w for w in raw[first + 1 :] if w not in _HEDGES]
    asked_before = any(w in WH for w in raw[: max(first - 1, 1)])
    # "how often are you meant to", and typed without the "are" ("how often u supposed to",
    # "how often u gotta"): what anyone has to do
    duty = bool(after) and (after[0] in _DUTY or after[:2] in _OBLIGED) and (
        raw[first - 1] in _ARE_AUX or raw[first - 1] not in AUX
    )
    # a method asked of anyone: "how would you store it", "how you fold it"
    method = you.kind == "how" and raw[first - 1] in {"would", "how"}
    return (
        (raw[first - 1] in _HOW_AUX or duty or method)
        and asked_before
        and not (after and after[0] in _OWN_VIEW)
    )


_THIRD = frozenset({"he", "she", "they"})


def _anaphora(a: Question, b: Question) -> bool:
    """"How do I stop my parrot biting, he nips everyone": a third person who is a thing both
    ask about, named before ("my parrot"), not someone new ("how does she ask her landlord").
    Only a judge may take the pair for the same (the pronoun is no form word, so it is never
    approved by form)."""
    if a.persons == b.persons:
        return False
    more, other = (a, b) if a.persons > b.persons else (b, a)
    if not more.persons > other.persons or not more.persons - other.persons <= _THIRD:
        return False
    shared = set(other.raw)
    raw = more.raw
    # "Kettles and teapots: how do they each differ?": a bare plural both name is "they" too
    stems = {t.word for t in other.tokens}
    plurals = {t.surface for t in more.tokens if t.surface.endswith("s") and t.word in stems}
    for i, w in enumerate(raw):
        if PERSON.get(w) in _THIRD and not any(
            (j and raw[j - 1] in DETERMINERS and raw[j] in shared and raw[j] not in CLOSED_CLASS)
            or (w in _THEY and raw[j] in plurals)
            for j in range(i)
        ):
            return False
    return True


_THEY = frozenset({"they", "them", "their"})


_HAVE = frozenset({"has", "have"})
_PERFECT_ADVERBS = frozenset({"just", "already", "recently", "ever"})
_SUBORDINATORS = frozenset({"if", "when", "after", "once", "since", "because", "before"})


def _perfect_for_simple(a: Question, b: Question, only_a: list[str], only_b: list[str]) -> bool:
    """"If my toddler has swallowed a coin" for "if my toddler swallows a coin", "the puppy
    has chewed a cable" for "the puppy chewed a cable": the present perfect of an event for its
    simple form in a statement or a subordinate clause asks about the same event; a judge
    decides (the words differ). Not for a question's own verb ("does it bite" / "has it
    bitten")."""
    if len(only_a) != 1 or len(only_b) != 1:
        return False
    sides = ((a.raw, only_a[0], b.raw, only_b[0]), (b.raw, only_b[0], a.raw, only_a[0]))
    return any(
        _after_have(perfect, p) and not _after_have(simple, q) and _plain(simple, q)
        for perfect, p, simple, q in sides
    )


def _after_have(raw: list[str], word: str) -> bool:
    if word not in raw:
        return False
    before = [w for w in raw[: raw.index(word)] if w not in _PERFECT_ADVERBS]
    return bool(before) and before[-1] in _HAVE


def _plain(raw: list[str], word: str) -> bool:
    """``word`` is a statement's verb or a subordinate clause's, not after an auxiliary."""
    if word not in raw:
        return False
    for w in reversed(raw[: raw.index(word)]):
        if w in _SUBORDINATORS or w in CLAUSE_BREAKS:
            return True
        if w in AUX or w == "to":
            return False
    return True


def _after_will(a: Question, b: Question, numbers: list[tuple[Token, Token]]) -> bool:
    """The -s a present verb takes where the future has "will" before it ("when will it
    start" / "when it starts"), not a count changed."""
    if len(numbers) != 1 or not _future_as_present(a, b):
        return False
    t, u = numbers[0]
    future, verb = (a, t) if "future" in a.tenses else (b, u)
    return _right_after(future, verb.surface, ("will", "shall"))


def _right_after(q: Question, word: str, before: tuple[str, ...]) -> bool:
    """``word`` stands right after one of ``before`` somewhere in ``q``."""
    return any(w == word and prev in before for prev, w in itertools.pairwise(q.raw))


def _would(a: Question, b: Question, numbers: list[tuple[Token, Token]]) -> bool:
    """The -s a present verb takes where a hypothetical has "would" before it ("what would
    happen if I skipped it" / "what happens if I skip it"); not against another modal ("what
    should happen")."""
    if len(numbers) != 1:
        return False
    t, u = numbers[0]
    base, hypothetical, present = (u, b, a) if t.surface.endswith("s") else (t, a, b)
    if present.modal or "would" in present.raw:
        return False
    return _right_after(hypothetical, base.surface, ("would",))


def _unreal_if(a: Question, b: Question, t: Token, u: Token) -> bool:
    """The past of an "if" clause under "would" is no past: "what would happen if I skipped
    it" asks what "what happens if I skip it" asks; nor under the same "should" or "can" on
    both sides: "what should I do if my phone got wet" asks for the advice "... if my phone
    gets wet" does (the case may have happened or may come)."""
    if t.role != "if" or u.role != "if":
        return False
    past, other = (a, b) if _past_form(t.surface) else (b, a)
    if "would" in past.raw and "would" not in other.raw:
        return True
    return _same_advice(past, other) and not past.tenses


def _past_case(a: Question, b: Question) -> bool:
    """A case put in the past only in the condition, under the same "can" or "should" ("could
    I claim compensation if my train was cancelled" / "can I ... if it is cancelled"): the
    advice or the right asked for the case, whether it happened or may."""
    if a.tenses ^ b.tenses != {"past"} or a.tenses & b.tenses:
        return False
    past, other = (a, b) if "past" in a.tenses else (b, a)
    return _same_advice(past, other) and past.condition_tenses == {"past"}


def _same_advice(past: Question, other: Question) -> bool:
    """Both ask, with the same "can" or "should", what one may or ought to do."""
    return past.modal in ("should", "can") and past.modal == other.modal


def _past_form(word: str) -> bool:
    return word.endswith("ed") or word in PASTS or word in PARTICIPLES


def _future_as_present(a: Question, b: Question) -> bool:
    """The future for the simple present ("how long will the glue take" / "how long does the
    glue take"): both ask about the same events, and a judge may take one for the other. Not
    against a present "be" that opens the question ("what will the forecast be" is not "what
    is the forecast"); one further on is a possessive's "'s" ("my dog's cast")."""
    if a.tenses ^ b.tenses != {"future"} or a.tenses & b.tenses:
        return False
    present = b if "future" in a.tenses else a
    return not (set(present.raw[:_OPENING]) & _PRESENT_BE)


def _past_as_perfect(a: Question, b: Question) -> bool:
    """Why a thing happened, in the past or the present perfect ("why did my sauce split" /
    "why has my sauce split"): one event, its cause asked either way. Only "why", the perfect's
    "has" put before the subject as a question's own: "why does it split" asks what it does
    each time, and "why it has split" leaves the tense to a clause."""
    if a.kind != "why" or b.kind != "why" or a.tenses ^ b.tenses != {"past"}:
        return False
    perfect = b if "past" in a.tenses else a
    return perfect.raw[1:2] in (["has"], ["have"])


def _progressive_as_perfect(a: Question, b: Question, t: Token, u: Token) -> bool:
    """Why a change is under way, or has come about ("why are the leaves turning yellow" / "why
    have the leaves turned yellow", "why isn't my dough rising" / "why hasn't it risen"): one
    change, its cause asked either way. Only "why", each side's own "be" or "have" put before
    the subject, and the verb's -ing against another form of it."""
    if a.kind != "why" or b.kind != "why":
        return False
    ing, other = (t, u) if t.surface.endswith("ing") else (u, t)
    if not ing.surface.endswith("ing") or other.surface.endswith("ing"):
        return False
    if ing.surface[:3] != other.surface[:3]:
        return False
    sides = {*a.raw[1:2], *b.raw[1:2]}  # the word after "why" on each side
    return bool(sides & _PRESENT_BE) and bool(sides & {"has", "have"})


# What one was to do, asked in the past ("what temperature was I supposed to cook it to", "did
# I need to defrost it first"): the rule or the method, which the present asks too.
_PAST_DUTY = re.compile(
    r"\b(?:was|were) (?:i|we|you|they|he|she) (?:supposed|meant|allowed|expected|required) to\b"
    r"|\bdid (?:i|we|you|they|he|she) (?:need|have|ought) to\b"
)


def _names_apart(
    only_a: list[str],
    only_b: list[str],
    stems: tuple[list[str], list[str]],
    spelt: Spelling,
    typo: Callable[[str, str], bool],
) -> bool:
    """What differs is names on both sides and nothing else ("Lipitor" / "Lisinopril", "Deezer"
    / "Qobuz"): no word list knows them, so no synonym or stem pairs them, and two names are
    two things unless one is a slip of the other ("Austrailia") or another country's spelling
    ("colourise" / "colorize", one letter apart by their stems)."""
    if not only_a or not only_b or spelt.lexicon is None:
        return False
    words = (*only_a, *only_b)
    if any(known_word(w, spelt.dictionary, spelt.lexicon) or len(w) < 3 for w in words):
        return False
    slips = any(typo(x, y) or typo(y, x) or _one_edit(x, y) for x in only_a for y in only_b)
    return not slips and not any(_one_edit(x, y) for x in stems[0] for y in stems[1])


def _words_alike(only_a: list[str], only_b: list[str], spelt: Spelling) -> bool:
    """One word for another where the lists know both and they are spelt alike ("flour" /
    "flower", "beet" / "beef", "carpet" / "carport"): two things a small judge may take for
    one, not a synonym for it to weigh. Not a shortening ("photo" / "photograph")."""
    if len(only_a) != 1 or len(only_b) != 1:
        return False
    x, y = only_a[0], only_b[0]
    if not all(known_word(w, spelt.dictionary, spelt.lexicon) for w in (x, y)):
        return False
    if x[:3] != y[:3]:
        return False
    if any(p.startswith(q) or q.startswith(p) for p, q in ((x, y), (_one(x), _one(y)))):
        return False  # a shortening, of one or of many ("teens" / "teenagers")
    shared = len(os.path.commonprefix([x, y]))  # noqa: RUF071 (letters, not a path)
    # one word's forms: "configure" / "configuration", "applied" / "apply", "meditati-on" /
    # "meditati-ng" (the endings may share their first letters)
    if any(x[k:] in _ENDINGS and y[k:] in _ENDINGS for k in range(shared, shared - 3, -1)):
        return False
    return difflib.SequenceMatcher(None, x, y).ratio() >= ALIKE


def _one(word: str) -> str:
    """``word`` without a plural's -s."""
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


ALIKE = 0.6  # flour/flower 0.8, carpet/carport 0.67; hairdresser/hairstylist 0.57: the judge's
# What one word's forms end in past the letters they share (a shortening ends in "").
_ENDINGS = frozenset(
    {"", "e", "s", "es", "d", "ed", "ied", "ies", "y", "ing", "er", "ers", "ion", "ions",
     "ation", "ations", "ment", "ments", "al", "ly", "ent", "ence", "ant", "ance"}
)


def known_word(word: str, dictionary: frozenset[str], lexicon: frozenset[str] | None) -> bool:
    """A word one of the lists knows (the English word list, the tokenizer's vocabulary)."""
    return word in dictionary or (lexicon is not None and word in lexicon)


def _one_edit(x: str, y: str) -> bool:
    """One letter put in, left out or changed ("colourise" / "colorise")."""
    if abs(len(x) - len(y)) > 1:
        return False
    if len(x) == len(y):
        return sum(p != q for p, q in zip(x, y, strict=True)) <= 1
    short, long_ = sorted((x, y), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


_HYPHENED = re.compile(r"\b[a-zA-Z]+(?:-[a-zA-Z]+)+\b")


def hyphened(text: str, other: str) -> str:
    """``text`` with the words ``other`` hyphens ("carry-on", "long-haul") hyphened as there:
    spelt apart ("a follow up"), the second read as a particle."""
    for word in {m[0].lower() for m in _HYPHENED.finditer(other)}:
        apart = r"\s+".join(re.escape(part) for part in word.split("-"))
        text = re.sub(rf"(?i)\b{apart}\b", word, text)
    return text


_ONE = re.compile(r"(?i)\b(?:1|one)\s+([a-z]+)\b")


def one_as_a(text: str, other: str) -> str:
    """``text`` with "1 cup" or "one egg" written "a cup", "an egg" where ``other`` says it so:
    one of a thing is a thing, not a number the other question lacks."""

    def said(m: re.Match[str]) -> str:
        found = re.search(rf"(?i)\b(an?)\s+{m[1]}\b", other)
        return f"{found[1]} {m[1]}" if found else m[0]

    return _ONE.sub(said, text)


_MEASURE = re.compile(r"(?i)\b(\d+)[- ]([a-z]+)\b(?!-)")


def measure_as_said(text: str, other: str) -> str:
    """``text`` with "a 30-minute swim" written "a 30 minutes swim" where ``other`` says "30
    minutes": one measure, whether it names a thing or follows it."""

    def said(m: re.Match[str]) -> str:
        plural = f"{m[1]} {m[2]}s"
        return plural if m[1] != "1" and re.search(rf"(?i)\b{plural}\b", other) else m[0]

    return _MEASURE.sub(said, text)


def _request_of_a_past(a: Question, b: Question) -> bool:
    """What a past thing was, asked by "what were" or told to be listed ("what were the chief
    exports of Carthage" / "list the chief exports of Carthage"): a request has no tense of its
    own, and the past is only in the "be" that asks. The judge decides."""
    if a.tenses ^ b.tenses != {"past"} or a.tenses & b.tenses:
        return False
    past, told = (a, b) if "past" in a.tenses else (b, a)
    if told.kind != "other" or past.raw[:2] not in _WHAT_WAS:
        return False
    return not any(_past_form(w) or w in AUX for w in past.raw[2:])


_WHAT_WAS = [[wh, be] for wh in ("what", "which", "who") for be in ("was", "were")]


def _past_duty(a: Question, b: Question) -> bool:
    """The past of a duty for its present ("was I meant to soak them" / "should I soak them"):
    the judge decides, as the words differ."""
    if a.tenses ^ b.tenses != {"past"} or a.tenses & b.tenses:
        return False
    past = a if "past" in a.tenses else b
    return bool(_PAST_DUTY.search(" ".join(past.raw)))


def _set(values: set[str]) -> str:
    return ",".join(sorted(values)) or "-"


def _words_too(only_a: list[Token], only_b: list[Token]) -> bool:
    """Both sides have a word of their own beside any particle."""
    return all(any(t.kind == "word" for t in side) for side in (only_a, only_b))


def _unpaired(a: list[Token], b: list[Token]) -> tuple[str, bool, bool]:
    """The words of each side the other lacks, whether any is a number, unit, symbol or
    particle (save a phrasal verb's), and whether only one side has any (the other's words are
    all found there)."""
    wa = {t.word for t in a}
    wb = {t.word for t in b}
    only_a = [t for t in a if t.word not in wb]
    only_b = [t for t in b if t.word not in wa]
    kinds_a = {t.kind for t in only_a} - {"word"}
    kinds_b = {t.kind for t in only_b} - {"word"}
    # A phrasal verb for a verb ("get it out" / "remove"): a particle on one side only, among
    # words that differ on both, may be a synonym; a particle against another, or a number,
    # unit or symbol, is not.
    phrasal = {frozenset(kinds_a), frozenset(kinds_b)} == {frozenset(), frozenset({"particle"})}
    structural = bool(kinds_a or kinds_b) and not (phrasal and _words_too(only_a, only_b))
    text = f"{' '.join(t.word for t in only_a) or '-'} / {' '.join(t.word for t in only_b) or '-'}"
    return text, structural, not only_a or not only_b


# -- approval by form ----------------------------------------------------------------------

_ARTICLES = frozenset({"a", "an", "the"})
_FORM_AUX = frozenset({"do", "does", "is", "am", "are", "be"})  # tense and modals stay words
_FORM_FILLER = FILLER - {"very", "quite"}  # "very spicy" asks for more than "spicy"
_SWAP = frozenset({"or", "vs"})


def form(text: str) -> list[str]:
    """``text`` reduced to what only form can change: the words in order, spelt the American
    way, without punctuation, articles, filler or the auxiliary "do"/"be". A contraction's
    "not" stands where its auxiliary stood ("why doesn't it drain" = "why does it not drain"),
    and an indirect question's order is the direct one ("how long I should" = "how long
    should I")."""
    words = form_words(text)
    out: list[str] = request_verbs(text)  # "list the ..." is not "explain the ..."
    clause_start, aux_slot = True, -1
    since_aux: list[str] = []  # the words between the clause's auxiliary and a "not"
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in CLAUSE_BREAKS:
            clause_start, aux_slot = True, -1
            continue
        if w == "not" and aux_slot >= 0 and (not since_aux or _subject(since_aux)):
            out.insert(aux_slot, w)
            aux_slot = -1
            continue
        if clause_start and (w in INTERJECTIONS or w == "like"):
            continue
        if (w in ("though", "tho") and (not nxt or nxt in CLAUSE_BREAKS)) or (
            w == "there" and (prev in AUX or nxt in AUX)
        ):
            continue
        if w in _FORM_FILLER:
            continue
        clause_start = False
        since_aux.append(w)
        if w in _ARTICLES:
            continue
        if w in AUX:
            aux_slot, since_aux = len(out), []
            if w in _FORM_AUX:
                continue
            if out and out[-1] in _SUBJECTS and (len(out) == 1 or out[-2] not in AUX):
                out.insert(len(out) - 1, w)  # "how long i should" -> "how long should i"
                aux_slot -= 1
                continue
        out.append(spelling(w.replace("-", "")) if w[:1].isalpha() else w)
    return out


_SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she", "it"})


def _subject(words: list[str]) -> bool:
    """The words between an auxiliary and a "not" are its subject: a pronoun, or a short
    phrase opened by a determiner ("does my kettle not boil"; not "is it bad not to")."""
    if len(words) == 1:
        return words[0] in _SUBJECTS
    return (
        1 < len(words) <= 4
        and words[0] in DETERMINERS
        and not any(w in MARKERS or w in AUX or w in COORDINATORS for w in words)
    )


def same_form(a: str, b: str) -> bool:
    """The same question written differently in form only (see ``form``), with the two sides
    of "A or B" ("A vs B", "between A and B") swapped, or with a phrase moved whole from the
    front to the end ("In winter, how should I feed hens?")."""
    pa, pb = _plain_forms(a), _plain_forms(b)
    fa, fb = form(pa), form(pb)
    if fa == fb:
        return True
    # a request to be shown how is read from the words as written
    if any(form(_plain_forms(x)) == fb for x in _how_do_i(a)) or any(
        fa == form(_plain_forms(x)) for x in _how_do_i(b)
    ):
        return True
    if (_WHAT_IS.match(pa) and fa[1:] == fb) or (_WHAT_IS.match(pb) and fb[1:] == fa):
        return True  # "what is the offside rule" / "tell me the offside rule" / "offside rule?"
    if reordered(fa) == reordered(fb):
        return True  # "pay my loan off" / "pay off my loan"; "keep it from" / "stop it from"
    if len(fa) != len(fb) or sorted(fa) != sorted(fb):
        return False
    if form(_fronted_to_end(pa)) == fb or fa == form(_fronted_to_end(pb)):
        return True
    joins = [k for k, w in enumerate(fa) if w in _SWAP or (w == "and" and "between" in fa[:k])]
    return any(_sides_swapped(fa, k, fb) for k in joins)


# Plain forms. A modal that only makes the question polite or hypothetical asks what the plain
# one asks: "could I" / "can I" (not "could I have": a past), "how would I" / "how do I", "how
# long will it take" / "how long does it take", "what will happen" / "what happens".
_PLAIN_FORMS = (
    (re.compile(r"\bcould (i|you|we|one)\b(?! have\b)", re.IGNORECASE), r"can \1"),
    (re.compile(r"\bhow would (i|you|we|one)\b(?! have\b)", re.IGNORECASE), r"how do \1"),
    (re.compile(r"\bhow (long|much) will (it|this|that)\b", re.IGNORECASE), r"how \1 does \2"),
    (re.compile(r"\bwhat will happen\b", re.IGNORECASE), "what happens"),
    # the asker's own how-to, what-to, when-to is the infinitive's: "how do I ..." / "how to ..."
    # (asked indirectly too: "tell me how I can ...")
    (
        re.compile(
            r"\bhow (?:(?:do|can|should) (?:i|you|u|one|we)|(?:i|you|u|one|we) (?:can|should))"
            r" (?!have\b)",
            re.IGNORECASE,
        ),
        "how to ",
    ),
    (
        re.compile(
            r"\b(what|when|where|which(?: \w+)?) (?:(?:should|can) (?:i|one|we)|(?:i|one|we)"
            r" (?:should|can)) (?!have\b)",
            re.IGNORECASE,
        ),
        r"\1 to ",
    ),
    (re.compile(r"\bwhat do (?:i|you|one|we) do\b", re.IGNORECASE), "what to do"),
)


def _plain_forms(text: str) -> str:
    for pattern, plain in _PLAIN_FORMS:
        text = pattern.sub(plain, text)
    return text


# A question that names a thing and asks what it is: the thing named alone asks the same.
_WHAT_IS = re.compile(r"^\W*what(?:'s|s| is| are)\b", re.IGNORECASE)


# A phrase before the question, its marker and words kept whole: moved to the end it says the
# same ("from London, how do I get to Paris" / "how do I get to Paris from London").
_FRONTED = re.compile(
    r"^\s*((?:in|on|at|for|with|without|over|under|during|after|before|from|to|by|if|when"
    r"|each|every|as|per|within)\b[^,;:?!.]{1,60}"
    # a time said alone: "this year, what is ...", "next weekend, can I ..."
    r"|(?:this|next|last) (?:year|month|week|weekend|morning|evening|summer|winter|spring|"
    r"autumn|fall|season)),\s*(.+?)[\s?!.]*$",
    re.IGNORECASE,
)


# A request to be shown how is the how-question: "walk me through repotting a fern" / "show me
# how to repot a fern" / "how do I repot a fern".
_WALK_THROUGH = re.compile(
    r"^\s*(?:please\s+)?(?:walk|talk|take) me through\s+(\w+)ing\b(.*)$", re.IGNORECASE
)
_SHOW_HOW = re.compile(r"^\s*(?:please\s+)?show me how to\s+(.*)$", re.IGNORECASE)
# "How do I go about renewing it" asks how to renew it.
_GO_ABOUT = re.compile(
    r"^(.*?\bhow (?:do|can|could|should|would) (?:i|you|we|one))(?: \w+ly| actually| just)?"
    r" (?:go|set) about (\w+)ing\b(.*)$",
    re.IGNORECASE,
)


def _how_do_i(text: str) -> list[str]:
    """``text`` as "how do I ...", when it asks to be walked through or shown how, or how to go
    about a thing: each way the gerund's verb may be spelt, for the other side to confirm."""
    if m := _SHOW_HOW.match(text):
        return [f"how do I {m.group(1)}"]
    if m := _WALK_THROUGH.match(text):
        return [f"how do I {verb}{m.group(2)}" for verb in _gerund_roots(m.group(1))]
    if m := _GO_ABOUT.match(text):
        return [f"{m.group(1)} {verb}{m.group(3)}" for verb in _gerund_roots(m.group(2))]
    return []


def _gerund_roots(root: str) -> list[str]:
    """Each way the verb of "<root>ing" may be spelt: "chang" is change, "gett" get."""
    verbs = {root, root + "e"} | ({root[:-1]} if root[-2:-1] == root[-1:] else set())
    return sorted(verbs)


def _fronted_to_end(text: str) -> str:
    m = _FRONTED.match(text)
    return f"{m.group(2)} {m.group(1)}?" if m else text


def _sides_swapped(a: list[str], k: int, b: list[str]) -> bool:
    """``b`` is ``a`` with the items either side of the joiner at ``k`` swapped; an item holds
    no preposition, joiner or negation ("to work or walk" has no side "to work")."""
    def plain(words: list[str]) -> bool:
        return not any(w in MARKERS or w in COORDINATORS or w == "not" for w in words)

    for i in range(1, k + 1):
        left = a[k - i : k]
        if not plain(left):
            break
        for j in range(1, len(a) - k):
            right = a[k + 1 : k + 1 + j]
            if not plain(right):
                break
            if a[: k - i] + right + [a[k]] + left + a[k + 1 + j :] == b:
                return True
    return False

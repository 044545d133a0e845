"""Vetoes for two questions whose words line up only after stems, typos or synonyms.

Lining up is what makes a pair worth a judge's look, and it is where look-alikes hide: two
words that stem alike ("cape" / "cap", "scraping" / "scrapping"), a plural that is another
thing ("glasses" / "glass"), a past that asks what happened ("restarted" / "restart"), a name
read as a typo of another ("Mixtral" / "Mistral"), a negation moved to another word ("not
rest after running" / "rest after not running"). A judge model reads these as the same
question (a 1.5B model said yes to most of them), so the rules say no before it is asked.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

from sleepchat.core.recall.question import Question, Token, spelling
from sleepchat.core.recall.slips import vowel_for_vowel
from sleepchat.core.recall.wordlists import (
    CLAUSE_BREAKS,
    CLOSED,
    OPPOSITE,
    PARTICIPLES,
    PASTS,
    WH,
)


@dataclass(frozen=True)
class Spelling:
    """What decides whether two words spelt apart are one: the known words, and the names
    the two questions hold (a name is spelt one way)."""

    lexicon: frozenset[str] | None = None
    names: frozenset[str] = frozenset()
    # A larger word list, for telling two real words spelt alike ("wok" / "work") apart only:
    # the lexicon above lacks many ("wok", "router"), but a word found only here still counts
    # as a possible typo when words are paired (a rarer word is more often a slip).
    dictionary: frozenset[str] = frozenset()
    passive: frozenset[str] = frozenset()  # participles after "be" in either question
    generic: frozenset[str] = frozenset()  # words after "a"/"an" in either question
    words: frozenset[str] = frozenset()  # every word of both questions, as written


_SENTENCE_END = re.compile(r"[.?!:;]\s*$")
_WORD = re.compile(r"[A-Za-z][\w'-]*")


def names(text: str) -> frozenset[str]:
    """Words written with a capital inside a sentence (lowercased): names of things, whose
    spelling is the thing ("Polars" is not "Polar", "Canva" not "Canvas")."""
    longer = [w for w in _WORD.findall(text)[1:] if len(w) > 3]
    if longer and all(w[:1].isupper() for w in longer):
        return frozenset()  # Title Case: capitals say nothing about names
    out = set()
    for m in _WORD.finditer(text):
        word = m.group(0)
        before = text[: m.start()]
        starts = not before.strip() or _SENTENCE_END.search(before) is not None
        if word[:1].isupper() and not starts and word != "I" and not word.startswith("I'"):
            out.add(word.lower())
    return frozenset(out)


def _base(word: str) -> tuple[str, str]:
    """A word's likely base and its inflection: "carries" -> ("carry", "s"), "baked" ->
    ("bake"/"bak", "ed"), "running" -> ("run", "ing"). The base is spelt as the stemmer
    leaves it (a final "e" and doubled consonant removed), so two inflections of one word
    share it."""
    w = word
    ending = ""
    if w.endswith("ies") and len(w) > 4:
        w, ending = w[:-3] + "y", "s"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        w, ending = w[:-2], "s"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w, ending = w[:-1], "s"
    elif w.endswith("ied") and len(w) > 4:
        w, ending = w[:-3] + "y", "ed"
    elif w.endswith("ied"):
        w, ending = w[:-1], "ed"  # "died", "tied": too short for "ed", the verb is "die"
    else:
        for suffix in ("ing", "ed", "ly"):
            keep = 4 if suffix == "ly" else 3
            if w.endswith(suffix) and len(w) - len(suffix) >= keep and not w.endswith("eed"):
                w, ending = w[: -len(suffix)], suffix
                if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
                    w = w[:-1]
                break
    return w, ending


def _bases(x: str, y: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Each word's base and ending; a short word plus an ending is read as such first ("use"
    / "used": the stemmer leaves short words whole)."""
    short, long_ = sorted((x, y), key=len)
    for end, name in (("s", "s"), ("es", "s"), ("d", "ed"), ("ed", "ed"), ("ing", "ing")):
        if long_ == short + end:
            found = {short: (short, ""), long_: (short, name)}
            return found[x], found[y]
    if short.endswith("y") and long_ == short[:-1] + "ies":  # "butterfly" is no adverb
        found = {short: (short, ""), long_: (short, "s")}
        return found[x], found[y]
    return _base(x), _base(y)


def _plain(word: str) -> str:
    """American spelling, hyphens dropped: "wi-fi" is "wifi", "colour" is "color"."""
    return spelling(word.replace("-", ""))


def inflection_clash(
    x: str,
    y: str,
    lexicon: frozenset[str] | None,
    passive: frozenset[str] = frozenset(),
    generic: frozenset[str] = frozenset(),
) -> str:
    """Why two words that stem alike are not one word asked the same way ("" when they are):
    another number ("glasses" / "glass"; "a list" is any list, so "lists" asks the same),
    another tense ("owned" / "owns"), or two words ("cape" / "cap": no ending makes one of the
    other)."""
    x, y = _plain(x), _plain(y)
    if x == y:
        return ""
    (bx, ex), (by, ey) = _bases(x, y)
    if ex == ey:
        # the same ending on one base spelt two ways is a slip ("tomatos"); on two bases, or
        # with no ending, two words ("cape" / "cap")
        return "" if ex and bx == by else "two words"
    if bx.rstrip("e") != by.rstrip("e"):
        return "two words"
    if {ex, ey} == {"ed", "ing"}:
        return "two words"  # "bored" / "boring", "closed" / "closing", passive or not
    if ex != ey and (ex == "ed" or ey == "ed") and not {x, y} & passive:
        return "tense"
    if ex != ey and "s" in (ex, ey) and "" in (ex, ey):
        singular = x if ex == "" else y
        return "" if singular in generic else "number"
    return ""


IRREGULAR = {**PARTICIPLES, **PASTS}
_PAST = frozenset(PASTS) | (frozenset(PARTICIPLES) - {"read", "run"})


def one_word(x: str, y: str) -> bool:
    """Two forms of one word: a regular ending ("use" / "used") or an irregular participle."""
    if x != y and _lemma(x) == _lemma(y):
        return True  # before American spelling: "reinstalled" / "reinstall"
    x, y = spelling(x), spelling(y)
    if IRREGULAR.get(x, x) == IRREGULAR.get(y, y):
        return True
    short, long_ = sorted((x, y), key=len)
    if long_ in {short + end for end in ("s", "es", "d", "ed", "ing")}:
        return True  # short words the stemmer leaves whole: "use" / "used"
    (bx, _), (by, _) = _base(x), _base(y)
    return bx.rstrip("e") == by.rstrip("e")


_PREFIXES = ("re", "un", "pre", "de", "dis", "mis", "non", "over", "under", "out", "anti")
_INDEFINITE = ("one", "body", "thing", "where")  # everyone / anyone / nobody ...
_QUANTIFIERS = frozenset({"every", "any", "some", "no"})
_DEGREE = ("est", "er")


def _degree(x: str, y: str) -> bool:
    """A superlative for a comparative or the plain word ("cheapest" / "cheaper" / "cheap")."""

    def plain(w: str) -> str:
        for end in _DEGREE:
            if w.endswith(end) and len(w) - len(end) >= 3:
                w = w[: -len(end)]
                if w.endswith("i"):
                    return w[:-1] + "y"  # happiest -> happy
                return w[:-1] if len(w) > 3 and w[-1] == w[-2] else w  # biggest -> big
        return w

    return x != y and plain(x).rstrip("e") == plain(y).rstrip("e")


def _lemma(word: str) -> str:
    """The word's base: "broke", "breaks" and "break" all give "break"."""
    return (IRREGULAR.get(word) or _base(word)[0]).rstrip("e")


def unknown(word: str, ctx: Spelling) -> bool:
    """No word of the lexicon or the larger word list (False unless both are at hand)."""
    if ctx.lexicon is None or not ctx.dictionary:
        return False
    return word not in ctx.lexicon and word not in ctx.dictionary


def doubled(x: str, y: str, ctx: Spelling) -> bool:
    """One word with a consonant doubled before its ending, the other a known word without
    ("scraping" / "scrapping", "hoping" / "hopping"): two verbs, not a slip ("runing" is no
    word, so it is a slip of "running"; nor is "eatting", a slip of "eating")."""
    short, long_ = sorted((x, y), key=len)
    lexicon = ctx.lexicon
    if len(long_) != len(short) + 1 or lexicon is None or short not in lexicon:
        return False
    if unknown(long_, ctx):
        return False
    for i in range(1, len(long_) - 1):
        if (
            long_[i] == long_[i - 1]
            and long_[i] not in "aeiou"
            and long_[:i] + long_[i + 1 :] == short
        ):
            return long_[i + 1 :].startswith(("ing", "ed", "er"))
    return False


def _related(x: str, y: str, ctx: Spelling) -> str | None:
    """How two unpaired words relate, as a reason to refuse ("" for one word asked the same
    way), or None when they are simply other words (a judge's to decide)."""
    if (x in IRREGULAR or y in IRREGULAR) and _lemma(x) == _lemma(y):
        return "" if {x, y} & ctx.passive or not {x, y} & _PAST else "tense"
    if one_word(x, y):
        return inflection_clash(x, y, ctx.lexicon, ctx.passive, ctx.generic)
    if _degree(x, y):
        return "degree"
    short, long_ = sorted((x, y), key=len)
    if any(long_ == p + short for p in _PREFIXES):
        return "prefix"
    for head in (short, _base(short)[0]):
        rest = long_[len(head) :]
        apart = rest in ctx.words  # "logout" / "log out": one word written apart
        if long_.startswith(head) and len(rest) >= 3 and ctx.lexicon and rest in ctx.lexicon:
            return None if apart else "compound"  # "grape" / "grapefruit": another thing
    for end in _INDEFINITE:
        heads = {x[: -len(end)], y[: -len(end)]}
        if x.endswith(end) and y.endswith(end) and x != y and heads <= _QUANTIFIERS:
            return "scope"
    for tail in (short, _base(short)[0]):
        lead = long_[: len(long_) - len(tail)]
        if long_.endswith(tail) and len(tail) >= 3 and len(lead) >= 3 and lead not in ctx.words:
            return "compound"  # "nuts" / "walnuts", "cake" / "cheesecake": one kind of it
    if any((v, w) in OPPOSITE for v in (x, _base(x)[0]) for w in (y, _base(y)[0])):
        return "opposite"  # "raise" / "lower": the other way
    if (member := _other_member(x, y)) is not None:
        return member  # "per day" / "per week", "my wife" / "my son", "on Windows" / "on a Mac"
    if _noun_of(x, y) or _noun_of(y, x):
        return None  # "different" / "difference": a quality and its noun, the judge's to weigh
    known = _AnyOf((ctx.lexicon, ctx.dictionary, ctx.names)) if ctx.lexicon is not None else None
    if near_spelling(x, y, known):
        return "spelt alike"
    if known is not None and x not in known and y not in known and vowel_for_vowel(x, y, 5):
        return "spelt alike"  # two rare words a vowel apart ("ileum" / "ilium"): no list knows
    if known is not None and x in known and y in known and derived(x, y):
        return "derived"
    return None


def _other_member(x: str, y: str) -> str | None:
    """The closed class (a time, a person, a platform, a place) two words are other members
    of, or None."""
    found = [CLOSED.get(w) or CLOSED.get(_base(w)[0]) for w in (x, y)]
    first, second = found
    if first is None or second is None or first[0] != second[0] or first == second:
        return None
    return first[0]


def _noun_of(adjective: str, noun: str) -> bool:
    """``noun`` names the quality ``adjective`` says ("different" / "difference", "important" /
    "importance")."""
    for adj, end in (("ent", "ence"), ("ant", "ance")):
        if adjective.endswith(adj) and noun.endswith(end):
            return len(adjective) > 5 and adjective[: -len(adj)] == noun[: -len(end)]
    return False


ROOT = 5  # letters two words derived from one root share at least ("deduct", "pharmac")


def derived(x: str, y: str) -> bool:
    """Two words made from one root with other endings, neither the other with an ending added
    ("deduction" / "deductible", "pharmacist" / "pharmacy", "organic" / "organized"): another
    thing or person, where "electric" / "electricity" or "meditate" / "meditation" name one."""
    bx, by = (_base(spelling(w))[0].rstrip("e") for w in (x, y))
    if bx.startswith(by) or by.startswith(bx):
        return False
    root = 0
    while root < min(len(bx), len(by)) and bx[root] == by[root]:
        root += 1
    return root >= ROOT


def unpaired_clash(only_a: Sequence[str], only_b: Sequence[str], ctx: Spelling) -> str:
    """Why two questions whose unpaired words are each a form, a near spelling, a prefixed
    or graded form of the other's are look-alikes ("" when they are not, or when some
    unpaired word is another word altogether: then a judge may decide)."""
    if not only_a or not only_b:
        return ""
    reasons: list[str] = []
    for words, others in ((only_a, only_b), (only_b, only_a)):
        for x in words:
            found = [_related(x, y, ctx) for y in others]
            known = [r for r in found if r is not None]
            if not known:
                return ""
            reasons.append(next((r for r in known if r), ""))
    return next((r for r in reasons if r), "")


@dataclass(frozen=True)
class _AnyOf:
    """Words found in any of ``sets``, without building their union (tens of thousands of
    words) for each pair of words compared."""

    sets: tuple[frozenset[str], ...]

    def __contains__(self, word: object) -> bool:
        return any(word in s for s in self.sets)


def near_spelling(x: str, y: str, lexicon: Container[str] | None) -> bool:
    """Two known words one or two letters apart ("desert" / "dessert", "planner" /
    "planter"), or a name and a word ("Revolut" / "Revolt"): unpaired, they are look-alikes of
    each other, not two ways of saying one thing. A misspelling ("grean") is not a word."""
    x, y = spelling(x), spelling(y)
    if min(len(x), len(y)) < 3 or abs(len(x) - len(y)) > 2:
        return False
    if (lexicon is not None and not (x in lexicon and y in lexicon)) or one_word(x, y):
        return False
    if {x[-3:], y[-3:]} == {"ion", "ing"} and x[:-3] == y[:-3]:
        return False  # one verb's noun and its -ing ("meditation" / "meditating")
    return _distance(x, y) <= (1 if min(len(x), len(y)) < 5 else 2)


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


_BE = frozenset({"am", "is", "are", "was", "were", "be", "been", "being", "get", "gets", "got"})


def passives(q: Question) -> frozenset[str]:
    """Participles a few words after "be" or "get" ("which tools are needed", "how is
    cheese made"): a passive, not a past ("which tools do I need" asks the same)."""
    out: set[str] = set()
    for i, w in enumerate(q.raw):
        if w in _BE:
            out.update(
                x
                for x in q.raw[i + 1 : i + 5]
                if x.endswith(("ed", "en", "wn")) or x in PARTICIPLES
            )
    # "how is the interest on a card balance calculated": the participle closes the question,
    # however long the thing before it
    words = [w for w in q.raw if w not in CLAUSE_BREAKS]
    if len(words) > 3 and words[0] in WH and words[1] in ("is", "are"):
        last = words[-1]
        if last.endswith(("ed", "en", "wn")) or last in PARTICIPLES:
            out.add(last)
    return frozenset(out)


def owners(text: str) -> frozenset[str]:
    """The words ``text`` writes as owners ("my aunt's"): gone from the parsed words, whose
    contractions read the "'s" as "is"."""
    return frozenset(re.findall(r"([a-z]+)['\u2019]s\b", text.lower()))


def generic(q: Question) -> frozenset[str]:
    """Words after "a"/"an" (an adjective may come between): "a list" is any list; and
    a possessive's "'s", often written without its apostrophe ("writers block")."""
    words = q.raw
    return owners(q.text) | frozenset(
        w
        for i, w in enumerate(words)
        if "a" in words[max(0, i - 2) : i] or "an" in words[max(0, i - 2) : i]
    )


def negation_moved(a: Question, b: Question, pairs: Mapping[int, Token]) -> bool:
    """A negation of one question that negates another word, or another clause, in the other
    ("does the fan not spin when the lid is open" / "... spin when the lid is not open")."""
    back = {p.position: t for t in a.tokens for p in (pairs[t.position],)}
    return not _negations_kept(a, b, pairs) or not _negations_kept(b, a, back)


def _negations_kept(a: Question, b: Question, pairs: Mapping[int, Token]) -> bool:
    negated = b.negated_clauses | {
        (t.clause, t.role) for t in b.tokens if t.position in b.negated_tokens
    }
    for t in a.tokens:
        if t.position in a.negated_tokens:
            p = pairs[t.position]
            if p.position not in b.negated_tokens and (p.clause, p.role) not in b.negated_clauses:
                return False
    for clause, role in a.negated_clauses:
        under = [t for t in a.tokens if t.clause == clause and t.role == role]
        mapped = {(pairs[t.position].clause, pairs[t.position].role) for t in under}
        if mapped and not mapped & negated:
            return False
    return True

"""A question taken apart for the recall verifier (docs/architecture.md, Recall): its kind, its
content words with the role each one plays, its negations, modal and grammatical person.

Only *form* is normalised here, never meaning: spelling, contractions, chat abbreviations,
numbers and units ("8GB" = "8 gigabytes"), politeness and filler. Everything that can change
the answer stays: every content word, the preposition that governs it ("from India" / "to
India"), word order inside a phrase, negations, quantifiers, time words, the grammatical
person ("my husband" / "I") and the kind of question asked.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sleepchat.core.recall import word_order
from sleepchat.core.recall.slips import one_slip
from sleepchat.core.recall.wordlists import (
    ABBREVIATIONS,
    AUX,
    CHAT_SPELLINGS,
    CLAUSE_BREAKS,
    CONTRACTIONS_RE,
    COORDINATORS,
    DEICTIC,
    DROPPED,
    FILLER,
    HEDGE_RE,
    INFINITIVE_AFTER,
    INTERJECTIONS,
    MARKERS,
    MODALS,
    NEGATIONS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    PARTICIPLES,
    PARTICLES_ONLY,
    PERSON,
    POLITE_RE,
    POSSESSIVE,
    REQUEST_RE,
    REQUEST_VERBS,
    SAME_MARKER,
    SPECIFIC_HOW,
    SPELLING,
    SUBORDINATORS,
    SYMBOLS,
    SYMMETRIC,
    SYMMETRIC_JOINERS,
    TENSE,
    TIME_NOUNS,
    UNIT_NAMES,
    UNITS,
    UNITS_AFTER_NUMBER,
    WH,
)


@dataclass(frozen=True)
class Token:
    word: str  # normalised form (stemmed; units and numbers canonical)
    surface: str  # as written (lowercase), for typo checks
    role: str  # the marker governing it ("" at the head of a clause)
    clause: int
    position: int  # index among the content tokens
    group: int  # items of a coordination (A or B, A vs B) count up within a clause
    kind: str = "word"  # "word" | "number" | "unit" | "symbol" | "particle"


@dataclass
class Question:
    text: str
    kind: str
    modal: str | None
    negations: int
    persons: set[str]
    tenses: set[str]
    strict: set[int] = field(default_factory=set)  # clauses whose coordination may not swap
    tokens: list[Token] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # normalised words before dropping, for 2/4
    wh_marker: str = ""  # the preposition of the question word ("at what", "what ... at")
    # Whose thing it is ("my car", "your name"): "what is my IP address" asks for a value,
    # "what is an IP address" for a definition.
    possessors: set[str] = field(default_factory=set)
    # What each negation negates: the content token right after it ("to not rest", "if it
    # does not freeze"), or its clause's words under the same role where a subject follows
    # ("does not my kettle boil"; "when the laptop is not on"): (clause, role).
    negated_tokens: set[int] = field(default_factory=set)
    negated_clauses: set[tuple[int, str]] = field(default_factory=set)
    # Of ``negations``, those told before the question as its scene ("toddler won't sleep, how
    # do I fix that?"), not in a condition of it ("if I have no yeast, what ...").
    scene_negations: int = 0
    # Of ``tenses``, those told in a condition ("if my flight was delayed").
    condition_tenses: set[str] = field(default_factory=set)


def _abbreviations_re(table: dict[str, str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(k) for k in table) + r")(?![\w'])")


_ABBREVIATIONS_RE = _abbreviations_re(ABBREVIATIONS)
_CHAT_RE = _abbreviations_re(CHAT_SPELLINGS)
_COUNTRY_RE = re.compile(
    r"\b(?:US|USA|U\.S\.A?\.?)(?![\w.])|\b[Uu]nited [Ss]tates(?: of [Aa]merica)?\b"
)
_INCHES = re.compile(r'(?<![\w"“./])(\d+(?:[./]\d+)?)(?:"|″|”)(?=\s+[A-Za-z])')
_KINGDOM_RE = re.compile(r"\b(?:U\.K\.?(?![\w.])|[Uu]nited [Kk]ingdom\b)")


@functools.lru_cache(maxsize=64)  # the same messages are compared again and again
def expand(text: str, form_only: bool = False) -> str:
    """Lowercase, unicode-folded (accents dropped), contractions and chat abbreviations written
    out (with ``form_only``, only the chat spellings of one word: "temp" may not be
    "temperature")."""
    text = text.replace("²", " squared").replace("³", " cubed")  # before NFKC makes them digits
    text = unicodedata.normalize("NFKC", text)
    # accents are spelling: "café" is "cafe" (the words below are ASCII letters)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _INCHES.sub(r"\1 inch", text)  # 'a 1/4" bit'
    text = _COUNTRY_RE.sub("usa", text)  # "the US" is a country, not "us"
    text = _KINGDOM_RE.sub("uk", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    for pattern, repl in CONTRACTIONS_RE:
        text = pattern.sub(repl, text)
    table, pattern = (CHAT_SPELLINGS, _CHAT_RE) if form_only else (ABBREVIATIONS, _ABBREVIATIONS_RE)
    return pattern.sub(lambda m: table[m.group(0)], text)


# Numbers, words (hyphens and apostrophes inside), paths, operators ("+=", "&&") and symbols:
# code questions differ by them ("rm -rf ./build" is not "rm -rf /").
_TOKEN_RE = re.compile(
    r"\d+(?:[.,]\d+)*|[a-z][a-z0-9]*(?:[-'][a-z0-9]+)*|vs\."
    r"|(?:~|\.{1,2})?/[\w./~-]*|~|[+\-*/=<>!&|^@#]{2,3}|[+*/=<>&|^@#~]"
    r"|[$€£¥%°]|[,;:?!.()\-—–]"
)


def _words(text: str) -> list[str]:
    # "km/h" is a unit, not a path; "!!" is emphasis, not an operator.
    words = _TOKEN_RE.findall(re.sub(r"\bkm/h\b", "kmh", text))
    return [w if w.strip("!") else "!" for w in words]


def _number(tok: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", tok):
        tok = tok.replace(",", "")
    return tok


def canonical(words: list[str]) -> list[str]:
    """Numbers, currencies and units in one form: "$1,000" -> "1000 usd", "5km" -> "5 km"."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in SYMBOLS and w != "%" and nxt[:1].isdigit():  # "$5" -> "5 usd"
            out += [_number(nxt), SYMBOLS[w]]
            i += 2
            continue
        if w in ORDINAL_WORDS:  # "sixtieth" as "60th" is read: the number, then "th"
            out += [ORDINAL_WORDS[w], "th"]
            i += 1
            continue
        if w[:1].isdigit() or w in NUMBER_WORDS or _numeral_one(words, i):
            out.append(NUMBER_WORDS.get(w, "1" if w == "one" else _number(w)))
            if nxt == "°" or ((nxt == "degrees" or nxt == "degree") and i + 2 < len(words)):
                after = words[i + 2] if i + 2 < len(words) else ""
                unit = UNITS_AFTER_NUMBER.get(after) or UNITS.get(after)
                if unit in ("celsius", "fahrenheit", "kelvin"):
                    out.append(unit)
                    i += 3
                    continue
                if nxt == "°":
                    out.append("degree")
                    i += 2
                    continue
            if nxt in UNITS_AFTER_NUMBER:
                out.append(UNITS_AFTER_NUMBER[nxt])
                # a measure of a thing is that measure of it: "500 grams of flour", "500g flour"
                i += 3 if words[i + 2 : i + 3] == ["of"] else 2
                continue
            i += 1
            continue
        if w in SYMBOLS:
            out.append(SYMBOLS[w])
        elif w in UNITS:
            out.append(UNITS[w])
            if out[-2:-1] and out[-2][:1].isdigit() and nxt == "of":
                i += 1  # "500 grams of flour" as "500 grams flour", as above
        elif w in UNITS_AFTER_NUMBER and out[-2:] in (["how", "many"], ["how", "much"]):
            out.append(UNITS_AFTER_NUMBER[w])  # "how many g of protein": the unit counted
        else:
            out.append(w)
        i += 1
    return out


_BE_FORMS = frozenset({"is", "are", "was", "were"})
_NOT_A_COUNT = frozenset(
    {"which", "this", "that", "the", "each", "every", "no", "any", "some", "another", "a", "an"}
    | {"only", "last", "first", "next"}
)


def _numeral_one(words: list[str], i: int) -> bool:
    """The word "one" counting a thing ("is one coat enough" is not "is the coat enough"); not the
    pronoun ("which one", "should one drink", "make one?", "one of them")."""
    if words[i] != "one" or i + 1 >= len(words):
        return False
    prev, nxt = words[i - 1] if i else "", words[i + 1]
    if prev in _NOT_A_COUNT or (prev in AUX and prev not in _BE_FORMS) or prev in MODALS:
        return False  # "does one need", "should one drink": the pronoun
    closed = nxt in DROPPED or nxt in MARKERS or nxt in AUX or nxt in FILLER
    return nxt.isalpha() and not closed and nxt not in INTERJECTIONS and nxt not in _AFTER_ONE


# Words after the pronoun "one" that are no thing counted: "buy one now", "worth one tbh".
_AFTER_ONE = frozenset({"now", "then", "too", "again", "today", "tbh", "yet", "soon", "instead"})


# British -> American spelling rules (the words they would merge wrongly are too rare to see):
_SPELLING_RULES = [
    (6, r"^practis", "practic"),  # practise/practised: verb and noun are one word in the US
    (7, r"is(?=(?:e|es|ed|ing|er|ers|ation|ations|ational)$)", "iz"),  # organise, -isation
    (7, r"ys(?=(?:e|es|ed|ing)$)", "yz"),  # analyse
    (6, r"(?<=[bcdfghilmnprstvz])our(?=(?:s|ed|ing|ful|ite|ites|able|ably|y|less|er|ers|ism"
     r"|ist|al|hood|ly)?$)", "or"),  # colour, favourite
    (5, r"(?<=[a-z]{2}[tbg])re(?=[sd]?$)", "er"),  # centre, metre, fibre, meagre
    (6, r"dgement(?=s?$)", "dgment"),  # judgement
    (6, r"(?<=def|off|lic)enc(?=e|es|ed|eless)", "ens"),  # defence, licenced
    (6, r"(?<=[^m])mme(?=s?$)", "m"),  # programme, kilogramme
    (7, r"(?<=[aeo])ll(?=(?:ed|ing|er|ers|or|ors|ous|ously|en)$)", "l"),  # travelled, woollen
    (7, r"ogue(?=s?$)", "og"),  # catalogue
    (6, r"(?<=.)[ao]e(?!s?$)", "e"),  # paediatric, diarrhoea (not tomatoes)
    (6, r"^[ao]e(?=[^r])", "e"),  # oesophagus, oedema, aesthetic (not aerial)
]


def spelling(word: str) -> str:
    """American spelling by rule: -ise -> -ize, -our -> -or, -tre -> -ter, -ll- -> -l-, ..."""
    w = SPELLING.get(word, word)
    for min_len, pattern, repl in _SPELLING_RULES:
        if len(w) >= min_len:
            w = re.sub(pattern, repl, w)
    return w


def stem(word: str) -> str:
    """A light suffix stripper: enough to make inflections meet, never aggressive."""
    if not word.isalpha() or len(word) <= 3:
        return word
    w = word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif len(w) == 4 and w.endswith("ied"):
        return w[:-1]  # "died", "tied": "die" and "dies" meet there (too short for "ed")
    for suffix in ("ing", "ed", "ly"):
        keep = 4 if suffix == "ly" else 3  # "early", "apply", "italy" stay whole
        if w.endswith(suffix) and len(w) - len(suffix) >= keep and not w.endswith("eed"):
            w = w[: -len(suffix)]
            if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # running -> run
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]  # bake/baking/baked -> bak
    return w


def _strip_politeness(text: str) -> str:
    asked = [w for m in POLITE_RE.finditer(text) for w in m.group(0).split()]
    text = POLITE_RE.sub(" , ", text)
    text = HEDGE_RE.sub(" , ", text)
    # An imperative opening that asks for an answer, at the start of any clause.
    parts = re.split(r"([,;:?!.]\s*)", text)
    request = set(asked) & REQUEST_VERBS or any(REQUEST_RE.match(p.strip()) for p in parts[::2])
    text = "".join(REQUEST_RE.sub("", p.strip()) if i % 2 == 0 else p for i, p in
                   enumerate(parts))
    # "List the symptoms for me", "explain it to me": who the answer is for, in a request,
    # not what is asked ("is running good for me?" keeps it).
    return _FOR_ME.sub("", text) if request else text


_FOR_ME = re.compile(r"\s+(?:for|to) (?:me|us)(?=[\s?!.,]*$)")


def _plain(text: str) -> str:
    """``text`` without its politeness, and a thing named before the question put back in it;
    its cause asked by the noun asked as "what causes" ("what is the cause of calf cramps")."""
    asked = word_order.by_whom(word_order.cause_asked(text))
    return word_order.topic_in_place(_strip_politeness(asked))


def _kind(words: list[str]) -> str:
    """What kind of answer is asked for: a wh-kind, "yesno", "choice" or "other"."""
    clause_start = True
    has_or = False
    yesno = False
    subordinate = False  # inside "if I ...", where "does the recipe change" starts the question
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in CLAUSE_BREAKS:
            clause_start, subordinate = True, False
            continue
        if clause_start and w in SUBORDINATORS:
            subordinate = True
        if subordinate and w in AUX and (nxt in PERSON or nxt in _SUBJECT_STARTS):
            clause_start, subordinate = True, False
        if w == "or":
            has_or = True
        if clause_start and (w in INTERJECTIONS or w in FILLER):
            continue  # "ok so can you ...", "honestly is it ...": the question starts after them
        if w == "how":
            if _HOW_MANY_UNITS.match(" ".join(words[i + 1 : i + 5])):
                return "how long"  # "how many minutes should I boil it", not "... a day"
            if nxt in SPECIFIC_HOW:
                return f"how {nxt}"
            if _asks_difference(words, i):
                return "what"  # "how do A and B differ": what the difference is
            if nxt == "frequently":
                return "how often"
            return "why" if nxt == "come" else "how"
        if w == "when" and _indirect_when(words, i):
            return "when"  # "(tell me) when we can go": the question, asked indirectly
        if w == "when" and nxt not in AUX and nxt != "to":
            clause_start = False
            continue  # "when I arrive": a subordinate clause, not the question
        if w == "what":
            if _causing(words, i) and not _asks_difference(words, i):
                return "why"  # "what causes X to fail" asks why X fails
            ahead = set(words[i + 1 : i + 5])
            after = " ".join(words[i + 1 : i + 9])
            if ahead & _DURATION_NOUNS or _TAKES_TIME.search(after):
                return "how long"  # "what is the lifespan of", "what is the germination time"
            if "distance" in ahead:
                return "how far"
            if ahead & _WHEN_NOUNS or (i and words[i - 1] in ("at", "from") and nxt == "age"):
                return "when"  # "at what age should I start" asks when
            if set(words[i + 1 : i + 7]) & _OFTEN_NOUNS:
                return "how often"  # "what's the replacement interval for a bike chain"
            if ahead & _PRICE_NOUNS or _AMOUNT.match(after) or _FAIR_SUM.match(after):
                return "how much"
            if nxt in _PLACE_NOUNS:
                return "where"
            if _WAY_TO.match(after) or _DO_TO.match(after):
                return "how"  # "what's the best way to ...", not "what way does it go"
        if w in {"whom", "whose"}:
            return "who"
        if w == "who" and i and (words[i - 1] in _PEOPLE or _after_noun(words, i)):
            clause_start = False
            continue  # "better for someone who cycles": who it is for, not a "who" question
        if w == "who" and _offers_choice(words, i):
            return "choice"  # "who pays the costs, the buyer or the seller?"
        if w == "which" and set(words[i + 1 : i + 3]) & _WHEN_NOUNS:
            return "when"  # "which year", as "what year"
        if w in WH:
            return "what" if w == "which" else w
        if clause_start and w in ("is", "are") and _THERE_WAY.match(" ".join(words[i : i + 7])):
            return "how"  # "is there a way to X" asks how to X
        if clause_start and w in AUX:
            yesno = True
        clause_start = False
    if yesno:
        return "choice" if has_or else "yesno"
    return "other"


def _after_noun(words: list[str], i: int) -> bool:
    """``words[i]`` follows a noun its article or owner opens ("for a beginner who runs", "my
    neighbour who ..."): a relative pronoun, not the question's word."""
    return i >= 2 and words[i - 2] in _DETERMINERS and words[i - 1].isalpha()


_DETERMINERS = frozenset({"a", "an", "the", "my", "your", "his", "her", "our", "their", "each"})


def _offers_choice(words: list[str], i: int) -> bool:
    """After the question word at ``i``, its answers offered last, after a comma: "A or B"."""
    rest = words[i + 1 :]
    while rest and rest[-1] in CLAUSE_BREAKS:
        rest = rest[:-1]
    cut = max((k for k, w in enumerate(rest) if w in CLAUSE_BREAKS), default=-1)
    offered = rest[cut + 1 :]
    return cut >= 0 and "or" in offered[1:-1] and len(offered) <= 7


# "Is there a way to", "are there any easy ways to": how to.
_THERE_WAY = re.compile(r"(?:is|are) there (?:(?:a|an|any|some) )?(?:\w+ )?ways? (?:to|2)\b")
# People a relative "who" describes ("for someone who cycles to work").
_PEOPLE = frozenset(
    {
        "someone", "somebody", "anyone", "anybody", "everyone", "everybody", "people", "person",
        "persons", "those", "one", "beginners", "students", "kids", "children", "adults",
        "parents",
    }
)
# Words quoted (the Welsh for 'who are you', said how): what is asked about, not how.
_QUOTED = re.compile(r"\"[^\"]{1,80}\"|(?<!\w)'[^']{1,80}'(?!\w)|“[^”]{1,80}”")


def _read(expanded: str, fix: Callable[[str], str] | None) -> list[str]:
    """The words of ``expanded``, closed-class typos fixed, numbers and units canonical."""
    words = _words(expanded)
    return canonical([fix(w) for w in words] if fix is not None else words)


def _indirect_when(words: list[str], i: int) -> bool:
    """``words[i]`` opens the whole question as "when" + a person + a modal, an indirect
    question."""
    return (
        i == 0 and len(words) > 2 and words[1] in PERSON and words[2] in MODALS
        and words[3:4] != [","]
    )


def form_words(text: str) -> list[str]:
    """``text``'s words with only form normalised: case, contractions, chat spellings,
    politeness, numbers and units. Nothing is stemmed, corrected or dropped yet."""
    return canonical(_words(_plain(expand(text, form_only=True))))



def request_verbs(text: str) -> list[str]:
    """The answer-shaping verbs of the request formulas ``form_words`` strips, sorted."""
    text = expand(text, form_only=True)
    # "I hope you can help" asks for no answer of a shape: its "help" is no request verb
    spans = [m.group(0) for m in POLITE_RE.finditer(text) if "hope" not in m.group(0).split()]
    for part in re.split(r"[,;:?!.]", HEDGE_RE.sub(" , ", POLITE_RE.sub(" , ", text))):
        m = REQUEST_RE.match(part.strip())
        if m:
            spans.append(m.group(0))
    return sorted(w for span in spans for w in span.split() if w in REQUEST_VERBS)


def kind_of(text: str) -> str:
    """The kind of answer ``text`` asks for: "how long", "when", "yesno", "choice", ..."""
    return _tagged(word_order.wh_first(canonical(_words(_plain(expand(text))))), text)


def _tagged(words: list[str], text: str) -> str:
    """The kind of ``words``, and of a question that has no question word: "... or nah?",
    "do you know whether ...", "ok to ...?" are yes/no (or a choice); a fragment asks what its head
    noun asks ("approx cost to fix it?" how much, "best time to sow?" when)."""
    kind = _kind(words)
    if kind != "other":
        return kind
    folded = text.casefold()
    if _YESNO_TAG.search(folded):
        return "yesno"
    if _INDIRECT_YESNO.search(expand(text)):
        return "choice" if "or" in words else "yesno"
    # the head noun, past what a polite opener left of its clause ("I'd love to find out, the
    # right season to ...")
    start = next((i for i, w in enumerate(words) if w[:1].isalnum()), len(words))
    fragment = _kind(["what", "is", *words[start:]])
    return fragment if fragment in {"how much", "when", "where", "how long", "how far"} else kind


def compatible_kinds(a: str, b: str) -> bool:
    """Same kind; a choice ("A or B?") is a "what"; a bare request goes with what/how only."""
    norm = {"choice": "what"}
    a, b = norm.get(a, a), norm.get(b, b)
    if a == b:
        return True
    return "other" in (a, b) and {a, b} - {"other"} <= {"what", "how"}


_OPENERS = CLAUSE_BREAKS | INTERJECTIONS
_WAY_TO = re.compile(
    r"(?:(?:is|are|(?:would|could|might) be) )?(?:the|a|an|some) (?:\w+ ){0,2}"
    r"(?:ways?|methods?|approach(?:es)?|techniques?|process(?:es)?|procedures?|steps|tricks?"
    r"|secrets?)"
    r" (?:to|2|for)\b"
)  # the copula may close the clause: "tell me what a good way to season a wok is"
# "what can I do to sleep better" asks how to; "what can I do to my car" asks what to do to it.
_DO_TO = re.compile(
    r"(?:can|could|should|do|would|will|must) (?:i|we|you|one) do (?:to|2) "
    r"(?!(?:the|a|an|my|your|his|her|our|their|its|it|this|that|these|those|him|them|me|us)\b)"
    r"\w"
)
# "what is a fair amount to pay", "what amount of water": how much.
_AMOUNT = re.compile(
    r"(?:(?:is|are|was|would be|should be) )?(?:(?:the|an?) )?(?:\w+ ){0,3}"
    r"(?:amount|intake|dose|dosage|quantity)\b"  # "the recommended daily water intake"
)
# "what's the usual tip for a guide", "what is a fair rent for": the sum to pay. Not "a good
# tip for cleaning grout": advice.
_FAIR_SUM = re.compile(
    r"(?:is |are |would be )?(?:the |an? )?(?:right|appropriate|normal|usual|standard|typical|"
    r"customary|proper|fair|reasonable|average) (?:tip|fee|rate|salary|wage|rent)s?\b"
)
# What makes a thing happen is why it happens: "what causes a bike chain to slip",
# "what is causing my screen to flicker", "what makes ice float" (and so the "to" before
# the effect's verb goes); "what caused it" asks why it happened. Not "what makes A different
# from B": what the difference is.
_CAUSES = frozenset({"causes", "caused", "cause", "causing", "makes", "made", "make", "making"})
# "How do A and B differ?", "how is A different from B?": the difference between them.
_DIFFER = frozenset({"differ", "different", "differs"})


_CAUSE_HEDGES = frozenset({"basically", "actually", "really", "exactly", "usually", "typically"})


def _causing(words: list[str], i: int) -> bool:
    """``words[i]`` ("what") opens a question on the cause: "what causes", "what is causing",
    "what might be causing", a modal before "cause" or "make" (not "what cause should I
    support?": a noun there)."""
    after = [w for w in words[i + 1 : i + 6] if w not in _CAUSE_HEDGES][:3]  # "what basically"
    if after[:1] and after[0] in {"causes", "caused", "makes", "made"}:
        return True
    if after[:1] and (after[0] in MODALS or after[0] == "would") and after[1:2] in (
        ["cause"], ["make"]
    ):
        return True  # the modal makes it no other question
    verb = next((w for w in after if w in {"causing", "making"}), "")
    before = after[: after.index(verb)] if verb else []
    return bool(verb) and all(w in AUX or w in MODALS or w in ("be", "been") for w in before)


def _asks_difference(words: list[str], i: int) -> bool:
    """The clause the question word ``words[i]`` opens asks how things differ."""
    end = next((j for j in range(i + 1, len(words)) if words[j] in CLAUSE_BREAKS), len(words))
    clause = words[i + 1 : end]
    # "different" before its noun says which ("what causes different moon phases"), no more
    return any(
        w in _DIFFER and (w != "different" or clause[k + 1 : k + 2] in _AFTER_DIFFERENT)
        for k, w in enumerate(clause)
    )


_AFTER_DIFFERENT: tuple[list[str], ...] = ([], ["from"], ["than"], ["to"])


_WHEN_NOUNS = frozenset({"time", "day", "date", "year", "month", "season", "moment", "deadline"})
_OFTEN_NOUNS = frozenset({"interval", "intervals", "frequency"})
# "how many minutes" asks how long; "how many hours a day" asks how many, of a rate.
_HOW_MANY_UNITS = re.compile(
    r"(?:many|much) (?:seconds|minutes|hours|days|weeks|months|years|time)(?= |$)"
    r"(?! (?:a|an|per|each|every|in a|in an|of)\b)"
)
_PRICE_NOUNS = frozenset({"price", "cost"})
# How long a thing lasts or takes, named by a noun.
_DURATION_NOUNS = frozenset({"lifespan", "duration", "lifetime", "longevity"})
_TAKES_TIME = re.compile(
    r"^(?:\w+ ){0,3}(?!(?:open|clos|start|end|meet|boarding|check)ing\b)\w+(?:ion|ing) time\b"
)
_PLACE_NOUNS = frozenset({"place", "city", "country"})
# "..., worth it or nah?": a fragment the tag makes a yes/no question ("newborn hiccups all day,
# normal??", "... is that normal lol"); so does "worth it"
# ("learning latin as an adult, worth it?", "worth it to go from v2 to v3?"), asked only of
# yes/no questions.
_YESNO_TAG = re.compile(
    r"\bor (?:nah|not|no|nope)\W*$|\bworth it\b"
    r"|\b(?:ok|okay|normal|safe|fine|allowed)(?:\W+(?:lol|lmao|haha|tho|though|right))?\W*$"
)
# An indirect yes/no question ("do you know whether ...", "wondering if ...") or one without its
# "is it" ("ok to run in the rain?"), read in the expanded text.
_INDIRECT_YESNO = re.compile(
    r"\b(?:wonder(?:ing)?|know|tell (?:me|us)|ask(?:ing)?|sure|check|find out|confirm)"
    r" (?:if|whether)\b"
    r"|^\W*whether\b"
    r"|(?:^|[,;:])\W*(?:(?:still|even|really|actually) )?"  # "opened jam, still ok to eat?"
    r"(?:ok|okay|safe|bad|normal|possible|legal|necessary|fine|dangerous|alright) (?:to|if)\b"
    r"|^\W*(?:\w+ ){1,4}(?:ok|okay|safe|fine|allowed) (?:for|with|if|to)\b"  # "jeans ok for ..."
    r"|^\W*(?:(?:still|even|really|actually) )?worth \w+ing\b"  # "worth replacing it?"
)
_SUBJECT_STARTS = frozenset({"the", "a", "an", "it", "this", "that", "there", "my", "your"})
# Small closed word classes whose typos would change the kind of question ("how lnog").
CLOSED_CLASS = frozenset(WH) | SPECIFIC_HOW | AUX | frozenset(MODALS) | NEGATIONS
# The nouns that decide a "what" question's kind ("what tiem" is a when-question): a slip of
# the finger in them is read as the word, as in the closed classes.
KIND_NOUNS = _WHEN_NOUNS | _PRICE_NOUNS | _PLACE_NOUNS | {"amount", "way", "method"}


def parse(text: str, fix: Callable[[str], str] | None = None) -> Question:
    """``fix`` corrects a typo in a closed-class word (it knows the vocabulary)."""
    expanded = _plain(expand(text))
    words = word_order.wh_first(_read(expanded, fix))
    # each quoted span one word for the kind: what is asked about, not how
    unquoted = _QUOTED.sub(" quoted ", expanded)
    read = word_order.wh_first(_read(unquoted, fix)) if unquoted != expanded else words
    kind = _tagged(read, text)
    if kind in {"yesno", "choice"} and _INDIRECT_YESNO.search(expand(text)):
        lead = next((i for i, w in enumerate(words) if w not in CLAUSE_BREAKS), 0)
        if words[lead:lead + 1] in (["if"], ["whether"]):
            del words[lead]  # "tell me if I can ...": the question is "can I ..."
    if kind == "when" and _indirect_when(words, 0):
        words[1], words[2] = words[2], words[1]  # "when we can" asks "when can we"
    words = word_order.it_to_do(words)
    words, wh_marker = _wh_preposition(words, kind)
    words = word_order.reordered(words)
    q = Question(text, kind, None, 0, set(), set(), raw=list(words), wh_marker=wh_marker)
    clause: list[tuple[str, str, int]] = []  # (word or "" for a marker slot, role, group)
    role, group, marker_run, n_clause = "", 0, False, 0
    symmetric = False  # the clause compares: "to"/"with" join like "and"
    causing = False  # after "what causes": the "to" before the effect's verb is not a marker
    negated: set[int] = set()  # indices into ``clause`` of words a negation negates
    subordinate = False  # inside "if ...", "because ...", up to the next mark
    told: list[tuple[int, str]] = []  # each tense word's clause: (clause, tense)
    denied: list[int] = []  # each negation's clause
    asking = -1  # the clause the question is asked in (its question word, or its inversion)
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if asking < 0 and (w in WH or (w in AUX and (not i or prev in CLAUSE_BREAKS))):
            asking = n_clause
        if w in CLAUSE_BREAKS:
            _close_clause(q, clause, n_clause, negated)
            clause, role, group, marker_run, symmetric = [], "", 0, False, False
            n_clause, negated = n_clause + 1, set()
            subordinate = False
            continue
        if _subordinating(words, i):
            subordinate = True  # "... if someone can not breathe": not the question's modal
        if _new_clause(w, nxt, role, clause):
            _close_clause(q, clause, n_clause, negated)  # "if I use X does Y change": no comma
            clause, role, group, marker_run, symmetric = [], "", 0, False, False
            n_clause, negated = n_clause + 1, set()
        if w == "when" and nxt not in AUX and nxt != "to":
            pass  # a subordinator ("when I arrive"), handled as a marker below
        elif w in NEGATIONS:
            q.negations += 1
            denied.append(-1 if subordinate else n_clause)
            if _content_word(nxt):
                negated.add(len(clause))  # the next word appended is the one it negates
            else:
                q.negated_clauses.add((n_clause, role))
            if group or nxt in COORDINATORS or any(x in COORDINATORS for x in words[i:]):
                q.strict.add(n_clause)  # "A and not B" is not "B and not A"
            continue
        elif w in PERSON:
            q.persons.add(PERSON[w])
            if w in POSSESSIVE or (w == "her" and _content_word(nxt)):
                q.possessors.add(PERSON[w])
            continue
        elif w == "will" and (subordinate or (nxt == "not" and q.kind == "why")):
            continue  # "if my landlord will not return it", "why won't it start": a refusal
        elif w in ("was", "were") and prev in ("that", "which") and _described(words, i):
            continue  # "soup that was thawed": what the thing is now, not when it is asked
        elif w in TENSE or (w == "going" and nxt == "to"):
            told.append((-1 if subordinate else n_clause, TENSE.get(w, "future")))
            if w in TENSE:
                continue
        elif w == "like" and (not clause or prev in CLAUSE_BREAKS):
            continue  # filler: "..., like in general"
        elif w == "there" and (prev in AUX or nxt in AUX):
            continue  # "is there", "there are": existential, not a place
        elif w in INTERJECTIONS and not clause and (not prev or prev in _OPENERS):
            continue  # "So, um, ok, how do I...": filler at the start of a clause
        elif w in ("though", "tho") and (nxt in CLAUSE_BREAKS or not nxt):
            continue
        elif w in MODALS:
            if not subordinate:
                q.modal = q.modal or MODALS[w]
            continue
        elif _dropped(w, nxt):
            continue
        elif prev == "how" and w in SPECIFIC_HOW | {"come", "frequently"}:
            continue  # part of the question kind
        elif prev == "what" and w == "time" and q.kind == "when":
            continue  # "what time" asks "when"
        elif w in _CAUSES and q.kind == "why" and "what" in words[max(0, i - 3) : i]:
            causing = True
            if w in {"caused", "made"}:
                q.tenses.add("past")  # "what caused the delays": why they happened
            continue  # "what causes X to V" asks "why does X V"
        elif w == "to" and causing:
            causing = False
            continue
        elif w == "to" and (
            prev in INFINITIVE_AFTER
            or (prev in SPECIFIC_HOW and words[i - 2 : i - 1] == ["how"])
            or (prev == "do" and q.kind == "how" and "what" in words[max(0, i - 5) : i])
        ):
            continue  # "how (long) to bake", "what can I do to bake": "how (long) do I bake"
        if w in COORDINATORS or (w in SYMMETRIC_JOINERS and symmetric):
            group += 1
            marker_run = False
            continue
        if w == "between" and any(x in COORDINATORS for x in words[i + 1 :]):
            continue  # "the difference between X and Y" = "X vs Y: the difference"
        if w in MARKERS:
            # a clause after a particle is the clause's ("fogging up when wearing a mask")
            if not marker_run or (w in SUBORDINATORS and clause[-1:] and not clause[-1][0]):
                role = SAME_MARKER.get(w, w)
            marker_run = True
            clause.append(("", role, group))
            continue
        marker_run = False
        if stem(spelling(w)) in SYMMETRIC:
            # The relation in a group of its own: "X differs from Y" = "Y differs from X".
            symmetric = True
            clause.append((w, role, group + 1))
            group += 2
            continue
        clause.append((w, role, group))
    _close_clause(q, clause, n_clause, negated)
    # What was told before the question ("my iron was spitting brown water earlier; how should
    # it be descaled?") sets the scene, not the question's time: its tense is not the question's.
    # (a condition's, "if I didn't ...", is the question's: -1)
    q.tenses |= {tense for at, tense in told if not 0 <= at < asking}
    q.condition_tenses = {tense for at, tense in told if at == -1}
    # ... and what it denies is told, not asked: the judge weighs that scene as words added
    q.scene_negations = sum(1 for at in denied if 0 <= at < asking)
    return q


def _content_word(w: str) -> bool:
    """A word that is content, not grammar: what a negation before it negates."""
    closed = w in PERSON or w in DROPPED or w in MARKERS or w in AUX or w in CLAUSE_BREAKS
    return bool(w) and w[:1].isalnum() and not closed and w not in FILLER


def _new_clause(w: str, nxt: str, role: str, clause: list[tuple[str, str, int]]) -> bool:
    """A subordinate clause ends where the main one starts without a comma: at an inverted
    auxiliary ("if I use X does the recipe") or a question word ("before I go what...")."""
    if role not in SUBORDINATORS or not any(word for word, _r, _g in clause):
        return False
    if w in WH and w != "when":
        return True
    return w in AUX and (nxt in PERSON or nxt in _SUBJECT_STARTS)


def _wh_preposition(words: list[str], kind: str) -> tuple[list[str], str]:
    """The preposition of the question word, wherever it stands: "At what temperature does
    water boil?" asks "What temperature does water boil at?". After "how long/much/many" a
    "for" only repeats it ("How long do I bake it for?")."""
    if kind in ("yesno", "choice", "other"):
        return words, ""
    out = list(words)
    found = ""
    head: list[str] = []  # the words after the question word
    j = len(out) - 1
    while j > 0 and out[j] in CLAUSE_BREAKS:
        j -= 1
    for i, w in enumerate(out[:-1]):
        if w not in MARKERS or out[i + 1] not in WH:
            continue
        fronted = i == 0 or out[i - 1] in CLAUSE_BREAKS
        # "the server listens on which port?": the question word left in place, last
        between = out[i + 1 : j]
        in_place = i + 3 >= j and not any(x in MARKERS or x in CLAUSE_BREAKS for x in between)
        if fronted or in_place:
            found = out.pop(i)  # pied-piped: "at what", "in which", "for how long"
            head = out[i + 1 : i + 3]
            if not fronted:  # asked in place: the words keep the order of the fronted question
                start = max((k + 1 for k in range(i) if out[k] in CLAUSE_BREAKS), default=0)
                phrase = out[i:j]
                del out[i:j]
                out[start:start] = phrase
            break
    else:
        # "what port does it listen on by default?": stranded before a closing phrase
        last = max((k for k in range(1, j + 1) if out[k] in MARKERS), default=0)
        if 0 < j - last <= 3 and last > 1 and out[last - 1] in _STRANDED:
            j = last - 1
        # "How" is no preposition's object: one last in a how-question is a particle ("how do
        # I get it out", "how do I turn it off"), content like any particle.
        stranded = j > 0 and out[j] in MARKERS and out[j - 1] not in MARKERS
        # "what should I do if my boat tips over": the "if" clause's particle, not the question's
        asked = next((k for k, x in enumerate(out) if x in WH), 0)
        stranded = stranded and not any(_subordinating(out, k) for k in range(asked + 1, j))
        # "... about to go out?", "... just starting out": a verb's particle, not "out of what"
        stranded = stranded and out[j] not in PARTICLES_ONLY
        if stranded and (not kind.startswith("how") or out[j] == "for"):
            found = out.pop(j)  # stranded at the end: "what ... at?"
            head = out[asked + 1 : asked + 3]
    if found == "for" and kind.startswith("how "):
        found = ""
    if found in ("at", "from") and _at_a_measure(head, found):
        found = ""
    return out, SAME_MARKER.get(found, found)


# Words after which "that" opens what is said or thought, not a clause about a thing.
_SAYING = frozenset({"think", "know", "say", "said", "believe", "mean", "sure", "hope", "guess"})


def _described(words: list[str], k: int) -> bool:
    """``words[k]`` ("was", "were") opens a clause about the thing before "that" or "which",
    in the passive ("soup that was thawed", "bread which was baked yesterday")."""
    thing, done = (words[k - 2] if k >= 2 else ""), (words[k + 1] if k + 1 < len(words) else "")
    passive = done.endswith("ed") or done in PARTICIPLES
    return thing.isalpha() and thing not in _SAYING and thing not in AUX and passive


def _subordinating(words: list[str], k: int) -> bool:
    """``words[k]`` opens a subordinate clause ("if", "because", "when I ..."; not the
    question's own "when is ...")."""
    nxt = words[k + 1] if k + 1 < len(words) else ""
    return words[k] in SUBORDINATORS and not (words[k] == "when" and nxt in AUX)


# A value a thing is set, kept or done at: the "at" before or after a question word that asks
# for a temperature, a humidity or a speed only repeats what the noun asks.
_MEASURES = frozenset({
    "temperature", "temp", "humidity", "speed", "pressure", "level", "setting", "height",
    "altitude", "age", "rate", "angle", "depth", "heat", "frequency",
})


def _at_a_measure(head: list[str], found: str) -> bool:
    """The question word's noun, within its next two words, is a measure (a temperature, an
    age, a speed) or a slip of one; "from" only for an age: the youngest age a thing may start
    is the age it starts at."""
    noun = next((w for w in head if w in _MEASURES or any(one_slip(w, m) for m in _MEASURES)), "")
    return bool(noun) and (found == "at" or noun == "age")


# The prepositions a question word leaves at the end of its clause ("which port does it listen
# on"), not particles of a verb ("throw up", "turn off").
_STRANDED = frozenset({"to", "from", "into", "onto", "by", "for", "with", "in", "on", "at", "of",
                       "about", "through", "under", "as"})


def _dropped(w: str, nxt: str) -> bool:
    """Filler, the wh-word (the kind holds it) and grammar words; "this" stays before a time
    word ("this weekend")."""
    if w in FILLER or w in WH or w == "whether":
        return True
    return w in DROPPED and not (w in DEICTIC and nxt in TIME_NOUNS)


def _close_clause(
    q: Question, clause: list[tuple[str, str, int]], n_clause: int, negated: set[int]
) -> None:
    """Append a clause's content tokens. A marker that governs nothing is a particle, and so
    content itself: "turn on" is not "turn off"."""
    for j, (word, role, group) in enumerate(clause):
        if word:
            if j in negated:
                q.negated_tokens.add(len(q.tokens))
            q.tokens.append(_token(word, role, n_clause, len(q.tokens), group))
        elif not any(w for w, _r, _g in clause[j + 1 :]):
            prior = next((r for w, r, _g in reversed(clause[:j]) if w), "")
            q.tokens.append(Token(role, role, prior, n_clause, len(q.tokens), group, "particle"))


def _token(word: str, role: str, clause: int, position: int, group: int) -> Token:
    if not word[:1].isalpha():
        kind = "number" if word[:1].isdigit() else "symbol"
        return Token(word, word, role, clause, position, group, kind)
    if word[:1].isdigit():
        return Token(word, word, role, clause, position, group, "number")
    if word in UNIT_NAMES:
        return Token(word, word, role, clause, position, group, "unit")
    normal = stem(spelling(word.replace("-", "")))
    return Token(normal, word, role, clause, position, group)

"""One question in another order: rewrites that put a question's words where its plainer
form has them, so the verifier (``question.py``) compares the same words in the same roles. A
thing named before the question ("citrus peels - can I compost them?"), a verb's particle on
either side of its object, a question word left in place, a judgement asked of the doing or of
the thing, keeping a thing from doing said four ways, a cause asked by its noun. Each rewrite is
of the form only: both questions of a pair go through it, and a word it moves keeps its sense.
"""

from __future__ import annotations

import re

from sleepchat.core.recall.wordlists import (
    AUX,
    CLAUSE_BREAKS,
    COORDINATORS,
    DROPPED,
    FILLER,
    INTERJECTIONS,
    MARKERS,
    MODALS,
    NEGATIONS,
    PARTICIPLES,
    PARTICLES_ONLY,
    PASTS,
    PERSON,
    POSSESSIVE,
    SPECIFIC_HOW,
    SUBORDINATORS,
    WH,
)


def by_whom(text: str) -> str:
    """Who did a thing, asked in the passive ("by whom was the bridge designed", "the bridge was
    designed by whom", "who was the bridge designed by"), asked as "who designed the bridge":
    the doer and the thing each in their place. Only the past of one verb, of a thing that is
    no clause ("by whom was he replaced" asks "who replaced him")."""
    m = _BY_WHOM_FIRST.match(text) or _BY_WHOM_LAST.match(text) or _WHO_BY.match(text)
    if m is None:
        return text
    verb, thing = m.group("verb"), m.group("thing").split()
    past = _PAST_OF.get(PARTICIPLES.get(verb, ""), verb)
    if not (verb.endswith("ed") or verb in PARTICIPLES) or not 0 < len(thing) <= 8:
        return text
    if past == verb and verb.endswith("en"):
        return text  # "beaten", "bitten": a past the lists do not hold
    if any(w in AUX or w in MODALS or w in WH or w in PARTICIPLES or w in PASTS for w in thing):
        return text
    rest = m.groupdict().get("rest") or ""
    return f"who {past} {' '.join(_OBJECT.get(w, w) for w in thing)}{rest}{m.group('end')}"


_THING = r"(?P<thing>[^,;:?!.]+?)"
_END = r"(?P<end>\s*[?!.]*)\s*$"
_BY_WHOM_FIRST = re.compile(
    rf"^by whom (?:was|were) {_THING} (?P<verb>[a-z]+)(?P<rest> (?:in|on|at|during|as) [^,;:?!.]+)?"
    rf"{_END}"
)
_BY_WHOM_LAST = re.compile(rf"^{_THING} (?:was|were) (?P<verb>[a-z]+) by whom{_END}")
_WHO_BY = re.compile(rf"^who (?:was|were) {_THING} (?P<verb>[a-z]+) by{_END}")
_PAST_OF = {base: past for past, base in PASTS.items()}
_OBJECT = {"he": "him", "she": "her", "they": "them", "we": "us", "i": "me"}


def cause_asked(text: str) -> str:
    """A cause asked by its noun asked as "what causes" ("what is the cause of calf cramps"),
    the reason for a clause as "why" ("what's the reason owls hoot at night")."""
    text = _CAUSE_OF.sub(lambda m: "what caused" if m[1] in _PAST_BE else "what causes", text)
    return _REASON_THAT.sub("why ", text)


_PAST_BE = ("was",)
# The cause, one ("what is the cause of"): "what are the main causes of" asks for a list, as
# "describe the main causes of" does.
_CAUSE_OF = re.compile(
    r"\bwhat (is|was) (?:the )?(?:most common |usual |likely |real )?(?:cause|reason) "
    r"(?:of|for|behind)\b"
)
# The reason, then the clause it is the reason for (its own tense): "what is the reason (why)
# owls hoot", "for what reason do owls hoot".
_REASON_THAT = re.compile(
    r"\b(?:what (?:is|was) (?:the )?(?:main |real |actual )?reason (?:why |that )?"
    r"(?!of\b|for\b|behind\b|is\b|was\b|\?)|for what reason )(?=[a-z])"
)


# A thing named first, then the question about it: "citrus peels - can I compost them?",
# "water from a dehumidifier: is it fine to drink?".
_TOPIC = re.compile(
    r"^[\s,]*(?P<thing>[a-z0-9][^,;:?!.\-–—]{0,60}?)\s*(?:[-–—:]|,)\s*"
    r"(?P<asked>(?:how|what|when|where|which|why|who|is|are|can|could|should|do|does|will|would)"
    r"\b[^,;:?!.\-–—]*?)\s*[?!.]*\s*$"
)
_OBJECT_PRONOUN = re.compile(r"\b(?:it|them)\b")
_SUBJECTS = frozenset({"i", "you", "u", "we", "he", "she", "they"})
_RELATIVES = ("that", "which", "who")


def _takes_object(word: str, after: list[str]) -> bool:
    """``word`` reads as a verb with its object after it: an -s or -ed ending before a word that
    is no preposition, conjunction or relative ("refuses veggies", not "panels on a roof")."""
    if len(word) <= 3 or not word.endswith(("s", "ed")) or not after:
        return False
    nxt = after[0]
    return nxt not in MARKERS and nxt not in COORDINATORS and nxt not in _RELATIVES


def topic_in_place(text: str) -> str:
    """The thing named before a question that asks of it by "it" (or by a verb left without
    its object at the end) put where the pronoun or the object stands: "can I compost citrus
    peels", "is it fine to drink water from a dehumidifier". Only a thing: words with no
    subject, question word or verb of their own but a relative clause's ("that was opened")."""
    m = _TOPIC.match(text)
    if m is None:
        return text
    words = m.group("thing").split()
    while words and (words[0] in INTERJECTIONS or words[0] in FILLER):
        del words[0]
    if not 0 < len(words) <= 7 or words[0] in MARKERS:
        return text  # a phrase of place or time moved first is another rule's (verify.py)
    for k, w in enumerate(words):
        relative = k > 0 and words[k - 1] in _RELATIVES
        if w in _SUBJECTS or w in WH or ((w in AUX or w in MODALS) and not relative):
            return text
        if k > 0 and not relative and (w in PASTS or _takes_object(w, words[k + 1 : k + 2])):
            return text  # a clause: "my pipe froze", "my toddler refuses veggies"
    thing, asked = " ".join(words), m.group("asked")
    spots = [
        p for p in _OBJECT_PRONOUN.finditer(asked)
        if asked[: p.start()].split()[-1:] and asked[: p.start()].split()[-1] not in AUX
        and asked[p.end():].split()[:1] not in (["is"], ["was"], ["will"], ["does"])
    ]
    if spots:  # the first names it, those after refer to it: "freeze it and reheat it"
        first = spots[0]
        return f"{asked[: first.start()]}{thing}{asked[first.end():]}?"
    if re.search(r"\bto [a-z]+$", asked):
        return f"{asked} {thing}?"
    return text


# What doing a thing is, asked of the doing ("is planing oak hard?") or of "it" ("is it hard to
# plane oak?"): the judgements a yes/no question passes on an act.
_JUDGED = frozenset({
    "safe", "ok", "okay", "fine", "bad", "good", "healthy", "unhealthy", "dangerous", "legal",
    "illegal", "normal", "necessary", "possible", "smart", "wise", "better", "worse", "harmful",
    "risky", "easy", "hard", "difficult", "worth", "worthwhile", "allowed",
})  # fmt: skip


def it_to_do(words: list[str]) -> list[str]:
    """A question on doing a thing asked with the doing first put as "is it ... to do": "is
    planing oak hard" reads "is it hard to planing oak" (stems pair "planing" with "plane"), "is
    learning Welsh worth it" reads "is it worth learning Welsh"."""
    for i, w in enumerate(words):
        if w not in ("is", "are", "was") or (i and words[i - 1] not in CLAUSE_BREAKS):
            continue
        end = next((k for k in range(i + 2, min(len(words), i + 7)) if words[k] in _JUDGED), 0)
        if not end:
            return words
        if not _doing(words[i + 1]):
            return _thing_to_do(words, i, end)
        if any(x in CLAUSE_BREAKS or x in AUX or x in WH for x in words[i + 2 : end]):
            return words
        act, judged, rest = words[i + 1 : end], words[end], words[end + 1 :]
        if judged == "worth":
            rest = rest[1:] if rest[:1] == ["it"] else rest
            return [*words[: i + 1], "it", judged, *act, *rest]
        return [*words[: i + 1], "it", judged, "to", *act, *rest]
    return words


def _thing_to_do(words: list[str], i: int, end: int) -> list[str]:
    """ "is raw egg safe for cats to eat?" read as "is it safe for cats to eat raw egg?": the
    thing a judgement is passed on, first, put after the verb that closes the question
    (``words[i]`` is its "is", ``words[end]`` the judgement)."""
    thing = words[i + 1 : end]
    if not all(_in_object(w) or w in _ARTICLES for w in thing):
        return words
    to = next((k for k in range(end + 1, min(len(words), end + 6)) if words[k] == "to"), 0)
    for_whom = words[end + 1 : to]
    if not to or (for_whom and for_whom[0] != "for") or to + 2 > len(words):
        return words
    verb, rest = words[to + 1], words[to + 2 :]
    if not _a_verb(verb) or (rest and rest[0] not in CLAUSE_BREAKS):
        return words  # "is it safe to eat X" has its object already
    return [*words[: i + 1], "it", words[end], *for_whom, "to", verb, *thing, *rest]


def wh_first(words: list[str]) -> list[str]:
    """A question word left in place after its verb put first with the rest of its clause: "a
    cello lesson costs how much" reads as "how much a cello lesson costs". Not after a
    preposition (``_wh_preposition`` moves those), nor in a clause that opens with an auxiliary
    ("do you know what ...") or already asked by a question word."""
    start = 0
    for i, w in enumerate(words):
        if w in CLAUSE_BREAKS:
            start = i + 1
            continue
        if w not in WH or i - start < 2:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        # "how many" and its kin, or a question word closing the clause ("... closes when?");
        # another is a clause of its own ("... fading when I wash them", "... couch how do I")
        if not ((w == "how" and nxt in SPECIFIC_HOW) or (w != "how" and nxt in CLAUSE_BREAKS)
                or (w != "how" and not nxt)):
            continue
        clause = words[start:i]
        prev = words[i - 1]
        if prev in MARKERS or prev in COORDINATORS or prev in PERSON or prev in AUX:
            return words  # "for how long"; "ask him what"; "is what": not asked in place
        if any(x in WH or x in AUX or x in MODALS or x in SUBORDINATORS for x in clause):
            return words
        if clause[0] in INTERJECTIONS or clause[0] in FILLER:
            return words
        end = next((k for k in range(i, len(words)) if words[k] in CLAUSE_BREAKS), len(words))
        return [*words[:start], *words[i:end], *clause, *words[end:]]
    return words


# A verb's particle before its object, moved to stand after it ("pay off my loan early" is "pay
# my loan off early"): there it stays a word of its own ("put the tent up" is not "... away"),
# where before the object it would read as a preposition.
_ARTICLES = frozenset({"a", "an", "the", "this", "these", "those", "its"}) | POSSESSIVE
# ... where the object closes the clause or an adverb of how or when follows it ("put out a
# fire in the kitchen" keeps its "in" phrase's role).
_AFTER_PARTICLE = frozenset({
    "early", "fast", "faster", "quick", "quicker", "now", "today", "tonight", "tomorrow", "first",
    "again", "later", "soon", "sooner", "yet", "already", "completely", "properly", "safely",
})  # fmt: skip
_BEFORE_VERB = _SUBJECTS | {"to"}
_NOT_IN_OBJECT = MARKERS | AUX | DROPPED.difference(_ARTICLES) | set(PERSON) | NEGATIONS


def particle_last(words: list[str]) -> list[str]:
    """A verb's particle moved after its object: "throw out old paint" reads as "throw old paint
    out"; and "on" (a preposition as often) before it, only where it closes the clause ("turn
    the heater on" reads as "turn on the heater"). The verb follows its subject or "to" (or is
    a gerund before an article: "worth paying off my loan"), the object is one to four words
    and closes the clause or comes before a conjunction or an adverb; anything else is left as
    typed."""
    out = _on_first(words)
    for i in range(2, len(out) - 1):
        particle, verb = out[i], out[i - 1]
        if particle not in PARTICLES_ONLY or not _a_verb(verb):
            continue
        articled = out[i + 1] in _ARTICLES
        gerund = verb.endswith("ing") and len(verb) > 5 and articled
        if out[i - 2] not in _BEFORE_VERB and not gerund:
            continue
        end = i + 2 if articled else i + 1
        while end < len(out) and end - i <= 4 and _in_object(out[end]):
            end += 1
        if end == i + 1 or (articled and end == i + 2):
            continue  # no object
        nxt = out[end] if end < len(out) else ""
        if nxt and nxt not in CLAUSE_BREAKS and nxt not in _AFTER_PARTICLE and (
            nxt not in COORDINATORS and not (nxt.endswith("ly") and len(nxt) > 4)
        ):
            continue
        out[i:end] = [*out[i + 1 : end], particle]
    return out


def _on_first(words: list[str]) -> list[str]:
    """ "turn the heater on" read as "turn on the heater": an "on" closing its clause after an
    object opened by an article or a possessive, after the verb."""
    out = list(words)
    for i in range(3, len(out)):
        if out[i] != "on" or not (i + 1 == len(out) or out[i + 1] in CLAUSE_BREAKS):
            continue
        # the object opens with an article, or (as form reads it, without one) right after a
        # verb that follows "I" or "to"
        start = next((k for k in range(i - 1, max(0, i - 5), -1) if out[k] in _ARTICLES), 0)
        words_at = start + 1
        if not start:
            start = next(
                (k for k in range(i - 1, max(1, i - 4), -1) if out[k - 2] in _BEFORE_VERB), 0
            )
            words_at = start
        if not start or words_at == i or not all(_in_object(w) for w in out[words_at:i]):
            continue
        if not _a_verb(out[start - 1]):
            continue
        out[start:i + 1] = ["on", *out[start:i]]
    return out


def _in_object(word: str) -> bool:
    closed = word in _NOT_IN_OBJECT or word in WH or word in FILLER or word in _AFTER_PARTICLE
    return word[:1].isalnum() and not closed and not word.endswith("ly")


# Keeping a thing from doing something, said four ways: "get (make, teach) X to stop V-ing",
# "keep (prevent) X from V-ing", "stop X V-ing" all read as "stop X from V-ing".
_CAUSE = frozenset({"get", "make", "getting", "making", "teach", "train", "teaching", "training"})
_CEASE = frozenset({"stop", "quit"})
_PREVENT = frozenset({"keep", "prevent", "keeping", "preventing", "stop", "stopping"})


def _keeping_from(words: list[str]) -> list[str]:
    out = list(words)
    for i, w in enumerate(out):
        if w not in _CAUSE and w not in _PREVENT:
            continue
        end = i + 1
        while end < len(out) and end - i <= 4 and out[end][:1].isalpha() and (
            out[end] not in _NOT_IN_OBJECT or out[end] in _ARTICLES or out[end] in PERSON
        ) and out[end] not in _CEASE and not _doing(out[end]):
            end += 1
        thing = out[i + 1 : end]
        rest = out[end:]
        if not thing:
            continue
        if w in _CAUSE and rest[:1] == ["to"]:
            rest = rest[1:]
        if w in _CAUSE and rest[:1] and rest[0] in _CEASE and _doing(rest[1] if rest[1:] else ""):
            out[i:] = ["stop", *thing, "from", *rest[1:]]
        elif w in _PREVENT and rest[:1] == ["from"] and _doing(rest[1] if rest[1:] else ""):
            out[i:] = ["stop", *thing, *rest]
        elif w in ("stop", "stopping") and _doing(rest[0] if rest else ""):
            out[i:] = ["stop", *thing, "from", *rest]
    return out


def _doing(word: str) -> bool:
    """``word`` is a verb's -ing form, not a noun spelt so ("ceiling", "morning")."""
    return len(word) > 5 and word.endswith("ing") and word not in _ING_NOUNS


_ING_NOUNS = frozenset({
    "morning", "evening", "ceiling", "building", "clothing", "bedding", "wedding", "something",
    "nothing", "anything", "everything", "pudding", "stuffing", "frosting", "housing", "parking",
    "flooring", "roofing", "siding", "plumbing", "lighting", "heating", "wiring", "shipping",
    "spring", "string", "earring", "awning", "railing", "painting", "drawing", "filling",
})  # fmt: skip


def reordered(words: list[str]) -> list[str]:
    """``words`` with a particle after its object, keeping from doing and the cost of doing
    said one way."""
    return _cost_to_do(_keeping_from(particle_last(words)))


def _cost_to_do(words: list[str]) -> list[str]:
    """ "the cost of replacing it" read as "the cost to replacing it" (stems pair the verb's
    forms), as "how much does it cost to replace it" says it."""
    out = list(words)
    for i in range(len(out) - 2):
        if out[i] in ("cost", "costs") and out[i + 1] == "of" and _doing(out[i + 2]):
            out[i + 1] = "to"
    return out


def _a_verb(word: str) -> bool:
    """``word`` may be the verb of a particle: a word, and none of grammar or filler."""
    closed = word in _NOT_IN_OBJECT or word in WH or word in FILLER or word in INTERJECTIONS
    return word[:1].isalpha() and not closed and word not in _ARTICLES and word not in MODALS

"""The quality gate: what a reflection may store (notes, predicted questions) and what it drops.

Small models write text that looks like output but says nothing ("The new fact is:", "A few
facts about me…"), echo instructions ("Please tell the user to…"), number their lists, leave
placeholders ("The answer is not available.", "]["), invent values, or keep a value the user
has since corrected. Each rule below names one such *class*; ``text_problem`` holds the rules
any stored text must pass, ``note_problem`` adds those of a note, ``question_problem`` those of
a predicted question. Every function returns the reason a text is dropped (a short phrase for
logs and stats), or None when it may be stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sleepchat.core.recall import content_words, lexical_similarity
from sleepchat.core.recall.verify import Verifier
from sleepchat.core.reflection.restatement import another_need
from sleepchat.core.reflection.restatement import restates as restates_question
from sleepchat.core.reflection.voice import about_their_things, asks_the_user

# Reasons, as logged and counted.
FRAGMENT = "a fragment"
NUMBERING = "list numbering"
PLACEHOLDER = "a placeholder"
META = "meta text"
INSTRUCTION = "an instruction"
CODE = "code, not a statement"
SECRET = "a secret"
UNRELATED = "no content from the conversation"
INVENTED = "a value nobody stated"
CONTRADICTED = "contradicted by a later message"
NOT_A_QUESTION = "not one question ending in a question mark"
TOO_LONG = "too long"
ASKS_THE_USER = "the assistant asking the user"
REPEAT = "repeats an earlier question"
RESTATES = "restates an earlier question behind padding"

# A note must share at least this share of its content words with the conversation.
MIN_SHARED = 0.5
MAX_QUESTION_CHARS = 300
# A question this close to one already asked (or predicted) repeats or restates it.
REPEAT_SIMILARITY = 0.6
# A question that shares no word with the conversation is unrelated only once the conversation
# has said enough: a follow-up to two short messages often brings its own words ("lower the
# hydration" after "my sourdough is dense").
TOPIC_WORDS = 40
# Code in a question is not a placeholder: `x[0]`, dict{}, f(<T>) and backticked spans.
_CODE = re.compile(r"`[^`]*`|\w[\[({<][^\])}>]*[\])}>]")

_NUMBERING = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•#>]|\(?[a-h]\))\s|:\s*\d{1,2}[.)](?:\s|$)")
_PLACEHOLDER = re.compile(
    # a named slot: [name], <city>, {date}, [insert answer here]
    r"[\[<{]\s*(?:your |the |insert |user'?s? |some )?(?:name|city|date|time|number|amount|"
    r"answer|company|location|value|placeholder|text|topic|question|item|product|place)\b"
    r"[^\]>}]{0,20}[\]>}]|"
    r"\.\.\.|…|_{3,}|\b(?:n/a|tbd|tba|todo|lorem|ipsum|xxx+|"
    r"placeholder|null|undefined)\b|\b(?:is|are|was) not (?:available|known|provided|given)\b|"
    r"\b(?:no|not an?) (?:answer|information|data) (?:is )?(?:available|provided|given)\b|"
    r"^\s*(?:none|unknown|nothing|no|yes|ok|okay)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_CODE = re.compile(r'\{\s*"|"\s*:\s*[\["{]|"\s*:\s*"|</?[a-z]+>|\brm -rf\b')
_META = re.compile(
    r"\b(?:the|a|my|your) (?:new |few |key |following |main )?facts?\b(?! that)|"
    r"\bfacts? about\b|\b(?:this|the|our) (?:conversation|chat|reflection|dialogue)\b|"
    r"(?:^|:\s*)here(?:'s| is| are)\b|\bhere(?:'s| is| are) (?:what|the following|some|my|your)\b|"
    r"\bthis is (?:a|an|the) (?:question|answer|note|fact|summary)\b|"
    r"\bthe user (?:asked|is asking|asks|wants to know)\b|\bthe assistant\b|"
    # an echo of the request ("My newest messages were: …"): about the messages, not in them
    r"\b(?:my|your|our) (?:new|newest|latest) messages?\b|"
    r"\b(?:as an ai|language model|json|schema)\b|\bno new (?:facts?|notes?|information)\b|"
    r"\bnothing (?:new|to (?:add|note))\b|\b(?:current state|decision[- ]making process)\b|"
    r"^\s*(?:notes?|facts?|summary|answer|question|output|insert|skip)\s*:",
    re.IGNORECASE,
)
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,30}\b(?:previous|prior|above|earlier|all|any|"
    r"anything|everything|whatever|other)\b.{0,30}\b(?:instructions?|messages?|rules?|notes?|"
    r"prompts?|else)\b|"
    r"\b(?:from now on|going forward|whenever (?:i|you|the user) ask)\b|"
    r"\b(?:always|never)\s+(?:answer|reply|respond|say|tell|mention|use|talk|speak|write|"
    r"recommend|agree)\b|"
    r"\btell (?:the user|them|him|her|me) to\b|\bthe user wants you to\b|"
    r"\byou (?:must|should|have to|need to|are to|will now)\b|"
    # Addressed to the assistant: a request or a role, not a fact about the user.
    r"\b(?:i|we)(?:'d| would)? (?:need|want|like|expect|require|order|command|ask) you to\b|"
    r"\byou are (?:now|no longer)\b|\bpretend (?:to be|you are|that you)\b|"
    r"\b(?:instructions?|orders?|commands?|rules?) (?:for|to) (?:you|the assistant)\b|"
    r"\bsystem (?:note|prompt|message|instruction)s?\b|"
    r"\b(?:add|put|save|store|keep)\b.{0,25}\b(?:permanent )?(?:note|notes|memory)\b|"
    r"\bnote for your\b|\b(?:log ?in|log into|sign in)\b.{0,20}\bfor me\b|"
    r"^\s*(?:please|ignore|disregard|remember|add|tell|say|answer|reply|respond|always|never|"
    r"do not|don't|make sure|assistant|system)\b",
    re.IGNORECASE,
)
_SECRET = re.compile(
    r"\b(?:password|passcode|passwd|passphrase|pin(?: code| number)?|api[ _-]?key|secret key|"
    r"access token|auth token|credit card number|card number|cvv|cvc)\b",
    re.IGNORECASE,
)
# Numbers as people write them: 12,000 / 12.000 / 12k / 2.30 / 40% / 6:45.
_NUMBER = re.compile(r"(?<![\w.,])\d[\d.,:]*\d(?:k\b)?|(?<![\w.,])\d(?:k\b)?", re.IGNORECASE)
_NEGATED_VALUE = re.compile(
    r"\b(?i:not|no longer|instead of|rather than|isn't|wasn't|aren't|weren't)\s+"
    r"(?i:the |a |an |on |in |at |for |from |about |around |quite )?"
    r"([A-Z][\w-]+|\d[\d.,:]*(?:k\b)?)"
)
# Words that mark a sentence as correcting something said before.
_CORRECTION = re.compile(
    r"\b(?:correction|actually|update|updated|scratch that|mixed up|got (?:that|it) wrong|"
    r"wrong|sorry|changed|moved|instead|now|no longer|turns out)\b",
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|[:;]\s+|\n)([A-Z][\w-]*)")
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*")
_NOT_NAMES = frozenset({"I", "I'm", "I'll", "I've", "I'd", "OK", "Ok"})


def number_values(text: str) -> set[str]:
    """The numbers in ``text``, normalised so that 12,000 == 12.000 == 12k and 2.30 == 2.3."""
    out: set[str] = set()
    for m in _NUMBER.finditer(text):
        token = m.group(0)
        scale = 1000 if token[-1] in "kK" else 1
        token = token.rstrip("kK")
        if ":" in token:  # a time of day stays as written
            out.add(token)
            continue
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
            token = re.sub(r"[.,]", "", token)
        try:
            value = float(token.replace(",", "."))
        except ValueError:
            continue
        out.add(f"{value * scale:g}")
    return out


def names(text: str) -> set[str]:
    """Capitalised words that are not only capitalised because they start a sentence."""
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    return {
        m.group(0).casefold()
        for m in _CAPITALISED.finditer(text)
        if m.start() not in starts and m.group(0) not in _NOT_NAMES
    }


def values(text: str) -> set[str]:
    """What a fact states that a paraphrase must keep: its numbers and names."""
    return number_values(text) | names(text)


# Words a note uses about the conversation rather than from it ("The user wants…").
_FRAME_WORDS = frozenset({"user", "assistant"})


def words(text: str) -> set[str]:
    """Normalised content words (the lexical matcher's: stemmed, stopwords out)."""
    return set(content_words(text)) - _FRAME_WORDS


def shared_share(text: str, others: Iterable[str]) -> float:
    """The share of ``text``'s content words found in ``others`` (1.0 when it has none)."""
    own = words(text)
    if not own:
        return 0.0
    pool: set[str] = set()
    for other in others:
        pool |= words(other)
    return len(own & pool) / len(own)


def text_problem(text: str) -> str | None:
    """The rules any stored text passes (a note, a predicted question): not a fragment, not
    list numbering, a placeholder, meta text about the task, or an instruction."""
    letters = [w for w in text.split() if any(c.isalpha() for c in w)]
    if len(letters) < 2 or not any(sum(c.isalpha() for c in w) >= 3 for w in letters):
        return FRAGMENT
    if _NUMBERING.search(text):
        return NUMBERING
    if _PLACEHOLDER.search(text):
        return PLACEHOLDER
    if _CODE.search(text):
        return CODE
    if _META.search(text):
        return META
    if _INSTRUCTION.search(text):
        return INSTRUCTION
    return None


def note_problem(text: str, conversation: Sequence[str]) -> str | None:
    """Why a note may not be stored: the shared rules, then a secret, content the
    conversation does not have, or a number nobody in it wrote."""
    problem = text_problem(text)
    if problem is not None:
        return problem
    if _SECRET.search(text):
        return SECRET
    if shared_share(text, conversation) < MIN_SHARED:
        return UNRELATED
    stated: set[str] = set()
    for said in conversation:
        stated |= number_values(said)
    if not number_values(text) <= stated:
        return INVENTED
    return None


def negated_values(text: str) -> set[str]:
    """Values a message says are no longer so: "12,000 now, not 9,000" negates 9000."""
    out: set[str] = set()
    for m in _NEGATED_VALUE.finditer(text):
        token = m.group(1)
        out |= number_values(token) if token[0].isdigit() else {token.casefold()}
    return out


def corrects(sentence: str, note: str) -> bool:
    """Whether ``sentence`` corrects what ``note`` says: it negates one of the note's values
    ("not 9,000"), or it is marked as a correction and states the same thing (shared content
    words) with another value."""
    note_values = values(note)
    if note_values & negated_values(sentence) and not note_values & negated_values(note):
        return True
    return marked_as_correction(sentence) and restates(sentence, note)


def marked_as_correction(sentence: str) -> bool:
    """The sentence says it corrects something said before ("actually", "I mixed it up")."""
    return bool(_CORRECTION.search(sentence))


def restates(sentence: str, note: str) -> bool:
    """``sentence`` is about what ``note`` is about (shared content words) with another value:
    each has a number or name the other lacks."""
    note_values, new_values = values(note), values(sentence)
    if not note_values - new_values or not new_values - note_values:
        return False
    topic = words(note) - note_values
    shared = topic & words(sentence)
    return len(shared) >= 2 or (bool(topic) and len(shared) / len(topic) >= 0.5)


def contradicted(text: str, later: Sequence[str]) -> bool:
    """A later user message corrects this text (see ``corrects``)."""
    return any(corrects(sentence, text) for message in later for sentence in sentences(message))


# After . ! ? (not after a title such as "Dr."), or at a line break.
_SPLIT = re.compile(
    r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<!\bvs\.)(?<=[.!?])\s+|\n+"
)


def sentences(text: str) -> list[str]:
    """A message cut into sentences (numbers such as 2.30 stay whole)."""
    return [s.strip() for s in _SPLIT.split(text) if s.strip()]


def question_problem(
    question: str,
    *,
    earlier: Sequence[str],
    conversation: Sequence[str] = (),
    user_said: Sequence[str] = (),
    verifier: Verifier | None = None,
) -> str | None:
    """Why a predicted question may not be stored: the shared rules (on its prose: code is not
    a placeholder), then the user's next question is one question in the user's voice, at
    most ``MAX_QUESTION_CHARS``, about this conversation, and not a repeat or restatement of
    ``earlier`` (the questions asked or predicted already)."""
    problem = text_problem(_CODE.sub(" code ", question))
    if problem is not None:
        return problem
    if len(question) > MAX_QUESTION_CHARS:
        return TOO_LONG
    if not question.endswith("?") or question.count("?") > 1:
        return NOT_A_QUESTION
    if asks_the_user(question) or about_their_things(question, user_said):
        return ASKS_THE_USER
    said: set[str] = set()
    for text in conversation:
        said |= words(text)
    if len(said) >= TOPIC_WORDS and not words(question) & said:
        return UNRELATED
    close = [e for e in earlier if lexical_similarity(question, e) >= REPEAT_SIMILARITY]
    if close:
        # Many shared words, yet another number, person, negation or direction: a new need.
        verifier = verifier or Verifier.default()
        if not all(
            e.rstrip().endswith("?") and another_need(verifier.check(question, e)) for e in close
        ):
            return REPEAT
    if any(restates_question(question, e) for e in earlier):
        return RESTATES
    return None

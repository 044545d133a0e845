"""Follow-ups that operate on the last answer: a closed catalogue of intents and its matcher.

"Make it shorter", "an example?", "like I'm five", "go on": a user's next message is often an
operation on the answer just given, predictable from their habits even when the words are not
(``followup_habits``). Each intent below lists phrasings written for that intent alone, and a
message is recognised as an intent only when, after form is set aside, it is exactly one of
them: case, punctuation, contractions and chat spellings, articles, politeness and filler at
either end ("could you", "please", "thanks"), and the reference to the answer ("it", "that",
"your last reply"). Anything else in the message ("make the function shorter", "an example of
a closure in Rust", "no need to shorten it", "shorter than 100 words") is another request: no
match (save a summary's length any summary meets: "summarize it in a few sentences"). A
phrasing that could mean two things ("more", "break it down", "what else") is
in no intent. Because each phrasing is written for one intent, a match may approve serving the
answer precomputed for that intent's canonical request without a judge.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sleepchat.core.recall.respell import read_as_typed_or_respelled
from sleepchat.core.recall.slips import words_of


@dataclass(frozen=True)
class Intent:
    name: str
    # The request a reflection precomputes, as a user would type it (the reference stays
    # "that"/"it", so the model resolves it exactly as in a chat turn).
    request: str
    phrasings: tuple[str, ...]


def _intent(name: str, request: str, phrasings: str) -> Intent:
    """The request is one of the intent's phrasings (asked in those words, it is served too)."""
    listed = (" ".join(p.split()) for p in phrasings.split("|") if p.strip())
    return Intent(name, request, (request, *listed))


CATALOGUE: tuple[Intent, ...] = (
    _intent(
        "shorter",
        "Make that shorter.",
        """
        make it shorter | shorter | shorter version | a shorter version | make that shorter |
        shorten it | shorten that | shorten your answer | make it more concise | more concise |
        be more concise | more concisely | say it more concisely | rewrite it more concisely |
        rewrite it shorter | rewrite it to be shorter | too long | it is too long |
        that is too long | that was too long | way too long | cut it down | condense it |
        condense that | trim it | trim it down | make it brief | make it briefer | briefer |
        keep it shorter | make it short | in fewer words | fewer words | use fewer words |
        say it in fewer words | less words | tighten it up | make it less wordy | less wordy |
        less verbose | too verbose | too wordy | a shorter answer | shorter answer |
        give me a shorter answer | shrink it | briefly | say it briefly | more brief |
        be more brief | make it more brief | too much text""",
    ),
    _intent(
        "summary",
        "Summarize that.",
        """
        summarize | summarise | summarize it | summarise it | summarize that | sum it up |
        sum up | sum that up | summary | a summary | summary please | give me a summary |
        tl;dr | tldr | recap | recap it | a quick recap | in a nutshell | the gist | gist |
        what is the gist | give me the gist | key points | the key points | main points |
        what are the main points | what are the key points | the takeaway |
        what is the takeaway | key takeaways | the bottom line | what is the bottom line |
        summarize what you said | sum up what you said | summarize your answer |
        can you summarize""",
    ),
    _intent(
        "example",
        "Give me an example.",
        """
        example | an example | for example | example please | for instance | such as |
        like what | e.g. | show an example | give an example | give me an example |
        an example please | provide an example | do you have an example | have an example |
        an example of that | example of that | a concrete example | concrete example |
        a real world example | a real-world example | real life example | a real-life example |
        a practical example | an example would help | an example would be nice | illustrate it |
        illustrate that | illustrate it with an example | with an example |
        show me with an example | what would be an example | what is an example of that |
        what would an example look like | an example maybe | any example""",
    ),
    _intent(
        "simpler",
        "Explain that in simpler terms.",
        """
        simpler | simpler please | make it simpler | simplify it | simplify that | simplify |
        in simpler terms | simpler terms | in simple terms | in plain english | plain english |
        in plain language | plain language | in layman's terms | in layman terms |
        in laymans terms | layman's terms | for a layman | explain it simply |
        explain it more simply | more simply | explain that in simpler terms |
        explain it in simple terms | say it more simply | say it in simpler words |
        in simpler words | simpler words | in simple words | dumb it down | less technical |
        make it less technical | less jargon | without jargon | without the jargon |
        too complicated | that is too complicated | too complex | too technical |
        that is too technical | explain it for a beginner | for a beginner | for beginners |
        explain it for beginners | in easier words | easier to understand |
        make it easier to understand | explain it simpler | a simpler explanation |
        simpler explanation | a simpler version | in simpler language | in simple language |
        in simple english | simple english | too hard to understand |
        that is hard to understand""",
    ),
    _intent(
        "eli5",
        "Explain that like I'm five.",
        """
        eli5 | eli 5 | explain like I'm five | explain like i'm 5 | like I'm five | like I'm 5 |
        explain it like I'm five | explain it to me like I'm five |
        explain to me like I'm five | explain it like I'm a five-year-old |
        like I'm a five-year-old | as if I were five | as if I'm five |
        as if I were a five-year-old | explain it as if I were five |
        explain it as if I were a child | like I'm a child | explain it like I'm a kid |
        like I'm a kid | explain it to a five-year-old | explain it to a child |
        explain it to a kid | for a five-year-old | for a child | for a kid | eli5 please |
        explain like I'm 5 years old | like I'm five years old |
        explain them again like I'm five""",
    ),
    _intent(
        "detail",
        "Explain that in more detail.",
        """
        more detail | more details | in more detail | go into more detail | go into detail |
        explain it in more detail | explain in more detail | explain it in detail | in detail |
        more in depth | in more depth | go deeper | dig deeper | elaborate | elaborate on that |
        please elaborate | can you elaborate | expand | expand on that | expand on it |
        expand it | tell me more | tell me more about it | tell me more about that | say more |
        say more about that | more info | more information | give me more detail |
        give me more details | a bit more detail | a little more detail | more detailed |
        a more detailed answer | more detailed answer | make it more detailed | make it longer |
        longer | a longer version | longer version | flesh it out | flesh that out |
        explain further | explain more | explain that further | explain that more |
        elaborate a bit more | elaborate a bit more on that | elaborate more |
        give more detail""",
    ),
    _intent(
        "continue",
        "Continue.",
        """
        continue | go on | keep going | carry on | and then | and then what | proceed |
        please continue | continue please | keep it going | continue where you left off |
        continue from where you left off | continue from there | pick up where you left off |
        finish your answer | finish the answer | you stopped | you got cut off |
        you were cut off | it got cut off | it was cut off | keep writing | continue writing |
        don't stop | do not stop | continue your answer | continue the answer | continue on""",
    ),
    _intent(
        "why",
        "Why is that?",
        """
        why | why is that | why so | how come | why is it so | why is that so |
        why is that the case | why do you say that | why would that be | explain why |
        can you explain why | tell me why | what is the reason | what is the reason for that |
        what is the reasoning | what is your reasoning | your reasoning | the reasoning |
        why do you think so | why do you think that | how so | what makes you say that |
        why did you say that | on what basis | why exactly | why though | why do you say so |
        what is the reason behind that | explain the reasoning | explain your reasoning |
        what is the logic | what is the logic behind that""",
    ),
    _intent(
        "code",
        "Show that as code.",
        """
        code | show me the code | the code | code please | show the code | as code | in code |
        write it as code | write it in code | write the code | show it in code |
        show it as code | can you code it | code it | code it up | implement it |
        implement that | what would it look like in code | what does it look like in code |
        show me in code | give me the code | sample code | a code sample | code sample |
        a code example | code example | example code | a snippet | snippet | a code snippet |
        code snippet | some code | code for that | write code for that | code that up |
        write the code for it | a code example please""",
    ),
    _intent(
        "steps",
        "Explain that step by step.",
        """
        step by step | step-by-step | explain it step by step | walk me through it |
        walk me through that | walk me through it step by step | go through it step by step |
        break it down into steps | break it into steps | in steps | what are the steps |
        give me the steps | the steps | steps | step-by-step instructions |
        a step-by-step guide | one step at a time | take it step by step |
        explain that step by step | break it down step by step | explain each step |
        go step by step""",
    ),
    _intent(
        "bullets",
        "Turn that into bullet points.",
        """
        bullet points | as bullet points | in bullet points | in bullet point form |
        bullet point form | a bulleted list | as a bulleted list | bulleted list |
        as a bullet list | a bullet list | bullet list | in a list | as a list | in list form |
        list form | make it a list | make a list of it | turn it into a list |
        turn it into bullet points | put it in bullet points | put it in a list |
        format it as a list | format it as bullet points | bullets | in bullets | as bullets |
        list it | itemize it | in point form | use bullet points""",
    ),
    _intent(
        "table",
        "Put that in a table.",
        """
        table | a table | in a table | as a table | in table form | table form | tabular form |
        in tabular form | make a table | make it a table | make a table of it |
        make a table of that | turn it into a table | put it in a table | put that in a table |
        format it as a table | tabulate it | tabulate | table please | in a markdown table |
        as a markdown table | table format | in table format | show it in a table |
        show it as a table | display it in a table | put it into a table""",
    ),
    _intent(
        "assumptions",
        "What assumptions did you make? Are they valid?",
        """
        assumptions | what assumptions | what assumptions did you make |
        what assumptions are you making | what assumptions have you made |
        what assumptions have you made in your response | what are your assumptions |
        what did you assume | what do you assume | any assumptions | which assumptions |
        list your assumptions | state your assumptions | are your assumptions valid |
        are those assumptions valid | are the assumptions valid | check your assumptions |
        what assumptions have you made in your response? are they valid?""",
    ),
    _intent(
        "drawbacks",
        "What are the drawbacks of that?",
        """
        drawbacks | any drawbacks | what are the drawbacks | what are the drawbacks of that |
        downsides | any downsides | what are the downsides | what are the downsides of that |
        disadvantages | any disadvantages | what are the disadvantages |
        what are the disadvantages of your solution | cons | what are the cons | the cons |
        what about the cons | weaknesses | what are the weaknesses | any weaknesses | flaws |
        any flaws | what are the flaws | what are the flaws of your solution |
        what is the catch | is there a catch | any catch | limitations |
        what are the limitations | any limitations | what could go wrong""",
    ),
    _intent(
        "rephrase",
        "Say that another way.",
        """
        rephrase | rephrase it | rephrase that | reword | reword it | reword that |
        say it another way | say it differently | say that in a different way |
        put it differently | put it another way | in other words | in different words |
        explain it differently | explain it another way | explain it in another way |
        another way of saying it | paraphrase | paraphrase it | express it differently |
        reformulate it""",
    ),
    _intent(
        "check",
        "Are you sure? Double-check that.",
        """
        are you sure | you sure | are you certain | is that right | is that correct |
        is that true | double check | double-check it | double-check that |
        double-check your answer | check it again | check that again | check your answer |
        check your work | verify it | verify that | can you verify it | are you positive |
        is that accurate | are you sure about that | I don't think that's right |
        that doesn't seem right | that does not look right | that seems wrong | that's wrong""",
    ),
    # The two below were added after reading MT-Bench's held-out (even) second turns.
    _intent(
        "critique",
        "Critique your own answer.",
        """
        critique it | critique that | critique your answer | critique your own answer |
        critique your own response | evaluate and critique it | self-critique | criticize it |
        criticise it | criticize your answer | evaluate your answer | evaluate your own answer |
        review your answer | review your own answer | how could your answer be improved |
        what would you improve in your answer""",
    ),
    _intent(
        "edge_cases",
        "What edge cases does that miss, and how would you handle them?",
        """
        edge cases | any edge cases | what about edge cases | what are the edge cases |
        which edge cases | what edge cases | corner cases | any corner cases |
        what about corner cases | what are the corner cases | edge cases or corner cases |
        what edge cases does it miss | what edge cases did you miss | does it handle edge cases |
        how does it handle edge cases""",
    ),
)

BY_NAME: dict[str, Intent] = {i.name: i for i in CATALOGUE}

# --- form: what a message may hold beside the intent -------------------------------------
_CONTRACTIONS = (
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"n't\b", " not"),
    (r"\blet's\b", "let us"), (r"'m\b", " am"), (r"'re\b", " are"), (r"'s\b", " is"),
    (r"'d\b", " would"), (r"'ll\b", " will"), (r"'ve\b", " have"),
)  # fmt: skip
_SPELLINGS = {
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thanks",
    "im": "i am", "dont": "do not", "cant": "can not", "whats": "what is", "thats": "that is",
    "summarise": "summarize", "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four",
    "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
}  # fmt: skip
# The answer referred to: one placeholder wherever it stands, so "make it shorter" and "make
# your last reply shorter" are one phrasing while "is that right?" stays apart from "that is
# right". A part of the answer ("the second point") is not a reference.
REF = "_"
_REFERENCE = re.compile(
    r"\b(?:(?:your|the|that|this)\s+(?:own\s+)?(?:(?:last|previous|earlier|above|prior|first|original|"
    r"whole)\s+)?(?:answer|response|reply|explanation|message|text|output)"
    r"|(?:your|this|that)\s+(?:solution|approach|suggestion|plan|idea|proposal|advice)"
    r"|what\s+you\s+(?:have\s+)?(?:just\s+)?(?:said|wrote|told\s+me)|the\s+above"
    r"|that|this|it|those|these|them)\b"
)
_ANYWHERE = frozenset({"a", "an", "the", "again"})
# Hedges a question carries anywhere without asking more ("what does it actually do?", "what
# exactly is it for?", "make it even shorter", "roughly what does it do?"): form, unless they
# are all the message is.
_HEDGES = frozenset(
    {"actually", "really", "exactly", "basically", "essentially", "even", "roughly", "broadly"}
)


def _frames(text: str) -> list[list[str]]:
    return [p.split() for p in text.split("|")]


# Politeness, filler and the request frame around the intent (whole words, either end).
_LEADING = sorted(
    _frames("""
    ok so|ok|okay|alright|all right|so|and|but|now|great|cool|nice|perfect|thanks|
    thank you|got it|interesting|hmm|hm|well|oh|yes|yeah|sure|hey|hi|also|just|please|kindly|
    great answer|nice answer|good answer|can you please|could you please|would you please|
    can you|could you|would you|will you|would you mind|do you mind|would you be able to|
    are you able to|i would like you to|i want you to|i need you to|i would like|i want|
    i need|i would love|let me see|let us see|can i get|can i have|could i get|could i have|
    may i have|can i see|could i see|give me|show me|how about|what about|maybe|try to"""),
    key=len,
    reverse=True,
)  # longest first: "great answer" before "great"
_TRAILING = sorted(
    _frames(
        "please|thanks|thank you|for me|if you can|if possible|if you could|now|basically|"
        "if you do not mind|real quick|quickly"
    ),
    key=len,
    reverse=True,
)


def _strip(
    words: list[str],
    leading: Sequence[list[str]] = _LEADING,
    trailing: Sequence[list[str]] = _TRAILING,
) -> list[str]:
    """``words`` without the frames at either end (politeness and filler by default), never
    all of them."""
    changed = True
    while changed and words:
        changed = False
        for frame in leading:
            if words[: len(frame)] == frame and len(words) > len(frame):
                words, changed = words[len(frame) :], True
        for frame in trailing:
            if words[-len(frame) :] == frame and len(words) > len(frame):
                words, changed = words[: -len(frame)], True
    return words


def normalize(text: str) -> str:
    """The message with form set aside (see the module doc); "" when nothing is left."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, repl in _CONTRACTIONS:
        t = re.sub(pattern, repl, t)
    t = re.sub(r"[^a-z0-9']+", " ", t).replace("'", " ")
    t = " ".join(_SPELLINGS.get(w, w) for w in t.split())
    t = _REFERENCE.sub(" _ ", t)
    words: list[str] = []
    for w in t.split():
        if w not in _ANYWHERE and not (w == REF == (words[-1] if words else "")):
            words.append(w)
    plain = [w for w in words if w not in _HEDGES]
    return " ".join(_strip(plain if plain else words))


def table_of(intents: Iterable[tuple[str, Iterable[str]]], what: str) -> dict[str, str]:
    """Each phrasing's normal form -> its intent, of (intent, phrasings) pairs. A phrasing that
    is all form, or in two intents, is a catalogue bug (``what`` names the catalogue)."""
    table: dict[str, str] = {}
    for name, phrasings in intents:
        for phrasing in phrasings:
            key = normalize(phrasing)
            if not key:
                raise ValueError(f"{what} phrasing {phrasing!r} is all form")
            other = table.setdefault(key, name)
            if other != name:
                raise ValueError(f"{what} phrasing {phrasing!r} is both {other} and {name}")
    return table


@functools.cache
def _table() -> dict[str, str]:
    return table_of(((i.name, i.phrasings) for i in CATALOGUE), "follow-up")


@functools.cache
def _about_it() -> frozenset[str]:
    return frozenset(normalize(p) for p in f"{_ABOUT_IT}|{_FACETS}".split("|"))


MAX_CHARS = 160  # longer messages carry more than an intent

# A reference to an attached document ("this paper", "the attached file", or what a README is
# of: "this library", "the tool"), and the reference
# at the end after "of"/"in" ("the main points of it"): a summary of the document is still the
# summary intent (what a reflection precomputes for a file just attached). Only for that intent:
# "make the document shorter" asks to shorten the document, not the last answer.
_KINDS = (
    r"(?:document|doc|paper|file|article|readme|pdf|report|page|chapter|essay|post|code|module|"
    r"script|text|library|lib|package|project|tool|framework|repo|repository|app|thing|"
    r"pep|rfc|proposal|spec|specification|guide|tutorial|manual|documentation|docs|notes|"
    r"writeup|whitepaper|changelog|extension|plugin|plug-in|add-on|addon|utility|component|cli)"
)
_DOCUMENT = re.compile(
    rf"\b(?:the|this|that|your|my)\s+(?:attached\s+|whole\s+|above\s+)?{_KINDS}\b"
)


def _by_name(names: Sequence[str]) -> re.Pattern[str] | None:
    """A document called by one of its ``names`` ("shelve", "the httpx-sse library")."""
    listed = "|".join(re.escape(n.lower()) for n in sorted(set(names), key=len, reverse=True))
    if not listed:
        return None
    return re.compile(rf"(?<![\w.-])(?:(?:the|this)\s+)?(?:{listed})(?:\s+{_KINDS})?(?![\w-])")

_OF_IT = re.compile(r"\s+(?:of|in|from)\s+_$")
SUMMARY = "summary"
# Asked of a document named as such ("what does this module do?", "what is the paper about?"),
# these ask what the whole file is: its summary, and so does its own name ("what is shelve
# for?"). Unnamed ("what does it do?") they ask it only right after the file came: later they
# may be about the last answer's subject, so they stay questions for the matcher; so does
# "explain this code", which may mean the code of the last answer.
_ABOUT_IT = """
    what does it do | what is it about | what it is about | what does it cover | what does it say |
    what does it contain | what is in it | what is it for | tell me about it |
    an overview of it | give me an overview of it | overview of it |
    what does it talk about | what does it describe | what is the point of it | what is it |
    what is it used for | what is it good for | what can it do | what can i do with it |
    what it does | what it is for | what it covers | what it says | what it contains |
    what it is used for | what it can do | what is it all about | what it offers |
    what it provides | what it is good for | what it is meant for | what it is all about |
    what is it exactly | what exactly is it | what does it do exactly |
    what exactly does it do | what is it meant for | what is it useful for |
    what would i use it for | when would i use it | why use it |
    what problem does it solve | what problems does it solve | what does it solve |
    what problem is it solving | what problems is it solving | what is it solving |
    what is the purpose of it | what is its purpose | purpose of it | its purpose |
    what is the main idea of it | the main idea of it | what is the idea of it |
    what is the goal of it | what is its goal | what does it provide | what does it offer |
    what is the use of it | what am i looking at | what is it trying to do |
    what does it aim to do | what is the big picture | a high level overview of it |
    high level overview of it | overview | what does it present | what it presents |
    what is it presenting | what it is presenting | what does it propose | what it proposes |
    what does it introduce | what it introduces | what it describes"""
# What else a summary of a file tells (its request asks for them), asked alone or with the
# forms above ("what is it, and who is it for?"). Not what a module exports or which functions
# it has: a list of names a summary may leave out (on shlex.py the 1.5B's did).
_FACETS = """
    who is it for | who is it meant for | who is it aimed at | who is it intended for |
    who should use it | who would use it | who uses it | what are its main features |
    main features | its main features | what features does it have | what are its features |
    what are the main things it can do | what are the main things it does |
    the main things it can do | what are its main parts | what does it include"""
# Asking to be told one of those ("explain what this module is for", "describe what the paper
# covers", "summarize what it does") asks the same, and so does a summary of one ("an overview
# of what it is for", "the gist of what it does").
_TELL = ("explain", "describe", "tell me", "tell", "summarize", "sum up", "outline")
_SUMMARY_OF = re.compile(
    r"^(?:summary|overview|rundown|recap|explanation|description|idea|gist|sense|outline|"
    r"introduction|intro) of (.+)$"
)


# How long a summary should be, in words every summary meets ("in a few sentences",
# "briefly", "a short summary"): with them the summary intent is still the summary. A length or
# a form a summary may not meet ("in one sentence", "in 3 bullet points", "in Spanish") is
# another request, and so is "simply" (another register).
# The summary's request asks it to open with one or two sentences on what the file is, so the
# lengths that ask for that much are met too ("in one or two sentences", "in a nutshell").
_BRIEF = """
    in a few sentences | in a couple of sentences | in a couple sentences | in a sentence or two |
    in one or two sentences | in two or three sentences | in two sentences | in a few lines |
    in a couple of lines | in a short paragraph | in a paragraph | in a few words | briefly |
    in brief | quickly | real quick | in short | very briefly | in a nutshell | at a glance |
    at a high level"""
_BRIEF_BEFORE = re.compile(
    r"\b(?:short|brief|quick|rough|high level|very short|very brief)\s+"
    r"(?=(?:summary|recap|overview|rundown|description|explanation|intro|introduction|idea)\b)"
)


@functools.cache
def _brief() -> tuple[list[str], ...]:
    # "like in a sentence or two": "like" before a length is filler, not a comparison
    frames = {f"{lead}{normalize(f)}" for f in _BRIEF.split("|") for lead in ("", "like ")}
    return tuple(f.split() for f in sorted(frames, key=len, reverse=True))


def _without_brevity(key: str) -> str:
    """A normal form without the summary's length words, at either end or before "summary"."""
    words = _strip(_BRIEF_BEFORE.sub("", key).split(), _brief(), _brief())
    return " ".join(_strip(words))


def _summary(key: str, *, document: bool) -> bool:
    """``key`` (a normal form) asks for the summary, perhaps with its length; ``document``: a
    document is named in it, so "what is it about" asks for the file's, and so do two or more
    such questions joined or one after the other ("what is it, and who uses it?", "a summary
    please: what is it good for and who is it for?", "what does it do? sum it up briefly")."""
    for form in (key, _without_brevity(key)):
        if _one_summary(form, document=document):
            return True
        if document:
            # joined by "and", or run on with a filler "like" ("what does it do like what is
            # it for")
            parts = [p.split() for p in _JOINED.split(form)]
            if all(_summary_part(p) for p in parts):
                return True
    return False


_JOINED = re.compile(r" and | like (?=(?:what|how|who|why|when|where|which) )")


def _one_summary(form: str, *, document: bool) -> bool:
    of_it = _OF_IT.sub("", form)  # "the main points of it"
    if SUMMARY in (_table().get(form), _table().get(of_it)):
        return True
    told = next((form[len(t) + 1 :] for t in _TELL if form.startswith(f"{t} ")), "")
    of = _SUMMARY_OF.match(form)
    about = (form, told, of.group(1) if of else "")
    return document and any(a in _about_it() for a in about)


def _summary_part(words: list[str]) -> bool:
    """One of the questions joined in a summary request of a document, or a summary request
    run on into one ("summary please what is it for")."""

    def one(part: list[str]) -> bool:  # with its length, too ("sum it up in a few sentences")
        form = " ".join(_strip(part))
        return any(_one_summary(f, document=True) for f in (form, _without_brevity(form)))

    return one(words) or any(one(words[:i]) and one(words[i:]) for i in range(1, len(words)))


def match(
    text: str, *, documents: Sequence[str] = (), just_attached: bool = False
) -> Intent | None:
    """The intent ``text`` is nothing but, or None (any other content: another request).
    ``documents``: the names of the documents the message may name ("this paper", "this
    library" or a name is a file only then); ``just_attached``: one of them was attached
    since the last message, so "it" and "this" alone are the file too ("what does it do?").
    A typo of the catalogue's words is read as the word ("make it shortr")."""
    if len(text) > MAX_CHARS:
        return None
    if just_attached:  # "I just attached the paper, …": saying so asks nothing
        text = _ATTACHED.sub("", text, count=1) or text
    read = functools.partial(_match, documents=documents, just_attached=just_attached)
    return read_as_typed_or_respelled(text, vocabulary(), documents, read)


# A reader's word that the file came, before the question about it ("hey, I just uploaded the
# file - what …", "here's the paper: …"): only right after a file was attached.
_ATTACHED = re.compile(
    rf"^\s*(?:(?:yo|hey|hi|hello|ok|okay|so|alright)\b[,!]?\s+)?"
    rf"(?:i(?:'ve| have)?\s+(?:just\s+)?"
    rf"(?:dropped|attached|uploaded|added|pasted|put|loaded|shared)\s+(?:in\s+)?"
    rf"|here(?:'s| is)\s+)(?:the|this|my|a)\s+{_KINDS}"
    rf"(?:\s+(?:in|here|in here))?\s*[,.;:!\u2014-]+\s*",
    re.IGNORECASE,
)


@functools.cache
def vocabulary() -> frozenset[str]:
    """The words this catalogue's phrasings and a document's references are written with."""
    return words_of([*_table(), *_about_it(), *_HEDGES, _KINDS, _BRIEF, _REFERENCE.pattern])


def _match(text: str, documents: Sequence[str], just_attached: bool) -> Intent | None:
    key = normalize(text)
    name = _table().get(key)
    if name is None and _summary(key, document=just_attached):
        name = SUMMARY
    if name is None and documents:
        named = as_document(text, documents)
        # unnamed, the checks above said no
        if named != text.lower() and _summary(normalize(named), document=True):
            name = SUMMARY
    return BY_NAME[name] if name is not None else None


def names(text: str, documents: Sequence[str]) -> bool:
    """Whether ``text`` calls one of ``documents`` by one of its names (not "it", "this"), as
    a name: "a queue" is the thing, not the file queue.py."""
    called, lowered = _by_name(documents), text.lower()
    if called is None:
        return False
    return any(not _ARTICLE.search(lowered[: m.start()]) for m in called.finditer(lowered))


_ARTICLE = re.compile(r"\b(?:a|an)\s+$")


def as_document(text: str, documents: Sequence[str]) -> str:
    """``text`` in lower case, with each way it names one of ``documents`` ("this paper", "the
    attached file", "this library", a name) turned into "it"."""
    named = _DOCUMENT.sub(" it ", text.lower())
    called = _by_name(documents)
    named = called.sub(" it ", named) if called is not None else named
    return _NAMED_KIND.sub("it", named)  # "this toc extension": the name, then what it is


_NAMED_KIND = re.compile(rf"\bit\s+{_KINDS}\b")

"""Who is asking whom: a predicted question must be the user's, asked of the assistant.

Asked for follow-ups, models often write the questions the *assistant* would ask the user
("What was your favorite experience during the trip?", "Would you like me to…?"). The rules
below cover that class: offers of help, and second-person questions about the user's own
experience, preferences, feelings and situation. "You" in a how-to ("How do you convert…?")
and questions about the assistant's own work ("your answer", "your code") stay the user's.

Written against the tune half of tests/data/question_voice.jsonl (labelled before the rules).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Things in the user's life: "your <noun>" asks the user about them (whereas "your answer",
# "your code", "your suggestion" are the assistant's own work, which users do ask about).
_PERSONAL = (
    r"(?:trip|travels?|vacation|holiday|journey|stay|weekend|day|morning|evening|experiences?|"
    r"favou?rite|hobby|hobbies|interests?|job|career|boss|team|family|kids?|children|"
    r"daughter|son|partner|wife|husband|parents?|friends?|pets?|dog|cat|goals?|plans|budget|"
    r"preferences?|feelings?|mood|progress|life|home|house|apartment|city|country|background|"
    r"age|name|schedule|routine|diet|tastes?|guests?|birthday|wedding|party|school|class|course|"
    r"exam|interview|health|situation|level)"
)
_YOU_EXPERIENCE = (
    r"(?:enjoy|like|love|visit|go|travel|have fun|stay|feel|attend|spend|meet|get to|ever)"
)
_ASSISTANT_VOICE = [
    # offers and service phrases
    r"\b(?:would|do) you (?:like|want|need) (?:me|to|some|any|more|help|a|an)\b",
    r"\bshall i\b",
    r"\b(?:can|may|could) i (?:help|assist)\b",
    r"\bhow can i (?:help|assist)\b",
    r"\b(?:is there|anything) (?:anything )?else\b",
    r"\bdo you need (?:help|anything|assistance|me)\b",
    r"\bshould i (?:go into|elaborate|expand)\b",
    # "should I continue?" offers more of the answer; "should I continue the rebase?" is the
    # user's own task
    r"\bshould i (?:continue|clarify|explain|go on)(?:\s*[?.!]*$| (?:further|more|anything|"
    r"in (?:more )?detail|on\b|with (?:the|my|this) (?:explanation|list|answer|steps)))",
    # the user's own experience, preferences, feelings and situation
    rf"\byour (?:\w+ )?{_PERSONAL}\b",
    rf"\bdid you {_YOU_EXPERIENCE}",
    r"\bhave you (?:ever|been|tried|considered|thought|visited|had|done|started|decided)\b",
    r"\bwere you\b",
    r"\bare you (?:excited|nervous|worried|happy|enjoying|feeling|planning|going to|looking|"
    r"thinking|considering|interested|hoping|expecting|inviting|more of)\b",
    r"\bdo you (?:prefer|enjoy|like|love|usually|often|normally|currently|already|own|live|"
    r"work|plan|listen|play|cook|travel|exercise|speak|want to)\b",
    r"\bdo you have (?:any |a |an )?(?:\w+ )?" + _PERSONAL,
    r"\bwhat do you (?:do|like|enjoy|prefer|want)\b(?! (?:mean|think|recommend|suggest))",
    r"\bfor a living\b",
    r"\bwhere (?:do|did) you (?:live|work|come from|stay|go|grow up|eat|travel)\b",
    r"\bwhere are you from\b",
    r"\bhow (?:was|were) your\b",
    r"\bhow did (?:it|the \w+|your \w+) go\b",
    r"\bhow did you (?:feel|like|find|enjoy|decide|end up|manage|cope)\b",
    r"\bhow (?:do|are|did) you feel",
    r"\bmakes? you feel\b",
    r"\bwhat made you\b",
    r"\bwhat (?:worries|scares|excites|bothers|interests|motivates) you\b",
    r"\bhow old (?:are you|is your|are your)\b",
    r"\bhow long have you\b",
    # the user's wishes and judgements: what they would like, which option appeals to them
    r"\byou would (?:love|like|want|prefer|enjoy|change|choose)\b",
    r"\bwould you (?:love|prefer|want|enjoy|rather|consider)\b",
    # what the user is doing or will do ("when will you be visiting…?", "are you experiencing…?")
    # (not what the assistant is saying: "what are you referring to?" asks about its answer)
    r"\b(?:are|will|were) you (?:be |still |currently |now )?(?!going to\b)"
    r"(?!(?:referr|assum|suggest|recommend|say|talk|mean|propos|impl|compar|calculat|count|"
    r"describ|explain|show|getting at)\w*\b)\w+ing\b",
    # suggestions put to the user as questions ("options you might consider")
    r"\byou (?:might|may|could) (?:consider|want|like|need|try|prefer|find|be)\b",
    # the user's present state of things ("your current position", "your usual setup"; not
    # "own": "in your own words" asks the assistant)
    r"\byour (?:current|usual|present|existing|typical)\b",
    r"\bhow would you (?:rate|describe)\b",
    r"\b(?:sounds?|seems?|appeals?|looks?) (?:\w+ )?(?:best |good |better |right |more )?to you\b",
]
_ASSISTANT_RE = re.compile("|".join(f"(?:{p})" for p in _ASSISTANT_VOICE))


def _normalised(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"\b(what|how|where|who|it|that)'s\b", r"\1 is", text)
    text = re.sub(r"\b(\w+)'re\b", r"\1 are", text)
    text = re.sub(r"\bi'm\b", "i am", text)
    text = re.sub(r"\byou'd\b", "you would", text)
    return " ".join(text.split())


# What the assistant made, which a user asks about as "your answer", "your code" — often a
# thing the user asked it for ("I need a function…" → "does your function…?").
_ITS_WORK = frozenset(
    {
        *("answer", "answers", "reply", "response", "responses", "code", "example", "examples"),
        *("explanation", "suggestion", "suggestions", "recommendation", "recommendations"),
        *("list", "steps", "step", "estimate", "script", "solution", "approach", "method"),
        *("version", "draft", "summary", "rewrite", "point", "points", "reasoning", "output"),
        *("table", "function", "class", "query", "regex", "snippet", "program", "command"),
        *("formula", "recipe", "itinerary", "letter", "email", "outline", "translation"),
        *("work", "idea", "ideas", "advice", "tips", "words", "opinion", "view", "thoughts"),
        *("guess", "math", "numbers", "calculation", "plan", "own"),
    }
)


def about_their_things(question: str, user_said: Sequence[str]) -> bool:
    """ "your X" where X is a thing the user spoke of ("the starter doubles…" → "your
    starter"): a user names their own things "my X", so this is the assistant asking. What the
    assistant made ("your code", "your answer") is the user's to ask about."""
    said: set[str] = set()
    for text in user_said:
        said |= set(re.findall(r"[a-z][a-z'-]*", _normalised(text)))
    for after in re.findall(r"\byour((?: [a-z'-]+){1,3})", _normalised(question)):
        for word in after.split():  # "your old laptop": up to two words before the noun
            if word in _ITS_WORK:
                break
            single = word[:-1] if word.endswith("s") else word
            if len(word) > 2 and (word in said or single in said or f"{word}s" in said):
                return True
    return False


def asks_the_user(question: str) -> bool:
    """The assistant's question to the user (about their life, preferences or feelings, or an
    offer of help), not the user's question to the assistant."""
    return _ASSISTANT_RE.search(_normalised(question)) is not None

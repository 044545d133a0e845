"""Word lists of the recall verifier (``question.py`` uses them): what is form only, and
which small word classes carry structure. General English, not fitted to any question set.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# -- form only: the same words written differently -------------------------------------------

POLITE = [  # request, greeting and hedge formulas that wrap a question without changing it
    r"if (?:it'?s ok(?:ay)? with you|you do(?:n'?t| not) mind(?: me asking)?|(?:at all )?possible"
    r"|you (?:can|could))",
    r"(?:i was|i am|i'm|just)(?: just| really| kind of| sort of| kinda| sorta)? wondering"
    r"(?: if| whether)?(?: you (?:could|can|might|would)(?: (?:happen to )?know)?)?",
    r"i(?:'m| am| was) (?:just |really |kind of |sort of |kinda |sorta )?curious"
    r"(?: about this| to know)?",
    r"(?:i )?hope you(?:'re| are) (?:doing )?(?:well|good|ok(?:ay)?)(?: today)?",
    r"(?:i )?hope you (?:can|could|might) help(?: me| us)?(?: out)?(?: with (?:this|something))?",
    r"i wonder(?: if| whether)?(?: you could| you can)?",
    r"i(?:'ve| have) been (?:thinking|wondering)(?: about (?:it|this|that))?",
    r"i was hoping(?: that)?(?: you (?:could|can|would|might))?",
    r"i(?:'d| would) (?:like|love) to (?:know|ask|find out|learn)",
    r"i (?:want|need) to know",
    # "random thought, but can I ...", "quick one: how ...": a remark on the asking, a clause
    # of its own ("a quick one-pot dinner" is what is asked)
    r"(?:quick|random|dumb|silly|stupid|simple) (?:question|q|(?:thought|one)"
    r"(?=\s*(?:[-–—,;:.!?]|but\b)))(?:,? but\b)?",
    r"out of curiosity",
    r"just curious",
    r"by the way",
    r"one (?:more|last) (?:thing|question)",
    r"to be honest",
    r"(?:thanks|thank you)(?: (?:so|very) much| a lot| a ton)?(?: in advance)?",
    r"much appreciated",
    r"excuse me",
    r"(?:sorry|apologies) (?:to|for) (?:bother(?:ing)?|trouble|troubling|disturb(?:ing)?)(?: you)?"
    r"(?:,? (?:again|but))*",
    r"good (?:morning|afternoon|evening|day)",
    r"hello there",
    r"(?:would|do) you mind(?: (?:telling|explaining|showing|describing)(?: to)?(?: me| us)?)?",
    r"(?:can|could|would|will) you(?: please| kindly| possibly)*"
    r" (?:(?:tell|show|explain to|give|remind|teach) (?:me|us)|explain|describe|list|summari[sz]e"
    r"|recommend|suggest|help (?:me|us)(?: (?:understand|figure out|find out|out))?"
    r"|let (?:me|us) know)",
    r"(?:please )?help (?:me|us) (?:understand|figure out|find out)",
    r"sorry(?: if (?:this|it|that) (?:is|sounds))? (?:a |such a )?(?:dumb|silly|stupid|basic"
    r"|naive|obvious)(?: question| one| q)?(?:,? but)?",
    r"(?:i guess |so )?my question is",
    # ... and what is asked, said first: "so what I want to know is, should I ..."
    r"(?:i guess |so |basically )?what i am (?:really )?asking is",
    r"(?:i guess |so )?what i (?:want|would like|need) to know is",
    r"if (?:that|this|it) makes(?: any)? sense",
    r"(?:do|would) you (?:happen to )?know",
    r"any idea",
    r"in general",
    r"(?:can|may) i ask(?: you)?(?: a question)?(?=[,:]| (?:what|how|why|when|where|who|which"
    r"|whether|if)\b)",
    r"i have a question",
    r"i(?:'d| would) appreciate (?:it )?if you could(?: (?:tell|show) me| explain)?",
    r"(?:would|is) it (?:be )?possible(?: for you)? to (?:tell|show|explain to) me",
    r"i(?:'m| am) trying to (?:figure out|understand|find out)",
    r"(?:does )?any(?:one|body) know",
    r"(?:please|kindly) advise",
    r"many thanks",
    r"cheers(?=\s*[!.]*\s*$)",  # a sign-off closing the message; elsewhere a word
    r"(?:go|set) about(?= \w+ing\b)",  # "how do I go about renewing ..."
    # an estimate is what "how many" asks anyway: "roughly how many", "approximately how long"
    r"(?<!\bwhat )(?:roughly|approximately|approx|about|around)"
    r"(?= how (?:many|much|long|far|old|big|often|tall|heavy|fast)\b)",
    r"hi there",
    # Negated hedges about the asker, not the question: "I'm not quite sure - is honey vegan?",
    # "I really have no clue: why...", "hope it isn't a naive one, but...". A clause of their
    # own (a mark after them): "not sure if I should" is what is asked.
    r"i (?:am|was) not (?:totally |really |entirely |quite |completely |too |exactly )?sure"
    r"(?: about (?:this|it|that))?(?:,? but\b|(?=\s*[-–—,;:.!?]))",  # "..., but can I ...?"
    # ... and about the asker's knack: "I'm not very techy, but", "not great with computers, so"
    r"i am (?:honestly |really |just )?not (?:very |that |too |so |great |good |the best |the "
    r"most )*(?:techy|tech[- ]savvy|technical|handy|computer[- ]savvy|(?:good|great) with "
    r"(?:computers|tech|technology|phones|tools|this stuff)|an? (?:expert|pro|techie))"
    r"(?:,? (?:but|so)\b|(?=\s*[-–—,;:.!?]))",
    r"i (?:honestly |really |genuinely |literally )?(?:have|had|got) no (?:idea|clue)"
    r"(?=\s*[-–—,;:.!?])",
    r"(?:i )?hope (?:this|it) is not (?:a |such a )?(?:dumb|silly|stupid|basic|naive|obvious)"
    r"(?: question| one| q)?(?:,? but)?",
    # ... and about how to ask it: "not really sure how to word this, but", "I don't know
    # how to put it, but".
    r"(?:i am |i was |i )?(?:not (?:totally |really |quite |entirely |exactly )?sure|do not know)"
    r" how to (?:phrase|word|ask|put|say) (?:this|it|that)(?: question)?(?: exactly)?"
    r"(?:,? but\b|(?=\s*[-–—,;:.!?]))",
    # ... and about the asking: "hope you don't mind my asking", "not sure whether you could
    # help with it, but".
    r"(?:and )?(?:i )?hope you do not mind(?: me| my)? asking",
    r"(?:i am )?(?:not sure|do not know)(?: if| whether) you (?:can|could|would be able to) help"
    r"(?: me| us)?(?: (?:with|on) (?:this|that|it))?(?:,? but\b)?",
    # ... and about what asking costs the reader: "hope this isn't a bother", "not to bug you,
    # but", "no worries if not", "don't laugh, but". A clause of their own.
    r"(?:i )?hope (?:this|it|that) is not (?:a |too much (?:of )?a |too much |much of a )?"
    r"(?:bother|trouble|problem|imposition|hassle|pain)(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    r"(?:i )?hope (?:this|it|that) is (?:ok(?:ay)?|fine|alright|all right) to ask"
    r"(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    r"(?:i )?(?:do not|did not) (?:mean|want) to (?:bother|trouble|disturb|pester|bug) you"
    r"(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    r"not to (?:bother|trouble|disturb|pester|bug) you(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    r"(?:(?<=^)|(?<=[-–—,;:.!?] ))no (?:pressure|worries)(?: if not| at all)?"
    r"(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    r"(?:please )?(?:do not) (?:laugh|judge(?: me)?)(?:,? but\b|(?=\s*[-–—,;:.!?]|$))",
    # "... to my pc, can't figure it out": a complaint closing the question.
    r"(?:i )?(?:can|could) not (?:figure|work) (?:it|this) out(?=\s*[?!.]*\s*$)",
]
POLITE_RE = re.compile(r"\b(?:" + "|".join(POLITE) + r")\b")
# Hedges that are filler only as a clause of their own: ", you know?", "I mean, ...".
HEDGE_RE = re.compile(
    r"(?:^|(?<=[,;:!?.]))\s*(?:you know|i mean|i think|like|yeah|eh|huh)\s*"
    r"(?=[,;:!?.]|$)"
    r"|\s+or (?:something|whatever|what|not|nah|no|nope)(?=\s*[?!.]*\s*$)"  # "... or not?"
    r"|\s+or (?:nah|nope)(?=\s*[?!.,])"  # "... or nah? I'm in Leeds"
    r"|\s*(?:please|pls|plz) help(?: me)?(?=\s*[?!.]*\s*$)"  # "... ?? pls help"
    r"|^\s*(?:right|well|alright|anyway)\s*(?=[,;:!?.])"  # "Right, so, how do I..."
)
# An imperative that asks a question: "Explain how to...", "Walk me through creating...".
REQUEST_RE = re.compile(
    r"^(?:please |kindly )*(?:(?:tell|show|teach|remind|give) (?:me|us)(?: about)?"
    r"|explain(?: to (?:me|us))?|describe|list|summari[sz]e|walk (?:me|us) through"
    r"|help (?:me|us)(?: understand)?|let (?:me|us) know)\b"
)
# Words that say which thing a noun is: articles, possessives, demonstratives.
DETERMINERS = frozenset(
    {"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that",
     "these", "those"}
)
# Markers that close a clause as a verb's particle, never as a question word's preposition.
PARTICLES_ONLY = frozenset({"out", "up", "off", "down", "away", "back"})
# Interjections: filler at the start of a clause ("So, um, ok, how do I..."); elsewhere
# ("so much", "a well") they are words.
INTERJECTIONS = _set(
    """
    so um umm uh uhh er erm hm hmm ugh hi hey hello ok okay alright anyway anyways yeah
    yes then dude bro man oh ah also and yo
    """
)
# Filler anywhere: adverbs and chat noise that never change what is asked. Not "even", "just",
# "ever", "only", "exactly", "pretty": "even numbers", "just one egg" are other questions.
FILLER = _set(
    """
    um umm uh uhh er erm hm hmm ugh ah lol lmao haha please pls plz kindly thanks thx ty
    btw fyi tbh ngl imo imho basically actually really rly literally honestly seriously quite
    very maybe perhaps
    """
)
_COUNTS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
)
_DECADES = (
    "twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties", "nineties"
)
# Measures a fraction in words is of ("a quarter cup"), not a year's quarter.
_MEASURES = (
    r"(?:cups?|teaspoons?|tsp|tablespoons?|tbsp|pounds?|lbs?|ounces?|oz|miles?|inch(?:es)?|"
    r"hours?|hrs?|liters?|litres?|gallons?|kilos?|kg|grams?|acres?)\b"
)
# Words of one phrase: no mark between them but a number's ("150,000 km", "1.5 litres").
_PHRASE = r"(?:[a-z0-9' -]|(?<=\d)[,.](?=\d))+?"
CONTRACTIONS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"\bwon'?t\b", "will not"),
    (r"\bcan'?t\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"),
    (r"\b(is|are|was|were|do|does|did|has|have|had|would|should|could|must)n'?t\b", r"\1 not"),
    (r"n't\b", " not"),
    (r"\b(what|that|there|it|who|where|when|why|how|he|she)s\b", r"\1 is"),  # "whats"
    (r"\b(i)m\b", r"\1 am"),
    (r"\b(i|you|we|they)ve\b", r"\1 have"),
    (r"\b(you|they)re\b", r"\1 are"),  # not "were"
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"'m\b", " am"),
    # A person's thing keeps its owner: "my wife's card" is her card, not mine ("wife her card");
    # a day named for them is no one's ("Mother's Day").
    (r"\b(wife|mom|mum|mother|daughter|sister|girlfriend|grandma|grandmother|aunt|niece)'s\b"
     r"(?! day\b)", r"\1 her"),
    (r"\b(husband|dad|father|son|brother|boyfriend|grandpa|grandfather|uncle|nephew)'s\b"
     r"(?! day\b)", r"\1 his"),
    (r"\b(friend|partner|boss|kid|child|baby|toddler|teen|teenager|neighbou?r|landlord|roommate"
     r"|coworker|colleague|parent|spouse)'s\b(?! day\b)", r"\1 their"),
    (r"'s\b", " is"),  # "what's"; another possessive "'s" becomes an auxiliary, dropped anyway
    (r"\bpounds? per square inch\b", "psi"),
    (r"°\s*f\b", " fahrenheit"),  # "in °F": the scale, with or without a number
    (r"°\s*c\b", " celsius"),
    (r"\bdegrees? (fahrenheit|celsius)\b", r"\1"),
    (r"\bgonna\b", "going to"),
    # A time unit cut short after "how many" is the unit ("how many min do eggs boil"),
    # where alone "min" may be a minimum and "sec" a second of anything.
    (r"\bhow many mins?\b", "how many minutes"),
    (r"\bhow many secs?\b", "how many seconds"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "have to"),
    (r"\bkinda\b", "kind of"),
    (r"\blemme\b", "let me"),
    (r"\bgimme\b", "give me"),
    (r"\bw/o\b", "without"),
    (r"\bw/e\b", "whatever"),
    (r"\bb/w\b", "between"),
    (r"\bb/c\b", "because"),
    (r"\bw/", "with "),
    (r"\b([ap])\.m\.", r"\1m"),  # 5 p.m. -> 5 pm
    (r"\bper cent\b", "percent"),
    (r"([a-z])\1{2,}", r"\1"),  # "sooo", "pleeease"
    (r"\b(what|who|where|when|why|how|which) r\b", r"\1 are"),  # chat "r" only after a wh-word
    (r"^r (?=u\b|you\b)", "are "),
    (r"^y (?=(?:is|are|do|does|did|would|should|can|will|won't|don't|doesn't|isn't)\b)", "why "),
    (r"(?<!\d)(?<!\d )\bw\b(?![/'])", "with"),  # "coffee w milk"; "65 W" stays watts
    (r"(?<!\d)(?<!\d )\bv\.?(?= )", "vs"),  # "Python v Go"; "12 V" stays volts
    (r"(\d)\s*[x×]\s*(?=\d)", r"\1 by "),  # a 10x12 room
    (r"\b(?:square|sq\.?) (?:feet|foot|ft)\b", "sqft"),
    (r"\b(?:square|sq\.?) (?:meters?|metres?|m)\b", "sqm"),
    (r"\b2day\b", "today"),
    (r"\b(?:2morrow|2moro|2mrw)\b", "tomorrow"),
    (r"\b2nite\b", "tonight"),
    # A rate written three ways: "hrs/wk", "hours per week", "hours a week" (the one kept: a
    # marker would set the week apart from the hours).
    (r"(?:(?<=[a-z])/|\bper )(?=(?:day|week|wk|month|mo|year|yr|hour|hr|night|minute|min)s?\b)",
     " a "),
    (r"(?<=[a-z])/(?=(?:person|serving|head)s?\b)", " per "),
    # a count in a compound as people type it: "a four-year-old", "a 4yo", "a 4 year old trip"
    *((rf"(?<![\w-]){word}-(?=[a-z])", f"{n} ") for n, word in enumerate(_COUNTS, start=1)),
    (r"(\d)-(?=[a-z])", r"\1 "),
    (r"(?<=\d) ?(?:yo|y/o)\b", " year-old"),
    (r"\b(year|month|week)s? old\b", r"\1-old"),
    (r"~\s*(?=\d)", "about "),  # "~100k miles"
    (r"(?<=[a-z] )like (?=\d)", ""),  # "sleeps like 14 hours": a hedge
    (r"(?<=[a-z]) & (?=[a-z])", " and "),
    (r"(?<=[a-z]) -+> (?=[a-z])", " to "),  # "station -> hotel", not code's "f() -> int"
    (r"\b(\d+)\(([a-z])\)", r"\1\2"),  # a plan's letter in brackets: "401(k)" is "401k"
    (r"\b(\d+)k\b", r"\g<1>000"),  # thousands: "a 50k salary"
    # a fraction in figures or words before a measure: "1/4 cup", "a quarter cup", "three
    # quarters of a mile" (never a date's "1/4/2025", nor a year's quarter)
    (r"(?<![\d/])([13])[/⁄]4(?![\d/])", lambda m: "0.25" if m[1] == "1" else "0.75"),
    (r"(?<![\d/])1[/⁄]2(?![\d/])", "0.5"),
    (rf"\b(?:a |one )?quarter(?: of an?)?(?= {_MEASURES})", "0.25"),
    (rf"\b(?:three|3) quarters(?: of an?)?(?= {_MEASURES})", "0.75"),
    # a duty asked with "have to" is asked with "must" ("how long do I have to soak them"): its
    # "to" marks no role
    (r"\b(?:do|does) (i|you|we|they|he|she|it|one) (?:really )?ha(?:ve|s) to\b", r"must \1"),
    (r"\bwill (i|you|we|they|he|she|it|one) (?:really )?have to\b", r"will \1 must"),
    # what is worth doing, in its three orders: "is buying a kayak worth it" and "is a kayak
    # worth buying" ask "is it worth buying a kayak"
    (rf"\b(is|are|was|were) (?!it\b)([a-z]+ing) ({_PHRASE}) (?:(?:actually|really|even) )?"
     r"worth it\b", r"\1 it worth \2 \3"),
    (rf"\b(is|are|was|were) (?!it\b)({_PHRASE}) (?:(?:actually|really|even|still) )?worth "
     r"([a-z]+ing)\b", r"\1 it worth \3 \2"),
    # an age or an era by its decade, a number: "in my 20s", "in my twenties", "the 90s"
    *((rf"\b(my|your|his|her|their|our|the|early|mid|late)[ -]{d}0'?s\b", rf"\1 {d}0 decade")
      for d in "23456789"),
    *((rf"\b{name}\b", f"{d}0 decade") for d, name in zip("23456789", _DECADES, strict=True)),
]
CONTRACTIONS_RE = [(re.compile(p), r) for p, r in CONTRACTIONS]
# Chat spellings of one word ("u", "thru"), time units and short month names: form only, so
# a question written with them is the same question.
CHAT_SPELLINGS = {
    "u": "you", "ur": "your", "ya": "you", "b4": "before", "bc": "because", "cuz": "because",
    "coz": "because", "abt": "about", "tmrw": "tomorrow", "tmr": "tomorrow", "tonite": "tonight",
    "thru": "through", "tho": "though", "yrs": "years", "yr": "year", "wk": "week",
    "wks": "weeks", "hrs": "hours", "hr": "hour", "mins": "minutes", "secs": "seconds",
    "vs.": "vs", "versus": "vs", "v.s.": "vs", "wat": "what", "wut": "what", "rly": "really",
    "nite": "night", "jan": "january", "feb": "february", "aug": "august",
    "1st": "first", "2nd": "second", "3rd": "third",  # "pay it off 1st"
    "sept": "september", "oct": "october", "nov": "november", "tues": "tuesday",
    "thurs": "thursday", "shud": "should", "ty": "thank you", "thx": "thanks", "idk": "",
    # the modals and question words with their vowels dropped, and thanks so
    "shd": "should", "shld": "should", "wld": "would", "wud": "would", "cld": "could",
    "cud": "could", "wht": "what", "whn": "when", "thnks": "thanks", "thnx": "thanks",
    "nvm": "", "omg": "", "smh": "", "ngl": "", "tbh": "",
}
# Abbreviations of content words: most have another reading ("temp" work, "db" decibels,
# "med" medium, "max" a name), so they widen what a judge is asked and never approve alone.
# ("2"/"4" for to/for are resolved against the other question, in verify.py: "2 cups".)
WORD_ABBREVIATIONS = {
    "diff": "difference", "info": "information", "approx": "approximately",
    "msg": "message", "pic": "picture", "pics": "pictures", "govt": "government",
    "ppl": "people", "env": "environment", "db": "database", "avg": "average",
    "max": "maximum", "temp": "temperature", "qty": "quantity", "vid": "video",
    "vids": "videos", "config": "configuration", "repo": "repository", "docs": "documentation",
    "bday": "birthday", "xmas": "christmas", "k8s": "kubernetes", "js": "javascript",
    "smth": "something", "sth": "something", "vacay": "vacation", "dr": "doctor",
    "appt": "appointment", "appts": "appointments", "meds": "medication", "med": "medication",
    "bp": "blood pressure", "dir": "directory", "dirs": "directories", "cmd": "command",
    "cmds": "commands", "var": "variable", "vars": "variables", "func": "function",
    "funcs": "functions", "arg": "argument", "args": "arguments", "param": "parameter",
    "params": "parameters", "perms": "permissions", "pkg": "package", "pkgs": "packages",
    "lib": "library", "libs": "libraries", "src": "source", "dest": "destination",
    "eqn": "equation", "sqrt": "square root", "num": "number", "nums": "numbers",
    "deg": "degrees", "veg": "vegetables", "veggies": "vegetables", "wknd": "weekend",
    # shortenings people type for a word or a term they mean in full
    "vit": "vitamin", "vits": "vitamins", "acct": "account", "accts": "accounts",
    "2fa": "2 factor authentication",  # as "two-factor" reads
    "mfa": "multi-factor authentication", "win10": "windows 10", "win11": "windows 11",
    "fridge": "refrigerator", "fav": "favorite", "fave": "favorite", "faves": "favorites",
    "pw": "password", "pwd": "password", "amt": "amount", "mgr": "manager",
    "dept": "department", "convo": "conversation", "recs": "recommendations",
    "hubby": "husband", "tv": "television", "aircon": "air conditioner",
    "ps3": "playstation 3", "ps4": "playstation 4", "ps5": "playstation 5",
}
# Those with no other reading a question gives them are spellings of their word, as chat's are.
CHAT_SPELLINGS.update({
    w: WORD_ABBREVIATIONS[w]
    for w in (
        "info", "approx", "config", "k8s", "govt", "appt", "appts", "bday", "xmas", "wknd",
        "veggies", "ppl", "qty", "eqn", "smth", "sth", "vacay", "fridge", "fav", "fave", "faves",
        "acct", "accts", "convo", "hubby", "aircon", "win10", "win11", "2fa", "ps3", "ps4",
        "ps5",
    )
})
ABBREVIATIONS = {**CHAT_SPELLINGS, **WORD_ABBREVIATIONS}
SPELLING = {  # British -> American forms that no suffix rule covers
    "grey": "gray", "aluminium": "aluminum", "tyre": "tire", "tyres": "tires",
    "programme": "program", "programmes": "programs", "practise": "practice",
    "aeroplane": "airplane", "jewellery": "jewelry", "mould": "mold", "plough": "plow",
    "sceptical": "skeptical", "pyjamas": "pajamas", "kerb": "curb",
    "draught": "draft", "manoeuvre": "maneuver", "catalogue": "catalog", "dialogue": "dialog",
    "analogue": "analog", "ageing": "aging", "enrol": "enroll", "fulfil": "fulfill",
    "skilful": "skillful", "defence": "defense", "offence": "offense", "licence": "license",
    "ok": "okay", "mum": "mom", "maths": "math", "cheque": "check",
    "foetus": "fetus",
    "pretence": "pretense", "learnt": "learned", "spelt": "spelled", "burnt": "burned",
    "dreamt": "dreamed", "leapt": "leaped", "spoilt": "spoiled", "smelt": "smelled",
    "whisky": "whiskey", "doughnut": "donut", "sulphur": "sulfur", "moustache": "mustache",
    "artefact": "artifact", "storey": "story", "sceptic": "skeptic", "smoulder": "smolder",
    "instalment": "installment", "enrolment": "enrollment", "fulfilment": "fulfillment",
    "wilful": "willful", "gaol": "jail", "yoghurt": "yogurt", "omelette": "omelet",
    "speciality": "specialty", "disc": "disk", "discs": "disks", "mollusc": "mollusk",
    "axe": "ax", "courgette": "zucchini", "courgettes": "zucchinis", "aubergine": "eggplant",
    "aubergines": "eggplants", "lorry": "truck", "lorries": "trucks", "nappy": "diaper",
    "nappies": "diapers", "cosy": "cozy", "odour": "odor", "odours": "odors",
}
NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "hundred": "100",
    "thousand": "1000", "million": "1000000", "half": "0.5", "dozen": "12",
}
# Ordinals written out, as the digits they are written with ("sixtieth" / "60th", read as 60
# and "th"): not "first", "second", "third" ("what should I do first", "a second").
_ORDINALS = """
    fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth
    fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth
    sixtieth seventieth eightieth ninetieth hundredth
"""
_ORDINAL_NUMBERS = "4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 30 40 50 60 70 80 90 100"
ORDINAL_WORDS = dict(zip(_ORDINALS.split(), _ORDINAL_NUMBERS.split(), strict=True))
# Units: one canonical name per unit. Letters that are words or languages on their own ("c",
# "m", "in") are units only right after a number.
UNITS = {
    "byte": "byte", "bytes": "byte", "kb": "kb", "kilobyte": "kb", "kilobytes": "kb",
    "mb": "mb", "megabyte": "mb", "megabytes": "mb", "gb": "gb", "gig": "gb", "gigs": "gb",
    "gigabyte": "gb", "gigabytes": "gb", "tb": "tb", "terabyte": "tb", "terabytes": "tb",
    "kbps": "kbps", "mbps": "mbps", "gbps": "gbps", "mm": "mm", "millimetre": "mm",
    "millimeter": "mm", "millimetres": "mm", "millimeters": "mm", "cm": "cm",
    "centimetre": "cm", "centimeter": "cm", "centimetres": "cm", "centimeters": "cm",
    "metre": "meter", "meter": "meter", "metres": "meter", "meters": "meter", "km": "km",
    "kms": "km", "kilometre": "km", "kilometer": "km", "kilometres": "km", "kilometers": "km",
    "mi": "mile", "mile": "mile", "miles": "mile", "ft": "foot", "foot": "foot",
    "feet": "foot", "inch": "inch", "inches": "inch", "mg": "mg", "milligram": "mg",
    "milligrams": "mg", "gram": "gram", "grams": "gram", "kg": "kg", "kgs": "kg",
    "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg", "lb": "lb",
    "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz", "ounce": "oz", "ounces": "oz",
    "ml": "ml", "millilitre": "ml", "milliliter": "ml", "millilitres": "ml",
    "milliliters": "ml", "l": "liter", "litre": "liter",
    "liter": "liter", "litres": "liter", "liters": "liter", "celsius": "celsius",
    "centigrade": "celsius", "fahrenheit": "fahrenheit", "kelvin": "kelvin",
    "watt": "watt", "watts": "watt", "kw": "kw", "kilowatt": "kw", "kilowatts": "kw",
    "kwh": "kwh", "volt": "volt", "volts": "volt", "mah": "mah", "hz": "hz", "khz": "khz",
    "mhz": "mhz", "ghz": "ghz", "ms": "ms", "millisecond": "ms", "milliseconds": "ms",
    "percent": "percent", "pct": "percent", "usd": "usd", "dollar": "usd", "dollars": "usd",
    "buck": "usd", "bucks": "usd", "eur": "eur", "euro": "eur", "euros": "eur", "gbp": "gbp",
    "quid": "gbp", "yen": "jpy", "jpy": "jpy", "mph": "mph", "kph": "kmh", "kmh": "kmh",
    "tbsp": "tbsp", "tbsps": "tbsp", "tablespoon": "tbsp", "tablespoons": "tbsp",
    "tsp": "tsp", "tsps": "tsp", "teaspoon": "tsp", "teaspoons": "tsp", "qt": "quart",
    "quart": "quart", "quarts": "quart", "gal": "gallon", "gallon": "gallon",
    "gallons": "gallon", "pint": "pint", "pints": "pint", "yd": "yard", "yds": "yard",
    "yard": "yard", "yards": "yard", "sqft": "sqft", "sqm": "sqm", "kcal": "calorie",
}
UNITS_AFTER_NUMBER = {
    "c": "celsius", "f": "fahrenheit", "k": "k", "g": "gram", "m": "meter", "w": "watt",
    "v": "volt", "h": "hour", "hr": "hour", "min": "minute", "s": "second", "sec": "second",
    "p": "p", "pm": "pm", "am": "am", "x": "x", "gen": "gen",
}
SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "%": "percent"}

# -- structure --------------------------------------------------------------------------------

# Prepositions and subordinators: each governs the words after it, up to the next one.
MARKERS = _set(
    """
    to from into onto than over by for with without in on at of about after before between
    under per via as through against toward towards within until till since during across
    behind above below near beside besides instead off out up down if unless while because
    when then
    """
)
# Prepositions that govern the same way: "during a heatwave" is "in a heatwave".
SAME_MARKER = {
    "during": "in", "into": "in", "onto": "on", "towards": "toward", "till": "until",
    "while": "when", "whenever": "when",  # "while camping" is "when camping"
    "via": "by",  # "via email" is "by email"
}
# Relations that read the same both ways: after one of these (stemmed), "to", "with", "from",
# "as" join two things like "and" does ("compare X to Y" = "compare Y to X").
SYMMETRIC = frozenset({"compar", "comparison", "differ", "differen", "similar", "sam", "alik"})
SYMMETRIC_JOINERS = frozenset({"to", "with", "from", "as"})
# Markers that open a subordinate clause ("if I use X, does Y change?").
SUBORDINATORS = frozenset({"if", "when", "unless", "while", "because", "before", "after"})
COORDINATORS = frozenset({"and", "or", "vs", "nor"})
NEGATIONS = frozenset({"not", "no", "never", "nor", "none", "nothing", "nobody", "neither"})
# Who the question is about ("my husband" is not "I", "her" is not "him").
PERSON = {
    **dict.fromkeys(["i", "me", "my", "mine", "myself"], "i"),
    **dict.fromkeys(["we", "us", "our", "ours", "ourselves"], "we"),
    **dict.fromkeys(["you", "your", "yours", "yourself", "yourselves"], "you"),
    **dict.fromkeys(["he", "him", "his", "himself"], "he"),
    **dict.fromkeys(["she", "her", "hers", "herself"], "she"),
    **dict.fromkeys(["they", "them", "their", "theirs", "themselves"], "they"),
}
POSSESSIVE = frozenset(
    {"my", "mine", "our", "ours", "your", "yours", "his", "hers", "their", "theirs"}
)
TENSE = {"was": "past", "were": "past", "did": "past", "had": "past", "will": "future",
          "shall": "future"}
DROPPED = _set(
    """
    a an the it its itself this that these those one ones some any is am are was were be been
    being do does did doing done have has had having will would shall
    """
)
MODALS = {
    "can": "can", "could": "can", "may": "can", "might": "can", "able": "can",
    "should": "should", "ought": "should", "must": "should",
}
AUX = _set(
    """
    is am are was were do does did can could should would will shall may might must have has
    had
    """
)
WH = ("what", "when", "where", "who", "whom", "whose", "why", "which", "how")
SPECIFIC_HOW = _set(
    """
    long many much often far old big soon fast large small tall heavy hot cold expensive deep
    wide high late early
    """
)
# "this weekend" is not "next weekend": before a time word, a deictic is content.
TIME_NOUNS = _set(
    """
    day days week weeks weekend weekends month months year years morning afternoon evening
    night season summer winter spring fall autumn semester quarter time monday tuesday
    wednesday thursday friday saturday sunday
    """
)
DEICTIC = frozenset({"this", "that", "these", "those"})
# Closed classes whose members are never each other: another period, day, month or season,
# another person, platform, piece of software or place. Words between two bars are one member
# ("autumn" / "fall", "mom" / "mother"); a word in no class is left to the judge ("partner").
CLOSED_CLASSES = {
    "time": """
        second | minute | hour | day | night | week | fortnight | month | year | decade |
        weekend | morning | afternoon | evening | spring | summer | autumn fall | winter |
        monday | tuesday | wednesday | thursday | friday | saturday | sunday |
        january | february | march | april | may | june | july | august | september |
        october | november | december""",
    # which one of a time ("this month", "next month", "last month"): another time
    "relative time": """
        this | next upcoming coming | last previous past""",
    "person": """
        mom mother mum mommy mummy mama | dad father daddy papa | son | daughter | brother |
        sister | wife | husband | boyfriend | girlfriend | grandmother grandma granny |
        grandfather grandpa | grandson | granddaughter | grandchild grandchildren | uncle |
        aunt | cousin | nephew | niece | baby infant newborn | toddler | kid child children |
        teen teenager adolescent | adult grownup | man men | woman women | boy | girl |
        coworker colleague | boss | roommate flatmate | neighbor neighbour | landlord | tenant |
        employee | employer | student | teacher""",
    "platform": """
        windows | mac macos osx macbook | linux | android | iphone ios | ipad ipados |
        chromebook chromeos""",
    # software named by one word: languages, shells, browsers, package managers, version
    # control, mail, databases, clouds, editors (not those that are everyday words: "go",
    # "edge", "fish", "word")
    "tool": """
        python | java | javascript js | typescript | rust | golang | ruby | php | swift | kotlin |
        scala | perl | matlab | julia | haskell | lua | dart | cpp | bash | zsh | powershell |
        chrome | firefox | safari | pip | conda | npm | yarn | homebrew brew | apt | git |
        mercurial hg | svn subversion | gmail | outlook | thunderbird | excel | powerpoint |
        mysql | postgres postgresql | sqlite | mongodb mongo | redis | mariadb | aws | azure |
        gcp | vim | emacs | vscode""",
    # countries and states named by one word, with their people's adjective
    "place": """
        afghanistan afghan | albania albanian | algeria algerian | argentina argentinian argentine |
        armenia armenian | australia australian | austria austrian | azerbaijan | bahamas | bahrain
        | bangladesh | barbados | belarus | belgium belgian | belize | benin | bhutan | bolivia
        bolivian | bosnia | botswana | brazil brazilian | brunei | bulgaria bulgarian | cambodia
        cambodian | cameroon | canada canadian | chad | chile chilean | china chinese | colombia
        colombian | congo | croatia croatian | cuba cuban | cyprus cypriot | czechia czech | denmark
        danish | ecuador | egypt egyptian | england english | eritrea | estonia estonian | ethiopia
        ethiopian | fiji | finland finnish | france french | gabon | gambia | georgia | germany
        german | ghana | greece greek | guatemala | guinea | guyana | haiti | honduras | hungary
        hungarian | iceland icelandic | india indian | indonesia indonesian | iran iranian | iraq
        iraqi | ireland irish | israel israeli | italy italian | jamaica jamaican | japan japanese |
        jordan | kazakhstan | kenya kenyan | korea korean | kosovo | kuwait | kyrgyzstan | laos |
        latvia | lebanon lebanese | lesotho | liberia | libya | liechtenstein | lithuania |
        luxembourg | madagascar | malawi | malaysia malaysian | maldives | mali | malta maltese |
        mauritius | mexico mexican | moldova | monaco | mongolia | montenegro | morocco moroccan |
        mozambique | myanmar | namibia | nepal | netherlands holland dutch | nicaragua | niger |
        nigeria nigerian | norway norwegian | oman | pakistan pakistani | panama | paraguay | peru
        peruvian | philippines filipino | poland polish | portugal portuguese | qatar | romania
        romanian | russia russian | rwanda | samoa | scotland scottish | senegal | serbia serbian |
        seychelles | singapore | slovakia | slovenia | somalia | spain spanish | sudan | suriname |
        sweden swedish | switzerland swiss | syria | taiwan taiwanese | tajikistan | tanzania |
        thailand thai | togo | tonga | tunisia | turkey turkish | turkmenistan | uganda | ukraine
        ukrainian | uruguay | uzbekistan | vanuatu | venezuela | vietnam vietnamese | wales welsh |
        yemen | zambia | zimbabwe | uk britain british | usa america american | alabama | alaska |
        arizona | arkansas | california | colorado | connecticut | delaware | florida | hawaii |
        idaho | illinois | indiana | iowa | kansas | kentucky | louisiana | maine | maryland |
        massachusetts | michigan | minnesota | mississippi | missouri | montana | nebraska | nevada
        | ohio | oklahoma | oregon | pennsylvania | tennessee | texas | utah | vermont | virginia |
        washington | wisconsin | wyoming | ontario | quebec | alberta | manitoba | saskatchewan""",
}
# Verbs that ask the opposite of each other, each side with the words that ask it the same
# way ("raise" / "increase" one side, "lower" / "reduce" the other).
OPPOSITES = [
    ("raise increase boost", "lower decrease reduce"),
    ("start begin", "stop end finish quit"),
    ("open", "close shut"),
    ("add insert", "remove delete"),
    ("upload", "download"),
    ("import", "export"),
    ("buy purchase", "sell"),
    ("lend", "borrow"),
    ("win", "lose"),
    ("gain", "lose"),
    ("heat warm", "cool chill"),
    ("push", "pull"),
    ("enable", "disable"),
    ("encrypt", "decrypt"),
    ("compress", "decompress"),
    ("freeze", "thaw defrost"),
    ("tighten", "loosen"),
    ("lock", "unlock"),
    ("show", "hide"),
    ("arrive", "depart"),
    ("accept", "reject decline"),
    ("hire", "fire"),
    ("inhale", "exhale"),
]
# word -> (class, member)
CLOSED = {
    word: (name, k)
    for name, text in CLOSED_CLASSES.items()
    for k, member in enumerate(text.split("|"))
    for word in member.split()
}
OPPOSITE = {
    (x, y)
    for one, other in OPPOSITES
    for a, b in ((one, other), (other, one))
    for x in a.split()
    for y in b.split()
}
UNIT_NAMES = frozenset(UNITS.values()) | frozenset(UNITS_AFTER_NUMBER.values())
CLAUSE_BREAKS = frozenset({",", ";", ":", "?", "!", ".", "(", ")", "-", "—", "–"})
# A "to" right after these starts the infinitive of the question ("how to bake"), not a role.
INFINITIVE_AFTER = frozenset(WH) | {"whether"}

# Request verbs ask for a kind of answer ("list" is not "explain"): the formula is politeness.
REQUEST_VERBS = frozenset(
    {"explain", "describe", "list", "recommend", "suggest", "show", "teach", "remind", "give",
     "walk", "help", "summarize", "summarise"}
)


def _forms(text: str) -> dict[str, str]:
    return dict(pair.split(":") for pair in text.split())


# Irregular participles ("how is tofu made" asks "how do you make tofu": a passive is a
# rewording the judge may decide, not a word spelt like "make") and simple pasts (a past is
# another tense: "what went wrong" / "what goes wrong").
PARTICIPLES = _forms(
    """
    made:make fed:feed grown:grow done:do seen:see taken:take given:give written:write
    known:know shown:show built:build sold:sell bought:buy kept:keep left:leave held:hold
    found:find told:tell paid:pay laid:lay sent:send spent:spend lent:lend bent:bend meant:mean
    run:run won:win worn:wear torn:tear sewn:sew sown:sow drawn:draw drunk:drink eaten:eat
    fallen:fall frozen:freeze chosen:choose spoken:speak stolen:steal broken:break driven:drive
    ridden:ride hidden:hide bitten:bite beaten:beat forgotten:forget gotten:get got:get
    brought:bring thought:think caught:catch taught:teach fought:fight read:read led:lead
    fled:flee bled:bleed bred:breed slept:sleep swept:sweep felt:feel dealt:deal dug:dig
    hung:hang struck:strike stuck:stick spun:spin shot:shoot risen:rise begun:begin
    thrown:throw flown:fly shaken:shake woken:wake shrunk:shrink swollen:swell sunk:sink
    sung:sing swum:swim
    """
)
PASTS = _forms(
    """
    went:go broke:break ran:run came:come gave:give took:take wrote:write ate:eat drove:drive
    chose:choose spoke:speak froze:freeze stole:steal rode:ride fell:fall knew:know grew:grow
    threw:throw drew:draw flew:fly wore:wear tore:tear began:begin sang:sing sank:sink
    swam:swim drank:drink rang:ring saw:see forgot:forget hid:hide shook:shake woke:wake
    rose:rise became:become shrank:shrink
    """
)

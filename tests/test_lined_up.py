"""Look-alikes that line up word for word once stems, typos and synonyms are read are refused
by the rules, never handed to the judge: a judge model said yes to most of them. Examples
written for these tests (none from the labelled pair files)."""

from __future__ import annotations

import pytest

from sleepchat.core.recall.lined_up import derived, inflection_clash, names, near_spelling
from sleepchat.core.recall.verify import Verifier, judge_kind

VETOED = {
    "whose thing": [
        ("What is my postcode?", "what is a postcode"),
        ("Who is your favourite author?", "who is a favourite author"),
        ("How big is my pension going to be?", "how big is a pension going to be"),
        ("Can you read my handwriting?", "Can I read your handwriting?"),
    ],
    "can or should, asked what": [
        ("What should I bring to a job interview?", "What can I bring to a job interview?"),
        ("Where can I camp in the Lake District?", "Where should I camp in the Lake District?"),
    ],
    "another tense": [
        ("What changed when the library upgraded?", "What changes when the library upgrades?"),
        ("Who designed this logo?", "Who designs this logo?"),
    ],
    "another number": [
        ("How do I look after my arms?", "How do I look after my arm?"),
        ("Why do my glasses fog up?", "Why does my glass fog up?"),  # not the verb's -s
        ("Where can I buy goods in bulk?", "Where can I buy good in bulk?"),
    ],
    "an adjective for another": [
        ("Why are my students bored?", "Why are my students boring?"),
    ],
    "two words that stem alike": [
        ("How do I fix a broken pipe?", "How do I fix a broken pip?"),
        ("Why is my dog hoping around?", "Why is my dog hopping around?"),
        ("Why was the rabbit hopping all night?", "Why was the rabbit hoping all night?"),
    ],
    "a name read as a typo": [
        ("Is Kotlin good for backend work?", "Is Kotlyn good for backend work?"),
        ("Is Grafana free to self-host?", "Is Grafama free to self-host?"),
        ("How do I install Polars on Windows?", "How do I install Polar on Windows?"),
    ],
    "two known words a letter apart": [
        ("How long do I roast a duck?", "How long do I roast a dusk?"),
        ("What is the best sauce for a steak?", "What is the best source for a steak?"),
        # words the tokenizer's vocabulary lacks: the shipped word list knows them
        ("What can I cook in a wok?", "What can I cook in a work?"),
        ("Where do I plug in my router?", "Where do I plug in my rooter?"),
        # their first letters differ too
        ("How do I keep rats out of my shed?", "How do I keep bats out of my shed?"),
        ("Is a pear a good snack for a toddler?", "Is a bear a good snack for a toddler?"),
    ],
    # a word ending in another's name is one kind of it; the 1.5B judge served such a pair
    # (the price: "my phone" / "my smartphone" is refused too)
    "one kind of a thing": [
        ("Are nuts good for dogs?", "Are peanuts good for dogs?"),
        ("How do I grow berries in pots?", "How do I grow blueberries in pots?"),
        ("How do I reset my phone?", "how do i reset my smartphone"),
    ],
    "another word from the same root": [
        ("What does a pharmacist do all day?", "What does a pharmacy do all day?"),
        ("Is my car insurance deductible too high?", "Is my car insurance deduction too high?"),
        ("Is the generic brand just as good?", "Is the general brand just as good?"),
        ("How do I keep my desk organized?", "How do I keep my desk organic?"),
    ],
    "a count for a definite thing": [
        ("Is one layer of primer enough for a door?", "Is the layer of primer enough for a door?"),
    ],
    "a compound for its first part": [
        ("Where can I buy a cheap note?", "Where can I buy a cheap notebook?"),
    ],
    "a negation moved": [
        (
            "Why does the printer not work when the laptop is on?",
            "Why does the printer work when the laptop is not on?",
        ),
        ("Is it rude to not tip after dinner?", "Is it rude to tip after not dinner?"),
    ],
}

STILL_OPEN = [  # a judge may decide these (or the form rules serve them)
    ("How do I clean my oven?", "how to clean an oven"),
    ("How can I start running?", "How should I start running?"),
    ("Explain how a heat pump works.", "How does a heat pump work?"),
    (
        "Which permits are needed to build a shed?",
        "What permits do I need to build a shed?",
    ),
    ("How is yoghurt made?", "How do you make yoghurt?"),
    ("How long is the train from Munich to Vienna?", "how long is the train from Muinch to Vienna"),
    ("Can I use honey instead of sugar?", "Can honey be used instead of sugar?"),
    ("How much sleep should one get?", "How much sleep should I get?"),
    # found by a review of the rules: forms of one word, not two words
    ("How do I set up wi-fi on my laptop?", "how do i set up wifi on my laptop"),
    ("Can you recommend one please?", "can you recommend one"),
    ("Where can I buy a new dog's collar?", "where can i buy a new dogs collar"),
    ("What to do when a dog barks at night?", "what to do when dogs bark at night"),
    ("How To Make Pancakes", "how to make a pancake"),
    ("How do I logout of Gmail?", "how do i log out of gmail"),
    ("How do I clean a wok?", "how do i clean a wokk"),  # a slip, not a word
    ("Where do I plug in my router?", "where do i plug in my routr"),
    # a word and the same word with an ending added name one thing
    ("Who reads the electricity meter in my flat?", "who reads the electric meter in my flat"),
    ("What are the benefits of meditation?", "what are the benefits of meditating"),
    ("How do I find a good photographer?", "how do i find good photographers"),
    # words one question adds that leave it as asked (the narrower ones are below)
    ("How often should I brush my rabbit?", "how often am I supposed to brush my rabbit"),
    ("How do I dry herbs without using an oven?", "how do i dry herbs w/o an oven"),
    # "just" as a hedge, not a part
    ("Can I use rye flour in this bread?", "can i just use rye flour in this bread"),
    # a closing hedge: how to answer, not what
    ("How do tides work?", "how do tides work, in a nutshell?"),
    ("Does a dishwasher save water?", "does a dishwasher save water at all"),
]


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.default()


@pytest.mark.parametrize("predicted, asked", [pair for pairs in VETOED.values() for pair in pairs])
def test_a_look_alike_that_lines_up_is_refused_without_a_judge(
    verifier: Verifier, predicted: str, asked: str
) -> None:
    for a, b in ((predicted, asked), (asked, predicted)):
        verdict = verifier.check(a, b)
        assert not verdict.same and not verdict.judge, (a, b, verdict)


@pytest.mark.parametrize("predicted, asked", STILL_OPEN)
def test_a_rewording_is_still_served_or_left_to_the_judge(
    verifier: Verifier, predicted: str, asked: str
) -> None:
    for a, b in ((predicted, asked), (asked, predicted)):
        verdict = verifier.check(a, b)
        assert verdict.same or verdict.judge, (a, b, verdict)


def test_the_spelling_rules_one_by_one() -> None:
    lexicon = Verifier.default().lexicon
    assert inflection_clash("baked", "bake", lexicon) == "tense"
    assert inflection_clash("bored", "boring", lexicon)  # not one word, passive or not
    assert inflection_clash("baking", "bake", lexicon) == ""  # "how to start baking"
    assert inflection_clash("carries", "carry", lexicon) == "number"
    assert inflection_clash("needed", "need", lexicon, frozenset({"needed"})) == ""  # passive
    assert inflection_clash("cape", "cap", lexicon) == "two words"
    assert near_spelling("desert", "dessert", lexicon)
    assert near_spelling("affect", "effect", lexicon)  # a first letter apart
    assert not near_spelling("grean", "green", lexicon)  # a misspelling is not a word
    assert not near_spelling("made", "make", lexicon)  # a participle is the same verb
    assert not near_spelling("meditation", "meditating", lexicon)  # one verb's noun and -ing
    assert derived("deduction", "deductible") and derived("pharmacist", "pharmacy")
    assert not derived("electric", "electricity")  # the word, an ending added
    assert not derived("dehydrated", "dehydration")  # one verb's participle and its noun
    assert not derived("houses", "housing")  # a root of four letters: too short to tell
    assert names("Is Polars faster than Spark? I use pandas.") == {"polars", "spark"}


@pytest.mark.parametrize(
    "predicted, asked, kind",
    [
        ("How do I cook quinoa?", "How am I supposed to cook quinoa?", "added"),
        ("hey, how am I supposed to cook quinoa?", "How do I cook quinoa?", "added"),
        ("How do I cook quinoa?", "how do i prepare quinoa", "words"),
        ("How do I cook quinoa?", "how do i cook quinao", "aligned"),
    ],
)
def test_a_question_with_words_added_is_a_kind_of_its_own(
    verifier: Verifier, predicted: str, asked: str, kind: str
) -> None:
    # One question is the other with words added: it may ask about less, so the judge decides
    # it at a level of its own (a qualifier of the thing, before it or after the question, is
    # vetoed: below).
    verdict = verifier.check(predicted, asked)
    assert verdict.judge and judge_kind(verdict) == kind, verdict


NARROWER = [  # a word put before one both questions hold asks of a kind of that thing
    (
        "What are the best podcasts for learning Italian?",
        "What are the best free podcasts for learning Italian?",
    ),
    ("How do I clean a leather sofa?", "How do I clean a white leather sofa?"),
    ("How long do I boil potatoes?", "How long do I boil sweet potatoes?"),
    ("Which laptop is best for video editing?", "Which gaming laptop is best for video editing?"),
    # whose it is: an owner put before the thing
    ("How do I reset my password?", "How do I reset my cat's password?"),
    # a clause after the whole of the other question: for what, where, when or whom
    (
        "How long should I rest after a workout?",
        "How long should I rest after a workout with a sore knee?",
    ),
    (
        "Which houseplants are easy to care for?",
        "Which houseplants are easy to care for in a dark flat?",
    ),
    (
        "How many calories should I eat each day?",
        "How many calories should I eat each day to gain weight?",
    ),
    ("How do I learn to code?", "How do I learn to code without a degree?"),
    # a part of the thing, or some of them: "just the ...", "only my ..."
    ("How do I clean my fridge?", "How do I clean just the fridge seals?"),
    ("How do I back up my laptop?", "How do I back up only my documents on my laptop?"),
]


@pytest.mark.parametrize("predicted, asked", NARROWER)
def test_a_word_added_before_a_shared_word_narrows_the_question(
    verifier: Verifier, predicted: str, asked: str
) -> None:
    for a, b in ((predicted, asked), (asked, predicted)):
        verdict = verifier.check(a, b)
        assert not verdict.same and not verdict.judge, (a, b, verdict)
        assert verdict.reason.startswith("narrower"), verdict

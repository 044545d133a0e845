"""Which proposed questions may become predictions: the user's voice, one question, no junk,
no repeats; and one bad item in a reply never costs the others."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sleepchat.core.reflection import quality
from sleepchat.core.reflection.quality import question_problem
from sleepchat.core.reflection.question_text import clean_question
from sleepchat.core.reflection.voice import asks_the_user
from sleepchat.llm.fake import FakeBackend
from tests.test_reflect import Harness, answers, structured

VOICE = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "question_voice.jsonl").read_text().splitlines()
]


@pytest.mark.parametrize("split", ["tune", "test"])
def test_questions_the_assistant_would_ask_the_user_are_dropped(split: str) -> None:
    """Labelled before the rules were written; tuned on `tune`, `test` held out."""
    rows = [r for r in VOICE if r["split"] == split]
    wrong_drops = [
        r["question"] for r in rows if r["voice"] == "user" and asks_the_user(r["question"])
    ]
    caught = [r for r in rows if r["voice"] == "assistant" and asks_the_user(r["question"])]
    theirs = [r for r in rows if r["voice"] == "assistant"]
    print(f"{split}: caught {len(caught)}/{len(theirs)}, user questions dropped {len(wrong_drops)}")
    assert wrong_drops == []  # a user's real question is never refused for its voice
    assert len(caught) / len(theirs) >= (1.0 if split == "tune" else 0.9)
    assert {r["class"] for r in caught} == {r["class"] for r in theirs}  # every class, not one


VOICE2 = Path(__file__).parent / "data" / "question_voice_test2.jsonl"


def test_a_second_voice_set_written_before_the_wider_rules_is_mostly_caught() -> None:
    """160 questions (80 the assistant's, in 9 classes) written by a helper who read no code,
    while the rules for what the user is doing, suggestions and the user's own things were
    written; measured once: 56/80 caught, 3/80 user questions dropped (37 and 2 before). One
    of the three ("your function" after "I need a function") was read and mended after."""
    assert hashlib.sha256(VOICE2.read_bytes()).hexdigest() == (
        "904b23da11ae7fc8c1f54864d3f3b94a41562d9f5a80c566ae7d8ef9aaa4a9d6"
    )
    rows = [json.loads(line) for line in VOICE2.read_text().splitlines()]

    def dropped(r: dict[str, str]) -> bool:
        said = [r["context"]]
        return question_problem(r["question"], earlier=[], user_said=said) == ASKS

    caught = sum(dropped(r) for r in rows if r["voice"] == "assistant")
    wrong = sum(dropped(r) for r in rows if r["voice"] == "user")
    assert caught >= 56 and wrong <= 2


ASKS = quality.ASKS_THE_USER


@pytest.mark.parametrize(
    "question, reason",
    [
        ("p1", quality.FRAGMENT),
        ("p3, p4", quality.FRAGMENT),
        ("The answer is not available.", quality.PLACEHOLDER),
        ("How to buy a laptop from Tesla.", quality.NOT_A_QUESTION),
        ("1. How long should the party last?", quality.NUMBERING),
        ("What question am I asking in this conversation?", quality.META),
        ("What do I bake? And how long?", quality.NOT_A_QUESTION),
        ("Why " + "very " * 80 + "long?", quality.TOO_LONG),
        ("Would you like me to draw a diagram?", quality.ASKS_THE_USER),
        ("What was your favorite birthday party?", quality.ASKS_THE_USER),
        ("I'm planning a birthday party for my daughter?", quality.REPEAT),
        ("How long should the birthday party of my daughter last?", None),
        ("What does `cake[0]` return, and is games{} empty?", None),  # code, not a placeholder
        ("What do you think is the best game for 8-year-olds?", None),  # the user's voice
    ],
)
def test_junk_and_repeats_are_refused_with_a_reason(question: str, reason: str | None) -> None:
    earlier = ["I'm planning a birthday party for my daughter, she turns 8."]
    assert question_problem(question, earlier=earlier) == reason


@pytest.mark.parametrize(
    "question",
    [
        "When will you be flying back from Lisbon?",  # what the user is doing or will do
        "Which symptoms are you noticing after long runs?",
        "Are you still using the old charger?",
        "Is there another route you might consider?",  # a suggestion put to the user
        "Is there anything you could try before replacing the pump?",
        "What is your current monthly rent?",  # the user's present state of things
        "How does the cake look in your oven after 20 minutes?",  # a thing the user spoke of
        "Why did your cake burn on top?",
        "Does your old oven have a fan?",  # a word or two before the thing
    ],
)
def test_the_assistants_questions_about_the_users_doings_and_things_are_dropped(
    question: str,
) -> None:
    said = ["My oven runs hot and the cake for my daughter's party burnt on top last time."]
    assert question_problem(question, earlier=said, user_said=said) == quality.ASKS_THE_USER


@pytest.mark.parametrize(
    "question",
    [
        "Can you explain your second step again?",  # what the assistant made
        "Why did your code put the cake in a dict?",
        "Is your estimate for the oven per hour?",
        "How do you stop a cake from burning on top?",  # generic you
        "Would you bake it lower in my oven?",  # the assistant's opinion
        "Can you say it again in your own words?",
        "What temperature would you use for my oven?",
        "What are you referring to in the second step?",  # what the assistant is saying
        "Are you suggesting I bake it lower?",
        "Can you check your work on the cake timing?",  # the assistant's, though "work" is said
    ],
)
def test_the_users_questions_with_you_in_them_stay(question: str) -> None:
    said = [
        "My oven runs hot and the cake for my daughter's party burnt on top last time.",
        "I bake after work.",
    ]
    assert question_problem(question, earlier=said, user_said=said) is None


@pytest.mark.parametrize(
    ("question", "offer"),
    [
        ("Should I continue?", True),  # more of the answer, offered
        ("Should I explain further?", True),
        ("Should I go on with the list?", True),
        ("Should I clarify anything?", True),
        ("Should I explain in more detail how the oven fan works?", True),
        ("Should I continue with the explanation?", True),
        ("Should I continue baking after the top burns?", False),  # the user's own task
        ("Should I explain the recipe change to my daughter?", False),
        ("Should I continue with the cake or start over?", False),
    ],
)
def test_should_i_continue_is_an_offer_only_of_more_answer(question: str, offer: bool) -> None:
    said = ["My oven runs hot and the cake for my daughter's party burnt on top last time."]
    problem = question_problem(question, earlier=said, user_said=said)
    assert (problem == quality.ASKS_THE_USER) is offer


def test_a_long_conversation_refuses_questions_that_share_nothing_with_it() -> None:
    conversation = [
        "I am moving from Windows to a MacBook and need my Python setup for data analysis: "
        "pandas, jupyter notebooks, virtual environments, homebrew, the terminal, git, "
        "vscode, pyenv, conda, matplotlib, numpy, scipy, keyboard shortcuts, backups, "
        "time machine, the finder, spotlight, ssh keys, docker, postgres, fonts, printers, "
        "dropbox, rectangle, iterm, zsh, oh-my-zsh, aliases, launch agents, and xcode tools."
    ]
    off = question_problem(
        "How do I buy a laptop from Tesla?", earlier=[], conversation=conversation
    )
    on = question_problem(
        "How do I install pandas with brew?", earlier=[], conversation=conversation
    )
    assert (off, on) == (quality.UNRELATED, None)


async def test_one_bad_item_drops_that_item_never_the_reply() -> None:
    """An over-long item, an id and a placeholder in the same reply as two good questions."""
    reply = {
        "questions": [
            "x" * 5000 + "?",
            "p1",
            "The answer is not available.",
            "Which party games suit 8-year-olds?",
            "What was your favorite birthday party?",
            "Which party games suit 8-year-old kids?",  # restates one kept just before
            "How big should the birthday cake be for ten kids?",
        ]
    }
    h = Harness(FakeBackend(answers, structured(QuestionList=reply)))
    await h.memory.load()
    r = await h.run()
    assert [p.question for p in h.memory.predictions] == [
        "Which party games suit 8-year-olds?",
        "How big should the birthday cake be for ten kids?",
    ]
    assert all(p.answer for p in h.memory.predictions) and r.predictions == 2
    assert h.memory.stats.questions_dropped == 5  # counted for /stats


async def test_an_odd_verdict_item_is_ignored_not_the_whole_revalidation() -> None:
    from sleepchat.core.models import Prediction

    h = Harness(FakeBackend(answers))
    await h.memory.load()
    saved = []
    for q in ("Which party games suit 8-year-olds?", "What cake suits ten kids?"):
        saved.append(
            await h.memory.save_prediction(
                Prediction("", "s1", q, "An answer.", 0.0, "r0", "m0", 1)
            )
        )
    h.backend.structured = structured(
        Revalidation={
            "verdicts": [
                {"id": saved[0].id, "verdict": "keep it maybe"},  # not a verdict
                {"id": "p" * 300, "verdict": "drop"},  # an id nobody has
                {"id": saved[1].id, "verdict": "keep"},
            ]
        },
        QuestionList={"questions": ["How long should the party last?"]},
    )
    await h.run()
    status = {p.id: p.status for p in h.memory.predictions}
    assert status[saved[1].id] == "fresh"  # kept: moved on to today's conversation
    assert h.memory.prediction(saved[1].id).based_on_message_id == "m2"  # type: ignore[union-attr]
    assert status[saved[0].id] == "dropped"  # no valid verdict: not confirmed, not served


async def test_a_list_cut_by_the_token_limit_keeps_the_questions_it_finished() -> None:
    cut = (
        '{"questions": ["Which party games suit 8-year-olds?", '
        '"How big should the birthday cake be for ten kids?", "What if it rains and the'
    )
    h = Harness(FakeBackend(answers, structured(QuestionList=cut)))
    await h.memory.load()
    await h.run()
    assert [p.question for p in h.memory.predictions] == [
        "Which party games suit 8-year-olds?",
        "How big should the birthday cake be for ten kids?",
    ]


CLEANING = Path(__file__).parent / "data" / "question_cleaning_frozen.jsonl"


def test_the_cleaning_cases_are_the_ones_written_before_the_rules() -> None:
    digest = hashlib.sha256(CLEANING.read_bytes()).hexdigest()
    assert digest == "4b01061f7188c1513d15cf3ae05498a5938614faf6b5b5aac87eedff3175ff2c"


@pytest.mark.parametrize(
    "case", [json.loads(line) for line in CLEANING.read_text().splitlines()], ids=lambda c: c["raw"]
)
def test_wrappers_are_stripped_and_questions_to_the_user_dropped(case: dict[str, str]) -> None:
    """Numbering, labels, quotes and stray prefixes are stripped, not a reason to drop; a
    question addressed to the user is dropped whatever wraps it; the user's own stays as is."""
    cleaned = clean_question(case["raw"])
    problem = question_problem(cleaned, earlier=[])
    if case["kept"] is None:
        assert problem == quality.ASKS_THE_USER
    else:
        assert (cleaned, problem) == (case["kept"], None)


async def test_numbered_and_labelled_questions_from_the_model_are_kept_clean() -> None:
    reply = {
        "questions": [
            "1. Which party games suit 8-year-olds?",
            'Q2: "How big should the birthday cake be for ten kids?"',
            "{ 13} I can't wait! What would you love to bake for your own party?",
        ]
    }
    h = Harness(FakeBackend(answers, structured(QuestionList=reply)))
    await h.memory.load()
    await h.run()
    assert [p.question for p in h.memory.predictions] == [
        "Which party games suit 8-year-olds?",
        "How big should the birthday cake be for ten kids?",
    ]


@pytest.mark.parametrize(
    ("asked", "predicted"),
    [
        ("What index should I add?", "What index should I add to optimize the query performance?"),
        ("Is it safe to push?", "Is it actually safe to push in my specific situation?"),
        ("What steps can I take?", "What specific steps can I take based on your advice?"),
        (
            "What affects the crumb?",
            "What factors affect the crumb, such as the flour, the water or the oven?",
        ),
        ("Which flour should I use?", "Which flour should I use for better results?"),
    ],
)
def test_a_question_already_asked_behind_padding_is_not_predicted(
    asked: str, predicted: str
) -> None:
    """Its answer repeats the one the user has: the slot goes to a question not yet asked."""
    assert question_problem(predicted, earlier=[asked]) == quality.RESTATES


@pytest.mark.parametrize(
    ("asked", "predicted"),
    [
        ("How do I make sourdough?", "How do I make sourdough without a starter?"),
        ("What index should I add?", "What index should I add for the 50M row orders table?"),
        ("Which oil should I use?", "Which oil should I use for deep frying fish at home?"),
        ("How long should I knead it?", "How long should I knead it by hand to improve it?"),
    ],
)
def test_a_follow_up_that_narrows_an_asked_question_is_kept(asked: str, predicted: str) -> None:
    assert question_problem(predicted, earlier=[asked]) is None


def test_the_frozen_restatements_are_dropped_and_follow_ups_kept() -> None:
    """Measured when frozen: 53/100 restatements dropped (42 before the padding rule), 14/100
    real follow-ups wrongly dropped by the word-overlap repeat check. Measured again (a second
    look, not held out) after a look-alike the rules see as another need stopped counting as a
    repeat: 49/100 and 11/100."""
    frozen = Path(__file__).parent / "data" / "restatement_test.jsonl"
    rows = [json.loads(x) for x in frozen.read_text().splitlines()]
    repeat = (quality.REPEAT, quality.RESTATES)
    dropped = [r for r in rows if question_problem(r["predicted"], earlier=[r["asked"]]) in repeat]
    caught = sum(r["restates"] for r in dropped)
    print(f"restatements dropped {caught}/100, follow-ups dropped {len(dropped) - caught}/100")
    assert caught >= 49 and len(dropped) - caught <= 11


def test_the_same_question_as_a_condition_or_a_time_is_a_repeat() -> None:
    # Recall keeps "if" and "when" apart; as a need they are one, in either tense.
    asked = ["What happens when I delete the browser cache?"]
    for predicted in ("What happens if I delete the browser cache?",
                      "What will happen if I delete the browser cache?"):  # fmt: skip
        assert question_problem(predicted, earlier=asked) == quality.REPEAT


@pytest.mark.parametrize(
    ("asked", "predicted"),
    [
        ("How much paint for a 10x12 room?", "How much paint for a 12x14 room?"),
        ("Can my dog eat grapes?", "Can her dog eat grapes?"),
        ("Can I freeze bread?", "Can I not freeze bread?"),
        ("How do I turn on wifi?", "How do I turn off wifi?"),
        ("Is it safe in May?", "Is it safe in June?"),
    ],
)
def test_a_look_alike_of_an_asked_question_is_a_new_need_not_a_repeat(
    asked: str, predicted: str
) -> None:
    """Most words shared, yet the rules that keep recall exact see another number, person,
    negation or direction: its answer is not the one the user has."""
    assert question_problem(predicted, earlier=[asked]) is None


def test_the_second_frozen_restatement_set() -> None:
    """Written after the rules were final, measured once: 29/60 restatements dropped (30 by
    the word-overlap check alone), 6/60 real follow-ups wrongly dropped (9 by it alone)."""
    frozen = Path(__file__).parent / "data" / "restatement_test2.jsonl"
    rows = [json.loads(x) for x in frozen.read_text().splitlines()]
    repeat = (quality.REPEAT, quality.RESTATES)
    dropped = [r for r in rows if question_problem(r["predicted"], earlier=[r["asked"]]) in repeat]
    caught = sum(r["restates"] for r in dropped)
    assert caught >= 29 and len(dropped) - caught <= 6

"""Time words in a remembered sentence mean a date: read against the day the user said it, and
quoted next to the words, so a question months later gets the date, not "yesterday"."""

from __future__ import annotations

from datetime import datetime

import pytest

from sleepchat.core.memory.timewords import resolved
from sleepchat.core.memory.user_memory import MemoryItem, quoted

SAID = datetime(2023, 5, 8, 13, 56).timestamp()  # a Monday


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("I went to the support group yesterday.", "7 May 2023"),
        ("Last night we watched the match.", "7 May 2023"),
        ("We ran a charity race today!", "8 May 2023"),
        ("My flight leaves tomorrow at nine.", "9 May 2023"),
        ("I painted it the day before yesterday.", "6 May 2023"),
        ("I signed up two days ago.", "6 May 2023"),
        ("I started the course 3 weeks ago.", "around 17 April 2023"),
        ("We moved here five years ago.", "2018"),
        ("Last week I went to a pride parade.", "the week before 8 May 2023"),
        ("We went camping last weekend.", "the weekend before 8 May 2023"),
        ("I'm going to a conference next month.", "June 2023"),
        ("I got a new job last month.", "April 2023"),
        ("I learnt to swim last year.", "2022"),
        ("Last Friday I visited my parents.", "5 May 2023"),
        ("Last Monday I visited my parents.", "1 May 2023"),  # said on a Monday: a week back
        ("I'll see her next Wednesday.", "10 May 2023"),
        ("I finished it a few days ago.", "a few days before 8 May 2023"),
    ],
)
def test_a_relative_time_word_means_a_date_from_the_day_it_was_said(
    text: str, meaning: str
) -> None:
    [(_, got)] = resolved(text, SAID)
    assert got == meaning


def test_a_sentence_without_time_words_has_none() -> None:
    assert resolved("I live in Lisbon and I love the ocean.", SAID) == []


def test_an_event_is_quoted_with_its_day_and_the_date_next_to_its_time_word() -> None:
    item = MemoryItem(
        "u1", "I went to a support group yesterday.", "s1", ["m1"], SAID, SAID,
        kind="event", said=SAID,
    )  # fmt: skip
    assert quoted(item) == '- (said 8 May 2023) "I went to a support group yesterday [7 May 2023]."'
    fact = MemoryItem("u2", "I live in Lisbon.", "s1", ["m1"], SAID, SAID, said=SAID)
    assert quoted(fact) == '- "I live in Lisbon."'  # a standing fact: no day to read it against

"""Relative time words in a remembered sentence, read against the day it was said.

"I went to the support group yesterday", said on 8 May 2023, is about 7 May 2023: a memory item
keeps the user's words as they were and is quoted with what its time words meant then
("yesterday = 7 May 2023"), so a question asked months later gets the date, not "yesterday".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "couple of": 2,
}  # fmt: skip

_PHRASE = re.compile(
    r"\b(?:"
    r"(?P<ago>(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|a couple of"
    r"|few|couple of)\s+(?P<unit>day|week|month|year)s?\s+ago)"
    r"|(?P<rel>(?P<which>last|next|this|past)\s+(?P<span>week(?:end)?|month|year|"
    + "|".join(_WEEKDAYS)
    + r"))"
    r"|(?P<single>yesterday|today|tonight|tomorrow|last night|this morning|this afternoon|"
    r"this evening|the day before yesterday)"
    r")\b",
    re.IGNORECASE,
)


def day_text(day: date) -> str:
    """7 May 2023: the day first, the month by name (read the same everywhere)."""
    return f"{day.day} {day:%B %Y}"


def _month_shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _single(word: str, day: date) -> str:
    if word in ("yesterday", "last night"):
        return day_text(day - timedelta(days=1))
    if word == "the day before yesterday":
        return day_text(day - timedelta(days=2))
    if word == "tomorrow":
        return day_text(day + timedelta(days=1))
    return day_text(day)  # today, tonight, this morning...


def _relative(which: str, span: str, day: date) -> str:
    if span in _WEEKDAYS:
        wanted = _WEEKDAYS.index(span)
        if which == "next":
            ahead = (wanted - day.weekday()) % 7 or 7
            return day_text(day + timedelta(days=ahead))
        back = (day.weekday() - wanted) % 7 or 7  # "last Friday" said on a Friday: a week ago
        return day_text(day - timedelta(days=back))
    if span in ("week", "weekend"):
        where = {"last": "before", "past": "before", "next": "after"}.get(which)
        if where is None:  # "this week"
            return f"the {span} around {day_text(day)}"
        return f"the {span} {where} {day_text(day)}"
    if span == "month":
        shift = {"last": -1, "past": -1, "next": 1}.get(which, 0)
        return f"{_month_shift(day, shift):%B %Y}"
    shift = {"last": -1, "past": -1, "next": 1}.get(which, 0)
    return str(day.year + shift)


def _ago(amount: str, unit: str, day: date) -> str:
    number = _NUMBERS.get(amount) or (int(amount) if amount.isdigit() else 0)
    if not number:  # "a few days ago": only the side of the date is known
        return f"a few {unit}s before {day_text(day)}"
    if unit == "day":
        return day_text(day - timedelta(days=number))
    if unit == "week":
        return f"around {day_text(day - timedelta(weeks=number))}"
    if unit == "month":
        return f"{_month_shift(day, -number):%B %Y}"
    return str(day.year - number)


def resolved(text: str, said: float) -> list[tuple[str, str]]:
    """Each relative time phrase of ``text`` and what it meant on the day ``said`` (a
    timestamp), in order: ``[("yesterday", "7 May 2023")]``."""
    day = datetime.fromtimestamp(said).date()
    out: list[tuple[str, str]] = []
    for match in _PHRASE.finditer(text):
        phrase = match.group(0)
        low = " ".join(phrase.casefold().split())
        if match.group("ago"):
            meaning = _ago(match.group("n").casefold(), match.group("unit").casefold(), day)
        elif match.group("rel"):
            meaning = _relative(
                match.group("which").casefold(), match.group("span").casefold(), day
            )
        else:
            meaning = _single(low, day)
        if (phrase, meaning) not in out:
            out.append((phrase, meaning))
    return out

"""The idle clock: due after idle_seconds of no input, and never while a reply streams."""

from __future__ import annotations

import pytest

from sleepchat.core.clock import FakeClock
from sleepchat.core.idle import IdleClock


def test_due_only_after_the_idle_period() -> None:
    clock = FakeClock()
    idle = IdleClock(clock, 20)
    assert not idle.is_due()
    assert idle.seconds_until_idle() == 20
    clock.advance(19.5)
    assert not idle.is_due()
    assert idle.seconds_until_idle() == pytest.approx(0.5)
    clock.advance(0.5)
    assert idle.is_due()
    assert idle.seconds_until_idle() == 0


def test_any_input_restarts_the_period() -> None:
    clock = FakeClock()
    idle = IdleClock(clock, 10)
    clock.advance(9)
    idle.touch()  # a keystroke
    clock.advance(9)
    assert not idle.is_due()
    clock.advance(1)
    assert idle.is_due()
    idle.touch()
    assert not idle.is_due()


def test_never_due_while_a_reply_streams() -> None:
    clock = FakeClock()
    idle = IdleClock(clock, 5)
    idle.begin_turn()
    clock.advance(60)
    assert idle.seconds_until_idle() is None
    assert not idle.is_due()
    idle.end_turn()
    assert idle.is_due()  # the turn boundary came long after the last input


def test_overlapping_turns_need_every_one_to_end() -> None:
    clock = FakeClock()
    idle = IdleClock(clock, 1)
    idle.begin_turn()
    idle.begin_turn()
    idle.end_turn()
    clock.advance(5)
    assert not idle.is_due()
    idle.end_turn()
    idle.end_turn()  # an extra end never makes the count negative
    assert idle.is_due()
    idle.begin_turn()
    assert not idle.is_due()


def test_zero_idle_seconds_is_due_at_once_and_negative_is_refused() -> None:
    idle = IdleClock(FakeClock(), 0)
    assert idle.is_due()
    with pytest.raises(ValueError):
        IdleClock(FakeClock(), -1)

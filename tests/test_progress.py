"""The command line's progress: a bar with an ETA on a terminal, plain lines when piped."""

from __future__ import annotations

import io

from sleepchat.progress import Progress, duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_one_line_is_redrawn_with_the_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress("bench", 4, stream=out, tty=True, clock=clock)
    clock.now += 30
    p.advance()
    assert (
        out.getvalue()
        == "\r\x1b[2Kbench ██████░░░░░░░░░░░░░░░░░░ 1/4 (25 %), 30 s, 1 min 30 s left"
    )
    clock.now += 0.01
    p.advance()  # too soon after the last redraw: not drawn
    assert out.getvalue().count("\r") == 1
    clock.now += 30
    p.advance(2)  # the last step is always drawn
    p.done("4 conversations")
    lines = out.getvalue().split("\r\x1b[2K")
    assert lines[-2].startswith("bench ████████████████████████ 4/4 (100 %), 1 min 00 s")
    assert lines[-1] == "bench: 4 conversations in 1 min 00 s\n"


def test_piped_it_writes_plain_lines_a_tenth_of_the_way_or_with_a_note() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress("index", 20, stream=out, tty=False, clock=clock)
    for _ in range(4):
        clock.now += 1
        p.advance()
    p.advance(note="conversation 5: 3 turns")
    p.done()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert out.getvalue().splitlines() == [
        "index 2/20, 18 s left",
        "index 4/20, 16 s left",
        "index 5/20: conversation 5: 3 turns, 12 s left",
        "index: done in 4 s",
    ]


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (0.4, 59, 61, 3599, 3725)] == [
        "0 s",
        "59 s",
        "1 min 01 s",
        "59 min 59 s",
        "1 h 02 min",
    ]

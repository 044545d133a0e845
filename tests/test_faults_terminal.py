"""The terminal goes away under the full-screen app (issue 21.2): closed while the app starts,
streams a reply, reflects, shows a modal screen, shows a notification, or idles. Every time,
every process of it ends (within the stop watchdog's 3 s; a hang would be killed at 20 s),
the data dir's lock is given back, and a reply cut short is kept with its question.

The same for the line modes on a terminal (--plain, a script printing to it). The default run
samples each state once; ``-m slow`` closes the terminal 20 times in each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.terminal import LINE_STATES, STATES, Closed, close_terminals


def _check(closed: list[Closed]) -> None:
    problems = [p for c in closed for p in c.problems()]
    assert problems == [], "\n".join(problems)
    for c in closed:
        roles = [m["role"] for m in c.messages]
        if c.state.endswith(("streaming", "reflecting", "idle")):
            assert roles == ["user", "assistant"], (c.state, c.messages)
            reply = c.messages[1]
            assert reply["content"].startswith("w0 w1")
            # Cut while streaming: kept, marked; finished before the close: whole.
            assert reply["interrupted"] == c.state.endswith("streaming"), (c.state, reply)
        else:
            assert roles == [], (c.state, c.messages)
    # Given back by sleepchat itself (not dropped by the kernel after a forced end).
    unclean = [c.state for c in closed if not c.lock_clean]
    assert unclean == [], unclean


def test_closing_the_terminal_in_every_state(tmp_path: Path) -> None:
    _check(close_terminals(tmp_path, dict.fromkeys(STATES, 1), seed=21))


def test_closing_the_terminal_of_the_line_modes(tmp_path: Path) -> None:
    _check(close_terminals(tmp_path, dict.fromkeys(LINE_STATES, 1), seed=22))


@pytest.mark.slow
def test_closing_the_terminal_20_times_in_every_state(tmp_path: Path) -> None:
    closed = close_terminals(tmp_path, dict.fromkeys(STATES + LINE_STATES, 20), seed=2021)
    for state in STATES + LINE_STATES:
        times = sorted(c.seconds for c in closed if c.state == state)
        print(f"{state:13} {len(times)} closes, exit after: median {times[len(times) // 2]:.2f} s,")
        print(f"{'':13} slowest {times[-1]:.2f} s (4 apps side by side on this machine)")
    _check(closed)

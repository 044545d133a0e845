"""Fault suite, kill -9: script-mode sleepchat killed at random moments while replies stream and
reflections run; every start after a kill must open the data dir, take the dead process's lock
over, and hold every answered question exactly once with no torn reflection.

``bench/faults.py --kills N`` runs the long version.
"""

from __future__ import annotations

from pathlib import Path

from support.killer import run_kills

QUICK_KILLS = 10


def test_kill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    totals = run_kills(tmp_path, QUICK_KILLS, seed=7)
    assert totals.problems == [], "\n".join(totals.problems)
    assert totals.losses == 0
    assert totals.kills >= QUICK_KILLS // 2  # most runs were cut, not finished
    assert totals.replies_seen > 0  # the runs got far enough to answer
    assert totals.streaming_at_kill > 0  # and some kills cut a reply mid-stream
    assert totals.takeovers == totals.stale_locks > 0

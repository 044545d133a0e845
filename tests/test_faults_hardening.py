"""A quick sample of the hardening fault classes (issue 11); ``bench/faults.py`` runs many more.

The slow, process-based classes (signals, stdout closed early) are sampled by their own tests
(test_faults_signals.py, test_cli_errors.py) and run in full by the bench only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hardening import RUNNERS as STORE_AND_CLI
from support.hardening_sleep import RUNNERS as SERVER_AND_MEMORY

RUNNERS = {**STORE_AND_CLI, **SERVER_AND_MEMORY}

QUICK = {
    "folders": 8,
    "read_only": 6,
    "big_messages": 2,
    "unicode": 6,
    "export": 20,
    "escapes": 3,
    "lookups": 3,
    "configs": 3,
    "secrets": 60,
    "redirects": 6,
    "memory_caps": 12,
}


@pytest.mark.parametrize("name", QUICK)
def test_quick_sample_loses_nothing(tmp_path: Path, name: str) -> None:
    out = RUNNERS[name](tmp_path, QUICK[name], seed=11)
    assert out.problems == [], "\n".join(out.problems[:10])
    assert out.tries == QUICK[name] and out.faults > 0

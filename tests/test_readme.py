"""The README's pictures show a real session and match what the app draws now."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from support.tui_app import svg_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from readme_pictures import FACTS, PREDICTED, QUESTIONS, SIZE, render  # noqa: E402


def comparable(svg: str) -> list[str]:
    """The screen's lines with what varies from run to run masked: words holding digits (random
    ids, timings) and the status line (its timings change its length)."""
    lines = svg_text(svg, SIZE[1]).splitlines()
    del lines[-2]
    return [re.sub(r"\S*\d\S*", "#", line).rstrip() for line in lines]


async def test_the_pictures_show_notes_and_predictions_and_are_current(tmp_path: Path) -> None:
    notes, following = await render(tmp_path)
    shown = svg_text(notes.read_text(), SIZE[1])
    assert f"Notes {len(FACTS)}" in shown and f"Next {len(QUESTIONS)}" in shown
    assert "The seedlings get about four hours of sun" in shown
    assert f"{len(QUESTIONS)} predictions ready" in shown
    shown = svg_text(following.read_text(), SIZE[1])
    assert "⚡ precomputed while idle" in shown and PREDICTED in shown
    assert "● Should I fertilise the seedlings on the" in shown  # the list of predictions
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for fresh in (notes, following):
        committed = ROOT / "docs" / fresh.name
        assert f"(docs/{fresh.name})" in readme
        assert comparable(committed.read_text()) == comparable(fresh.read_text()), (
            f"docs/{fresh.name} is not what the app draws now: run bench/readme_pictures.py"
        )

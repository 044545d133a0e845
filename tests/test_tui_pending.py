"""A reflection that would remove more notes than it may alone (issue 11.6) holds them; the
memory panel says so, shows what would go and why, and removes them or keeps them as the user
chooses. Removed ones stay undoable."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tui_app import chat_server, loaded, make_app, make_config, screen_text, until
from textual.widgets import Button

from sleepchat.devtools.fake_ollama import FakeOllama

__all__ = ["chat_server"]  # the fixture, imported for pytest

FACTS = ["Lives in Lyon", "Has two cats", "Works as a nurse", "Grows basil", "Runs on Sundays"]


@pytest.mark.parametrize("choice", ["remove", "keep"])
async def test_held_removals_are_confirmed_or_kept_in_the_panel(
    chat_server: FakeOllama, tmp_path: Path, choice: str
) -> None:
    app, _clock = make_app(make_config(tmp_path / "d", chat_server.url))
    async with app.run_test(size=(150, 40)) as pilot:
        await loaded(pilot, app)
        a = app.assistant
        assert a is not None and a.conversation is not None
        notes = [await a.conversation.memory.insert_note(text) for text in FACTS]
        removals = [(n.id, f"a later message corrects {n.text.lower()}") for n in notes[:4]]
        await a.conversation.memory.held.hold("r7", removals)
        a.conversation.memory_changed()  # what a reflection does once it has held them
        app.panel.show_tab("notes")
        await until(pilot, lambda: app.panel.query_one("#pending").display)
        await pilot.pause()
        assert any("wants to remove 4 notes" in n for n in app.notices)
        shown = screen_text(app)  # the panel is narrow: the lines wrap
        assert "Reflection r7 wants to remove 4" in shown and "Remove them" in shown
        assert "• Lives in Lyon — a later message" in shown and "Keep them" in shown
        button = "#pending-confirm" if choice == "remove" else "#pending-reject"
        app.panel.query_one(button, Button).press()
        await until(pilot, lambda: not app.panel.query_one("#pending").display)
        await pilot.pause()
        active = [n.text for n in a.notes]
        if choice == "remove":
            assert active == FACTS[4:]
            assert any("Removed 4 notes" in n for n in app.notices)
            await a.undo()  # each removal stays undoable
            assert len(a.notes) == 5
        else:
            assert active == FACTS
            assert any("Kept them" in n for n in app.notices)
        assert a.pending_changes == []
        assert app.is_running and app.return_code is None

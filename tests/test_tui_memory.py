"""The memory panel's "You" tab: what sleepchat remembers about the user across sessions, with
its scope, source session and day, which items this session quotes; d forgets, u undoes, e
edits (as for notes)."""

from __future__ import annotations

from pathlib import Path

from support.tui_app import ask, loaded, make_app, make_config, screen_text, until

from sleepchat.core.clock import FakeClock
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.user_memory import UserMemory
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.importer import Imported, store_all
from sleepchat.store import Store
from sleepchat.tui.memory_views import DocumentList, NoteEditor, RememberedList
from sleepchat.tui.palette import palette_commands

SIZE = (120, 36)
T0 = 1_683_500_000.0


async def remember(data: Path, *said: str) -> None:
    """A past session in which the user said ``said``, read into memory."""
    store = await Store.open(data)
    try:
        conv = Imported("past", "Past chat", T0)
        for n, text in enumerate(said):
            conv.messages += [("user", text, T0 + 2 * n), ("assistant", "I see.", T0 + 2 * n + 1)]
        await store_all(store, [conv])
        memory = UserMemory(store, FakeClock())
        await memory.load()
        await Consolidator(store, memory).run()
    finally:
        await store.close()


async def test_the_you_tab_lists_forgets_undoes_and_edits_what_is_remembered(
    tmp_path: Path,
) -> None:
    await remember(
        tmp_path / "d", "I keep bees on my roof in Porto.", "I play the cello in a string quartet."
    )
    with FakeOllama(reply=lambda request: "Noted.") as srv:
        app, _ = make_app(make_config(tmp_path / "d", srv.url), new=True)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            remembered = app.panel.query_one(RememberedList)
            await until(pilot, lambda: remembered.option_count == 2)
            app.panel.show_tab("remembered")
            await pilot.pause()
            assert remembered.has_focus
            screen = screen_text(app)
            assert "You 2" in screen and "I keep bees on my roof in Porto." in screen
            assert "2023-05-0" in screen  # the day it was said
            detail = str(app.panel.query_one("#remembered-detail").render())
            assert "Scope: all your sessions" in detail and "Learnt in session" in detail
            await pilot.press("d")
            await until(pilot, lambda: remembered.option_count == 1)
            assert "bees" not in screen_text(app)
            await pilot.press("u")
            await until(pilot, lambda: remembered.option_count == 2)
            await pilot.press("e")
            editor = app.panel.query_one(NoteEditor)
            assert editor.display and editor.value == "I keep bees on my roof in Porto."
            await pilot.press(*" and Braga")
            await pilot.press("enter")
            first = remembered.get_option_at_index
            await until(pilot, lambda: "roof in Porto. and Braga" in str(first(0).prompt))
            assert remembered.has_focus
    # Stored: the next process reads the edit, with the old wording in its history.
    store = await Store.open(tmp_path / "d")
    try:
        memory = UserMemory(store, FakeClock())
        await memory.load()
        [bees] = [i for i in memory.items if "bees" in i.text]
        assert bees.text.endswith("and Braga") and bees.history[-1]["by"] == "user"
    finally:
        await store.close()


async def test_a_new_private_chat_from_the_palette_neither_reads_nor_feeds_memory(
    tmp_path: Path,
) -> None:
    await remember(tmp_path / "d", "I keep bees on my roof in Porto.")
    with FakeOllama(reply=lambda request: "Noted.") as srv:
        app, _ = make_app(make_config(tmp_path / "d", srv.url), new=True)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            a = app.assistant
            assert a is not None and a.session is not None and not a.session.private
            first = a.session.id
            commands = {name: run for name, _, run in palette_commands(app)}
            commands["New private chat"]()
            await until(pilot, lambda: a.session is not None and a.session.id != first)
            assert a.session is not None and a.session.private
            await until(pilot, lambda: "private" in screen_text(app))
            await ask(pilot, app, "What flowers do bees like? I moved to Faro last year.")
            system = srv.bodies()[-1]["messages"][0]["content"]
            assert "I keep bees" not in system
    store = await Store.open(tmp_path / "d")
    try:
        memory = UserMemory(store, FakeClock())
        await memory.load()
        consolidated = await Consolidator(store, memory).run()
        assert consolidated.sessions == 0  # the private chat is never read (the other is empty)
        assert [i.text for i in memory.items] == ["I keep bees on my roof in Porto."]
    finally:
        await store.close()


async def test_the_docs_tab_shows_each_attached_file_with_its_size_and_detaches_it(
    tmp_path: Path,
) -> None:
    with FakeOllama(reply=lambda request: "Noted.") as srv:
        app, _ = make_app(make_config(tmp_path / "d", srv.url))
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, app)
            a = app.assistant
            assert a is not None
            await a.attach("plan.md", "Launch on 12 May in Lisbon. Budget 40,000 euros.")
            # longer than the largest window holds whole (documents.max_window)
            lines = (f"Line {i} of the report." for i in range(1200))
            await a.attach("report.txt", "\n".join(lines))
            documents = app.panel.query_one(DocumentList)
            await until(pilot, lambda: documents.option_count == 2)
            app.panel.show_tab("documents")
            await pilot.pause()
            screen = screen_text(app)
            assert "Docs 2" in screen and "d1  plan.md" in screen
            report = str(documents.get_option_at_index(1).prompt)
            assert "first" in report and "sections per question" in report
            await pilot.press("d")  # the highlighted one: plan.md
            await until(pilot, lambda: documents.option_count == 1)
            assert [d.name for d in a.documents] == ["report.txt"]

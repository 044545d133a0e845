"""Search across sessions: the store's index and `sleepchat search` end to end."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support.cli import events, sleepchat

from sleepchat.core.models import Message
from sleepchat.devtools.fake_ollama import FakeOllama
from sleepchat.search_view import print_hits
from sleepchat.store import Store
from sleepchat.text import matching_line


def msg(session_id: str, n: int, text: str, role: str = "user") -> Message:
    return Message(
        id=f"m{n}", session_id=session_id, role=role, content=text, created=1_700_000_000.0 + n
    )  # type: ignore[arg-type]


async def filled(data: Path) -> tuple[Store, str, str]:
    store = await Store.open(data)
    a = await store.create_session("Sourdough")
    b = await store.create_session("Balcony garden")
    await store.append_message(msg(a.id, 1, "How do I keep the crumb open?"))
    await store.append_message(msg(a.id, 2, "Use a wetter dough.\nProof it longer.", "assistant"))
    await store.append_message(msg(b.id, 3, "My Tomatoes split on the balcony"))
    await store.append_message(msg(b.id, 4, "Water them evenly; a café au lait of mulch helps."))
    return store, a.id, b.id


async def test_words_match_word_starts_in_any_case_and_accent_newest_first(
    tmp_path: Path,
) -> None:
    store, _a, b = await filled(tmp_path / "d")
    try:
        hits = await store.search("tomat BALC", 50)
        assert [(h.session_id, h.message_id, h.session_title) for h in hits] == [
            (b, "m3", "Balcony garden")
        ]
        assert [h.message_id for h in await store.search("cafe", 50)] == ["m4"]  # café
        assert [h.message_id for h in await store.search("o", 50)] == ["m4", "m3", "m1"]
        assert [h.message_id for h in await store.search("o", 2)] == ["m4", "m3"]
        assert await store.search("rumb", 50) == []  # inside a word: not a word start
        assert await store.search("zebra", 50) == []
    finally:
        await store.close()


async def test_the_index_follows_renames_deletes_and_updates(tmp_path: Path) -> None:
    store, a, b = await filled(tmp_path / "d")
    try:
        await store.rename_session(a, "Bread")
        assert [h.session_title for h in await store.search("crumb", 50)] == ["Bread"]
        await store.delete_session(b)
        assert await store.search("tomatoes", 50) == []
        edited = msg(a, 1, "How do I keep the loaf airy?")
        await store.update_message(edited)
        assert [h.message_id for h in await store.search("airy", 50)] == ["m1"]
        assert await store.search("crumb", 50) == []
    finally:
        await store.close()


async def test_a_data_dir_from_before_the_index_is_read_once(tmp_path: Path) -> None:
    data = tmp_path / "d"
    store, _a, b = await filled(data)
    await store.close()
    for f in data.glob("search.sqlite*"):
        f.unlink()  # as written by a sleepchat without search
    store = await Store.open(data)
    try:
        told: list[tuple[int, int]] = []
        hits = await store.search("tomatoes", 50, progress=lambda d, t: told.append((d, t)))
        assert [h.message_id for h in hits] == ["m3"]
        assert told == [(1, 2), (2, 2)]  # both sessions read, once
        told.clear()
        await store.search("crumb", 50, progress=lambda d, t: told.append((d, t)))
        assert told == []
        await store.append_message(msg(b, 5, "a fresh okapi"))
        assert [h.message_id for h in await store.search("okapi", 50)] == ["m5"]
    finally:
        await store.close()
    mode = stat.S_IMODE(os.stat(data / "search.sqlite").st_mode)
    assert mode == 0o600  # it holds message text


async def test_a_damaged_index_is_rebuilt_and_a_symbol_query_is_a_substring(
    tmp_path: Path,
) -> None:
    data = tmp_path / "d"
    store, _a, _b = await filled(data)
    await store.append_message(msg(_a, 6, "use x++ and c#"))
    await store.close()
    for f in data.glob("search.sqlite-*"):
        f.unlink()
    (data / "search.sqlite").write_bytes(b"this is not a database" * 100)
    store = await Store.open(data)
    try:
        assert [h.message_id for h in await store.search("crumb", 50)] == ["m1"]
        assert [h.message_id for h in await store.search("++", 50)] == ["m6"]
    finally:
        await store.close()


def test_the_matching_line_is_cut_around_the_match_and_terminal_safe() -> None:
    text = "first line\n" + "x " * 100 + "the \x1b[31mcrumb\x1b[0m is open " + "y " * 100
    line, spans = matching_line(text, "crumb", width=60)
    assert line.startswith("…") and line.endswith("…") and len(line) <= 62
    assert "\x1b" not in line
    assert [line[s:e] for s, e in spans] == ["crumb"]
    assert matching_line("no match here\nsecond", "café")[0] == "no match here"


async def test_search_prints_matches_with_the_line_highlighted_on_a_terminal(
    tmp_path: Path,
) -> None:
    import io

    store, a, _b = await filled(tmp_path / "d")
    hits = await store.search("proof", 50)
    await store.close()
    out = io.StringIO()
    print_hits(hits, "proof", json_mode=False, more=False, out=out, color=True)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{a}  ") and lines[0].endswith("  Sourdough")
    assert lines[1] == "    sleepchat: \x1b[1;7mProof\x1b[0m it longer."
    out = io.StringIO()
    print_hits(hits, "proof", json_mode=False, more=False, out=out, color=False)
    assert out.getvalue().splitlines()[1] == "    sleepchat: Proof it longer."


@pytest.fixture
def srv():  # type: ignore[no-untyped-def]
    with FakeOllama() as server:
        yield server


def test_sleepchat_search_end_to_end(srv: FakeOllama, tmp_path: Path) -> None:
    data = tmp_path / "d"
    script = b"Where do sourdough bubbles come from?\n/new Garden\nWhen do I plant tomatoes?\n"
    assert sleepchat("--json", data=data, host=srv.url, stdin=script).returncode == 0
    found = sleepchat("search", "sourdough", "bubb", "--json", data=data)
    assert found.returncode == 0, found.stderr.decode()
    [hit] = [e for e in events(found.stdout) if e["role"] == "user"]
    assert hit["line"] == "Where do sourdough bubbles come from?"
    assert hit["title"] == "Where do sourdough bubbles come from?"
    plain = sleepchat("search", "tomatoes", data=data)
    assert plain.returncode == 0
    assert "    you: When do I plant tomatoes?" in plain.stdout.decode().splitlines()
    assert b"\x1b" not in plain.stdout  # piped: no highlighting
    none = sleepchat("search", "zebra", data=data)
    assert (none.returncode, none.stdout) == (0, b"")
    assert none.stderr.decode() == "no messages match 'zebra'\n"
    empty = sleepchat("search", "  ", data=data)
    assert empty.returncode == 2
    assert empty.stderr.decode().strip() == (
        "sleepchat: nothing to search for — give the words: sleepchat search TEXT"
    )
    few = sleepchat("search", "o", "--limit", "1", data=data)
    assert len(few.stdout.decode().splitlines()) == 2
    assert "--limit N shows more" in few.stderr.decode()


async def test_an_unusable_index_fails_the_search_clearly_never_a_write(tmp_path: Path) -> None:
    from sleepchat.store import StoreError

    store, a, _b = await filled(tmp_path / "d")
    try:
        await store.close()
        data = tmp_path / "d"
        for f in data.glob("search.sqlite*"):
            f.unlink()
        (data / "search.sqlite").mkdir()  # cannot be opened as a file
        store = await Store.open(data)
        await store.append_message(msg(a, 7, "still stored"))
        assert [m.id for m in await store.messages(a)][-1] == "m7"
        with pytest.raises(StoreError, match=r"^cannot search: the search index .* failed"):
            await store.search("stored", 50)
    finally:
        await store.close()


async def test_read_only_it_uses_the_index_or_reads_every_session_and_writes_nothing(
    tmp_path: Path,
) -> None:
    from test_store_readonly import tree

    data = tmp_path / "d"
    store, _a, b = await filled(data)
    await store.search("crumb", 50)  # the index is built
    owner = store  # another sleepchat keeps the data dir (and its index) open
    try:
        reader = await Store.open(data, read_only=True)
        try:
            assert [h.message_id for h in await reader.search("tomatoes", 50)] == ["m3"]
            await owner.append_message(msg(b, 8, "tomatoes again"))  # kept up by the owner
            assert [h.message_id for h in await reader.search("tomatoes", 50)] == ["m8", "m3"]
        finally:
            await reader.close()
    finally:
        await owner.close()
    for f in data.glob("search.sqlite*"):
        f.unlink()
    before = tree(data)
    reader = await Store.open(data, read_only=True)
    try:
        told: list[tuple[int, int]] = []
        hits = await reader.search("TOMATOES", 50, progress=lambda d, t: told.append((d, t)))
        assert [h.message_id for h in hits] == ["m8", "m3"]  # matched here, no index
        assert told == [(1, 2), (2, 2)]
    finally:
        await reader.close()
    assert tree(data) == before  # nothing written, no index made


async def test_sleepchat_search_works_while_a_chat_owns_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "d"
    store, a, _b = await filled(data)  # open: it holds the data dir's lock
    try:
        proc = sleepchat("search", "crumb", "--json", data=data)
        assert proc.returncode == 0, proc.stderr.decode()
        assert [(e["session"], e["message"]) for e in events(proc.stdout)] == [(a, "m1")]
    finally:
        await store.close()

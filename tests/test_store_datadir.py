"""The user's folders are not ours to change (issue 11.4).

A data dir pointed at a folder that holds other things is refused with one line naming it; only
what sleepchat created has its mode tightened; a stray file that merely looks like a temp file is
never deleted; nothing is changed through a symlink.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support.files import tree

from sleepchat.core.models import Message
from sleepchat.store import DataDirError, Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def users_folder(path: Path, folder_mode: int = 0o1777) -> Path:
    """A folder like /tmp or a home directory: other people's files and a stray ``.swap.tmp``."""
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    (path / ".swap.tmp").write_text("an editor's swap file")
    (path / ".index.json.abcd1234.tmp").write_text("looks like ours, is not")
    path.chmod(folder_mode)
    return path


async def one_message(data: Path) -> str:
    store = await Store.open(data)
    s = await store.create_session("t")
    await store.append_message(Message("m1", s.id, "user", "hi", 1.0))
    await store.close()
    return s.id


@pytest.mark.parametrize("folder_mode", [0o1777, 0o755])
async def test_a_folder_holding_other_things_is_refused_and_left_as_it_was(
    tmp_path: Path, folder_mode: int
) -> None:
    folder = users_folder(tmp_path / "shared", folder_mode)
    before = tree(folder)
    with pytest.raises(DataDirError) as err:
        await Store.open(folder)
    message = err.value.message
    assert str(folder) in message and "\n" not in message
    assert "not a sleepchat data dir" in message
    assert mode(folder) == folder_mode  # sticky bit and others' access kept
    assert tree(folder) == before  # no lock, no sessions folder, nothing deleted


async def test_a_link_to_a_users_folder_is_refused_too(tmp_path: Path) -> None:
    folder = users_folder(tmp_path / "shared")
    link = tmp_path / "data"
    link.symlink_to(folder)
    before = tree(folder)
    with pytest.raises(DataDirError, match="not a sleepchat data dir"):
        await Store.open(link)
    assert mode(folder) == 0o1777 and tree(folder) == before


async def test_an_empty_folder_is_used_but_its_mode_is_the_users(tmp_path: Path) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    folder.chmod(0o1777)
    for _ in range(2):  # also once it holds our data: we did not create the folder
        store = await Store.open(folder)
        s = await store.create_session("t")
        await store.append_message(Message("m1", s.id, "user", "hi", 1.0))
        await store.close()
        assert mode(folder) == 0o1777
        assert mode(folder / "sessions") == 0o700 and mode(folder / "index.json") == 0o600


async def test_a_folder_we_created_is_private_and_tightened_again(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    store = await Store.open(data)
    await store.close()
    assert mode(data) == 0o700
    data.chmod(0o755)
    store = await Store.open(data)
    await store.close()
    assert mode(data) == 0o700


async def test_only_our_own_leftovers_are_swept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = await one_message(data)
    folder = data / "sessions" / sid
    ours = [
        data / ".index.json.k2j4h5g6.tmp",
        folder / ".messages-0000.json.a1b2c3d4.tmp",
        folder / ".meta.json.zz9_yy8x.tmp",
    ]
    strays = [
        data / ".swap.tmp",
        data / ".index.json.tmp",
        folder / ".notes.tmp",
        folder / ".vimrc.backup.tmp",
    ]
    for p in ours + strays:
        p.write_text("x")
    store = await Store.open(data)
    try:
        assert await store.messages(sid)
    finally:
        await store.close()
    assert [p.exists() for p in ours] == [False] * len(ours)
    assert [p.exists() for p in strays] == [True] * len(strays)


async def test_nothing_is_changed_or_deleted_through_a_symlink(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sid = await one_message(data)
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o755)
    target = outside / "precious.txt"
    target.write_text("keep me")
    target.chmod(0o644)
    folder = data / "sessions" / sid
    (data / ".index.json.k2j4h5g6.tmp").symlink_to(target)  # named like our leftovers
    (folder / "messages-0007.json").symlink_to(target)  # named like a segment
    (data / "sessions" / "abcdef12").symlink_to(outside)  # named like a session folder
    store = await Store.open(data)
    try:
        assert [m.content for m in await store.messages(sid)] == ["hi"]
        await store.list_sessions()
    finally:
        await store.close()
    assert target.read_text() == "keep me"
    assert mode(target) == 0o644 and mode(outside) == 0o755
    assert (data / ".index.json.k2j4h5g6.tmp").is_symlink()

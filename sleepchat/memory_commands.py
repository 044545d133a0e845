"""``sleepchat memory list | search TEXT | forget ID | export | consolidate``: the user's memory,
by hand."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from sleepchat.core.clock import SystemClock
from sleepchat.core.memory.consolidate import Consolidator
from sleepchat.core.memory.user_memory import MemoryItem, UserMemory
from sleepchat.core.reflection import quality
from sleepchat.errors import StartupError
from sleepchat.progress import Progress
from sleepchat.runtime import open_store
from sleepchat.text import age, safe_json, takes_any_text, terminal_safe

if TYPE_CHECKING:
    from sleepchat.config import Config
    from sleepchat.core.ports import StorePort


def view(item: MemoryItem) -> dict[str, object]:
    return {
        "id": item.id,
        "text": item.text,
        "session": item.session_id,
        "messages": item.message_ids,
        "created": item.created,
        "updated": item.updated,
        "history": item.history,
        "kind": item.kind,
        "said": item.said,
    }


async def consolidate_now(store: StorePort, config: Config) -> None:
    """Every session not read yet into memory, with progress on stderr."""
    if not config.memory.enabled:
        raise StartupError("memory is off (memory.enabled: false in the config): nothing kept", 1)
    memory = UserMemory(store, SystemClock())
    await memory.load()
    consolidator = Consolidator(store, memory)
    pending = await consolidator.pending()
    progress = Progress("consolidating sessions into memory", len(pending), stream=sys.stderr)
    done = await consolidator.run(on_session=lambda s, _: progress.advance(note=s.title))
    progress.done(f"{done.kept} facts kept, {done.merged} merged")
    print(
        f"read {done.sessions} sessions into memory: {done.kept} facts kept, "
        f"{done.merged} older values merged; {len(memory.items)} remembered in all"
    )


async def memory_command(config: Config, what: str, arg: str | None, *, json_mode: bool) -> int:
    clock = SystemClock()
    writes = what in ("forget", "consolidate")
    store = await open_store(config.resolved_data_dir(), read_only=not writes)
    if what == "consolidate":
        try:
            await consolidate_now(store, config)
        finally:
            await store.close()
        return 0
    try:
        memory = UserMemory(store, clock)
        await memory.load()
        if what == "forget":
            assert arg is not None
            try:
                items = [await memory.forget(arg)]
            except KeyError:
                raise StartupError(
                    f"no remembered fact '{arg}' — `sleepchat memory list` shows their ids", 1
                ) from None
        elif what == "search":
            wanted = quality.words(arg or "")
            items = [i for i in memory.items if wanted & quality.words(i.text)]
        else:
            items = memory.items
    finally:
        await store.close()
    ascii_only = not takes_any_text(sys.stdout)
    if what == "export":
        print(safe_json({"memory": [view(i) for i in items]}, indent=2, ascii_only=ascii_only))
        return 0
    for item in items:
        if json_mode:
            print(safe_json(view(item), ascii_only=ascii_only))
        else:
            done = "forgotten: " if what == "forget" else ""
            changed = f", changed {len(item.history)}x" if item.history else ""
            when = item.said if item.said is not None else item.updated
            line = f"{item.id}  {done}{item.text}  ({age(clock.now() - when)} ago, "
            line += f"session {item.session_id}{changed})"
            print(terminal_safe(line))
    if not items and not json_mode and what == "list":
        print("(nothing remembered yet: standing facts you state are kept while you are idle)")
    return 0

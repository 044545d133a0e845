"""A choice made at runtime (the theme) wins until the configured value it replaced changes."""

from __future__ import annotations

from support.memory_store import MemoryStore

from sleepchat.core.preferences import Preferences


async def test_a_choice_wins_until_the_configured_value_changes() -> None:
    prefs = Preferences(MemoryStore())  # type: ignore[arg-type]
    assert await prefs.get("tui.theme", "sleepchat-dark") is None
    await prefs.set("tui.theme", "sleepchat-light", "sleepchat-dark")
    assert await prefs.get("tui.theme", "sleepchat-dark") == "sleepchat-light"
    assert await prefs.get("tui.theme", "sleepchat-dusk") is None  # the config changed: it wins


async def test_a_choice_saved_before_this_api_is_still_read() -> None:
    store = MemoryStore()
    await store.set_meta("tui.theme", {"name": "sleepchat-light", "config_theme": None})
    prefs = Preferences(store)  # type: ignore[arg-type]
    assert await prefs.get("tui.theme", None) == "sleepchat-light"
    await store.set_meta("tui.theme", ["not", "a", "mapping"])
    assert await prefs.get("tui.theme", None) is None

"""Choices made at runtime (a theme picked with Ctrl+T), kept in the store's meta table.

A choice replaces a configured value, and wins only while that configured value stays the same:
edit the config and the config wins again.
"""

from __future__ import annotations

from typing import Any

from sleepchat.core.ports import StorePort


class Preferences:
    def __init__(self, store: StorePort) -> None:
        self.store = store

    async def get(self, key: str, configured: str | None) -> str | None:
        """The choice saved under ``key``, unless the configured value changed since."""
        saved: Any = await self.store.get_meta(key)
        if not isinstance(saved, dict):
            return None
        # {"name", "config_theme"}: how the theme choice was stored before this API
        value = saved.get("value", saved.get("name"))
        was = saved.get("configured", saved.get("config_theme"))
        return value if isinstance(value, str) and was == configured else None

    async def set(self, key: str, value: str, configured: str | None) -> None:
        await self.store.set_meta(key, {"value": value, "configured": configured})

"""The footer, recomposed once per burst of binding changes.

Textual's footer rebuilds all its keys after every ``bindings_updated`` signal; at start-up a
burst of them arrives together (the screen mounts, the box takes focus, reactives with bindings
settle), and the footer was rebuilt five times before its first paint (~55 ms of CPU, a third
of the time to the first complete frame). One rebuild, after the burst, shows the same keys.

Why a private hook: Textual offers no public way to coalesce the footer's rebuilds, so this
overrides ``Footer.bindings_changed`` (the callback its ``on_mount`` subscribes to the screen's
``bindings_updated_signal``) and sets ``_bindings_ready`` as it does. Should Textual rename
either, the override would go unused and the footer would rebuild per change again (slower,
still correct): ``tests/test_tui_footer.py`` fails first, on the upgrade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeysFooter(Footer):
    _rebuild_pending = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False  # a change from here on asks for another rebuild
        await self.recompose()

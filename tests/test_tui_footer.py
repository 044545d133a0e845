"""The Textual hook KeysFooter overrides (tui/footer.py) is still the one Textual calls."""

from __future__ import annotations

import inspect

from textual.widgets import Footer

from sleepchat.tui.footer import KeysFooter


def test_the_footer_hook_we_override_is_still_textuals() -> None:
    assert "bindings_changed" in vars(Footer) and "bindings_changed" in vars(KeysFooter)
    # Footer subscribes that method to the screen's signal, and its compose waits on the flag.
    assert "self.bindings_changed" in inspect.getsource(Footer.on_mount)
    assert "_bindings_ready" in inspect.getsource(Footer.compose)

"""The command palette's entries (Ctrl+P): every action of the app, with a line of help."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sleepchat.tui.app import SleepchatApp

Command = tuple[str, str, Callable[[], Any]]


def palette_commands(app: SleepchatApp) -> list[Command]:
    panel = app.panel
    return [
        ("Stop the reply", "Cancel the streaming answer, keep it", app.action_stop_reply),
        ("Regenerate answer", "Ask the model again (last question)", app.action_regenerate),
        ("Continue answer", "Go on with the last reply", app.chat.action_continue_reply),
        (
            "Ask later",
            "Queue the question in the box: answered while idle (Ctrl+F)",
            app.chat.action_later,
        ),
        (
            "Attach a file",
            "Attach the file whose path the box holds to this session (Alt+A)",
            app.chat.action_attach,
        ),
        (
            "Copy last answer",
            "To the clipboard (Shift+Tab selects a message)",
            app.action_copy_answer,
        ),
        ("Toggle memory panel", "Notes, predictions, log, stats", app.action_toggle_memory),
        ("Show notes", "Focus the notes list", app.action_focus_notes),
        ("Show predicted questions", "Focus the predictions", app.action_focus_predictions),
        ("Edit note", "Edit the selected note in place", panel.edit_note),
        ("Forget note", "Forget the selected note (undoable)", panel.forget_note),
        ("Undo memory change", "Undo the last note change", panel.undo),
        ("Reflect now", "Run the sleep cycle now instead of waiting", app.action_reflect_now),
        ("Sessions", "List, switch, rename or delete sessions", app.action_sessions),
        ("New chat", "Start a new session", app.action_new_session),
        (
            "New private chat",
            "A session that neither reads nor feeds your memory across sessions",
            app.action_new_private_session,
        ),
        ("Choose model", "This session's model, from the server's (Ctrl+L)", app.action_pick_model),
        (
            "System prompt and options",
            "This session's system prompt, temperature, context window, seed",
            app.action_edit_profile,
        ),
        ("Rename session", "Opens the sessions list (r renames)", app.action_sessions),
        ("Export session", "Write this session as Markdown", app.action_export),
    ]

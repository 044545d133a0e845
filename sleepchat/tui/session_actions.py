"""The app's session keys: the sessions list, a new chat, export, and the session's model and
system prompt. A mixin of the app (its actions must be the app's), kept here so that app.py
holds start-up, events and the other keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sleepchat.tui.sessions import SessionsScreen, export_session, open_session

if TYPE_CHECKING:
    from sleepchat.tui.app import SleepchatApp


class SessionActions:
    def action_sessions(self: SleepchatApp) -> None:
        if self.assistant is not None and not self.chat.busy():
            self.push_screen(SessionsScreen(self.assistant))

    def action_new_session(self: SleepchatApp) -> None:
        if self.assistant is not None and not self.chat.busy():
            self.prompt.focus()
            self.run_worker(open_session(self.chat, self.assistant, None), group="session-op")

    def action_new_private_session(self: SleepchatApp) -> None:
        """A new session that neither reads nor feeds what is remembered about the user."""
        if self.assistant is not None and not self.chat.busy():
            self.prompt.focus()
            opened = open_session(self.chat, self.assistant, None, private=True)
            self.run_worker(opened, group="session-op")

    async def action_export(self: SleepchatApp) -> None:
        a = self.assistant
        if a is None or a.session is None:
            return
        path = self.config.resolved_data_dir() / "exports" / f"sleepchat-{a.session.id}.md"
        if await export_session(self.chat, a, path):
            await self.chat.transcript.add_notice(f"Exported this session to {path}")

    def action_pick_model(self: SleepchatApp) -> None:
        """Ctrl+L: this session's model, from those the server has."""
        from sleepchat.tui.profile_screens import ModelPicker

        if self.assistant is not None and not self.chat.busy():
            self.push_screen(ModelPicker(self.assistant), self._profile_changed)

    def action_edit_profile(self: SleepchatApp) -> None:
        """This session's system prompt and model options."""
        from sleepchat.tui.profile_screens import ProfileEditor

        if self.assistant is not None and not self.chat.busy():
            self.push_screen(ProfileEditor(self.assistant), self._profile_changed)

    def _profile_changed(self: SleepchatApp, said: str | None) -> None:
        if said is not None:  # a new prefix: say what it means where the conversation is
            self.notify(said, title="Session", timeout=8)
            self.run_worker(self.chat.transcript.add_notice(said), group="session-op")
        self.status.show()

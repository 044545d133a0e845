"""A session's own model, system prompt and model options, stored with the session.

Every request the core makes for the session (chat, reflection, warm-up) uses them, so the
prefix discipline holds within a session. Changing one starts a new prefix: the server's cache
of the old one is useless, the predictions were answered for the old one (stale now), and the
next idle period reflects again, ending with a warm-up of the new prefix.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sleepchat.core.conversation import Conversation
from sleepchat.core.errors import BackendError, CoreError
from sleepchat.core.events import EventBus, Notice
from sleepchat.core.models import Session
from sleepchat.core.ports import Backend, StorePort
from sleepchat.core.session_lookup import find_session
from sleepchat.core.settings import CoreSettings
from sleepchat.text import clean_input, clip

# It goes with every request and must leave room for the conversation in the context window.
MAX_SYSTEM_PROMPT = 16_000  # characters, ~4,000 tokens
NEW_PREFIX = (
    "the next question is read from the start (the server's cache held the old one); the next "
    "idle period warms it again, and the predicted questions will be made again"
)


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """The session's model options, each checked (CoreError naming the problem and the fix)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key == "temperature":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not 0 <= value <= 2:
                raise CoreError(f"temperature must be a number from 0 to 2, not {value!r}")
            out[key] = float(value)
        elif key in ("num_ctx", "seed"):
            least = 256 if key == "num_ctx" else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise CoreError(f"{key} must be a whole number of at least {least}, not {value!r}")
            out[key] = value
        else:
            raise CoreError(f"unknown model option '{key}' — use temperature, num_ctx or seed")
    return out


def check_system_prompt(text: str) -> str:
    text = clean_input(text).strip()
    if len(text) > MAX_SYSTEM_PROMPT:
        raise CoreError(
            f"the system prompt is {len(text):,} characters; at most {MAX_SYSTEM_PROMPT:,} fit "
            "(it goes with every request) — shorten it; your text is kept"
        )
    return text


def listed(model: str, available: list[str]) -> str | None:
    """The name ``available`` lists for ``model`` (Ollama lists "llama3.2" as
    "llama3.2:latest"), or None."""
    for name in (model, f"{model}:latest"):
        if name in available:
            return name
    return next((a for a in available if a.removesuffix(":latest") == model), None)


def effective(base: CoreSettings, session: Session) -> CoreSettings:
    """The settings a session's requests use: the configured ones with the session's own."""
    try:
        options = check_options(session.options)
    except CoreError:  # a hand-edited data file: the configured options, as before it
        options = {}
    system = session.system_prompt if session.system_prompt else base.system_prompt
    return dataclasses.replace(
        base, system_prompt=system, options=dataclasses.replace(base.options, **options)
    )


class SessionProfile:
    """What a session's record says about how to talk to the model: the model the backend
    uses and the settings the session's requests use (the configured ones with its own)."""

    def __init__(
        self, backend: Backend, store: StorePort, events: EventBus, base: CoreSettings
    ) -> None:
        self.backend = backend
        self.store = store
        self.events = events
        # As configured; a server whose window is its own keeps it for files too.
        grows = backend.capabilities.sets_window
        self.base = base if grows else dataclasses.replace(base, documents_max_window=0)
        self.default_model = backend.model

    async def apply(self, session: Session) -> CoreSettings:
        """Use ``session``'s model from now on (when it opens); its settings, returned."""
        model = session.model or self.default_model
        if model != self.default_model and not await self._has(model):
            self.events.emit(
                Notice(
                    session.id,
                    f"this session used model '{clip(model, 60)}', which "
                    f"{self.server} does not have: using "
                    f"'{self.default_model}' (Ctrl+L or /model picks another)",
                )
            )
            model = self.default_model
        self.backend.model = model
        return effective(self.base, session)

    @property
    def server(self) -> str:
        """The model server, as the user knows it (its address, else the backend's name)."""
        return self.backend.host or self.backend.name

    async def _has(self, model: str) -> bool:
        try:
            return listed(model, await self.backend.list_models()) is not None
        except BackendError:  # cannot tell now: the first request will say
            return True

    async def models(self) -> list[str]:
        """The models the backend offers (BackendError when it cannot say)."""
        return sorted(await self.backend.list_models())

    async def changes(
        self,
        session: Session,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The fields of ``session``'s record that would change (each value checked: a
        CoreError naming the problem and the fix; nothing changes on an error)."""
        fields: dict[str, Any] = {}
        if model is not None:
            try:
                available = await self.models()
            except BackendError as exc:
                raise CoreError(f"cannot list the models: {exc.message}") from None
            name = listed(model.strip(), available)
            if name is None:
                some = ", ".join(available[:8]) + (", …" if len(available) > 8 else "")
                raise CoreError(
                    f"model '{clip(model, 60)}' is not on {self.server} "
                    f"— pick one of: {some or 'none listed'}"
                )
            chosen = None if listed(self.default_model, [name]) else name  # None: configured
            if chosen != session.model:
                fields["model"] = chosen
        if system_prompt is not None:
            text = check_system_prompt(system_prompt)
            if text != (session.system_prompt or ""):
                fields["system_prompt"] = text or None
        if options is not None:
            checked = check_options(options)
            if checked != session.options:
                fields["options"] = checked
        return fields

    async def change(self, conversation: Conversation, fields: dict[str, Any]) -> str:
        """Store ``fields`` in the open session's record and use them from now on: the
        predictions answered for the old prefix go stale. Returns what it means, to tell the
        user."""
        session = await self.store.update_session(conversation.session.id, fields)
        conversation.changed_session(session)
        conversation.settings = await self.apply(session)
        await conversation.drop_fresh_predictions("the model or system prompt changed")
        conversation.memory_changed()
        what = {"model": "model", "system_prompt": "system prompt", "options": "model options"}
        changed = " and ".join(what[k] for k in fields)
        return f"New {changed} for this session: {NEW_PREFIX}."

    async def rename(
        self, session_id: str, title: str, conversation: Conversation | None
    ) -> Session:
        """Retitle a session (``conversation``: the open one, told when it is that one)."""
        title = clean_input(title).strip()
        if not title:
            raise CoreError("a session title cannot be empty")
        found = await find_session(self.store, session_id)
        session = await self.store.update_session(found.id, {"title": title})
        if conversation is not None and conversation.session.id == session.id:
            conversation.changed_session(session)
        return session

"""A session's own model, system prompt and model options, stored with the session.

Every request the core makes for the session (chat, reflection, warm-up) uses them, so the
prefix discipline holds within a session. Changing one starts a new prefix: the server's cache
of the old one is useless, the predictions were answered for the old one (stale now), and the
next idle period reflects again, ending with a warm-up of the new prefix.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from sleepchat.core.errors import BackendError, CoreError
from sleepchat.core.events import Notice, SessionChanged
from sleepchat.core.models import Session
from sleepchat.core.session_lookup import find_session
from sleepchat.core.settings import CoreSettings
from sleepchat.text import clean_input, clip

if TYPE_CHECKING:
    from sleepchat.core.assistant import Assistant

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
    """What the assistant's session record says about how to talk to the model."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.base = assistant.settings  # as configured
        self.default_model = assistant.backend.model

    @property
    def custom_prompt(self) -> bool:
        s = self.a.session
        return s is not None and bool(s.system_prompt)

    async def apply(self, session: Session) -> None:
        """Use ``session``'s model and settings from now on (when it opens)."""
        a = self.a
        model = session.model or self.default_model
        if model != self.default_model and not await self._has(model):
            a._emit(
                Notice(
                    session.id,
                    f"this session used model '{clip(model, 60)}', which "
                    f"{a.backend.host or a.backend.name} does not have: using "
                    f"'{self.default_model}' (Ctrl+L or /model picks another)",
                )
            )
            model = self.default_model
        a.backend.model = model
        a.settings = a.reflector.settings = a.replies.settings = effective(self.base, session)

    async def _has(self, model: str) -> bool:
        try:
            return listed(model, await self.a.backend.list_models()) is not None
        except BackendError:  # cannot tell now: the first request will say
            return True

    async def models(self) -> list[str]:
        """The models the backend offers (BackendError when it cannot say)."""
        return sorted(await self.a.backend.list_models())

    async def rename(self, session_id: str, title: str) -> Session:
        title = clean_input(title).strip()
        if not title:
            raise CoreError("a session title cannot be empty")
        return await self._update(session_id, {"title": title})

    async def configure(
        self,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> str:
        """Change the current session's model, system prompt ("" for the configured one) or
        options. Returns what it means, to tell the user; nothing changes on an error."""
        a = self.a
        session, memory = await a._current()
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
                    f"model '{clip(model, 60)}' is not on {a.backend.host or a.backend.name} "
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
        if not fields:
            return "nothing changed"
        await a.preempt()
        session = await self._update(session.id, fields)
        await self.apply(session)
        for p in memory.predictions:  # answered for the old prefix
            if p.status == "fresh":
                await memory.drop_prediction(p.id, "the model or system prompt changed", "stale")
        a._memory_changed()
        what = {"model": "model", "system_prompt": "system prompt", "options": "model options"}
        changed = " and ".join(what[k] for k in fields)
        return f"New {changed} for this session: {NEW_PREFIX}."

    async def _update(self, session_id: str, fields: dict[str, Any]) -> Session:
        a = self.a
        found = await find_session(a.store, session_id)
        session = await a.store.update_session(found.id, fields)
        if a.session is not None and a.session.id == session.id:
            a.session = session
            a._emit(SessionChanged(session))
        return session

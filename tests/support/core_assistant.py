"""An Assistant on a fake backend, a real store and a FakeClock, for core tests that drive it
turn by turn: a model that says what it answered, and nothing to predict unless asked."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sleepchat.core.assistant import Assistant
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import Event, ReplyDone
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ChatMessage
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store


def reply(messages: Sequence[ChatMessage]) -> str:
    """The model's answer names the request it answered and how much it saw before it."""
    turns = sum(1 for m in messages if m["role"] == "user")
    return f"Answer to «{messages[-1]['content']}» after {turns} user messages."


def nothing_to_predict(messages: Sequence[ChatMessage], schema: type) -> str:
    return json.dumps({"facts": [], "questions": [], "verdicts": []})


async def assistant(store: Store, backend: FakeBackend, **settings: object) -> Assistant:
    """Started on ``store`` (the last session, or a new one); no cooldown unless given."""
    a = Assistant(
        backend=backend,
        store=store,
        settings=CoreSettings(**{"cooldown_seconds": 0.0, **settings}),  # type: ignore[arg-type]
        clock=FakeClock(),
    )
    await a.start()
    return a


async def ask(a: Assistant, text: str) -> ReplyDone:
    """One turn; its last event, which must be the reply."""
    got: list[Event] = [e async for e in a.ask(text)]
    done = got[-1]
    assert isinstance(done, ReplyDone)
    return done

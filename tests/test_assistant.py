"""The core façade on a fake backend and a real store in a temp dir: sessions and ask()."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from sleepchat.core.assistant import Assistant, CoreError
from sleepchat.core.clock import FakeClock
from sleepchat.core.events import ReplyChunk, ReplyDone, ReplyFailed, ReplyStarted
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import BackendUnreachable, ModelOptions
from sleepchat.llm.fake import FakeBackend
from sleepchat.store import Store


def make(store: Store, backend: FakeBackend | None = None, **settings) -> Assistant:
    return Assistant(
        backend=backend or FakeBackend(),
        store=store,
        settings=CoreSettings(**settings),
        clock=FakeClock(),
    )


async def collect(agen):
    return [e async for e in agen]


async def test_ask_streams_and_stores_both_messages(store: Store) -> None:
    a = make(store, FakeBackend(lambda m: "Hello there, friend"))
    await a.start()
    events = await collect(a.ask("hi"))
    assert isinstance(events[0], ReplyStarted)
    chunks = "".join(e.text for e in events if isinstance(e, ReplyChunk))
    assert chunks == "Hello there, friend"
    done = events[-1]
    assert isinstance(done, ReplyDone)
    assert done.message.content == "Hello there, friend"
    assert done.message.source == "model" and not done.message.interrupted
    assert done.message.completion_tokens == 3
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert [(m.role, m.content) for m in stored] == [
        ("user", "hi"),
        ("assistant", "Hello there, friend"),
    ]


async def test_user_message_is_stored_before_the_model_is_called(store: Store) -> None:
    backend = FakeBackend(lambda m: "slow reply")
    backend.gate = asyncio.Event()  # hold the stream
    a = make(store, backend)
    await a.start()
    agen = a.ask("remember me")
    task = asyncio.create_task(collect(agen))
    await backend.started.wait()
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert [m.content for m in stored] == ["remember me"]
    backend.gate.set()
    await task


async def test_unreachable_server_keeps_the_question_and_reports(store: Store) -> None:
    backend = FakeBackend(error=BackendUnreachable("Ollama is not reachable at http://x:1"))
    a = make(store, backend)
    await a.start()
    events = await collect(a.ask("are you there?"))
    failed = events[-1]
    assert isinstance(failed, ReplyFailed) and failed.unreachable
    assert failed.partial is None
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert [m.content for m in stored] == ["are you there?"]
    # The server comes back: sending the same question again retries it, stored once.
    backend.error = None
    events = await collect(a.ask("are you there?"))
    assert isinstance(events[-1], ReplyDone)
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert [m.role for m in stored] == ["user", "assistant"]
    assert backend.calls[-1].messages[-1]["content"] == "are you there?"
    assert [m["role"] for m in backend.calls[-1].messages] == ["system", "user"]
    # ... while a new question after an answered one is a new message
    await collect(a.ask("are you there?"))
    assert len(await store.messages(a.session.id)) == 4  # type: ignore[union-attr]


async def test_reply_cut_mid_stream_is_kept_and_marked(store: Store) -> None:
    backend = FakeBackend(lambda m: "one two three four five", fail_after_chunks=2)
    a = make(store, backend)
    await a.start()
    events = await collect(a.ask("count"))
    failed = events[-1]
    assert isinstance(failed, ReplyFailed)
    assert failed.partial is not None and failed.partial.interrupted
    assert failed.partial.content == "one two"
    assert "mid-reply" in failed.error
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert stored[-1].interrupted and stored[-1].content == "one two"


async def test_cancelled_reply_keeps_the_partial_text(store: Store) -> None:
    backend = FakeBackend(lambda m: "alpha beta gamma delta")
    backend.gate = asyncio.Event()
    a = make(store, backend)
    await a.start()
    seen: list[str] = []

    async def consume() -> None:
        async with contextlib.aclosing(a.ask("go")) as events:
            async for e in events:
                if isinstance(e, ReplyChunk):
                    seen.append(e.text)
                    if len(seen) == 2:
                        backend.gate.clear()  # freeze after two chunks
                        task_ready.set()

    task_ready = asyncio.Event()
    backend.gate.set()
    task = asyncio.create_task(consume())
    await task_ready.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    assert stored[-1].role == "assistant" and stored[-1].interrupted
    assert stored[-1].content == "".join(seen)
    assert backend.calls[-1].cancelled


async def test_sessions_resume_rename_switch_delete(store: Store) -> None:
    a = make(store)
    first = await a.start()
    await collect(a.ask("What is a monad, in short?"))
    assert a.session is not None and a.session.title == "What is a monad, in short?"
    second = await a.new_session("other")
    assert a.session.id == second.id and a.history == []
    # a new assistant resumes the most recently active session
    b = make(store)
    resumed = await b.start()
    assert resumed.id == second.id
    await b.start(first.id[:5])
    assert next(m.content for m in b.history) == "What is a monad, in short?"
    await b.rename_session(first.id, "Monads")
    assert b.session is not None and b.session.title == "Monads"
    with pytest.raises(CoreError, match="no session 'zzzz'"):
        await b.start("zzzz")
    await b.delete_session(first.id)
    assert b.session is not None and b.session.id == second.id
    assert [s.id for s in await b.list_sessions()] == [second.id]


async def test_every_request_has_the_same_prefix_and_options(store: Store) -> None:
    backend = FakeBackend()
    opts = ModelOptions(num_ctx=2048, temperature=0.1, seed=7)
    a = make(store, backend, options=opts, keep_alive="10m")
    await a.start()
    await collect(a.ask("first"))
    await collect(a.ask("second"))
    c1, c2 = backend.calls
    assert c2.messages[: len(c1.messages)] == c1.messages  # grows by appending only
    assert c1.options == c2.options == {"num_ctx": 2048, "temperature": 0.1, "seed": 7}
    assert c1.keep_alive == "10m"


async def test_regenerate_replaces_the_last_reply(store: Store) -> None:
    replies = iter(["first answer", "second answer"])
    backend = FakeBackend(lambda m: next(replies))
    a = make(store, backend)
    await a.start()
    await collect(a.ask("question"))
    events = await collect(a.regenerate())
    assert isinstance(events[-1], ReplyDone) and events[-1].message.content == "second answer"
    stored = await store.messages(a.session.id)  # type: ignore[union-attr]
    old = next(m for m in stored if m.content == "first answer")
    assert old.replaced_by == events[-1].message.id
    # the regenerate request did not include the replaced answer
    assert all(m["content"] != "first answer" for m in backend.calls[-1].messages)


async def test_regenerate_with_nothing_asked_is_a_clear_error(store: Store) -> None:
    a = make(store)
    await a.start()
    with pytest.raises(CoreError, match="nothing to regenerate"):
        await collect(a.regenerate())


class TrimmingBackend(FakeBackend):
    """Reports, as the embedded backend does, that it dropped old turns to fit num_ctx."""

    async def chat_stream(self, messages, **kw):  # type: ignore[override]
        async for chunk in super().chat_stream(messages, **kw):
            if chunk.stats is not None:
                chunk.stats.notice = "history longer than num_ctx: dropped the 4 oldest messages"
            yield chunk


async def test_a_trimmed_history_is_reported_with_the_reply(store: Store) -> None:
    a = make(store, TrimmingBackend())
    await a.start()
    done = (await collect(a.ask("hi")))[-1]
    assert isinstance(done, ReplyDone)
    assert done.notice == "history longer than num_ctx: dropped the 4 oldest messages"


async def test_an_empty_message_is_refused_and_nothing_is_stored(store: Store) -> None:
    backend = FakeBackend()
    a = make(store, backend)
    await a.start()
    with pytest.raises(CoreError, match="empty"):
        await collect(a.ask("  \n "))
    assert await store.messages(a.session.id) == [] and backend.calls == []  # type: ignore[union-attr]

"""How full the context is: estimated, or the server's count when that says more."""

from __future__ import annotations

from sleepchat.core.context import ContextUse, context_use, estimate
from sleepchat.core.models import Message


def m(i: int, role: str, text: str, **kw: object) -> Message:
    return Message(f"m{i}", "s", role, text, float(i), **kw)  # type: ignore[arg-type]


def test_an_estimate_counts_the_system_prompt_notes_and_live_messages() -> None:
    history = [
        m(1, "user", "a" * 400),
        m(2, "assistant", "b" * 800, replaced_by="m4"),  # left out of the prompt: not counted
        m(3, "user", "c" * 40),
    ]
    use = context_use("s" * 100, history, ["a note"], 4096)
    assert use.used == estimate("s" * 100) + estimate("a" * 400) + estimate("c" * 40) + estimate(
        "a note"
    )
    assert use.estimated and use.short().startswith("ctx ~")


def test_the_servers_count_wins_when_it_says_more() -> None:
    history = [
        m(1, "user", "hi"),
        m(2, "assistant", "hello", prompt_tokens=3000, completion_tokens=200),
        m(3, "user", "x" * 400),
    ]
    use = context_use("sys", history, [], 4096)
    assert use.used == 3000 + 200 + estimate("x" * 400)
    assert not use.estimated and use.near_full  # 3,304 of 4,096: past three quarters
    assert use.short() == "ctx 3.3k/4.1k"
    assert "81% of the model's context (3,304 of 4,096 tokens)" in use.warning()


def test_a_warm_cache_count_below_the_estimate_is_not_believed() -> None:
    # With a warm cache the server reports only the tokens it processed (e.g. 12).
    history = [
        m(1, "user", "q" * 2000),
        m(2, "assistant", "a", prompt_tokens=12, completion_tokens=1),
    ]
    use = context_use("sys", history, [], 4096)
    assert use.estimated and use.used > 500


def test_without_a_window_there_is_no_warning() -> None:
    use = ContextUse(10**6, None, True)
    assert not use.near_full and use.short() == "ctx ~1000.0k"

"""How full the model's context window is: what the next request starts with, in tokens.

Estimated at about four characters a token. The server's own counts do not settle it: a server
with a warm cache reports only the prompt tokens it had to process (Ollama's prompt_eval_count),
so the last reply's prompt and completion tokens are a lower bound, used when they say more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sleepchat.core.models import Message

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4  # role markers and separators a chat template adds per message
# Backends trim the oldest turns once the prompt and room for a reply (up to a quarter of the
# window) no longer fit: warn before that.
WARN_AT = 0.75


def estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD


@dataclass(frozen=True)
class ContextUse:
    used: int  # tokens the next request starts with
    window: int | None  # the context window (None: the server's own, unknown here)
    estimated: bool  # no reply counted by the server yet: all of it is an estimate

    @property
    def fraction(self) -> float | None:
        return self.used / self.window if self.window else None

    @property
    def near_full(self) -> bool:
        """Soon the oldest turns will be left out of what the model sees."""
        return self.window is not None and self.used >= WARN_AT * self.window

    def short(self) -> str:
        """``ctx 1.2k/4.1k`` (``~`` when estimated)."""
        approx = "~" if self.estimated else ""
        window = f"/{_k(self.window)}" if self.window else ""
        return f"ctx {approx}{_k(self.used)}{window}"

    def warning(self) -> str:
        pct = round(100 * (self.fraction or 0))
        return (
            f"This conversation fills {pct}% of the model's context ({self.used:,} of "
            f"{self.window or 0:,} tokens): soon its oldest turns will be left out of what the "
            "model sees. A new chat starts empty; a larger num_ctx makes room."
        )


def _k(tokens: int) -> str:
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)


def context_use(
    system_prompt: str, history: Sequence[Message], notes: Sequence[str], window: int | None
) -> ContextUse:
    """What the next request will start with (replaced replies are left out, as the prompt
    leaves them)."""
    live = [m for m in history if not m.replaced_by]
    used = estimate(system_prompt) + sum(estimate(m.content) for m in live)
    if notes:
        used += estimate("\n".join(notes))
    for i in range(len(live) - 1, -1, -1):
        m = live[i]
        if m.role == "assistant" and m.prompt_tokens and m.completion_tokens is not None:
            after = sum(estimate(n.content) for n in live[i + 1 :])
            counted = m.prompt_tokens + m.completion_tokens + after
            if counted > used:
                return ContextUse(counted, window, False)
            break
    return ContextUse(used, window, True)

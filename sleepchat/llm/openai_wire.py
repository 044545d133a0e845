"""The OpenAI chat-completions wire format, both ways: the sampling fields a request carries,
one streamed event read (or the server's error in it), and the stats a finished stream gives."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sleepchat.llm.base import BackendStreamError, ChatStats, ModelOptions
from sleepchat.llm.openai_errors import scrub


def sampling_fields(options: ModelOptions) -> dict[str, Any]:
    """The request fields for the model options (``num_ctx`` is the server's to set)."""
    out: dict[str, Any] = {k: v for k, v in options.extra.items() if k != "num_ctx"}
    if options.temperature is not None:
        out["temperature"] = options.temperature
    if options.seed is not None:
        out["seed"] = options.seed
    return out


def parse_event(data: str, host: str, secrets: Sequence[str]) -> dict[str, Any]:
    try:
        part = json.loads(data)
    except ValueError:
        part = None
    if not isinstance(part, dict):
        raise BackendStreamError(
            f"the server at {host} sent something that is not the OpenAI stream format"
        )
    error = part.get("error")
    if error:
        text = error.get("message") if isinstance(error, dict) else error
        raise BackendStreamError(
            f"the model server reported an error mid-reply: {scrub(str(text), secrets)}"
        )
    return part


def reply_stats(
    usage: Mapping[str, Any],
    timings: Mapping[str, Any],
    count: int,
    started: float,
    first: float | None,
    end: float,
    finish: str,
) -> ChatStats:
    """What the server said (usage; llama-server's timings), else what we measured: the time
    to the first token stands for prefill, and each streamed delta for one token."""
    first = first or end
    return ChatStats(
        prompt_tokens=given(usage.get("prompt_tokens"), timings.get("prompt_n")),
        completion_tokens=given(usage.get("completion_tokens"), timings.get("predicted_n"), count),
        prompt_ms=given(timings.get("prompt_ms"), (first - started) * 1000),
        eval_ms=given(timings.get("predicted_ms"), (end - first) * 1000),
        total_ms=(end - started) * 1000,
        done_reason="length" if finish == "length" else "stop",
    )


def given(*values: Any) -> Any:
    """The first value the server gave as a number (0 counts: a fully cached prompt)."""
    return next((v for v in values if isinstance(v, int | float)), None)

"""The OpenAI chat-completions wire format, both ways: the sampling fields a request carries,
the data of each streamed event, one event read (or the server's error in it), and the stats a
finished stream gives."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import httpx
from httpx_sse import EventSource

from sleepchat.llm.base import BackendServerError, BackendStreamError, ChatStats, ModelOptions
from sleepchat.llm.openai_errors import looks_like_html, scrub


def sampling_fields(options: ModelOptions) -> dict[str, Any]:
    """The request fields for the model options (``num_ctx`` is the server's to set)."""
    out: dict[str, Any] = {k: v for k, v in options.extra.items() if k != "num_ctx"}
    if options.temperature is not None:
        out["temperature"] = options.temperature
    if options.seed is not None:
        out["seed"] = options.seed
    return out


async def events(
    source: EventSource, response: httpx.Response, host: str
) -> AsyncGenerator[str, None]:
    """The data of each event; a server that ignored ``stream`` and sent one JSON reply
    gives that reply as one event, and anything else is a clear error."""
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == "application/json":
        await response.aread()
        yield response.text
        yield "[DONE]"
        return
    if kind != "text/event-stream":
        await response.aread()
        if looks_like_html(response, response.text):
            raise BackendServerError(
                f"the server at {host} answered with a web page (HTML), not the OpenAI API — "
                "set host to the API's base URL (usually ending in /v1)"
            )
        raise BackendStreamError(
            f"the server at {host} did not answer with an event stream ({kind or 'no type'}) — "
            "is host an OpenAI-compatible API?"
        )
    async with contextlib.aclosing(source.aiter_sse()) as events:
        async for event in events:
            if event.data:
                yield event.data


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

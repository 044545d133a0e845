"""Settings the core needs, as a plain dataclass (filled from the settings table,
``sleepchat/config/table.py``; a test keeps the defaults equal)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sleepchat.core.defaults import DEFAULT_SYSTEM_PROMPT
from sleepchat.core.ports import Capabilities, ModelOptions
from sleepchat.core.reflection.predict_policy import PredictSetting


@dataclass(frozen=True)
class CoreSettings:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    options: ModelOptions = field(default_factory=ModelOptions)
    keep_alive: str | float | None = "30m"
    # sleep cycle
    sleep_enabled: bool = True
    idle_seconds: float = 20.0
    budget_tokens: int = 1500
    cooldown_seconds: float = 30.0
    max_predictions: int = 3
    prediction_ttl_turns: int = 3
    warm_up: bool = True
    # The question in the box readied once the keys rest (core/drafts.py): matched, and warmed
    # unless a prediction answers it.
    ready_typed: bool = True
    # Precompute answers always, never, or as long as predictions hit or nearly hit (auto).
    predict: PredictSetting = "auto"
    # Follow-ups on the last answer ("shorter", "an example") this user asks most, precomputed
    # per reflection (at most this many; 0: none).
    followups: int = 2
    # Tokens of attached documents every request may quote (memory/documents.py); None: half
    # the context window (documents_room).
    documents_max_tokens: int | None = None
    # The context window grows up to this many tokens while attached files need it (half of it
    # theirs), so a file that fits is quoted whole and cached; 0: never (documents_room).
    documents_max_window: int = 8192
    # The user's memory across sessions (memory/user_memory.py): kept and quoted unless off,
    # or this run is private; at most this many tokens of it quoted per request.
    memory_enabled: bool = True
    memory_private: bool = False
    memory_max_tokens: int = 300
    # recall: the candidate level (None: the method's calibrated default); the embedding
    # model itself is handed to the Assistant by the composition root
    recall_threshold: float | None = None
    # On a miss, answers to nearly matched predictions quoted to the model (0: none): each is
    # prefilled before the reply's first token, and a look-alike's answer misleads.
    recall_hints: int = 0
    # replies longer than this many tokens are cut (None: the model decides)
    max_reply_tokens: int | None = None


# The context window assumed where none is set (the server's own: Ollama's and llama.cpp's
# usual 4,096).
DEFAULT_CONTEXT = 4096


# A grown window is a multiple of this: files attached one after another reload the model at
# most once per step.
WINDOW_STEP = 1024


def grown_window(settings: CoreSettings, documents_tokens: int) -> int:
    """The context window for requests that quote ``documents_tokens`` of attached files: the
    configured one, or, where the files need more than half of it, as much as holds them in
    half (up to ``documents_max_window``; never when the user set the room for documents)."""
    window = settings.options.num_ctx or DEFAULT_CONTEXT
    wanted = 2 * documents_tokens
    cap = settings.documents_max_window
    if settings.documents_max_tokens is not None or wanted <= window or cap <= window:
        return window
    return min(cap, -(-wanted // WINDOW_STEP) * WINDOW_STEP)


def for_documents(settings: CoreSettings, documents_tokens: int) -> CoreSettings:
    """``settings`` with requests sent in the window ``documents_tokens`` of attached files
    take (``grown_window``)."""
    window = grown_window(settings, documents_tokens)
    if window == (settings.options.num_ctx or DEFAULT_CONTEXT):
        return settings  # a window left to the server stays so
    options = dataclasses.replace(settings.options, num_ctx=window)
    return dataclasses.replace(settings, options=options)


def documents_room(settings: CoreSettings) -> int:
    """Tokens of attached documents every request may quote: the user's setting, else half the
    context window, so raising ``num_ctx`` makes room for longer files whole (cached once) and
    the other half stays for the conversation and the reply."""
    if settings.documents_max_tokens is not None:
        return settings.documents_max_tokens
    return (settings.options.num_ctx or DEFAULT_CONTEXT) // 2


def reply_cap(settings: CoreSettings, capabilities: Capabilities) -> int | None:
    """Tokens a reply may take: the user's cap, else the backend's default (None: the server's)."""
    if settings.max_reply_tokens is not None:
        return settings.max_reply_tokens
    return capabilities.reply_tokens

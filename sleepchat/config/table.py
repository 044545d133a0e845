"""Every setting in one place: key path, type, default, environment variable, flag and help.

The classes below are the typed configuration the rest of sleepchat reads (``config.sleep.
idle_seconds``); each field's :func:`setting` carries the rest of its row. From them come the
YAML schema (``schema.py``), the environment lookups and the command-line flags; a test checks
``config.example.yaml`` and the README's key table against them. A new setting is one field
here (plus its lines in those two documents).

Stdlib only: the command line builds its flags from this module before anything heavy loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sleepchat import paths
from sleepchat.config.rows import Leaf, leaves, section, setting
from sleepchat.core.defaults import DEFAULT_SYSTEM_PROMPT
from sleepchat.errors import SleepchatError
from sleepchat.hosts import DEFAULT_HOST, normalise_host
from sleepchat.llm.model_catalog import DEFAULT_MODEL

if TYPE_CHECKING:  # both import pydantic (through llm.base): not on the TUI's first frame
    from sleepchat.core.settings import CoreSettings
    from sleepchat.llm.base import ModelOptions

CONFIG_ENV = "SLEEPCHAT_CONFIG"  # names the config file, as --config does


class ConfigError(SleepchatError):
    """A bad config file, environment variable or flag: one line for the user, exit code 2."""

    exit_code = 2


# -- value checks (stdlib: ValueError says what is wrong) -------------------------------------

# Go's time.ParseDuration, which Ollama applies to a keep_alive string ("30m", "1h30m", "-1m")
_DURATION = re.compile(r"-?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_PER_REQUEST = ("num_ctx", "temperature", "seed", "num_predict")


def _duration(value: str | float | None) -> str | float | None:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return float(text)  # Ollama reads a bare number as seconds only when it is a number
    if not _DURATION.fullmatch(text):
        raise ValueError("bad duration")
    return text


def _no_duplicates(value: dict[str, Any]) -> dict[str, Any]:
    for key in _PER_REQUEST:
        if key in value:
            where = "is set per request" if key == "num_predict" else f"use 'options.{key}'"
            raise ValueError(f"must not set {key} ({where})")
    return value


# -- the settings -----------------------------------------------------------------------------

_EXTRA_VALUE = int | float | bool | str


@dataclass(frozen=True)
class OptionsConfig:
    """Model options sent identically with every request (a change reloads the model)."""

    num_ctx: int = setting(
        4096,
        "Context window in tokens. Larger holds more history but costs memory and prefill time.",
        ge=256,
    )
    temperature: float = setting(
        0.7, "Sampling temperature: 0 is deterministic, higher is more varied.", ge=0.0, le=2.0
    )
    seed: int | None = setting(
        None, "Random seed for reproducible replies; null picks a new one per request."
    )
    extra: dict[str, _EXTRA_VALUE] = setting(
        {},
        "Further Ollama options passed through as they are (e.g. top_p, num_thread).",
        expected="a mapping of Ollama option names to numbers, strings or booleans",
        expected_item="a number, a string or true/false",
        check=_no_duplicates,
    )


@dataclass(frozen=True)
class TimeoutsConfig:
    """How long to wait for the model server, in seconds."""

    connect: float = setting(5.0, "Seconds to wait for a connection to the server.", gt=0)
    read: float = setting(
        120.0,
        "Seconds to wait for the next piece of a reply (a loading model can take a while).",
        gt=0,
    )


@dataclass(frozen=True)
class SleepConfig:
    """The sleep cycle: what sleepchat does while you are idle."""

    enabled: bool = setting(
        True,
        "Reflect while idle (notes, predicted follow-ups, warm cache). Off: a plain chat client.",
        core="sleep_enabled",
    )
    idle_seconds: float = setting(
        20.0,
        "Seconds without a keystroke, at a turn boundary, before a reflection starts.",
        ge=0,
        env="SLEEPCHAT_IDLE_SECONDS",
        flag="--idle-seconds",
        metavar="N",
        core="idle_seconds",
    )
    budget_tokens: int = setting(
        1500, "At most this many tokens generated per idle period.", ge=0, core="budget_tokens"
    )
    cooldown_seconds: float = setting(
        30.0,
        "After a cancelled reflection, least time before the next one over the same "
        "conversation (new messages never wait for it).",
        ge=0,
        core="cooldown_seconds",
    )
    max_predictions: int = setting(
        3,
        "How many likely next questions to precompute answers for (0: none).",
        ge=0,
        le=10,
        core="max_predictions",
    )
    prediction_ttl_turns: int = setting(
        3,
        "A prediction is served only while it is at most this many turns old.",
        ge=1,
        core="prediction_ttl_turns",
    )
    warm_up: bool = setting(
        True,
        "First in a reflection, a one-token request so the server's cache holds the chat prefix.",
        core="warm_up",
    )
    while_typing: bool = setting(
        True,
        "Once the keys rest, the question in the box is matched and, unless a prediction "
        "answers it, sent as a one-token request, so sending it prefills next to nothing.",
        core="ready_typed",
    )
    predict: Literal["auto", "always", "never"] = setting(
        "auto",
        "Precompute answers: auto (while predictions hit or nearly hit), always, or never.",
        core="predict",
    )
    followups: int = setting(
        2,
        "How many of your most frequent follow-ups on an answer (shorter, an example, why...) "
        "to precompute on the last answer (0: none).",
        ge=0,
        le=16,
        core="followups",
    )


@dataclass(frozen=True)
class RecallConfig:
    """Matching a new question to a precomputed prediction."""

    method: Literal["auto", "embedding", "lexical"] = setting(
        "auto",
        "auto: embedding when a model is there, else word matching; embedding says when it isn't.",
    )
    threshold: float | None = setting(
        None,
        "Similarity that makes a prediction a candidate (a verifier then decides); null: default.",
        ge=0.0,
        le=1.0,
        core="recall_threshold",
    )
    embed_model: str | None = setting(
        None,
        "null: the built-in model, else one the server has; builtin: only that one; or a name.",
    )
    judge: Literal["auto", "never"] = setting(
        "auto",
        "auto: the chat model judges reworded questions where it was calibrated for no false "
        "hits (sleepchat bench recall --calibrate); never: the word rules alone.",
    )
    hints: int = setting(
        0,
        "On a miss, how many answers to predictions it nearly matched to show the model as "
        "hints (0: none; each is prefilled before the first word of the reply).",
        ge=0,
        le=4,
        core="recall_hints",
    )


@dataclass(frozen=True)
class DocumentsConfig:
    """Files attached to a session (/attach, -f)."""

    max_tokens: int | None = setting(
        None,
        "Tokens of attached documents every request quotes (after the system prompt); null: "
        "half of the context window (options.num_ctx, grown up to documents.max_window). A "
        "longer file keeps its first part, and says so.",
        ge=100,
        core="documents_max_tokens",
    )
    max_window: int = setting(
        8192,
        "The context window grows up to this many tokens while attached files need it, so a "
        "file that fits in half of it is quoted whole (the model reloads once); 0 keeps "
        "options.num_ctx. Not for OpenAI-compatible servers, whose window is their own.",
        ge=0,
        core="documents_max_window",
    )


@dataclass(frozen=True)
class MemoryConfig:
    """The user's memory across sessions: standing facts from the notes, and what the user said
    of their life in past and imported sessions."""

    enabled: bool = setting(
        True,
        "Keep standing facts about you across sessions and quote the related ones; off: never.",
        core="memory_enabled",
    )
    private: bool = setting(
        False,
        "This run neither reads nor writes the memory (--private).",
        flag="--private",
        core="memory_private",
    )
    max_tokens: int = setting(
        300,
        "Tokens of remembered facts each request quotes, the ones related to the talk first.",
        ge=0,
        core="memory_max_tokens",
    )


@dataclass(frozen=True)
class ServerConfig:
    """What the model server can do that it may not say itself."""

    parallel_slots: int | None = setting(
        None,
        "Requests the server runs at once (llama-server --parallel N, vLLM, OLLAMA_NUM_PARALLEL); "
        "null: what the server reports (llama-server does), else 1. With 2 or more, a question "
        "runs beside a reflection instead of cancelling it.",
        ge=1,
    )


@dataclass(frozen=True)
class LocalConfig:
    """The embedded model (backend local, or auto without Ollama)."""

    threads: int | None = setting(
        None,
        "CPU threads for your replies (null: the physical cores); with more than two, reflection "
        "uses one fewer so the app stays responsive.",
        ge=1,
        env="SLEEPCHAT_LOCAL_THREADS",
    )


@dataclass(frozen=True)
class Config:
    """Everything a user can configure, with where it was read from."""

    backend: Literal["auto", "ollama", "local", "openai"] = setting(
        "auto",
        "auto: Ollama when it runs with the model, else the embedded model; or force one "
        "(openai: an OpenAI-compatible server such as llama-server, vLLM or LM Studio).",
        env="SLEEPCHAT_BACKEND",
        flag="--backend",
    )
    host: str = setting(
        DEFAULT_HOST,
        "The model server: a URL, HOST or HOST:PORT (port 11434 when left out); for backend "
        "openai the API's base URL, e.g. http://127.0.0.1:8080/v1.",
        env="OLLAMA_HOST",
        flag="--host",
        expected="a server address like http://127.0.0.1:11434 (HOST, HOST:PORT or URL)",
        check=normalise_host,
    )
    api_key: str | None = setting(
        None,
        "API key for backend openai; rather set SLEEPCHAT_API_KEY or OPENAI_API_KEY than keep it "
        "in the file (a file holding a key that others can read gets a warning).",
        env=("SLEEPCHAT_API_KEY", "OPENAI_API_KEY"),
        expected="a string (the key) or null",
        secret=True,
    )
    headers: dict[str, str] = setting(
        {},
        "HTTP headers sent with every request to the model server (e.g. for Ollama behind an "
        "authenticating proxy: {Authorization: Bearer ...}); never printed.",
        expected="a mapping of header names to strings",
        expected_item="a string",
        secret=True,
    )
    server: ServerConfig = section(ServerConfig)
    model: str = setting(
        "llama3.2:3b",
        "The model to chat with: an Ollama name (`ollama pull NAME` fetches it), or for backend "
        "openai a name the server lists.",
        env="SLEEPCHAT_MODEL",
        flag="--model",
        min_length=1,
    )
    local_model: str = setting(
        DEFAULT_MODEL,
        "Embedded model: a name `sleepchat model get` fetches (qwen2.5-coder-0.5b, "
        "qwen2.5-coder-1.5b, smollm2: see `sleepchat model list`), a GGUF file path, or a model "
        "pulled into Ollama.",
        env="SLEEPCHAT_LOCAL_MODEL",
        min_length=1,
    )
    local: LocalConfig = section(LocalConfig)
    options: OptionsConfig = section(OptionsConfig)
    keep_alive: str | float | None = setting(
        "30m",
        "How long the server keeps the model loaded after a request (-1: forever; null: its "
        "default).",
        expected="a duration like '30m' or '1h', a number of seconds, or null",
        check=_duration,
        core="keep_alive",
    )
    timeouts: TimeoutsConfig = section(TimeoutsConfig)
    system_prompt: str = setting(
        DEFAULT_SYSTEM_PROMPT,
        "The system prompt that starts every conversation.",
        core="system_prompt",
    )
    max_reply_tokens: int | None = setting(
        None,
        "Cut replies longer than this many tokens; null: 1024 for the embedded model, the "
        "server's own default otherwise.",
        ge=1,
        core="max_reply_tokens",
    )
    data_dir: Path | None = setting(
        None,
        "Where sessions and memory are kept (by default $XDG_DATA_HOME/sleepchat).",
        env="SLEEPCHAT_DATA_DIR",
        flag="--data-dir",
        metavar="DIR",
    )
    theme: str = setting(
        "sleepchat-dark",
        "TUI theme: a built-in name or a YAML file name from themes_dir.",
        env="SLEEPCHAT_THEME",
        flag="--theme",
        min_length=1,
    )
    themes_dir: Path | None = setting(
        None, "Folder of your own YAML themes (by default $XDG_CONFIG_HOME/sleepchat/themes)."
    )
    log_file: Path | None = setting(
        None,
        "Log file (by default $XDG_STATE_HOME/sleepchat/sleepchat.log).",
        env="SLEEPCHAT_LOG_FILE",
        flag="--log-file",
        metavar="PATH",
    )
    debug: bool = setting(
        False,
        "Debug logging. Off, logs never contain message text; on, they do.",
        env="SLEEPCHAT_DEBUG",
        flag="--debug",
    )
    sleep: SleepConfig = section(SleepConfig)
    recall: RecallConfig = section(RecallConfig)
    documents: DocumentsConfig = section(DocumentsConfig)
    memory: MemoryConfig = section(MemoryConfig)

    # Where the values came from (not settings): the file read, and the environment that
    # resolves the XDG defaults.
    source: Path | None = field(default=None, compare=False, repr=False)
    environ: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    # Things the user should know about this configuration (shown at start-up).
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def secret_key(self) -> str | None:
        """The API key, for the backend only (never printed)."""
        return self.api_key

    def resolved_data_dir(self) -> Path:
        return self.data_dir or paths.default_data_dir(self.environ)

    def resolved_log_file(self) -> Path:
        return self.log_file or paths.default_log_file(self.environ)

    def resolved_themes_dir(self) -> Path:
        return self.themes_dir or paths.user_themes_dir(self.environ)

    def model_options(self) -> ModelOptions:
        from sleepchat.llm.base import ModelOptions

        o = self.options
        return ModelOptions(
            num_ctx=o.num_ctx, temperature=o.temperature, seed=o.seed, extra=dict(o.extra)
        )

    def core_settings(self) -> CoreSettings:
        from sleepchat.core.settings import CoreSettings

        values = {leaf.meta.core: leaf.value(self) for leaf in SETTINGS if leaf.meta.core}
        return CoreSettings(options=self.model_options(), **values)


SETTINGS: tuple[Leaf, ...] = tuple(leaves(Config))
# environment variable -> key path; load_config(flags=...) name -> key path
# (a row's first variable wins: it is laid on last)
ENV_VARS: dict[str, tuple[str, ...]] = {var: s.path for s in SETTINGS for var in s.envs[::-1]}
FLAG_KEYS: dict[str, tuple[str, ...]] = {s.dest: s.path for s in SETTINGS if s.dest}


def key_paths() -> list[str]:
    """Every leaf key path, e.g. ``sleep.idle_seconds``."""
    return [s.key for s in SETTINGS]


def leaf(path: tuple[str, ...]) -> Leaf:
    return next(s for s in SETTINGS if s.path == path)

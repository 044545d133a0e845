"""Reading the config: defaults < YAML file < environment < command-line flags.

Every mistake in any source becomes one :class:`ConfigError` line naming where it came from
(file, environment variable or flag), the key path and what was expected, with the closest
valid key for a typo. ``yaml.safe_load`` only.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.reader import ReaderError

from sleepchat import paths
from sleepchat.config.describe import MASKED, describe, explain, field_at, show, unknown_key
from sleepchat.config.rows import members
from sleepchat.config.schema import build, schema
from sleepchat.config.table import (
    CONFIG_ENV,
    ENV_VARS,
    FLAG_KEYS,
    SETTINGS,
    Config,
    ConfigError,
    leaf,
)

MAX_CONFIG_BYTES = 1_000_000
MAX_YAML_VALUES = 10_000  # values after aliases are expanded

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# keys holding a path: relative to the file's folder in a file, to the working folder elsewhere
_PATH_KEYS = [s.path for s in SETTINGS if Path in members(s.type)[0]]


def _validate(data: Mapping[str, Any]) -> BaseModel | ValidationError:
    try:
        return schema().model_validate(data)
    except ValidationError as exc:
        return exc


def _first_error(exc: ValidationError) -> tuple[tuple[str, ...], str, Any]:
    return explain(exc.errors(include_url=False)[0])


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)  # type: ignore[assignment]
    return data


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


def _convert(text: str, path: tuple[str, ...], base: Path, env: Mapping[str, str]) -> Any:
    """An environment or flag string turned into the key's type; ValueError when it is not."""
    kinds, _ = members(leaf(path).type)
    if bool in kinds:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(text)
    if int in kinds:
        return int(text.strip())
    if float in kinds:
        return float(text.strip())
    if Path in kinds:
        return _resolve_path(text, base, env)
    return text


def _read_bytes(path: Path, where: str) -> bytes:
    """The file's bytes, at most MAX_CONFIG_BYTES of them. Opened without blocking and never a
    pipe: a FIFO with no writer would hang the start; a device is read bounded (/dev/null is an
    empty config, /dev/zero too big)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(mode) else "a pipe"
        raise ConfigError(f"{where}: is {what}, not a YAML file")
    with os.fdopen(fd, "rb") as fh:
        try:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where}: over {MAX_CONFIG_BYTES // 1_000_000} MB — a config is small")
    return raw


def _bounded(node: yaml.Node, where: str) -> None:
    """Refuse YAML whose aliases expand it beyond MAX_YAML_VALUES values (a "billion laughs"
    file is a few hundred bytes that expand to gigabytes as soon as anything walks them), or
    that refers to itself. Linear in the distinct nodes: each is counted once."""
    counted: dict[int, int] = {}
    open_nodes: set[int] = set()

    def count(n: yaml.Node) -> int:
        key = id(n)
        if key in counted:
            return counted[key]
        if key in open_nodes:
            raise ConfigError(f"{where}: an alias refers to the value holding it — write it out")
        open_nodes.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(count(child) for child in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(count(k) + count(v) for k, v in n.value)
        open_nodes.discard(key)
        if total > MAX_YAML_VALUES:
            raise ConfigError(
                f"{where}: its aliases expand to over {MAX_YAML_VALUES:,} values — write the "
                "values out (a config needs no aliases that big)"
            )
        counted[key] = total
        return total

    count(node)


def _parse(raw: bytes, where: str) -> Any:
    node = yaml.compose(raw, Loader=yaml.SafeLoader)
    if node is None:
        return None
    _bounded(node, where)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_file(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    where = f"config error in {path}"
    raw = _read_bytes(path, where)
    try:
        data = _parse(raw, where)
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
            f"got {type(data).__name__} {show(data)}"
        )
    found = unknown_key(data)
    if found:
        raise ConfigError(f"{where}: {found}")
    out: dict[str, Any] = data
    for key in _PATH_KEYS:  # relative to the file's folder
        value = _get(out, key)
        if isinstance(value, str):
            out = _set(out, key, _resolve_path(value, path.parent, env))
    return out


def _choose_file(flags: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Path | None, str]:
    """(path, who named it): None when the default file does not exist."""
    if flags.get("config") is not None:
        return paths.expand_user(str(flags["config"]), env), "--config"
    if env.get(CONFIG_ENV):
        return paths.expand_user(env[CONFIG_ENV], env), CONFIG_ENV
    default = paths.default_config_path(env)
    return (default if default.exists() else None), "default"


def load(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Config:
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
            raise ConfigError(f"config error in {path}: '{'.'.join(key)}' {why}, got {show(value)}")

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
            flag_layer[key] = (str(leaf(key).meta.flag), flags[name])
    layers.append(("command line", flag_layer))

    for where, layer in layers:
        if not layer:
            continue
        for key, (label, raw) in layer.items():
            try:
                value = _convert(raw, key, cwd, env) if isinstance(raw, str) else raw
            except ValueError:
                expected = describe(field_at(key))
                raise ConfigError(
                    f"config error in {where}: {label} must be {expected}, got {show(raw)}"
                ) from None
            if isinstance(value, Path):
                value = str(value if value.is_absolute() else cwd / value)
            data = _set(data, key, value)
        checked = _validate(data)
        if isinstance(checked, ValidationError):
            bad, why, value = _first_error(checked)
            label, raw_value = layer.get(bad, ("'" + ".".join(bad) + "'", value))
            value = value if value is MASKED else raw_value
            raise ConfigError(f"config error in {where}: {label} {why}, got {show(value)}")

    checked = schema().model_validate(data)
    warnings = tuple(_exposed_secrets(path, data)) if path is not None else ()
    return dataclasses.replace(build(Config, checked), source=path, environ=env, warnings=warnings)


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

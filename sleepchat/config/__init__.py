"""Typed configuration: the settings table, and the loader that fills it from every source.

Importing this package is cheap (stdlib only): the schema and the loader, which need pydantic,
load on the first :func:`load_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sleepchat.config.rows import as_dict
from sleepchat.config.table import (
    CONFIG_ENV,
    ENV_VARS,
    FLAG_KEYS,
    SETTINGS,
    Config,
    ConfigError,
    OptionsConfig,
    RecallConfig,
    SleepConfig,
    TimeoutsConfig,
    key_paths,
)
from sleepchat.hosts import host_notices

__all__ = [
    "CONFIG_ENV",
    "ENV_VARS",
    "FLAG_KEYS",
    "SETTINGS",
    "Config",
    "ConfigError",
    "OptionsConfig",
    "RecallConfig",
    "SleepConfig",
    "TimeoutsConfig",
    "as_dict",
    "key_paths",
    "load_config",
    "start_notices",
]


def load_config(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The effective configuration from defaults, the YAML file, ``env`` (default: the process
    environment) and ``flags`` (``--config`` and the settings' flags by name, e.g.
    ``idle_seconds``); raises ConfigError with a one-line message."""
    from sleepchat.config.loader import load

    return load(flags, env)


def start_notices(config: Config, env: Mapping[str, str]) -> list[str]:
    """What to tell the user at start-up: a key others can read, where the conversation
    travels (unencrypted, through a proxy)."""
    notes = list(config.warnings)
    if config.backend != "local":
        notes += host_notices(config.host, env)
    return notes

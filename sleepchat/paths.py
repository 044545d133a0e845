"""Where sleepchat keeps its files, following the XDG base-directory spec.

Every function takes the environment as a mapping (default ``os.environ``) so tests and the
config loader can pass their own without touching the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP = "sleepchat"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$HOME`` from ``env`` when set, else the account's home directory."""
    home = _env(env).get("HOME")
    return Path(home) if home else Path.home()


def expand_user(path: str | Path, env: Mapping[str, str] | None = None) -> Path:
    """Expand a leading ``~`` (only the current user's: ``~name`` is left alone)."""
    text = str(path)
    if text == "~" or text.startswith("~/") or text.startswith("~" + os.sep):
        return home_dir(env) / text[2:] if len(text) > 1 else home_dir(env)
    return Path(text)


def _xdg(env: Mapping[str, str] | None, var: str, fallback: str) -> Path:
    # The spec says relative values are invalid and must be ignored.
    value = _env(env).get(var, "")
    if value and os.path.isabs(value):
        return Path(value)
    return home_dir(env) / fallback


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/sleepchat`` (default ``~/.config/sleepchat``)."""
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / APP


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file read when neither ``--config`` nor ``$SLEEPCHAT_CONFIG`` is given."""
    return config_dir(env) / "config.yaml"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/sleepchat`` (default ``~/.local/share/sleepchat``): sessions, memory."""
    return _xdg(env, "XDG_DATA_HOME", ".local/share") / APP


def models_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/sleepchat-models`` (default ``~/.local/share/sleepchat-models``): the
    embedded models ``sleepchat model get`` fetches. Beside the data dir, not in it: a data dir
    holds only sleepchat's own store, and any other folder in it would make it refused."""
    return _xdg(env, "XDG_DATA_HOME", ".local/share") / f"{APP}-models"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/sleepchat`` (default ``~/.local/state/sleepchat``): logs."""
    return _xdg(env, "XDG_STATE_HOME", ".local/state") / APP


def default_log_file(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "sleepchat.log"


def user_themes_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/sleepchat/themes``: the user's own YAML theme files."""
    return config_dir(env) / "themes"

"""Config: sources and their precedence, every error path, paths, host addresses, logging."""

# ruff: noqa: E501  (tables of whole error messages read best one per line)

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sleepchat import cli, paths
from sleepchat.cli import main
from sleepchat.config import SETTINGS, Config, ConfigError, load_config
from sleepchat.config.rows import Leaf, members
from sleepchat.core.settings import CoreSettings
from sleepchat.llm.base import ModelOptions
from sleepchat.logs import LOGGER_NAME, redact, setup_logging


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private environment: HOME and the XDG folders under tmp_path, nothing else set."""
    home = tmp_path / "home"
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(flags: dict[str, Any] | None, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(flags, env)
    message = info.value.message
    assert info.value.exit_code == 2
    assert "\n" not in message, "a config error is one line"
    assert "Traceback" not in message
    return message


def bad_file(tmp_path: Path, env: dict[str, str], text: str) -> tuple[str, Path]:
    path = write(tmp_path / "bad.yaml", text)
    return error_of({"config": str(path)}, env), path


# --- defaults and sources --------------------------------------------------------------------


def test_defaults_without_any_file(env: dict[str, str]) -> None:
    config = load_config({}, env)
    assert config.source is None
    assert config == Config()
    assert config.host == "http://127.0.0.1:11434"
    assert config.sleep.idle_seconds == 20.0
    home = Path(env["HOME"])
    assert config.resolved_data_dir() == home / "data" / "sleepchat"
    assert config.resolved_log_file() == home / "state" / "sleepchat" / "sleepchat.log"
    assert config.resolved_themes_dir() == home / "cfg" / "sleepchat" / "themes"


def test_default_file_under_xdg_config_home_is_read(env: dict[str, str]) -> None:
    path = write(Path(env["XDG_CONFIG_HOME"]) / "sleepchat" / "config.yaml", "model: from-xdg\n")
    config = load_config({}, env)
    assert config.model == "from-xdg"
    assert config.source == path


def test_sleepchat_config_variable_beats_xdg_file_and_flag_beats_both(
    env: dict[str, str], tmp_path: Path
) -> None:
    write(Path(env["XDG_CONFIG_HOME"]) / "sleepchat" / "config.yaml", "model: from-xdg\n")
    by_env = write(tmp_path / "env.yaml", "model: from-env-file\n")
    by_flag = write(tmp_path / "flag.yaml", "model: from-flag-file\n")
    env["SLEEPCHAT_CONFIG"] = str(by_env)
    assert load_config({}, env).model == "from-env-file"
    assert load_config({"config": str(by_flag)}, env).model == "from-flag-file"
    assert load_config({"config": str(by_flag)}, env).source == by_flag


PRECEDENCE = [
    # file text, env var, env value, flag, flag value, reader, (file, env, flag) results
    ("model: a", "SLEEPCHAT_MODEL", "b", "model", "c", lambda c: c.model, ("a", "b", "c")),
    (
        "host: filehost",
        "OLLAMA_HOST",
        "envhost:1",
        "host",
        "https://flaghost",
        lambda c: c.host,
        ("http://filehost:11434", "http://envhost:1", "https://flaghost:443"),
    ),
    (
        "sleep: {idle_seconds: 1}",
        "SLEEPCHAT_IDLE_SECONDS",
        "2.5",
        "idle_seconds",
        3.0,
        lambda c: c.sleep.idle_seconds,
        (1.0, 2.5, 3.0),
    ),
    (
        "backend: ollama",
        "SLEEPCHAT_BACKEND",
        "local",
        "backend",
        "ollama",
        lambda c: c.backend,
        ("ollama", "local", "ollama"),
    ),
    ("theme: a", "SLEEPCHAT_THEME", "b", "theme", "c", lambda c: c.theme, ("a", "b", "c")),
    (
        "data_dir: /a",
        "SLEEPCHAT_DATA_DIR",
        "/b",
        "data_dir",
        "/c",
        lambda c: c.resolved_data_dir(),
        (Path("/a"), Path("/b"), Path("/c")),
    ),
    (
        "log_file: /a",
        "SLEEPCHAT_LOG_FILE",
        "/b",
        "log_file",
        "/c",
        lambda c: c.resolved_log_file(),
        (Path("/a"), Path("/b"), Path("/c")),
    ),
    (
        "local_model: /a.gguf",
        "SLEEPCHAT_LOCAL_MODEL",
        "/b.gguf",
        None,
        None,
        lambda c: c.local_model,
        ("/a.gguf", "/b.gguf", "/b.gguf"),
    ),
]


@pytest.mark.parametrize(
    ("file_text", "var", "env_value", "flag", "flag_value", "read", "expected"), PRECEDENCE
)
def test_precedence_defaults_file_env_flags(
    env: dict[str, str],
    tmp_path: Path,
    file_text: str,
    var: str,
    env_value: str,
    flag: str | None,
    flag_value: Any,
    read: Any,
    expected: tuple[Any, Any, Any],
) -> None:
    path = write(tmp_path / "c.yaml", file_text + "\n")
    assert read(load_config({}, env)) not in expected  # the default is something else
    assert read(load_config({"config": str(path)}, env)) == expected[0]
    env[var] = env_value
    assert read(load_config({"config": str(path)}, env)) == expected[1]
    if flag is not None:
        assert read(load_config({"config": str(path), flag: flag_value}, env)) == expected[2]
        # a flag given as None (argparse's "not given") does not override
        assert read(load_config({"config": str(path), flag: None}, env)) == expected[1]


def test_debug_from_file_env_and_flag(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "debug: true\n")
    assert load_config({}, env).debug is False
    assert load_config({"config": str(path)}, env).debug is True
    env["SLEEPCHAT_DEBUG"] = "0"
    assert load_config({"config": str(path)}, env).debug is False
    assert load_config({"config": str(path), "debug": True}, env).debug is True


def test_empty_env_value_counts_as_unset(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "host: filehost\n")
    env["OLLAMA_HOST"] = ""
    assert load_config({"config": str(path)}, env).host == "http://filehost:11434"


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEEPCHAT_MODEL", "from-os-environ")
    assert load_config({}).model == "from-os-environ"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_an_empty_file_means_defaults(env: dict[str, str], tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "c.yaml", text)
    config = load_config({"config": str(path)}, env)
    assert config == Config()
    assert config.source == path


def test_nested_file_values_keep_their_siblings_defaults(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path / "c.yaml", "options:\n  num_ctx: 8192\nsleep:\n  enabled: false\n")
    env["SLEEPCHAT_IDLE_SECONDS"] = "5"
    config = load_config({"config": str(path)}, env)
    assert config.options.num_ctx == 8192
    assert config.options.temperature == 0.7
    assert config.sleep.enabled is False
    assert config.sleep.idle_seconds == 5.0
    assert config.sleep.max_predictions == 3


def test_core_settings_and_model_options_carry_the_configured_values(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(
        tmp_path / "c.yaml",
        """
options: {num_ctx: 2048, temperature: 0.1, seed: 7, extra: {top_p: 0.9}}
keep_alive: 1h
system_prompt: Be brief.
max_reply_tokens: 300
sleep:
  enabled: false
  idle_seconds: 4
  budget_tokens: 99
  cooldown_seconds: 8
  max_predictions: 5
  prediction_ttl_turns: 2
  warm_up: false
recall: {method: embedding, threshold: 0.8, embed_model: all-minilm}
""",
    )
    settings = load_config({"config": str(path)}, env).core_settings()
    assert settings.options.to_dict(num_predict=1) == {
        "top_p": 0.9,
        "num_ctx": 2048,
        "temperature": 0.1,
        "seed": 7,
        "num_predict": 1,
    }
    assert settings.system_prompt == "Be brief."
    assert settings.keep_alive == "1h"
    assert settings.max_reply_tokens == 300
    assert (settings.sleep_enabled, settings.idle_seconds, settings.budget_tokens) == (
        False,
        4.0,
        99,
    )
    assert (settings.cooldown_seconds, settings.max_predictions) == (8.0, 5)
    assert (settings.prediction_ttl_turns, settings.warm_up) == (2, False)
    assert settings.recall_threshold == 0.8


def test_keep_alive_accepts_numbers_and_durations(env: dict[str, str], tmp_path: Path) -> None:
    for text, expected in [("-1", -1.0), ("300", 300.0), ("'300'", 300.0), ("1h30m", "1h30m")]:
        path = write(tmp_path / "c.yaml", f"keep_alive: {text}\n")
        assert load_config({"config": str(path)}, env).keep_alive == expected
    path = write(tmp_path / "c.yaml", "keep_alive: null\n")
    assert load_config({"config": str(path)}, env).keep_alive is None


# --- paths -----------------------------------------------------------------------------------


def test_tilde_is_expanded_in_file_env_and_flags(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["HOME"])
    path = write(tmp_path / "c.yaml", "data_dir: ~/chats\nthemes_dir: ~/themes\n")
    config = load_config({"config": str(path)}, env)
    assert config.data_dir == home / "chats"
    assert config.resolved_themes_dir() == home / "themes"
    env["SLEEPCHAT_LOG_FILE"] = "~/logs/s.log"
    assert load_config({}, env).resolved_log_file() == home / "logs" / "s.log"
    assert load_config({"data_dir": "~/flag"}, env).resolved_data_dir() == home / "flag"
    assert load_config({"config": "~/c.yaml"}, env | {"HOME": str(tmp_path)}).source == path


def test_relative_paths_in_a_file_are_relative_to_the_file(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "conf" / "c.yaml", "data_dir: chats\n")
    monkeypatch.chdir(tmp_path)
    assert load_config({"config": str(path)}, env).data_dir == tmp_path / "conf" / "chats"
    # ...and relative paths from the environment or a flag to the working directory
    assert load_config({"data_dir": "here"}, env).data_dir == tmp_path / "here"
    env["SLEEPCHAT_DATA_DIR"] = "there"
    assert load_config({}, env).data_dir == tmp_path / "there"


def test_xdg_paths(tmp_path: Path) -> None:
    home = tmp_path / "h"
    bare = {"HOME": str(home)}
    assert paths.default_config_path(bare) == home / ".config" / "sleepchat" / "config.yaml"
    assert paths.default_data_dir(bare) == home / ".local" / "share" / "sleepchat"
    assert paths.default_log_file(bare) == home / ".local/state/sleepchat/sleepchat.log"
    assert paths.user_themes_dir(bare) == home / ".config" / "sleepchat" / "themes"
    xdg = bare | {"XDG_DATA_HOME": "/x/data", "XDG_STATE_HOME": "/x/state"}
    assert paths.default_data_dir(xdg) == Path("/x/data/sleepchat")
    assert paths.state_dir(xdg) == Path("/x/state/sleepchat")
    # the spec: a relative XDG value is invalid and ignored
    assert paths.config_dir(bare | {"XDG_CONFIG_HOME": "rel"}) == home / ".config" / "sleepchat"


# --- host addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["ftp://x", "x:notaport", "x:99999", "my host", "http://u:p@x", "x?y=1", "a:b:c"]
)
def test_bad_hosts_are_config_errors(env: dict[str, str], bad: str) -> None:
    message = error_of({}, env | {"OLLAMA_HOST": bad})
    assert message.startswith("config error in environment: OLLAMA_HOST must be a server address")
    if "@" in bad:  # credentials are never printed
        assert "u:***@x" in message and ":p@" not in message
    else:
        assert repr(bad) in message


# --- errors ----------------------------------------------------------------------------------


def test_bad_yaml_names_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    message, path = bad_file(tmp_path, env, "model: x\nsleep:\n  idle_seconds: 3: 4\n")
    assert message == (
        f"config error in {path} line 3: invalid YAML (mapping values are not allowed here)"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("model: [unclosed\n", "invalid YAML"),
        ("a: 2024-13-45\n", "invalid YAML (month must be in 1..12)"),
        ("? [a, b]\n: 1\n", "invalid YAML (found unhashable key)"),
        ("model: !!python/object:os.system x\n", "invalid YAML"),
        ("\tmodel: x\n", "invalid YAML"),
    ],
)
def test_other_malformed_yaml(
    env: dict[str, str], tmp_path: Path, text: str, fragment: str
) -> None:
    message, path = bad_file(tmp_path, env, text)
    assert message.startswith(f"config error in {path}")
    assert fragment in message


def test_bytes_that_are_not_text(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"model: \xff\xfe\x00bad\n")
    message = error_of({"config": str(path)}, env)
    assert message.startswith(f"config error in {path}: invalid YAML (")
    assert "UTF-8" in message


@pytest.mark.parametrize(
    ("text", "shown"), [("- a\n- b\n", "list ['a', 'b']"), ("just text\n", "str 'just text'")]
)
def test_top_level_must_be_a_mapping(
    env: dict[str, str], tmp_path: Path, text: str, shown: str
) -> None:
    message, path = bad_file(tmp_path, env, text)
    assert message.startswith(f"config error in {path}: the top level must be a mapping")
    assert message.endswith(f"got {shown}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("modle: x\n", "unknown key 'modle' — did you mean 'model'?"),
        ("sleep:\n  idle_secs: 3\n", "unknown key 'sleep.idle_secs' — did you mean 'sleep.idle_seconds'?"),
        ("options: {num_cxt: 1}\n", "unknown key 'options.num_cxt' — did you mean 'options.num_ctx'?"),
        # right name, wrong level
        ("idle_seconds: 3\n", "unknown key 'idle_seconds' — did you mean 'sleep.idle_seconds'?"),
        ("sleep: {temperature: 1}\n", "unknown key 'sleep.temperature' — did you mean 'options.temperature'?"),
        # dotted instead of nested
        ("sleep.idle_seconds: 3\n", "unknown key 'sleep.idle_seconds' — nest it: 'idle_seconds:' indented under 'sleep:'"),
    ],
)  # fmt: skip
def test_unknown_keys_suggest_the_closest_valid_key(
    env: dict[str, str], tmp_path: Path, text: str, expected: str
) -> None:
    message, path = bad_file(tmp_path, env, text)
    assert message == f"config error in {path}: {expected}"


def test_unknown_key_without_a_close_match_lists_the_valid_keys(
    env: dict[str, str], tmp_path: Path
) -> None:
    message, path = bad_file(tmp_path, env, "recall:\n  zzzz: 1\n")
    assert message == (
        f"config error in {path}: unknown key 'recall.zzzz' "
        "(valid keys here: method, threshold, embed_model, judge, hints)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("options:\n  num_ctx: big\n", "'options.num_ctx' must be an integer ≥ 256, got 'big'"),
        ("options:\n  num_ctx: 100\n", "'options.num_ctx' must be an integer ≥ 256, got 100"),
        ("options: {num_ctx: 4096.5}\n", "'options.num_ctx' must be an integer ≥ 256, got 4096.5"),
        ("options: {temperature: 3}\n", "'options.temperature' must be a number between 0 and 2, got 3"),
        ("options: {temperature: .nan}\n", "'options.temperature' must be a number between 0 and 2, got nan"),
        ("options: {seed: true}\n", "'options.seed' must be an integer or null, got true"),
        ("options: 5\n", "'options' must be a mapping with the keys num_ctx, temperature, seed, extra, got 5"),
        ("options: {extra: {top_p: [1]}}\n", "'options.extra.top_p' must be a number, a string or true/false, got [1]"),
        ("options: {extra: {num_ctx: 1}}\n", "'options.extra' must not set num_ctx (use 'options.num_ctx'), got {'num_ctx': 1}"),
        ("sleep: {idle_seconds: -1}\n", "'sleep.idle_seconds' must be a number ≥ 0, got -1"),
        ("sleep: {idle_seconds: '20'}\n", "'sleep.idle_seconds' must be a number ≥ 0, got '20'"),
        ("sleep: {idle_seconds: .inf}\n", "'sleep.idle_seconds' must be a number ≥ 0, got inf"),
        ("sleep: {max_predictions: 11}\n", "'sleep.max_predictions' must be an integer between 0 and 10, got 11"),
        ("sleep: {prediction_ttl_turns: 0}\n", "'sleep.prediction_ttl_turns' must be an integer ≥ 1, got 0"),
        ("sleep: {enabled: maybe}\n", "'sleep.enabled' must be true or false, got 'maybe'"),
        ("sleep: [1, 2]\n", "'sleep' must be a mapping with the keys enabled, idle_seconds, budget_tokens, cooldown_seconds, max_predictions, prediction_ttl_turns, warm_up, while_typing, predict, followups, got [1, 2]"),
        ("recall: {method: magic}\n", "'recall.method' must be one of 'auto', 'embedding', 'lexical', got 'magic'"),
        ("recall: {threshold: 1.5}\n", "'recall.threshold' must be a number between 0 and 1 or null, got 1.5"),
        ("backend: docker\n", "'backend' must be one of 'auto', 'ollama', 'local', 'openai', got 'docker'"),
        ("model: 3\n", "'model' must be a non-empty string, got 3"),
        ("model: ''\n", "'model' must be a non-empty string, got ''"),
        ("timeouts: {read: 0}\n", "'timeouts.read' must be a number > 0, got 0"),
        ("keep_alive: soon\n", "'keep_alive' must be a duration like '30m' or '1h', a number of seconds, or null, got 'soon'"),
        ("data_dir: 5\n", "'data_dir' must be a path or null, got 5"),
        ("data_dir: ''\n", "'data_dir' must be a path (or null for the default), got ''"),
        ("host: 'x:y'\n", "'host' must be a server address like http://127.0.0.1:11434 (HOST, HOST:PORT or URL), got 'x:y'"),
        ("system_prompt: {a: 1}\n", "'system_prompt' must be a string, got {'a': 1}"),
    ],
)  # fmt: skip
def test_wrong_types_and_out_of_range_values(
    env: dict[str, str], tmp_path: Path, text: str, expected: str
) -> None:
    message, path = bad_file(tmp_path, env, text)
    assert message == f"config error in {path}: {expected}"


def test_a_long_bad_value_is_shortened_to_one_line(env: dict[str, str], tmp_path: Path) -> None:
    message, _ = bad_file(tmp_path, env, "model: [" + ", ".join(["line\\nbreak"] * 40) + "]\n")
    assert len(message) < 200
    assert message.endswith("...")


def test_missing_config_named_by_flag_or_variable(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert error_of({"config": str(missing)}, env) == (
        f"config error in {missing}: file not found (named by --config)"
    )
    assert error_of({}, env | {"SLEEPCHAT_CONFIG": str(missing)}) == (
        f"config error in {missing}: file not found (named by SLEEPCHAT_CONFIG)"
    )


def test_a_folder_is_not_a_config_file(env: dict[str, str], tmp_path: Path) -> None:
    assert error_of({"config": str(tmp_path)}, env) == (
        f"config error in {tmp_path}: is a folder, not a YAML file"
    )


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("SLEEPCHAT_IDLE_SECONDS", "abc", "SLEEPCHAT_IDLE_SECONDS must be a number ≥ 0, got 'abc'"),
        ("SLEEPCHAT_IDLE_SECONDS", "-1", "SLEEPCHAT_IDLE_SECONDS must be a number ≥ 0, got '-1'"),
        ("SLEEPCHAT_IDLE_SECONDS", "nan", "SLEEPCHAT_IDLE_SECONDS must be a number ≥ 0, got 'nan'"),
        ("SLEEPCHAT_DEBUG", "maybe", "SLEEPCHAT_DEBUG must be true or false, got 'maybe'"),
        ("SLEEPCHAT_BACKEND", "gpu", "SLEEPCHAT_BACKEND must be one of 'auto', 'ollama', 'local', 'openai', got 'gpu'"),
        ("OLLAMA_HOST", "h:0x", "OLLAMA_HOST must be a server address like http://127.0.0.1:11434 (HOST, HOST:PORT or URL), got 'h:0x'"),
    ],
)  # fmt: skip
def test_bad_environment_values_name_the_variable(
    env: dict[str, str], var: str, value: str, expected: str
) -> None:
    assert error_of({}, env | {var: value}) == f"config error in environment: {expected}"


def test_bad_flag_values_name_the_flag(env: dict[str, str]) -> None:
    assert error_of({"idle_seconds": -2.0}, env) == (
        "config error in command line: --idle-seconds must be a number ≥ 0, got -2"
    )
    assert error_of({"host": "ftp://x"}, env).startswith(
        "config error in command line: --host must be a server address"
    )


def test_cli_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "c.yaml", "sleep:\n  idle_secs: 3\n")
    assert main(["--config", str(path), "doctor"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"sleepchat: config error in {path}: unknown key 'sleep.idle_secs' — "
        "did you mean 'sleep.idle_seconds'?\n"
    )


# --- the settings table ----------------------------------------------------------------------


def _sample(s: Leaf) -> str:
    """A valid value for ``s`` other than its default, as typed on a command line."""
    kinds, _ = members(s.type)
    if typing.get_origin(kinds[0]) is typing.Literal:
        return next(c for c in typing.get_args(kinds[0]) if c != s.default)
    if float in kinds or int in kinds:
        return "7"
    return "elsewhere"


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.meta.flag], ids=lambda s: s.meta.flag)
def test_every_flag_in_the_table_sets_its_key(env: dict[str, str], s: Leaf) -> None:
    argv = [s.meta.flag] if bool in members(s.type)[0] else [s.meta.flag, _sample(s)]
    for where in ([*argv, "doctor"], ["doctor", *argv]):  # before and after the sub-command
        config = load_config(cli._flags(cli.build_parser().parse_args(where)), env)
        assert s.value(config) != s.default, where


@pytest.mark.parametrize(
    ("var", "s"), [pytest.param(var, s, id=var) for s in SETTINGS for var in s.envs]
)
def test_every_environment_variable_in_the_table_sets_its_key(
    env: dict[str, str], var: str, s: Leaf
) -> None:
    value = "1" if bool in members(s.type)[0] else _sample(s)
    assert s.value(load_config({}, env | {var: value})) != s.default


def test_a_keys_first_environment_variable_wins(env: dict[str, str]) -> None:
    both = {"SLEEPCHAT_API_KEY": "ours", "OPENAI_API_KEY": "generic"}
    assert load_config({}, env | both).secret_key() == "ours"


def test_a_flag_left_out_keeps_the_value_from_the_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "debug: true\nmodel: from-file\n")
    config = load_config(cli._flags(cli.build_parser().parse_args(["--config", str(path)])), env)
    assert config.debug is True and config.model == "from-file"


def test_the_core_settings_defaults_are_the_tables() -> None:
    # CoreSettings keeps its own defaults (the core cannot import the table): they must agree.
    from_table = Config().core_settings()
    assert dataclasses.replace(from_table, options=ModelOptions()) == CoreSettings()


def test_the_command_line_is_parsed_without_pydantic() -> None:
    # The TUI's launch time starts in cli.py: the schema (pydantic) loads after the first frame.
    code = (
        "import sys, sleepchat.cli as c; c.build_parser().parse_args(['--debug']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'yaml')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- logging ---------------------------------------------------------------------------------


@pytest.fixture
def clean_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger(LOGGER_NAME)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_log_file_is_private_and_nothing_goes_to_the_terminal(
    tmp_path: Path, clean_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "state" / "sleepchat" / "sleepchat.log"
    setup_logging(log_file, debug=False)
    clean_logger.info("reply done: %s", redact("my secret question", debug=False))
    clean_logger.debug("not at info level")
    for handler in clean_logger.handlers:
        handler.flush()
    assert stat.S_IMODE(os.stat(log_file.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(log_file).st_mode) == 0o600
    text = log_file.read_text(encoding="utf-8")
    assert "reply done: <18 chars>" in text
    assert "secret" not in text
    assert "not at info level" not in text
    assert capsys.readouterr() == ("", "")


def test_debug_logging_keeps_text(tmp_path: Path, clean_logger: logging.Logger) -> None:
    log_file = tmp_path / "s.log"
    setup_logging(log_file, debug=True)
    clean_logger.debug("asked: %s", redact("my question", debug=True))
    for handler in clean_logger.handlers:
        handler.flush()
    assert "asked: my question" in log_file.read_text(encoding="utf-8")


def test_unwritable_log_file_warns_once_and_carries_on(
    tmp_path: Path, clean_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = write(tmp_path / "file", "x")  # a file where the log folder should be
    setup_logging(blocker / "sleepchat.log", debug=False)
    clean_logger.warning("this must not reach the terminal")
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"sleepchat: warning: cannot write the log file {blocker}")


def test_sleep_predict_reaches_the_core_and_a_wrong_value_is_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sleep:\n  predict: never\n")
    assert load_config({"config": str(good)}).core_settings().predict == "never"
    assert load_config({}).core_settings().predict == "auto"
    bad = tmp_path / "bad.yaml"
    bad.write_text("sleep:\n  predict: sometimes\n")
    with pytest.raises(ConfigError) as err:
        load_config({"config": str(bad)})
    assert "sleep.predict" in err.value.message and "\n" not in err.value.message

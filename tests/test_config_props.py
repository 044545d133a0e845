"""Property tests for the config loader: any input gives a Config or one ConfigError line, and a
valid config survives a round trip through YAML unchanged."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sleepchat.config import ENV_VARS, Config, ConfigError, as_dict, key_paths, load_config
from sleepchat.config.rows import fields_of, is_section

# Quick in CI; the full fault run sets SLEEPCHAT_PROPERTY_EXAMPLES (e.g. 5000).
SETTINGS = settings(
    max_examples=int(os.environ.get("SLEEPCHAT_PROPERTY_EXAMPLES", "100")), deadline=None
)

# Keys users would plausibly write (valid ones and near misses) plus arbitrary text.
KNOWN_KEYS = sorted({part for key in key_paths() for part in key.split(".")})
keys = st.sampled_from(
    [*KNOWN_KEYS, "idle_secs", "modle", "sleep.idle_seconds", "\n", "a\tb", "\x85"]
) | st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["30m", "0.0.0.0", "myhost:1234", "https://x", "~/d", "", "lexical"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _shaped(section: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings with the schema's own keys and arbitrary values: exercises every value check."""
    fields = {}
    for f, annotation, _row in fields_of(section):
        fields[f.name] = (_shaped(annotation) | values) if is_section(annotation) else values
    return st.fixed_dictionaries({}, optional=fields)


documents = st.dictionaries(keys, values, max_size=6) | _shaped(Config)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # module-scoped: hypothesis reruns the test body many times within one fixture instance
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _load(folder: Path, content: bytes) -> Config | ConfigError:
    path = folder / "config.yaml"
    path.write_bytes(content)
    env = {"HOME": str(folder / "home")}
    try:
        return load_config({"config": str(path)}, env)
    except ConfigError as exc:  # anything else fails the test: it would be a traceback
        assert exc.exit_code == 2
        assert "\n" not in exc.message
        assert exc.message.startswith(f"config error in {path}")
        return exc


@SETTINGS
@given(documents)
def test_any_yaml_mapping_loads_or_gives_one_config_error(folder: Path, doc: Any) -> None:
    _load(folder, yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))


@SETTINGS
@given(values)
def test_any_yaml_document_loads_or_gives_one_config_error(folder: Path, doc: Any) -> None:
    _load(folder, yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_never_give_a_traceback(folder: Path, content: bytes) -> None:
    _load(folder, content)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(sorted(ENV_VARS)),
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"),
            max_size=20,
        ),
    )
)
def test_any_environment_loads_or_gives_one_config_error(folder: Path, env: dict[str, str]) -> None:
    try:
        load_config({}, {"HOME": str(folder / "home"), **env})
    except ConfigError as exc:
        assert "\n" not in exc.message
        assert exc.message.startswith("config error in environment: ")
        assert any(var in exc.message for var in env)


# --- valid configs round-trip ----------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=20
).filter(str.strip)
hostnames = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?", fullmatch=True)
hosts = st.builds(
    lambda scheme, name, port: f"{scheme}{name}" + (f":{port}" if port else ""),
    st.sampled_from(["", "http://", "https://"]),
    hostnames | st.sampled_from(["127.0.0.1", "0.0.0.0", "[::1]", "10.0.0.2"]),
    st.none() | st.integers(1, 65535),
)
abs_paths = st.lists(
    st.text(alphabet="abcxyz_-.0123456789", min_size=1, max_size=8).filter(
        lambda p: p not in (".", "..")
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: "/" + "/".join(parts))

valid_configs = st.fixed_dictionaries(
    {},
    optional={
        "backend": st.sampled_from(["auto", "ollama", "local"]),
        "host": hosts,
        "model": names,
        "local_model": names,
        "options": st.fixed_dictionaries(
            {},
            optional={
                "num_ctx": st.integers(256, 2**20),
                "temperature": st.floats(0, 2),
                "seed": st.none() | st.integers(-(2**31), 2**31),
                "extra": st.dictionaries(
                    st.sampled_from(["top_p", "top_k", "num_thread", "stop", "mirostat"]),
                    st.integers(-5, 5) | finite | st.booleans() | names,
                    max_size=3,
                ),
            },
        ),
        "keep_alive": st.none()
        | finite
        | st.sampled_from(["30m", "1h", "-1m", "1h30m", "300ms", "2.5h"]),
        "timeouts": st.fixed_dictionaries(
            {},
            optional={
                "connect": st.floats(min_value=0.001, max_value=1e6),
                "read": st.floats(min_value=0.001, max_value=1e6),
            },
        ),
        "system_prompt": st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80),
        "max_reply_tokens": st.none() | st.integers(1, 10**6),
        "data_dir": st.none() | abs_paths,
        "theme": names,
        "themes_dir": st.none() | abs_paths,
        "log_file": st.none() | abs_paths,
        "debug": st.booleans(),
        "sleep": st.fixed_dictionaries(
            {},
            optional={
                "enabled": st.booleans(),
                "idle_seconds": st.floats(0, 1e9),
                "budget_tokens": st.integers(0, 10**7),
                "cooldown_seconds": st.floats(0, 1e9),
                "max_predictions": st.integers(0, 10),
                "prediction_ttl_turns": st.integers(1, 1000),
                "warm_up": st.booleans(),
            },
        ),
        "recall": st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["auto", "embedding", "lexical"]),
                "threshold": st.none() | st.floats(0, 1),
                "embed_model": st.none() | names,
            },
        ),
    },
)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "extra":
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


@SETTINGS
@given(valid_configs)
def test_valid_configs_load_with_their_values_and_round_trip(
    folder: Path, doc: dict[str, Any]
) -> None:
    # Escaped non-ASCII: PyYAML writes U+0085 raw with allow_unicode and reads it back as a space.
    loaded = _load(folder, yaml.safe_dump(doc).encode("utf-8"))
    assert isinstance(loaded, Config), loaded
    dumped = as_dict(loaded)
    flat = _flatten(dumped)
    for key, value in _flatten(doc).items():
        if key == "host":
            continue  # normalised; checked below by the round trip
        if key == "keep_alive" and isinstance(value, (int, float)) and not isinstance(value, bool):
            assert flat[key] == float(value)
        elif key.endswith(("data_dir", "themes_dir", "log_file")) and value is not None:
            assert Path(flat[key]) == Path(value)
        else:
            assert flat[key] == value, key
    # dump -> load gives the same values (host normalisation and paths included)
    again = _load(folder, yaml.safe_dump(dumped).encode("utf-8"))
    assert isinstance(again, Config), again
    assert again == loaded
    assert again.core_settings() == loaded.core_settings()

"""config.example.yaml and the README's key table say what the settings table says: the same
keys, defaults, environment variables and flags (a new setting is documented or this fails)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sleepchat.config import SETTINGS, Config, key_paths, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
ROWS = {s.key: s for s in SETTINGS}
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<name>[a-z_]+):")


def _example_keys() -> dict[str, list[str]]:
    """Each key path of the example file -> the comment lines right above it."""
    out: dict[str, list[str]] = {}
    stack: list[str] = []
    comments: list[str] = []
    for line in EXAMPLE.splitlines():
        if line.lstrip().startswith("#"):
            comments.append(line.strip())
            continue
        match = _KEY_LINE.match(line)
        if match and len(match["indent"]) // 2 <= len(stack):
            stack = [*stack[: len(match["indent"]) // 2], match["name"]]
            out[".".join(stack)] = comments
        comments = []
    return out


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and f"{prefix}{key}" not in ROWS:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def test_the_example_file_sets_every_key_to_its_default(tmp_path: Path) -> None:
    values = _flat(yaml.safe_load(EXAMPLE))
    assert sorted(values) == sorted(key_paths())
    for key, value in values.items():
        assert value == ROWS[key].default, key
    path = tmp_path / "config.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    assert load_config({"config": str(path)}, {"HOME": str(tmp_path)}) == Config()


def test_the_example_file_explains_each_key_with_its_env_var_and_flag() -> None:
    keys = _example_keys()
    sections = {k for k in keys if k not in ROWS}
    assert sections == {".".join(s.path[:i]) for s in SETTINGS for i in range(1, len(s.path))}
    for key, comments in keys.items():
        assert comments, f"{key} has no comment above it"
        if key in sections:
            continue
        text = " ".join(comments)
        row = ROWS[key]
        envs = re.findall(r"\benv ([A-Z_]+(?: \(or [A-Z_]+\))?)", text)
        assert re.findall(r"[A-Z_]{2,}", " ".join(envs)) == list(row.envs), key
        flags = re.findall(r"\bflag (--[a-z-]+)", text)
        assert flags == ([row.meta.flag] if row.meta.flag else []), key


def _readme_rows() -> dict[str, list[str]]:
    """The README's key table: key -> [env, flag, default] cells."""
    section = README[README.index("## Configuration") :]
    lines = section.splitlines()
    start = lines.index("| key | env | flag | default |")
    out: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = re.match(r"`([a-z_.]+)`", cells[0])
        assert key, line
        out[key.group(1)] = cells[1:]
    return out


def _code(cell: str) -> str | None:
    match = re.search(r"`([^`]*)`", cell)
    return match.group(1) if match else None


def test_the_readme_key_table_lists_every_key_with_its_env_var_flag_and_default() -> None:
    rows = _readme_rows()
    assert sorted(rows) == sorted(key_paths())
    for key, (env, flag, default) in rows.items():
        row = ROWS[key]
        assert re.findall(r"`([^`]*)`", env) == list(row.envs), key
        assert _code(flag) == row.meta.flag, key
        shown = _code(default)
        if shown is None:  # a long text is only in config.example.yaml
            assert isinstance(row.default, str) and len(row.default) > 60, key
        else:
            assert yaml.safe_load(shown) == row.default, key

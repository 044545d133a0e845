"""Error messages for the config: what a key expects, the value as written, the closest key.

Reads the generated schema's fields (types, bounds, the ``expected`` wording of a row).
"""

from __future__ import annotations

import difflib
import reprlib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sleepchat.config.rows import members
from sleepchat.config.schema import schema
from sleepchat.config.table import key_paths


def _model_of(field: FieldInfo) -> type[BaseModel] | None:
    for member in members(field.annotation)[0]:
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(field: FieldInfo) -> str:
    """What a valid value of ``field`` looks like, e.g. "a number ≥ 0 or null"."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("expected"), str):
        return str(extra["expected"])
    kinds, nullable = members(field.annotation)
    words: list[str] = []
    for member in kinds:
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


MASKED = _Masked()  # stands for a secret's value in a message


def _is_secret(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get("secret") is True


_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlong = 3, 60, 60, 40
_SHOW.maxlist = _SHOW.maxtuple = _SHOW.maxdict = _SHOW.maxset = 6


def show(value: Any) -> str:
    """A value as the user wrote it, on one short line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    try:  # bounded: a value may be huge, or (through YAML aliases) share itself many times
        text = _SHOW.repr(value)
    except Exception:  # a value whose repr fails must not turn an error message into a crash
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return dict(model.model_fields)


def field_at(path: tuple[str, ...]) -> FieldInfo:
    model: type[BaseModel] | None = schema()
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


def unknown_key(
    data: Mapping[Any, Any], model: type[BaseModel] | None = None, prefix: str = ""
) -> str | None:
    """A message for the first key that is not in the schema, or None."""
    model = model or schema()
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
            found = unknown_key(value, sub, f"{prefix}{key}.")
            if found:
                return found
    return None


def explain(error: Mapping[str, Any]) -> tuple[tuple[str, ...], str, Any]:
    """(key path, "must be ...", the bad value) for one pydantic error."""
    model: type[BaseModel] | None = schema()
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
    expected = describe(field)
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

"""How a row of the settings table is declared (:func:`setting`, :func:`section`) and read
(:func:`fields_of`, :class:`Leaf`). Stdlib only, like the table."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_META = "sleepchat.setting"


@dataclass(frozen=True, eq=False)  # metadata, never compared: cheaper to create at start-up
class Setting:
    """What a key has besides its name, type and default (those are the dataclass field's)."""

    help: str
    env: str | tuple[str, ...] | None = None  # environment variable(s); the first one wins
    flag: str | None = None  # command-line flag, e.g. --idle-seconds
    metavar: str | None = None
    core: str | None = None  # the CoreSettings field it feeds
    # what the schema enforces beyond the type (error messages name it)
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    expected: str | None = None  # how to describe a valid value, where the type says too little
    expected_item: str | None = None  # for a mapping: how to describe one entry
    check: Callable[[Any], Any] | None = None  # normalises, or raises ValueError("must ...")
    secret: bool = False  # never printed: not in repr, not quoted back in an error


def setting(default: Any, help: str, **row: Any) -> Any:
    """A key of a section: its default and the rest of its row (see :class:`Setting`)."""
    meta = Setting(help, **row)
    kw: dict[str, Any] = {"metadata": {_META: meta}, "repr": not meta.secret}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), **kw)
    return field(default=default, **kw)


def section(cls: type) -> Any:
    """A nested mapping of keys (``sleep:``), all at their defaults unless set; its help is the
    class's docstring."""
    return field(default_factory=cls, metadata={_META: Setting(cls.__doc__ or "")})


def members(annotation: Any) -> tuple[list[Any], bool]:
    """The member types of an annotation (Annotated and Optional removed) and its nullability."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        nullable = False
        for arg in typing.get_args(annotation):
            if arg is type(None):
                nullable = True
                continue
            inner, inner_null = members(arg)
            out.extend(inner)
            nullable = nullable or inner_null
        return out, nullable
    return [annotation], False


def is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


@dataclass(frozen=True, eq=False)
class Leaf:
    """One row of the table: a key that holds a value (not a section)."""

    path: tuple[str, ...]
    type: Any
    default: Any
    meta: Setting

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def envs(self) -> tuple[str, ...]:
        """Its environment variables, the one that wins first."""
        env = self.meta.env
        return (env,) if isinstance(env, str) else tuple(env or ())

    @property
    def dest(self) -> str | None:
        """The flag's name in ``load_config(flags=...)`` (``--idle-seconds``: ``idle_seconds``)."""
        return self.meta.flag[2:].replace("-", "_") if self.meta.flag else None

    def value(self, config: Any) -> Any:
        for part in self.path:
            config = getattr(config, part)
        return config


def fields_of(cls: type) -> tuple[tuple[dataclasses.Field[Any], Any, Setting], ...]:
    """(field, resolved type, row) for each key of a section, in order."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f, hints[f.name], f.metadata[_META])
        for f in dataclasses.fields(cls)
        if _META in f.metadata
    )


def default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def leaves(cls: type, prefix: tuple[str, ...] = ()) -> list[Leaf]:
    """Every key of ``cls`` and of its sections, depth first, in order."""
    out: list[Leaf] = []
    for f, annotation, meta in fields_of(cls):
        if is_section(annotation):
            out.extend(leaves(annotation, (*prefix, f.name)))
        else:
            out.append(Leaf((*prefix, f.name), annotation, default_of(f), meta))
    return out


def as_dict(section_value: Any) -> dict[str, Any]:
    """The settings of a config (or one of its sections) as plain YAML data (paths as text)."""
    out: dict[str, Any] = {}
    for f, annotation, _meta in fields_of(type(section_value)):
        value = getattr(section_value, f.name)
        if is_section(annotation):
            value = as_dict(value)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out

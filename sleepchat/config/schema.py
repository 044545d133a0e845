"""The YAML schema, generated from the settings table: pydantic models with strict types.

Built on first use (pydantic costs ~100 ms to import: the TUI paints before this loads).
"""

from __future__ import annotations

import functools
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from sleepchat import paths
from sleepchat.config.rows import Setting, default_of, fields_of, is_section, members
from sleepchat.config.table import Config

T = TypeVar("T")
_STRICT: dict[Any, Any] = {bool: StrictBool, int: StrictInt, float: StrictFloat, str: StrictStr}
_MODEL_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)


def _check_path(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or "\0" in value):
        raise ValueError("must be a path (or null for the default)")
    if isinstance(value, str | Path):
        return paths.expand_user(value)
    return value


def _strict(annotation: Any) -> Any:
    """``annotation`` with bool/int/float/str made strict (YAML's "20" is not a number)."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return annotation
    args = typing.get_args(annotation)
    if origin is dict:
        return dict[_strict(args[0]), _strict(args[1])]  # type: ignore[misc]
    if args:  # a union
        return typing.Union[tuple(_strict(a) for a in args)]  # noqa: UP007
    if is_section(annotation):
        return model_for(annotation)
    return _STRICT.get(annotation, annotation)


def _field(annotation: Any, default: Any, meta: Setting) -> tuple[Any, Any]:
    kind = _strict(annotation)
    if meta.check is not None:
        kind = Annotated[kind, AfterValidator(meta.check)]
    if Path in members(annotation)[0]:
        kind = Annotated[kind, BeforeValidator(_check_path)]
    bounds = {k: getattr(meta, k) for k in ("ge", "gt", "le", "min_length")}
    extra: dict[str, Any] = {
        k: getattr(meta, k) for k in ("expected", "expected_item") if getattr(meta, k)
    }
    if meta.secret:
        extra["secret"] = True  # error messages never quote the value
    return kind, Field(
        default=default,
        json_schema_extra=extra or None,
        **{k: v for k, v in bounds.items() if v is not None},
    )


@functools.cache
def model_for(section: type) -> type[BaseModel]:
    """The pydantic model that validates ``section`` (a dataclass of the settings table)."""
    defs: dict[str, Any] = {}
    for f, annotation, meta in fields_of(section):
        if is_section(annotation):
            defs[f.name] = (model_for(annotation), Field(default_factory=model_for(annotation)))
        else:
            defs[f.name] = _field(annotation, default_of(f), meta)
    return create_model(section.__name__, __config__=_MODEL_CONFIG, **defs)


def schema() -> type[BaseModel]:
    return model_for(Config)


def build(section: type[T], model: BaseModel) -> T:
    """The typed settings from a validated model."""
    values = {}
    for f, annotation, _meta in fields_of(section):
        value = getattr(model, f.name)
        values[f.name] = build(annotation, value) if is_section(annotation) else value
    return section(**values)

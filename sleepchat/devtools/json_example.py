"""Build a small instance that validates against a JSON schema (pydantic's dialect).

The fake Ollama uses it to answer ``format=`` requests the way a constrained model would:
always schema-valid JSON, whatever the schema asks for.
"""

from __future__ import annotations

import math
from typing import Any

_MAX_DEPTH = 12
_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z",
    "date": "2025-01-01",
    "time": "12:00:00",
    "duration": "PT1H",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
}


def example_from_schema(schema: dict[str, Any]) -> Any:
    """A minimal valid instance: every property present, one item per array (or minItems)."""
    return _build(schema, schema, "value", 0)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def _text_for(name: str, schema: dict[str, Any]) -> str:
    base = {
        "question": "What should I do next?",
        "answer": "Start with the smallest step that tests the idea, then iterate.",
        "text": f"A short note about {name}.",
        "reason": "It no longer applies.",
    }.get(name, f"example {name}")
    min_len = int(schema.get("minLength", 0))
    max_len = schema.get("maxLength")
    if len(base) < min_len:
        base = base + "x" * (min_len - len(base))
    if max_len is not None:
        base = base[: int(max_len)]
    return base


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    upper = schema.get("maximum")
    upper_x = schema.get("exclusiveMaximum")
    if "minimum" in schema:
        value = float(schema["minimum"])
    elif "exclusiveMinimum" in schema:
        low = float(schema["exclusiveMinimum"])
        high = upper if upper is not None else upper_x
        value = low + 1 if integer or high is None else (low + float(high)) / 2
    elif upper is not None and upper < 0:
        value = float(upper)
    elif upper_x is not None and upper_x <= 0:
        value = float(upper_x) - 1
    else:
        value = 0.0
    return math.ceil(value) if integer else value


def _build(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _build({**_resolve(schema["$ref"], root), **rest}, root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _build(options[0], root, name, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part["$ref"], root) if "$ref" in part else part)
        return _build(merged, root, name, depth + 1)

    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"

    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        return {key: _build(sub, root, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        if "prefixItems" in schema:  # a tuple
            return [_build(sub, root, name, depth + 1) for sub in schema["prefixItems"]]
        count = max(1, int(schema.get("minItems", 0)))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        item_schema = schema.get("items", {})
        singular = name[:-1] if name.endswith("s") else name
        return [_build(item_schema, root, singular, depth + 1) for _ in range(count)]
    if kind == "string":
        return _FORMATS.get(str(schema.get("format"))) or _text_for(name, schema)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return False
    return None

"""What a simulated person enters into a form: one value per field that passes its type and constraints, or a
value for a JSON schema."""

from __future__ import annotations

import math
from typing import Any, Mapping

from .models import UserTaskField

_SAMPLE_BY_TYPE: dict[str, Any] = {"boolean": False, "date": "2024-01-01"}
_WHOLE = ("long", "integer")


def sample_form_data(fields: list[UserTaskField],
                     constraints: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One value per field (`constraints`: Camunda's validation constraints by field id, name to config); a
    read-only field is left out, as Tasklist does not submit it."""
    data: dict[str, Any] = {}
    for field in fields:
        own = (constraints or {}).get(field.id) or {}
        if "readonly" not in own:
            data[field.id] = sample_value(field, own)
    return data


def sample_value(field: UserTaskField, constraints: Mapping[str, Any] | None = None) -> Any:
    """Its default, else its first option, else a value of its type: a number at its `min` (or `max`), text a
    person must enter is its label (cut or padded to `maxlength`/`minlength`), else empty text."""
    constraints = constraints or {}
    if field.default is not None:
        return _typed(field.default, field.type)
    if field.options:
        return field.options[0]
    if field.type in _WHOLE + ("number",):
        low, high = _number(constraints.get("min")), _number(constraints.get("max"))
        value: float = 0
        if low is not None and value < low:
            value = math.ceil(low) if field.type in _WHOLE else low
        elif high is not None and value > high:
            value = math.floor(high) if field.type in _WHOLE else high
        return int(value) if field.type in _WHOLE or value == 0 else value
    if field.type in _SAMPLE_BY_TYPE:
        return _SAMPLE_BY_TYPE[field.type]
    text = (field.label or field.id) if field.required else ""
    longest = _number(constraints.get("maxlength"))
    shortest = _number(constraints.get("minlength"))
    if longest is not None:
        text = text[:int(longest)]
    if shortest is not None and len(text) < shortest:
        text += "x" * (int(shortest) - len(text))
    return text


def _typed(value: Any, field_type: str) -> Any:
    """Camunda writes form defaults as text: `true`, `5`; a person's answer has the field's type."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if field_type == "boolean":  # anything but `true` (`No`, `false`) is false
        return text.lower() == "true"
    if field_type in _WHOLE:
        try:
            return int(text)
        except ValueError:
            return value
    if field_type == "number":
        try:
            return float(text)
        except ValueError:
            return value
    return value


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def sample_from_schema(schema: Any, depth: int = 0) -> Any:
    """A value a person could enter for a JSON schema: its default, else its first example, enum value or const,
    else a value of its type (objects filled property by property)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            return sample_from_schema(choices[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and isinstance(schema.get("properties"), dict)):
        return {k: sample_from_schema(v, depth + 1) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        minimum = schema.get("minItems") or 0
        return [sample_from_schema(schema.get("items"), depth + 1) for _ in range(int(minimum))]
    if kind == "string" and schema.get("format") == "date":
        return "2024-01-01"
    return {"string": "", "integer": 0, "number": 0, "boolean": False}.get(str(kind))

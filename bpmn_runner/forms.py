"""Camunda 7 generated task forms (`camunda:formData`): field types and validation constraints, checked the way
Tasklist checks a submitted form, with an error that names the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from .errors import InvalidOperationError

#: Camunda's default date form-field pattern (dd/MM/yyyy); ISO dates are accepted too.
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def check_submission(fields: list[Mapping[str, Any]], submitted: Mapping[str, Any],
                     current: Mapping[str, Any], *, element_id: str | None = None,
                     instance_id: str | None = None) -> dict[str, Any]:
    """The submitted values converted to each field's type; InvalidOperationError naming the first bad field.

    A field is checked when it is submitted, or when it is required (then the variable may already hold it)."""
    out = dict(submitted)
    for field in fields:
        name = str(field.get("id") or "")
        constraints = {str(n): c for n, c in field.get("constraints") or []}
        given = name in submitted
        if given and "readonly" in constraints:
            raise _invalid(field, "is read-only and cannot be submitted", element_id, instance_id)
        value = submitted[name] if given else current.get(name)
        if value is None or value == "":
            if "required" in constraints:
                raise _invalid(field, "is required", element_id, instance_id)
            continue
        if not given:
            continue
        value = _convert(field, value, element_id, instance_id)
        _check_constraints(field, value, constraints, element_id, instance_id)
        out[name] = value
    return out


def _convert(field: Mapping[str, Any], value: Any, element_id: str | None, instance_id: str | None) -> Any:
    kind = str(field.get("type") or "string")
    if kind == "long":
        if isinstance(value, bool) or not isinstance(value, (int, str)) or \
                (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
            raise _invalid(field, f"must be a whole number (long), not {value!r}", element_id, instance_id)
        return int(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _invalid(field, f"must be true or false (boolean), not {value!r}", element_id, instance_id)
    if kind == "date":
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(str(value).strip(), pattern).date().isoformat()
            except ValueError:
                continue
        raise _invalid(field, f"must be a date like 31/01/2025 (dd/MM/yyyy), not {value!r}", element_id,
                       instance_id)
    if kind == "enum":
        options = [str(o) for o in field.get("options") or []]
        if str(value) not in options:
            raise _invalid(field, f"must be one of {', '.join(options)}, not {value!r}", element_id, instance_id)
        return str(value)
    return value if not isinstance(value, (int, float, bool)) else str(value)


def _check_constraints(field: Mapping[str, Any], value: Any, constraints: Mapping[str, Any],
                       element_id: str | None, instance_id: str | None) -> None:
    for name, config in constraints.items():
        if name in ("minlength", "maxlength"):
            limit = _number(config)
            length = len(str(value))
            if limit is not None and (length < limit if name == "minlength" else length > limit):
                word = "at least" if name == "minlength" else "at most"
                raise _invalid(field, f"must have {word} {limit:g} characters", element_id, instance_id)
        elif name in ("min", "max"):
            limit = _number(config)
            number = _number(value)
            if limit is not None and number is not None and (number < limit if name == "min" else number > limit):
                word = "at least" if name == "min" else "at most"
                raise _invalid(field, f"must be {word} {limit:g}", element_id, instance_id)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _invalid(field: Mapping[str, Any], problem: str, element_id: str | None,
             instance_id: str | None) -> InvalidOperationError:
    label = field.get("label") or field.get("id")
    shown = f"{field.get('id')!r}" + (f" ({label})" if label and label != field.get("id") else "")
    return InvalidOperationError(f"form field {shown} {problem}", element_id=element_id, instance_id=instance_id)

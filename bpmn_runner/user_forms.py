"""User task forms beyond Camunda 7 formData: SpiffArena JSON-schema files, Camunda 8 forms, their fields, data a
simulated person would enter, and the check of submitted data against a JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InvalidOperationError
from .models import UserTaskField

_FIELD_TYPES = {"integer": "long", "number": "number", "boolean": "boolean"}
_SAMPLE_BY_TYPE: dict[str, Any] = {"long": 0, "integer": 0, "number": 0, "boolean": False, "date": "2024-01-01"}


def find_form_file(diagram: Path, filename: str) -> Path | None:
    """A SpiffArena form file named by a user task: beside the diagram, or in its forms/ folder (never a path
    outside the diagram's folder)."""
    name = Path(str(filename)).name
    folder = diagram.parent
    return next((p for p in (folder / name, folder / "forms" / name) if p.is_file()), None)


def read_json_schema(path: Path) -> dict[str, Any] | None:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return schema if isinstance(schema, dict) else None


def schema_fields(schema: dict[str, Any]) -> list[UserTaskField]:
    """The top-level properties of a JSON schema as form fields (title, type, default, required, choices)."""
    required = set(schema.get("required") or [])
    fields = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        options = [str(v) for v in prop.get("enum") or []] or \
            [str(o.get("const")) for o in prop.get("oneOf") or prop.get("anyOf") or []
             if isinstance(o, dict) and "const" in o]
        kind = _FIELD_TYPES.get(str(prop.get("type")), "string")
        fields.append(UserTaskField(key, str(prop.get("title") or key), kind, prop.get("default"),
                                    key in required, options))
    return fields


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


_C8_TYPES = {"number": "number", "checkbox": "boolean", "checklist": "enum", "datetime": "date"}


def camunda8_fields(form: dict[str, Any]) -> list[UserTaskField]:
    """The input components of a Camunda 8 form (form-js schema), groups and dynamic lists flattened."""
    fields: list[UserTaskField] = []
    stack = list(reversed(form.get("components") or []))
    while stack:
        component = stack.pop()
        if not isinstance(component, dict):
            continue
        stack.extend(reversed(component.get("components") or []))
        key = component.get("key")
        if not key or component.get("type") in ("button", "text", "image", "spacer", "separator", "html"):
            continue
        options = [str(v.get("value")) for v in component.get("values") or [] if isinstance(v, dict)]
        kind = _C8_TYPES.get(str(component.get("type")), "enum" if options else "string")
        required = bool((component.get("validate") or {}).get("required"))
        fields.append(UserTaskField(str(key), str(component.get("label") or key), kind, component.get("defaultValue"),
                                    required, options))
    return fields


def sample_form_data(fields: list[UserTaskField]) -> dict[str, Any]:
    """One value per field: its default, else its first option, else a value of its type."""
    data: dict[str, Any] = {}
    for field in fields:
        if field.default is not None:
            data[field.id] = _typed(field.default, field.type)
        elif field.options:
            data[field.id] = field.options[0]
        elif field.required and field.type not in _SAMPLE_BY_TYPE:  # text a person must enter: its label
            data[field.id] = field.label or field.id
        else:
            data[field.id] = _SAMPLE_BY_TYPE.get(field.type, "")
    return data


def _typed(value: Any, field_type: str) -> Any:
    """Camunda writes form defaults as text: `true`, `5`; a person's answer has the field's type."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if field_type == "boolean":  # anything but `true` (`No`, `false`) is false
        return text.lower() == "true"
    if field_type in ("long", "integer"):
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


def validate_form_data(schema: dict[str, Any], data: dict[str, Any], *, task_name: str = "") -> None:
    """Check form data against the task's JSON schema; one line that names each field that is wrong."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator = validator_for(schema)(schema)
        problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    except SchemaError as exc:
        raise InvalidOperationError(f"the form schema of {task_name or 'the task'} is not a valid JSON schema: "
                                    f"{exc.message}") from None
    if not problems:
        return
    parts = []
    for problem in problems[:5]:
        path = ".".join(str(p) for p in problem.absolute_path)
        if problem.validator == "required":
            parts.append(problem.message.replace("is a required property", "is required"))
        else:
            parts.append(f"field '{path}': {problem.message}" if path else problem.message)
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise InvalidOperationError(f"the data does not fit the form of {task_name or 'the task'}: "
                                + "; ".join(parts) + more)


def field_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """What is wrong with form data, by top-level field (the terminal prompt asks those fields again); problems
    that belong to no field are under ""."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        problems = list(validator_for(schema)(schema).iter_errors(data))
    except SchemaError as exc:
        return {"": f"the form schema is not a valid JSON schema: {exc.message}"}
    out: dict[str, str] = {}
    for problem in sorted(problems, key=lambda e: list(e.absolute_path)):
        if problem.validator == "required" and not problem.absolute_path:
            for name in problem.validator_value:
                if name not in data:
                    out.setdefault(str(name), "is required")
            continue
        key = str(problem.absolute_path[0]) if problem.absolute_path else ""
        out.setdefault(key, problem.message)
    return out

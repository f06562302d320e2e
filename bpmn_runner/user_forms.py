"""User task forms beyond Camunda 7 formData: SpiffArena JSON-schema files, Camunda 8 forms, their fields, and the
check of submitted data against a JSON schema (what a simulated person enters: form_samples.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InvalidOperationError
from .models import UserTaskField

_FIELD_TYPES = {"integer": "long", "number": "number", "boolean": "boolean"}


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

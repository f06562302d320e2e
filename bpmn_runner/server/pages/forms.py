"""A user task's form as HTML inputs (Camunda formData, SpiffArena JSON schema or Camunda 8 form fields, as the
store keeps them), the submitted text read back into typed values, and errors attached to the field they name."""

from __future__ import annotations

import re
from typing import Any, Mapping

INPUTS = {"boolean": "checkbox", "long": "number", "integer": "number", "number": "number", "date": "date",
          "enum": "select"}


def field_views(fields: list[Mapping[str, Any]], values: Mapping[str, Any],
                errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """What the template draws for each field: its input type, label, current value and error."""
    views = []
    for field in fields:
        ident = str(field.get("id") or "")
        kind = str(field.get("type") or "string")
        value = values.get(ident, field.get("default"))
        if kind == "boolean":
            value = value is True or str(value).strip().lower() == "true"
        else:
            value = "" if value is None else str(value)
            day_first = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value.strip()) if kind == "date" else None
            if day_first:  # Camunda writes dates dd/MM/yyyy; a date input shows and sends yyyy-MM-dd
                value = f"{day_first.group(3)}-{day_first.group(2)}-{day_first.group(1)}"
        views.append({"id": ident, "label": str(field.get("label") or ident), "input": INPUTS.get(kind, "text"),
                      "step": "1" if kind in ("long", "integer") else "any" if kind == "number" else "",
                      "required": bool(field.get("required")), "options": [str(o) for o in field.get("options") or []],
                      "value": value, "error": errors.get(ident, "")})
    return views


def read_submission(fields: list[Mapping[str, Any]], form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the typed data to complete the task with, errors by field id). An empty optional field is left out; an
    unchecked checkbox is false."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        ident = str(field.get("id") or "")
        kind = str(field.get("type") or "string")
        if kind == "boolean":
            data[ident] = str(form.get(ident, "")).lower() in ("true", "on", "1")
            continue
        text = str(form.get(ident, "")).strip()
        if not text:
            if field.get("required"):
                errors[ident] = "is required"
            continue
        if kind in ("long", "integer"):
            if not re.fullmatch(r"[+-]?\d+", text):
                errors[ident] = f"must be a whole number, not {text!r}"
                continue
            data[ident] = int(text)
        elif kind == "number":
            try:
                data[ident] = float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                errors[ident] = f"must be a number, not {text!r}"
        elif kind == "enum" and field.get("options") and text not in [str(o) for o in field["options"]]:
            errors[ident] = f"must be one of {', '.join(str(o) for o in field['options'])}"
        else:
            data[ident] = text
    return data, errors


def errors_by_field(message: str, fields: list[Mapping[str, Any]]) -> dict[str, str]:
    """The engine's refusal (`form field 'x' (Label) is required`, `field 'x': ...; 'y' is required`) split into
    one message per field it names; parts naming no field are left to the caller."""
    found: dict[str, str] = {}
    ids = [str(f.get("id") or "") for f in fields]
    for part in re.split(r";\s*", message.split(": ", 1)[-1] if "form of" in message else message):
        for ident in ids:
            if ident and re.search(rf"['\"]{re.escape(ident)}['\"]", part):
                found.setdefault(ident, part.strip())
                break
    return found

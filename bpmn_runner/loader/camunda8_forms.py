"""Camunda 8 user task forms: embedded (`zeebe:userTaskForm`, named by `zeebe:formDefinition formKey`) or linked
(`zeebe:formDefinition formId`, a .form file beside the diagram)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lxml import etree

from .dialects import NSMAP

_MAX_FORM_FILES = 200


def camunda8_form(element: etree._Element, diagram: Path) -> dict[str, Any] | None:
    """The form JSON of a Camunda 8 user task, or None when it has none (or it cannot be read)."""
    definition = element.xpath("./bpmn:extensionElements/zeebe:formDefinition", namespaces=NSMAP)
    if not definition:
        return None
    key, form_id = definition[0].get("formKey", ""), definition[0].get("formId", "")
    if key.startswith("camunda-forms:bpmn:"):
        embedded_id = key.split(":")[-1]
        root = element.getroottree().getroot()
        for form in root.xpath("//zeebe:userTaskForm", namespaces=NSMAP):
            if form.get("id") == embedded_id:
                return _parse(form.text or "")
    if form_id:
        for path in sorted(diagram.parent.glob("*.form"))[:_MAX_FORM_FILES]:
            try:
                form = _parse(path.read_text(encoding="utf-8"))
            except OSError:
                continue
            if form is not None and form.get("id") == form_id:
                return form
    return None


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

"""A waiting task as users see it (its form fields and instructions), found from the loaded definitions, and the
data a simulated person enters into it."""

from __future__ import annotations

import json
from typing import Any

from ._spiff.session import LiveTask
from .definitions import Definitions
from .loader.camunda8_forms import camunda8_form
from .models import UserTaskField, WaitingTask
from .simulation import Simulator
from .form_samples import sample_form_data, sample_from_schema
from .user_forms import camunda8_fields, find_form_file, read_json_schema, schema_fields


def waiting_task(definitions: Definitions, task: LiveTask) -> WaitingTask:
    """Camunda formData fields, else the SpiffArena JSON schema's, else the Camunda 8 form's."""
    fields = [UserTaskField(f["id"], f.get("label") or f["id"], f.get("type") or "string", f.get("default"),
                            bool(f.get("required")), list(f.get("options") or [])) for f in task.form]
    schema = None
    if not fields and task.kind == "user":
        schema = json_schema(definitions, task)
        fields = schema_fields(schema) if schema is not None else _camunda8_fields(definitions, task)
    instructions = task.extensions.get("instructionsForEndUser") or ""
    return WaitingTask(task.element_id, task.name, task.kind, task.task_id, fields, task.detail,
                       dict(task.assignment), str(instructions).strip(), schema)


def json_schema(definitions: Definitions, task: LiveTask) -> dict[str, Any] | None:
    """A SpiffArena user task's JSON-schema form (formJsonSchemaFilename), looked for beside its diagram."""
    properties = task.extensions.get("properties") or {}
    filename = properties.get("formJsonSchemaFilename") if isinstance(properties, dict) else None
    document = definitions.process_document(task.process_id)
    if not filename or document is None:
        return None
    path = find_form_file(document.path, str(filename))
    return read_json_schema(path) if path is not None else None


def simulated_form_data(definitions: Definitions, task: LiveTask, simulator: Simulator | None) -> dict[str, Any]:
    """The data a simulated person enters (form_samples.py), listed as the simulator's assumption."""
    schema = json_schema(definitions, task)
    if schema is not None:
        sampled = sample_from_schema(schema)
        data = sampled if isinstance(sampled, dict) else {}
    else:
        constraints = {f["id"]: {str(n): c for n, c in f.get("constraints") or []} for f in task.form}
        data = sample_form_data(waiting_task(definitions, task).fields, constraints)
    if simulator is not None:
        shown = json.dumps(data, default=str, ensure_ascii=False)
        shown = shown if len(shown) <= 200 else shown[:200] + "…"
        properties = task.extensions.get("properties") or {}
        named = properties.get("formJsonSchemaFilename") if isinstance(properties, dict) else None
        why = f"its form file {named!r} was not found" if named and schema is None else "the task has no form"
        simulator.record(task.element_id, f"completed by a simulated person with {shown}" if data else
                         f"completed by a simulated person ({why})")
    return data


def _camunda8_fields(definitions: Definitions, task: LiveTask) -> list[UserTaskField]:
    found = definitions.find_element(task.element_id)
    if found is None:
        return []
    document, element = found
    form = camunda8_form(element, document.path)
    return camunda8_fields(form) if form is not None else []

"""Camunda Modeler element templates (Camunda 7 and Camunda 8) written from registered handlers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import InvalidOperationError
from ..registry import HandlerInfo, HandlerRegistry

PLATFORMS = ("camunda7", "camunda8")

#: The `$schema` each platform's templates name: Camunda Modeler picks the engine by it.
SCHEMA_URLS = {
    "camunda7": "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json",
    "camunda8": "https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json",
}
TEMPLATE_ID_PREFIX = "bpmn-runner."
_GROUPS = [{"id": "handler", "label": "Handler"}, {"id": "inputs", "label": "Inputs"}]
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def element_template(info: HandlerInfo, platform: str) -> dict[str, Any]:
    """One element template that makes a service task call this handler, with an input mapping per input."""
    if platform not in PLATFORMS:
        raise InvalidOperationError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    c8 = platform == "camunda8"
    if info.listener:
        return _listener_template(info, platform)
    template: dict[str, Any] = {
        "$schema": SCHEMA_URLS[platform],
        "name": info.label or _humanize(info.name),
        "id": TEMPLATE_ID_PREFIX + info.name,
        "version": 1,
        "description": _description(info),
        "appliesTo": ["bpmn:ServiceTask"],
        "keywords": ["bpmn-runner", info.name],
        "groups": [dict(g) for g in _GROUPS if g["id"] != "inputs" or info.inputs],
        "properties": _binding_properties(info.name, c8) + [_input_property(n, t, c8) for n, t in info.inputs.items()],
    }
    if c8:
        template["category"] = {"id": "bpmn-runner", "name": "bpmn-runner handlers"}
    return template


def _listener_template(info: HandlerInfo, platform: str) -> dict[str, Any]:
    """A template that adds this handler as an execution listener (class / job type) to any flow node."""
    c8 = platform == "camunda8"
    binding: dict[str, Any] = ({"type": "zeebe:executionListener", "eventType": info.listener} if c8 else
                               {"type": "camunda:executionListener", "event": info.listener,
                                "implementationType": "class"})
    template: dict[str, Any] = {
        "$schema": SCHEMA_URLS[platform],
        "name": info.label or _humanize(info.name),
        "id": TEMPLATE_ID_PREFIX + info.name,
        "version": 1,
        "description": info.description or f"Calls the bpmn-runner listener {info.name!r} on {info.listener}.",
        "appliesTo": ["bpmn:FlowNode"],
        "keywords": ["bpmn-runner", info.name, "listener"],
        "properties": [{"type": "Hidden", "value": info.name, "binding": binding}],
    }
    if c8:
        template["category"] = {"id": "bpmn-runner", "name": "bpmn-runner handlers"}
        template["entriesVisible"] = {"executionListeners": False}  # the schema asks for it with such a binding
    return template


def element_templates(registry: HandlerRegistry, platform: str) -> list[tuple[str, dict[str, Any]]]:
    """(file name, template) for every registered handler, in name order; file names never collide."""
    out: list[tuple[str, dict[str, Any]]] = []
    used: set[str] = set()
    for name, registered in registry.items():
        stem = _UNSAFE_FILE_CHARS.sub("_", name).strip("._") or "handler"
        file_name, count = f"{stem}.{platform}.json", 1
        while file_name.lower() in used:
            count += 1
            file_name = f"{stem}-{count}.{platform}.json"
        used.add(file_name.lower())
        out.append((file_name, element_template(registered.info, platform)))
    return out


def write_element_templates(registry: HandlerRegistry, platform: str, directory: Path) -> list[Path]:
    """Write one `<handler>.<platform>.json` per handler into `directory` (created if missing)."""
    if len(registry) == 0:
        raise InvalidOperationError("no handlers registered, so no templates to write; pass --handlers MODULE_OR_FILE")
    if directory.exists() and not directory.is_dir():
        raise InvalidOperationError(f"-o {directory} is a file; give a folder, like .camunda/element-templates")
    templates = element_templates(registry, platform)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, template in templates:
        target = directory / file_name
        target.write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def _binding_properties(name: str, c8: bool) -> list[dict[str, Any]]:
    if c8:
        return [
            {"label": "Job type", "description": "The handler this task calls; set by the template.",
             "type": "String", "value": name, "editable": False, "group": "handler",
             "binding": {"type": "zeebe:taskDefinition", "property": "type"}},
            {"label": "Retries", "description": "How often a failed call is tried again before an incident.",
             "type": "String", "value": "3", "group": "handler",
             "binding": {"type": "zeebe:taskDefinition", "property": "retries"}},
        ]
    return [
        {"type": "Hidden", "value": "external", "binding": {"type": "property", "name": "camunda:type"}},
        {"label": "Topic", "description": "The handler this task calls; set by the template.",
         "type": "String", "value": name, "editable": False, "group": "handler",
         "binding": {"type": "property", "name": "camunda:topic"}},
    ]


def _input_property(name: str, type_name: str, c8: bool) -> dict[str, Any]:
    hint = f"{type_name}: the handler reads call.params[{name!r}]"
    prop: dict[str, Any] = {"label": name, "description": hint, "type": "String", "group": "inputs",
                            "constraints": {"notEmpty": True}}
    if c8:
        prop.update(value=f"={name}", feel="optional", binding={"type": "zeebe:input", "name": name})
    else:
        prop.update(value=f"${{{name}}}", binding={"type": "camunda:inputParameter", "name": name})
    return prop


def _description(info: HandlerInfo) -> str:
    text = info.description or f"Calls the bpmn-runner handler {info.name!r}."
    if info.outputs:
        text += " Returns " + ", ".join(f"{k} ({t})" for k, t in info.outputs.items()) + "."
    return text


def _humanize(name: str) -> str:
    words = re.sub(r"[._/:\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name

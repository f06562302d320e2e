"""Execution and task listeners as Camunda 7 (`camunda:executionListener`, `camunda:taskListener`) and Camunda 8
(`zeebe:executionListeners`) declare them."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .dialects import BPMN_NS, CAMUNDA_NS, NSMAP, ZEEBE_NS, camunda_name, method_arguments

EXECUTION_EVENTS = ("start", "end", "take")
TASK_EVENTS = ("create", "assignment", "complete", "delete", "timeout", "update")


def read_listeners(node: etree._Element) -> list[dict[str, Any]]:
    """Every listener on an element, in document order (Camunda's order): a dict with `scope` (execution or task),
    `event`, `kind` (class, delegateExpression, expression, script, job), `name` (the handler), `arguments`,
    `script`, `line`, and for a timeout task listener its `timer` ({"kind": timeDuration|timeDate|timeCycle,
    "text"})."""
    out: list[dict[str, Any]] = []
    extensions = node.find(f"{{{BPMN_NS}}}extensionElements")
    if extensions is None:  # most elements: no XPath at all
        return out
    for listener in extensions.iterchildren(f"{{{CAMUNDA_NS}}}executionListener", f"{{{CAMUNDA_NS}}}taskListener"):
        scope = "task" if etree.QName(listener).localname == "taskListener" else "execution"
        entry = {"scope": scope, "event": (listener.get("event") or "").strip(), "line": listener.sourceline,
                 "dialect": "camunda7", "arguments": [], "script": None, "script_format": None}
        for when in listener.xpath("./bpmn:timerEventDefinition/bpmn:timeDuration|./bpmn:timerEventDefinition/"
                                   "bpmn:timeDate|./bpmn:timerEventDefinition/bpmn:timeCycle", namespaces=NSMAP):
            entry["timer"] = {"kind": etree.QName(when).localname, "text": (when.text or "").strip()}
        for attr in ("class", "delegateExpression", "expression"):
            value = (listener.get(attr) or "").strip()
            if value:
                entry.update(kind=attr, name=camunda_name(value, attr), text=value,
                             arguments=list(method_arguments(value, attr)))
                break
        else:
            script = listener.xpath("./camunda:script", namespaces=NSMAP)
            entry.update(kind="script", name="", text="")
            if script:
                entry.update(script=script[0].text or "", script_format=(script[0].get("scriptFormat") or "")
                             .strip().lower(), resource=script[0].get("resource"))
        out.append(entry)
    for listener in extensions.iterfind(f"{{{ZEEBE_NS}}}executionListeners/{{{ZEEBE_NS}}}executionListener"):
        job_type = (listener.get("type") or "").strip()
        out.append({"scope": "execution", "event": (listener.get("eventType") or "").strip(), "kind": "job",
                    "name": job_type.lstrip("=").strip('"') if job_type.startswith('="') else job_type,
                    "text": job_type, "arguments": [], "script": None, "script_format": None,
                    "line": listener.sourceline, "dialect": "camunda8"})
    return out

"""Variable scopes an element declares: input/output mappings, call-activity passing rules (Camunda 7 and 8)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .dialects import BPMN_NS, NSMAP, document_dialect, read_io_mappings

_EXTENSIONS = f"{{{BPMN_NS}}}extensionElements"
_DIALECTS: dict[int, tuple[etree._Element, str]] = {}


def _document_dialect(node: etree._Element) -> str:
    root = node.getroottree().getroot()
    cached = _DIALECTS.get(id(root))
    if cached is None or cached[0] is not root:
        cached = (root, document_dialect(root))
        _DIALECTS[id(root)] = cached
    return cached[1]


def read_scope(node: etree._Element) -> dict[str, Any] | None:
    """What an element's scope does with variables, or None when it has no scope of its own.

    {"dialect", "inputs", "outputs", and for call activities "call": {...}}; mappings are [target, source] pairs
    with sources as `expressions.evaluate_mapping` reads them."""
    local = etree.QName(node).localname
    if local != "callActivity" and node.find(_EXTENSIONS) is None:
        return None  # no mappings without extension elements (most elements)
    io = read_io_mappings(node)
    dialect = "camunda8" if node.xpath("./bpmn:extensionElements/zeebe:ioMapping", namespaces=NSMAP) else "camunda7"
    scope: dict[str, Any] = {"dialect": dialect, "inputs": [[m.target, m.source] for m in io.inputs],
                             "outputs": [[m.target, m.source] for m in io.outputs]}
    if local == "callActivity":
        scope["call"] = _call_rules(node)
        if scope["call"]["dialect"] == "camunda8":
            scope["dialect"] = "camunda8"
    elif not io.inputs and not io.outputs:
        return None
    return scope


def _call_rules(node: etree._Element) -> dict[str, Any]:
    """camunda:in / camunda:out (Camunda 7) or zeebe:calledElement propagation flags (Camunda 8)."""
    ins = node.xpath("./bpmn:extensionElements/camunda:in", namespaces=NSMAP)
    outs = node.xpath("./bpmn:extensionElements/camunda:out", namespaces=NSMAP)
    zeebe = node.xpath("./bpmn:extensionElements/zeebe:calledElement", namespaces=NSMAP)
    if ins or outs or _document_dialect(node) == "camunda7":
        keys = [n.get("businessKey") for n in ins if n.get("businessKey")]
        return {"dialect": "camunda7", "in": [_passing(n) for n in ins if not n.get("businessKey")],
                "out": [_passing(n) for n in outs], "business_key": keys[0] if keys else None}
    if zeebe or _document_dialect(node) == "camunda8":
        element = zeebe[0] if zeebe else None

        def flag(name: str) -> bool:
            return element is None or (element.get(name) or "true").strip().lower() != "false"
        return {"dialect": "camunda8", "all_parent": flag("propagateAllParentVariables"),
                "all_child": flag("propagateAllChildVariables")}
    return {"dialect": "bpmn"}


def _passing(node: etree._Element) -> dict[str, Any]:
    """One camunda:in or camunda:out: all variables, a source variable or a source expression, to a target."""
    if (node.get("variables") or "").strip() == "all":
        return {"all": True, "local": (node.get("local") or "").strip() == "true"}
    return {"source": node.get("source"), "expression": node.get("sourceExpression"),
            "target": node.get("target") or node.get("source") or "",
            "local": (node.get("local") or "").strip() == "true"}

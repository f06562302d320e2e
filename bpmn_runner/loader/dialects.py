"""Read the four service-task dialects (Camunda 7, Camunda 8, SpiffArena, plain BPMN) from lxml elements."""

from __future__ import annotations

import json
import re

from lxml import etree

from ..kinds import BINDABLE_KINDS
from ..models import CAMUNDA_PARAMETER_MARKER, Binding, IoMappings, Mapping
from ..namespaces import BPMN_NS, CAMUNDA_NS, NSMAP, SPIFF_NS, ZEEBE_NS, bpmn_tag, document_dialect

# Tasks that call a handler when they carry a binding.
BINDABLE_TAGS = {bpmn_tag(kind) for kind in BINDABLE_KINDS}

_EXPRESSION_NAME = re.compile(r"^[#$]\{\s*([A-Za-z_][\w.]*)\s*(?:\(.*\))?\s*\}$")


_EXTENSIONS = f"{{{BPMN_NS}}}extensionElements"
_XPATHS: dict[str, etree.XPath] = {}


def _ext(element: etree._Element, path: str) -> list[etree._Element]:
    # most elements have no extensions; a compiled XPath is several times faster than element.xpath(text)
    if element.find(_EXTENSIONS) is None:
        return []
    compiled = _XPATHS.get(path)
    if compiled is None:
        compiled = _XPATHS[path] = etree.XPath(f"./bpmn:extensionElements/{path}", namespaces=NSMAP)
    return compiled(element)


def _retries(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    text = text.strip().lstrip("=")
    return int(text) if text.isdigit() else None


def read_binding(element: etree._Element) -> Binding | None:
    """The handler binding of a service, send or business rule task, or None when it has none."""
    camunda_type = element.get(f"{{{CAMUNDA_NS}}}type")
    extended = element.find(_EXTENSIONS) is not None
    retry_cycle_nodes = _ext(element, "camunda:failedJobRetryTimeCycle") if extended else []
    retry_cycle = (retry_cycle_nodes[0].text or "").strip() or None if retry_cycle_nodes else None
    topic = element.get(f"{{{CAMUNDA_NS}}}topic")
    if camunda_type == "external" and topic:
        return Binding(topic.strip(), "camunda7", "topic", retry_cycle=retry_cycle)
    result_variable = (element.get(f"{{{CAMUNDA_NS}}}resultVariable") or "").strip() or None
    for attr in ("class", "delegateExpression", "expression"):
        value = element.get(f"{{{CAMUNDA_NS}}}{attr}")
        if value and value.strip():
            return Binding(camunda_name(value.strip(), attr), "camunda7", attr, retry_cycle=retry_cycle,
                           result_variable=result_variable, arguments=method_arguments(value.strip(), attr))
    if camunda_type == "external":  # external with no topic: still Camunda 7, but unusable
        return Binding("", "camunda7", "topic", retry_cycle=retry_cycle)
    connector = _ext(element, "camunda:connector/camunda:connectorId") if extended else []
    if connector and (connector[0].text or "").strip():
        return Binding(connector[0].text.strip(), "camunda7", "connector", retry_cycle=retry_cycle)

    task_def = _ext(element, "zeebe:taskDefinition")
    if task_def:
        job_type = (task_def[0].get("type") or "").strip()
        headers = {h.get("key", ""): h.get("value", "") for h in _ext(element, "zeebe:taskHeaders/zeebe:header")}
        return Binding(job_type.lstrip("=").strip('"') if job_type.startswith('="') else job_type, "camunda8",
                       "type", retries=_retries(task_def[0].get("retries")), headers=headers)

    operator = _ext(element, "spiffworkflow:serviceTaskOperator")
    if operator:
        op = operator[0]
        result_var = (op.get("resultVariable") or "").strip() or None
        return Binding((op.get("id") or "").strip(), "spiff", "operator", result_variable=result_var)

    implementation = element.get("implementation")
    if implementation and implementation.strip() and implementation.strip() not in ("##unspecified", "##WebService"):
        return Binding(implementation.strip(), "bpmn", "implementation")
    return None


def method_arguments(value: str, attr: str) -> tuple[str, ...]:
    """`${calc.add(a, b * 2)}` -> ('a', 'b * 2'): the argument texts, split at top-level commas."""
    if attr != "expression":
        return ()
    match = re.match(r"^[#$]\{\s*[A-Za-z_][\w.]*\s*\((.*)\)\s*\}$", value, re.S)
    if not match or not match.group(1).strip():
        return ()
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for ch in match.group(1):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return tuple(parts)


def read_connector(element: etree._Element) -> dict[str, object] | None:
    """A Camunda 7 `camunda:connector`: its id and its own input and output parameters."""
    connector = _ext(element, "camunda:connector")
    if not connector:
        return None
    node = connector[0]
    inputs = [[p.get("name", ""), camunda_param_source(p)]
              for p in node.xpath("./camunda:inputOutput/camunda:inputParameter", namespaces=NSMAP)]
    outputs = [[p.get("name", ""), camunda_param_source(p)]
               for p in node.xpath("./camunda:inputOutput/camunda:outputParameter", namespaces=NSMAP)]
    ids = node.xpath("./camunda:connectorId", namespaces=NSMAP)
    return {"id": (ids[0].text or "").strip() if ids else "", "inputs": inputs, "outputs": outputs}


def bindable_elements(root: etree._Element) -> list[tuple[etree._Element, Binding | None]]:
    """Service, send and business rule tasks under `root` that call a handler, or should, in document order (a
    send task throwing a message and a DMN business rule task have no binding and are left out)."""
    out = []
    for element in root.iter(*BINDABLE_TAGS):
        binding = read_binding(element)
        if binding is None and etree.QName(element).localname != "serviceTask":
            continue
        out.append((element, binding))
    return out


def camunda_name(value: str, attr: str) -> str:
    """`${paymentDelegate}` binds to `paymentDelegate`; `${svc.charge(execution)}` to `svc.charge`; a class name stays."""
    if attr == "class":
        return value
    match = _EXPRESSION_NAME.match(value)
    return match.group(1) if match else value


def read_spiff_parameters(element: etree._Element) -> dict[str, str]:
    """SpiffArena operator parameters: name -> Python expression text."""
    params: dict[str, str] = {}
    for param in _ext(element, "spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter"):
        name = param.get("id") or param.get("name")
        if name:
            params[name] = param.get("value") or ""
    return params


def read_io_mappings(element: etree._Element) -> IoMappings:
    """`camunda:inputOutput` and `zeebe:ioMapping` in their common forms."""
    io = IoMappings()
    if element.find(_EXTENSIONS) is None:
        return io
    for node in _ext(element, "camunda:inputOutput/camunda:inputParameter"):
        io.inputs.append(Mapping(node.get("name", ""), camunda_param_source(node)))
    for node in _ext(element, "camunda:inputOutput/camunda:outputParameter"):
        io.outputs.append(Mapping(node.get("name", ""), camunda_param_source(node)))
    for node in _ext(element, "zeebe:ioMapping/zeebe:input"):
        io.inputs.append(Mapping(node.get("target", ""), node.get("source", "")))
    for node in _ext(element, "zeebe:ioMapping/zeebe:output"):
        io.outputs.append(Mapping(node.get("target", ""), node.get("source", "")))
    return io


def camunda_param_source(node: etree._Element) -> str:
    """A Camunda 7 parameter: plain text (a literal or `${...}`) as is; a list, map or script (nested as Camunda
    allows) as CAMUNDA_PARAMETER_MARKER + its JSON tree, which `expressions.evaluate_mapping` evaluates."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        return (node.text or "").strip()
    return CAMUNDA_PARAMETER_MARKER + json.dumps(_param_tree(children[0]))


def _param_tree(node: etree._Element) -> object:
    """{"list": [...]}, {"map": [[key, ...]]}, {"script": format, "code": text} or {"text": text}."""
    local = etree.QName(node).localname
    items = [c for c in node if isinstance(c.tag, str)]
    if local == "list":
        return {"list": [_value_tree(v) for v in items]}
    if local == "map":
        return {"map": [[e.get("key", ""), _value_tree(e)] for e in items]}
    if local == "script":
        return {"script": (node.get("scriptFormat") or "").strip().lower(), "code": node.text or "",
                "resource": node.get("resource")}
    return {"text": (node.text or "").strip()}


def _value_tree(node: etree._Element) -> object:
    """A `camunda:value` or `camunda:entry`: text, or a nested list, map or script."""
    inner = [c for c in node if isinstance(c.tag, str)]
    return _param_tree(inner[0]) if inner else {"text": (node.text or "").strip()}


def __getattr__(name: str) -> object:
    # TASK_READER lives in task_reader.py: it reads listeners and scopes too, whose modules import this one
    if name == "TASK_READER":
        from .task_reader import TASK_READER
        return TASK_READER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

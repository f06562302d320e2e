"""The XML namespaces of BPMN, DMN and the modeler dialects, as plain strings any layer may use."""

from __future__ import annotations

from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# bpmn-runner's own attributes, for what a dialect has no word for (`runner:async="before|after"`)
RUNNER_NS = "https://bpmn-runner.dev/schema/1.0"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS, "spiffworkflow": SPIFF_NS}
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)


def bpmn_tag(local: str) -> str:
    """`serviceTask` -> `{http://www.omg.org/spec/BPMN/20100524/MODEL}serviceTask`."""
    return f"{{{BPMN_NS}}}{local}"


def is_bpmn_namespace(ns: str | None) -> bool:
    """The BPMN 2.0 model namespace, or one of the draft variants some older tools write."""
    return ns == BPMN_NS or (ns is not None and "/BPMN/" in ns and ns.endswith("/MODEL"))


def document_dialect(root: Any) -> str:
    """The dialect a document is written in (`spiff`, `camunda8`, `camunda7` or `bpmn`), judged by the extension
    namespaces its elements and attributes use; `root` is an XML element tree (lxml or ElementTree)."""
    uses: set[str] = set()
    for element in root.iter():
        note_namespaces(element, uses)
    return dialect_of(uses)


def note_namespaces(element: Any, uses: set[str]) -> None:
    """Add to `uses` the dialect namespaces one element's tag and attributes are in (a step of document_dialect,
    for a caller that walks the elements anyway)."""
    tag = element.tag
    if not isinstance(tag, str):
        return
    if tag[0] == "{":
        ns = tag[1:tag.index("}")]
        if ns in _DIALECT_NAMESPACES:
            uses.add(ns)
    for attr in element.attrib:
        if attr[0] == "{":
            uses.add(attr[1:attr.index("}")])


def dialect_of(uses: set[str]) -> str:
    """The dialect of a document that uses these namespaces."""
    if SPIFF_NS in uses:
        return "spiff"
    if ZEEBE_NS in uses:
        return "camunda8"
    if CAMUNDA_NS in uses:
        return "camunda7"
    return "bpmn"


_DIALECT_NAMESPACES = frozenset((CAMUNDA_NS, ZEEBE_NS, SPIFF_NS))

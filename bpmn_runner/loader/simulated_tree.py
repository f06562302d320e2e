"""What the simulation rewrites share: an assumption's shape, tag and owner helpers, and the stub script task."""

from __future__ import annotations

from lxml import etree

from ..models import SIMULATED_MARKER
from .dialects import BPMN_NS, CAMUNDA_NS

Assumption = tuple[str, str]


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def owner_id(element: etree._Element) -> str:
    node = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node.get("id", "") if node is not None else ""


def stub_script(element: etree._Element, what: str) -> None:
    """Make an element a Python script task whose script only records what the simulation assumed."""
    element.tag = bpmn("scriptTask")
    for attr in ("scriptFormat", f"{{{CAMUNDA_NS}}}resource", "calledElement", f"{{{CAMUNDA_NS}}}decisionRef"):
        element.attrib.pop(attr, None)
    script = element.find(bpmn("script"))
    if script is None:
        script = etree.SubElement(element, bpmn("script"))
    script.text = SIMULATED_MARKER + what

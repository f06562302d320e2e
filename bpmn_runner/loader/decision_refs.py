"""Decision references of business rule tasks chosen at run time (`${expr}` in Camunda 7, `=expr` in Camunda 8)."""

from __future__ import annotations

from lxml import etree

from ..namespaces import NSMAP


def is_dynamic_ref(ref: str) -> bool:
    """A decision id given as an expression, evaluated when the task runs."""
    text = ref.strip()
    return text.startswith("=") or "${" in text or "#{" in text


def has_dynamic_decision_ref(root: etree._Element) -> bool:
    """Whether a business rule task of this BPMN tree chooses its decision at run time."""
    refs = root.xpath("//bpmn:businessRuleTask/@camunda:decisionRef"
                      " | //bpmn:businessRuleTask/bpmn:extensionElements/zeebe:calledDecision/@decisionId",
                      namespaces=NSMAP)
    return any(is_dynamic_ref(str(ref)) for ref in refs)

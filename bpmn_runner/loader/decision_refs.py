"""Whether a diagram's business rule tasks choose their decision at run time (`${expr}`, `=expr`)."""

from __future__ import annotations

from lxml import etree

from ..dmn.refs import is_dynamic_ref
from ..namespaces import NSMAP


def has_dynamic_decision_ref(root: etree._Element) -> bool:
    """Whether a business rule task of this BPMN tree chooses its decision at run time."""
    refs = root.xpath("//bpmn:businessRuleTask/@camunda:decisionRef"
                      " | //bpmn:businessRuleTask/bpmn:extensionElements/zeebe:calledDecision/@decisionId",
                      namespaces=NSMAP)
    return any(is_dynamic_ref(str(ref)) for ref in refs)

"""What an analyst reviews per element beyond the drawing: script bodies, pre- and post-scripts, form fields and
the decision a business rule task calls (for the definition report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..user_forms import find_form_file, read_json_schema, schema_fields
from .dialects import BPMN_NS, NSMAP
from .simulated import decision_ref

_SPIFF = NSMAP["spiffworkflow"]


@dataclass
class ElementDetails:
    """Scripts as (what, body), form fields as text, and the called decision of one element."""

    scripts: list[tuple[str, str]] = field(default_factory=list)
    form: list[str] = field(default_factory=list)
    decision: str | None = None


def element_details(root: etree._Element, diagram: Path) -> dict[str, ElementDetails]:
    """Details by element id, for every element of every process and sub-process in the document."""
    out: dict[str, ElementDetails] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = element.get("id")
        if not element_id:
            continue
        details = ElementDetails(_scripts(element), _form(element, diagram))
        if etree.QName(element).localname == "businessRuleTask":
            details.decision = decision_ref(element)
        if details.scripts or details.form or details.decision:
            out[element_id] = details
    return out


def _scripts(element: etree._Element) -> list[tuple[str, str]]:
    out = []
    if etree.QName(element).localname == "scriptTask":
        body = element.find(f"{{{BPMN_NS}}}script")
        if body is not None and (body.text or "").strip():
            out.append((f"script ({element.get('scriptFormat') or 'python'})", body.text.strip()))
        for zeebe in element.xpath("./bpmn:extensionElements/zeebe:script", namespaces=NSMAP):
            out.append(("FEEL expression", f"{zeebe.get('resultVariable', '')} = {zeebe.get('expression', '')}"))
    for tag, label in (("preScript", "pre-script"), ("postScript", "post-script")):
        for node in element.xpath(f"./bpmn:extensionElements/spiffworkflow:{tag}", namespaces=NSMAP):
            if (node.text or "").strip():
                out.append((label, node.text.strip()))
    return out


def _form(element: etree._Element, diagram: Path) -> list[str]:
    if etree.QName(element).localname != "userTask":
        return []
    fields = [f"{f.get('label') or f.get('id')} ({f.get('type') or 'string'})"
              for f in element.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NSMAP)]
    for prop in element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                              namespaces=NSMAP):
        if prop.get("name") == "formJsonSchemaFilename" and prop.get("value"):
            path = find_form_file(diagram, prop.get("value", ""))
            schema = read_json_schema(path) if path is not None else None
            if schema is None:
                fields.append(f"form file {prop.get('value')} (not found)")
            else:
                fields += [f"{f.label} ({f.type}{', required' if f.required else ''})" for f in schema_fields(schema)]
    return fields

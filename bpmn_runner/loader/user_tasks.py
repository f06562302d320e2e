"""What Tasklist shows of a user task: assignee, candidates, dates, priority and form, in Camunda 7 and 8."""

from __future__ import annotations

from lxml import etree

from .dialects import CAMUNDA_NS, NSMAP

_CAMUNDA7 = ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority", "formKey")
_ZEEBE = {"assignmentDefinition": ("assignee", "candidateUsers", "candidateGroups"),
          "taskSchedule": ("dueDate", "followUpDate"), "priorityDefinition": ("priority",),
          "formDefinition": ("formKey", "formId", "externalReference")}


def read_assignment(node: etree._Element) -> dict[str, str]:
    """Attribute name -> expression text (`${...}`, `=...` or a literal) for a user task; empty for other nodes."""
    tag = node.tag
    if not isinstance(tag, str) or tag.rpartition("}")[2] != "userTask":
        return {}
    out = {name: value.strip() for name in _CAMUNDA7
           if (value := node.get(f"{{{CAMUNDA_NS}}}{name}")) and value.strip()}
    for tag, names in _ZEEBE.items():
        for element in node.xpath(f"./bpmn:extensionElements/zeebe:{tag}", namespaces=NSMAP):
            for name in names:
                value = (element.get(name) or "").strip()
                if value:
                    out["formKey" if name in ("formId", "externalReference") else name] = value
    return out

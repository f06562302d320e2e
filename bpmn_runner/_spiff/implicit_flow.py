"""BPMN's implicit starts and ends (BPMN 2.0, 10.5.2 and 10.5.3), which SpiffWorkflow refuses.

A process or sub-process without a start event starts every flow node that no sequence flow enters; an activity
or event without outgoing flows ends its path. Boundary events, event sub-processes, compensation handlers and
link catch events are never implicit starts: they are entered another way."""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, _EndJoin

from ..namespaces import NSMAP

_NEVER_IMPLICIT = {"startEvent", "boundaryEvent"}


def implicit_entries(node: etree._Element, known_tags: Any) -> list[etree._Element]:
    """The flow nodes of a process or sub-process element that no sequence flow enters, in document order."""
    targets = {flow.get("targetRef") for flow in node.xpath("./bpmn:sequenceFlow", namespaces=NSMAP)}
    entries = []
    for child in node:
        if not isinstance(child.tag, str) or child.tag not in known_tags:
            continue
        local = etree.QName(child).localname
        if local in _NEVER_IMPLICIT or child.get("id") in targets:
            continue
        if child.get("triggeredByEvent") == "true" or child.get("isForCompensation") == "true":
            continue
        if local == "intermediateCatchEvent" and child.xpath("./bpmn:linkEventDefinition", namespaces=NSMAP):
            continue
        entries.append(child)
    return entries


def has_flow_nodes(node: etree._Element, known_tags: Any) -> bool:
    return any(isinstance(child.tag, str) and child.tag in known_tags for child in node)


def connect_implicit_ends(spec: Any) -> None:
    """Every reachable task spec without outputs ends its path: connect it to the process's end join."""
    for task_spec in list(spec.task_specs.values()):
        if isinstance(task_spec, (BpmnStartTask, _EndJoin)) or task_spec.name == "End":
            continue
        if not task_spec.outputs and task_spec.inputs:
            task_spec.connect(spec.end)


class ImplicitFlowMixin:
    """For a process parser: implicit starts when there is no start event, implicit ends always."""

    def entry_nodes(self) -> list[Any]:
        starts = self.xpath("./bpmn:startEvent")  # type: ignore[attr-defined]
        if starts:
            return list(starts)
        return implicit_entries(self.node, self.parser.PARSER_CLASSES)  # type: ignore[attr-defined]

    def add_tasks(self) -> None:
        if self.xpath("./bpmn:startEvent"):  # type: ignore[attr-defined]
            super().add_tasks()  # type: ignore[misc]
        else:
            entries = self.entry_nodes()
            if not entries and has_flow_nodes(self.node, self.parser.PARSER_CLASSES):  # type: ignore[attr-defined]
                raise ValidationException("no start event, and every element has an incoming flow, so nothing "
                                          "starts; add a start event", node=self.node,  # type: ignore
                                          file_name=self.filename)  # type: ignore[attr-defined]
            if not entries:  # an empty pool or an empty sub-process has nothing to do: it ends at once
                self.spec.start.connect(self.spec.end)  # type: ignore[attr-defined]
            for node in entries:
                task_spec = self.parse_node(node)  # type: ignore[attr-defined]
                # an entry with boundary events is entered at its split (which arms them), as a flow would
                split = self.spec.task_specs.get(f"{node.get('id')}.BoundaryEventSplit")  # type: ignore
                self.spec.start.connect(split if split is not None else task_spec)  # type: ignore[attr-defined]
            for node in self.xpath("./bpmn:subProcess[@triggeredByEvent='true']"):  # type: ignore[attr-defined]
                task_spec = self.parse_node(node)  # type: ignore[attr-defined]
                sp_spec = self.parser.process_parsers[task_spec.spec].get_spec()  # type: ignore[attr-defined]
                self.spec.start.connect_or_add_trigger(task_spec, sp_spec)  # type: ignore[attr-defined]
        connect_implicit_ends(self.spec)  # type: ignore[attr-defined]


def _subprocess_spec(task_parser: Any) -> str:
    """SpiffWorkflow's embedded sub-process parse, with implicit starts and ends allowed."""
    starts = task_parser.xpath("./bpmn:startEvent")
    if len(starts) > 1:
        raise ValidationException(f"an embedded sub-process has {len(starts)} start events; keep one",
                                  node=task_parser.node, file_name=task_parser.filename)
    task_parser.process_parser.parser.create_parser(task_parser.node, filename=task_parser.filename,
                                                    lane=task_parser.lane)
    spec_id = task_parser.node.get("id")
    spec_parser = task_parser.process_parser.parser.process_parsers[spec_id]
    spec_parser.parent = task_parser.process_parser
    return spec_id


def apply() -> None:
    SubprocessParser.get_subprocess_spec = staticmethod(_subprocess_spec)

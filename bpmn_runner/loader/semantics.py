"""The semantics of one BPMN file: one `ElementInfo` per element (names, documentation, lanes, bindings,
conditions, timers, messages, errors), read through the ElementTree API from the hardened loader's tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kinds import (ABSTRACT_EVENT_KINDS, ACTIVITY_KINDS, BINDABLE_KINDS, EVENT_DEFINITION_KINDS, EVENT_KINDS,
                     FLOW_KINDS, FLOW_NODE_KINDS, GATEWAY_KINDS, SUBPROCESS_KINDS)
from ..models import Binding
from ..namespaces import BPMN_NS, ZEEBE_NS, is_bpmn_namespace
from .dialects import read_binding
from .tree import bpmn_children, children, local_name, reference, split_tag, text_of, to_bool

DRAWN_EVENT_KINDS = EVENT_KINDS | ABSTRACT_EVENT_KINDS
DRAWN_FLOW_NODE_KINDS = FLOW_NODE_KINDS | ABSTRACT_EVENT_KINDS
_BINDABLE_TAGS = {f"{{{BPMN_NS}}}{kind}" for kind in BINDABLE_KINDS}

@dataclass
class ElementInfo:
    """One semantic BPMN element, as the definition table and the drawing need it."""

    id: str
    kind: str                         # local tag name: userTask, sequenceFlow, participant, ...
    name: str = ""
    documentation: str = ""
    line: int | None = None
    process_id: str | None = None     # the process it belongs to (None for collaboration parts)
    parent_id: str | None = None      # innermost containing process or sub-process
    lane: str | None = None           # innermost lane name
    event_definitions: list[str] = field(default_factory=list)
    parallel_multiple: bool = False
    interrupting: bool = True         # boundary cancelActivity / start isInterrupting
    attached_to: str | None = None
    triggered_by_event: bool = False  # event sub-process
    loop: str | None = None           # standard | parallel | sequential
    is_for_compensation: bool = False
    is_collection: bool = False
    instantiate: bool = False
    event_gateway_type: str | None = None
    default_flow: str | None = None
    source_ref: str | None = None
    target_ref: str | None = None
    condition: str | None = None
    association_direction: str | None = None
    process_ref: str | None = None    # participant
    called_element: str | None = None
    timers: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    bindable: bool = False
    binding: Binding | None = None
    is_executable: bool | None = None  # process

    @property
    def is_flow_node(self) -> bool:
        return self.kind in DRAWN_FLOW_NODE_KINDS

    @property
    def is_flow(self) -> bool:
        return self.kind in FLOW_KINDS


@dataclass
class Semantics:
    """Every semantic element of one file by id (first occurrence wins) and its processes in document order."""

    elements: dict[str, ElementInfo] = field(default_factory=dict)
    processes: list[ElementInfo] = field(default_factory=list)
    index: "ElementIndex | None" = None


def read_semantics(root: Any) -> Semantics:
    """Read the semantic elements of a `bpmn:definitions` root (any BPMN 2.0 model namespace)."""
    index = ElementIndex(root)
    elements, processes = _read_semantics(root, index)
    return Semantics(elements, processes, index)


class ElementIndex:
    """Every BPMN element of a file by id, resolving the reference forms modelers write."""

    def __init__(self, root: Any) -> None:
        self.by_id: dict[str, Any] = {}
        for element in root.iter():
            ns, _ = split_tag(element.tag)
            if not is_bpmn_namespace(ns):
                continue
            ident = element.get("id")
            if ident and ident not in self.by_id:
                self.by_id[ident] = element
        self._suffix: dict[str, str | None] = {}
        for ident in self.by_id:
            for sep in (".", ":"):
                if sep in ident:
                    tail = ident.rsplit(sep, 1)[1]
                    self._suffix[tail] = None if tail in self._suffix else ident

    def resolve(self, ref: str | None, context: str | None = None) -> tuple[str | None, Any]:
        """The id and element a reference names; tolerates QName prefixes and Bonita's `Process.Element` ids."""
        if not ref:
            return None, None
        if ref in self.by_id:
            return ref, self.by_id[ref]
        if ":" in ref:
            tail = ref.split(":", 1)[1]
            if tail in self.by_id:
                return tail, self.by_id[tail]
        if context and f"{context}.{ref}" in self.by_id:
            return f"{context}.{ref}", self.by_id[f"{context}.{ref}"]
        full = self._suffix.get(ref)
        if full:
            return full, self.by_id[full]
        return ref, None


def _documentation(element: Any) -> str:
    return "\n".join(t for t in (text_of(d) for d in bpmn_children(element, "documentation")) if t)


def _named(index: ElementIndex, ref: str | None) -> tuple[str, Any]:
    ident, target = index.resolve(reference(ref))
    if target is None:
        return ident or "", None
    return target.get("name") or ident or "", target


def _read_event_details(info: ElementInfo, element: Any, index: ElementIndex) -> None:
    definitions: list[Any] = []
    for child in children(element):
        ns, local = split_tag(child.tag)
        if is_bpmn_namespace(ns) and local in EVENT_DEFINITION_KINDS:
            definitions.append(child)
        elif is_bpmn_namespace(ns) and local == "eventDefinitionRef":
            _, target = index.resolve(text_of(child))
            if target is not None and local_name(target) in EVENT_DEFINITION_KINDS:
                definitions.append(target)
    for definition in definitions:
        kind = EVENT_DEFINITION_KINDS[local_name(definition)]
        info.event_definitions.append(kind)
        if kind == "timer":
            for local in ("timeDuration", "timeDate", "timeCycle"):
                for node in bpmn_children(definition, local):
                    info.timers.append(f"{local}: {text_of(node)}")
            if not any(True for _ in children(definition)):
                info.timers.append("timer (no time given)")
        elif kind == "message":
            name, _ = _named(index, definition.get("messageRef"))
            info.messages.append(name or "(no message)")
        elif kind == "signal":
            name, _ = _named(index, definition.get("signalRef"))
            info.messages.append(f"signal: {name or '(any)'}")
        elif kind == "error":
            info.errors.append(_error_text(index, definition.get("errorRef"), "errorCode"))
        elif kind == "escalation":
            info.errors.append("escalation: " + _error_text(index, definition.get("escalationRef"),
                                                             "escalationCode"))
        elif kind == "conditional":
            for node in bpmn_children(definition, "condition"):
                info.conditions.append(text_of(node))
        elif kind == "link":
            info.messages.append(f"link: {definition.get('name') or ''}".rstrip())
        elif kind == "compensation":
            ref = definition.get("activityRef")
            if ref:
                info.messages.append(f"compensates: {ref}")
    info.parallel_multiple = to_bool(element.get("parallelMultiple")) or False


def _error_text(index: ElementIndex, ref: str | None, code_attr: str) -> str:
    if not ref:
        return "any"
    ident, target = index.resolve(reference(ref))
    if target is None:
        return ident or ""
    name = target.get("name") or ident or ""
    code = target.get(code_attr)
    return f"{name} (code {code})" if code and code != name else name


def _read_loop(info: ElementInfo, element: Any) -> None:
    for child in children(element):
        ns, local = split_tag(child.tag)
        if not is_bpmn_namespace(ns):
            continue
        if local == "standardLoopCharacteristics":
            info.loop = "standard"
        elif local == "multiInstanceLoopCharacteristics":
            info.loop = "sequential" if to_bool(child.get("isSequential")) else "parallel"


def _read_semantics(root: Any, index: ElementIndex) -> tuple[dict[str, ElementInfo], list[ElementInfo]]:
    elements: dict[str, ElementInfo] = {}
    processes: list[ElementInfo] = []
    lane_of: dict[str, str] = {}
    categories: dict[str, str] = {}
    for element in root.iter():
        ns, local = split_tag(element.tag)
        if not is_bpmn_namespace(ns):
            continue
        if local == "categoryValue" and element.get("id"):
            categories[element.get("id")] = element.get("value") or ""
        if local == "lane":
            name = element.get("name") or element.get("id") or ""
            for ref in bpmn_children(element, "flowNodeRef"):
                lane_of[text_of(ref)] = name  # inner lanes come later in document order and win

    def visit(element: Any, process_id: str | None, parent_id: str | None) -> None:
        for child in children(element):
            ns, local = split_tag(child.tag)
            if not is_bpmn_namespace(ns):
                continue
            ident = child.get("id")
            if local in ("extensionElements", "documentation", "laneSet", "ioSpecification"):
                if local == "ioSpecification":
                    visit(child, process_id, parent_id)
                continue
            info: ElementInfo | None = None
            if ident and ident not in elements:
                info = _element_info(child, local, ident, index, process_id, parent_id, categories)
                info.lane = lane_of.get(ident)
                elements[ident] = info
                if local == "process":
                    processes.append(info)
            if local == "process":
                visit(child, ident, ident)
            elif local in SUBPROCESS_KINDS:
                visit(child, process_id, ident or parent_id)
            elif local in ("collaboration", "definitions"):
                visit(child, None, None)
            elif local in ("inputSet", "outputSet") or local.endswith("Association"):
                continue
            elif info is not None and local in DRAWN_FLOW_NODE_KINDS:
                visit(child, process_id, parent_id)  # data associations and ioSpecification of tasks and events
    visit(root, None, None)
    # A node inside a sub-process sits in the lane of that sub-process unless a lane names it.
    for info in elements.values():
        parent = elements.get(info.parent_id or "")
        while info.lane is None and parent is not None and parent.kind in SUBPROCESS_KINDS:
            info.lane = parent.lane
            parent = elements.get(parent.parent_id or "")
    # laneSets were skipped by the walk, but lanes are drawn: record them too.
    for element in root.iter():
        ns, local = split_tag(element.tag)
        if is_bpmn_namespace(ns) and local == "lane" and element.get("id") and element.get("id") not in elements:
            elements[element.get("id")] = ElementInfo(
                id=element.get("id"), kind="lane", name=element.get("name") or "",
                documentation=_documentation(element), line=element.sourceline)
    return elements, processes


def _element_info(element: Any, local: str, ident: str, index: ElementIndex, process_id: str | None,
                  parent_id: str | None, categories: dict[str, str]) -> ElementInfo:
    info = ElementInfo(id=ident, kind=local, name=(element.get("name") or "").strip(),
                       documentation=_documentation(element), line=element.sourceline,
                       process_id=process_id, parent_id=parent_id)
    if local in DRAWN_EVENT_KINDS:
        _read_event_details(info, element, index)
        if local == "boundaryEvent":
            info.attached_to = index.resolve(reference(element.get("attachedToRef")))[0]
            info.interrupting = element.get("cancelActivity", "true").strip().lower() != "false"
        elif local == "startEvent":
            info.interrupting = element.get("isInterrupting", "true").strip().lower() != "false"
    if local in ACTIVITY_KINDS:
        _read_loop(info, element)
        info.is_for_compensation = bool(to_bool(element.get("isForCompensation")))
        info.default_flow = element.get("default")
    if local in SUBPROCESS_KINDS:
        info.triggered_by_event = bool(to_bool(element.get("triggeredByEvent")))
    if local in GATEWAY_KINDS:
        info.default_flow = element.get("default")
        if local == "eventBasedGateway":
            info.instantiate = bool(to_bool(element.get("instantiate")))
            info.event_gateway_type = element.get("eventGatewayType")
    if local == "receiveTask":
        info.instantiate = bool(to_bool(element.get("instantiate")))
    if local in ("sendTask", "receiveTask") and element.get("messageRef"):
        info.messages.append(_named(index, element.get("messageRef"))[0])
    if local == "callActivity":
        called = element.get("calledElement")
        if not called:
            for ext in bpmn_children(element, "extensionElements"):
                for node in ext:
                    if node.tag == f"{{{ZEEBE_NS}}}calledElement":
                        called = node.get("processId")
        info.called_element = (called or "").strip() or None
    if element.tag in _BINDABLE_TAGS:
        info.bindable = True
        info.binding = read_binding(element)
    elif local in ("intermediateThrowEvent", "endEvent") and "message" in info.event_definitions:
        info.binding = read_binding(element)
        if info.binding is None:
            for definition in bpmn_children(element, "messageEventDefinition"):
                info.binding = read_binding(definition)
        info.bindable = info.binding is not None
    if local in ("sequenceFlow", "messageFlow", "association"):
        info.source_ref = index.resolve(reference(element.get("sourceRef")))[0]
        info.target_ref = index.resolve(reference(element.get("targetRef")))[0]
        if local == "association":
            info.association_direction = element.get("associationDirection")
    if local in ("dataInputAssociation", "dataOutputAssociation"):
        sources = [text_of(n) for n in bpmn_children(element, "sourceRef")]
        targets = [text_of(n) for n in bpmn_children(element, "targetRef")]
        info.source_ref = index.resolve(sources[0])[0] if sources else None
        info.target_ref = index.resolve(targets[0])[0] if targets else None
    if local == "sequenceFlow":
        for node in bpmn_children(element, "conditionExpression"):
            text = text_of(node)
            info.condition = text
            if text:
                info.conditions.append(text)
    if local == "participant":
        info.process_ref = index.resolve(reference(element.get("processRef")))[0]
    if local == "process":
        info.is_executable = to_bool(element.get("isExecutable"))
    if local == "textAnnotation":
        info.name = "\n".join(text_of(t) for t in bpmn_children(element, "text")).strip()
    if local == "group":
        ref = element.get("categoryValueRef")
        if ref:
            info.name = categories.get(ref) or categories.get(ref.split(":")[-1], "") or info.name
    if local in ("dataObject", "dataInput", "dataOutput"):
        info.is_collection = bool(to_bool(element.get("isCollection")))
    if local == "dataObjectReference":
        _, target = index.resolve(reference(element.get("dataObjectRef")))
        if target is not None:
            info.is_collection = bool(to_bool(target.get("isCollection")))
            if not info.name:
                info.name = (target.get("name") or "").strip()
    if local == "dataStoreReference" and not info.name:
        name, _ = _named(index, element.get("dataStoreRef"))
        info.name = name if element.get("dataStoreRef") else ""
    return info


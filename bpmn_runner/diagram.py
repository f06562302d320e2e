"""Read the BPMN DI (diagram interchange) of a file, and the semantic elements it draws, into plain dataclasses.

A `Document` holds every `BPMNDiagram` of one file as a `Diagram` (one per plane: the main process or
collaboration, plus the planes of collapsed sub-processes), each with its `Shape`s and `Edge`s in drawing
coordinates exactly as the modeler saved them, and an `ElementInfo` per semantic element for the
definition table (names, documentation, lanes, bindings, conditions, timers, messages, errors).

A file without any DI gets a generated left-to-right layout (layered by a breadth-first walk over the
sequence flows) flagged `generated=True`, so the report can still show something and say so.

No Jinja and no markup here: `report.py` turns these into SVG. lxml trees come from the hardened
`loader.xml.parse_file`; this module only reads them through the ElementTree API (tags, attributes, text).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
import math
from pathlib import Path
import re
from typing import Any, Iterable, Iterator

from .errors import DefinitionError
from .loader.dialects import BINDABLE_TAGS, BPMN_NS, ZEEBE_NS, read_binding
from .models import Binding

__all__ = [
    "Bounds",
    "Diagram",
    "Document",
    "Edge",
    "ElementInfo",
    "Shape",
    "generate_layout",
    "read_document",
]

# --- vocabularies -----------------------------------------------------------------------------------------

EVENT_KINDS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                         "boundaryEvent", "implicitThrowEvent"})
TASK_KINDS = frozenset({"task", "serviceTask", "userTask", "scriptTask", "sendTask", "receiveTask",
                        "businessRuleTask", "manualTask", "callActivity"})
SUBPROCESS_KINDS = frozenset({"subProcess", "adHocSubProcess", "transaction"})
ACTIVITY_KINDS = TASK_KINDS | SUBPROCESS_KINDS
GATEWAY_KINDS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                           "complexGateway"})
FLOW_NODE_KINDS = EVENT_KINDS | ACTIVITY_KINDS | GATEWAY_KINDS
DATA_KINDS = frozenset({"dataObject", "dataObjectReference", "dataInput", "dataOutput", "dataStore",
                        "dataStoreReference"})
ARTIFACT_KINDS = frozenset({"group", "textAnnotation"})
CONTAINER_KINDS = frozenset({"participant", "lane", "process"})
SHAPE_KINDS = FLOW_NODE_KINDS | DATA_KINDS | ARTIFACT_KINDS | CONTAINER_KINDS
EDGE_KINDS = frozenset({"sequenceFlow", "messageFlow", "association", "dataInputAssociation",
                        "dataOutputAssociation"})
THROWING_EVENTS = frozenset({"endEvent", "intermediateThrowEvent", "implicitThrowEvent"})

_EVENT_DEFINITIONS = {
    "messageEventDefinition": "message", "timerEventDefinition": "timer", "signalEventDefinition": "signal",
    "errorEventDefinition": "error", "escalationEventDefinition": "escalation",
    "conditionalEventDefinition": "conditional", "linkEventDefinition": "link",
    "compensateEventDefinition": "compensation", "terminateEventDefinition": "terminate",
    "cancelEventDefinition": "cancel",
}
_GATEWAY_MARKERS = {"exclusiveGateway": "exclusive", "parallelGateway": "parallel",
                    "inclusiveGateway": "inclusive", "eventBasedGateway": "eventBased",
                    "complexGateway": "complex"}

# Sizes for the generated layout (the ones bpmn-js uses by default).
_DEFAULT_SIZES = {"event": (36.0, 36.0), "gateway": (50.0, 50.0), "activity": (100.0, 80.0),
                  "data": (36.0, 50.0)}


# --- plain models -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def contains(self, other: "Bounds") -> bool:
        return (self.x <= other.x and self.y <= other.y and other.right <= self.right
                and other.bottom <= self.bottom)

    @staticmethod
    def around(points: Iterable[tuple[float, float]]) -> "Bounds | None":
        xs: list[float] = []
        ys: list[float] = []
        for x, y in points:
            xs.append(x)
            ys.append(y)
        if not xs:
            return None
        return Bounds(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


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
        return self.kind in FLOW_NODE_KINDS

    @property
    def is_flow(self) -> bool:
        return self.kind in ("sequenceFlow", "messageFlow")


@dataclass
class Shape:
    """One `BPMNShape`, resolved against the semantic element it draws."""

    id: str                           # the BPMN element id (data-element-id), or the DI id when it has none
    di_id: str
    kind: str                         # semantic kind, or "unknown" when we cannot draw the element
    name: str
    bounds: Bounds
    label: Bounds | None = None
    markers: list[str] = field(default_factory=list)
    is_expanded: bool = False
    is_horizontal: bool = True
    is_marker_visible: bool = True
    throwing: bool = False
    interrupting: bool = True
    known: bool = True                # False: kind unknown to us or element missing from the file
    element_kind: str | None = None   # the semantic tag even when unknown (e.g. choreographyTask)
    line: int | None = None
    fill: str | None = None           # modeler colours (BPMN in Color / bpmn.io bioc), validated CSS colours
    stroke: str | None = None


@dataclass
class Edge:
    """One `BPMNEdge`: its waypoints and the flow it draws."""

    id: str
    di_id: str
    kind: str
    name: str
    waypoints: list[tuple[float, float]]
    label: Bounds | None = None
    is_default: bool = False
    is_conditional: bool = False      # conditional marker at the source (source is an activity)
    has_condition: bool = False
    source_id: str | None = None
    target_id: str | None = None
    direction: str | None = None      # association: None | One | Both
    known: bool = True
    line: int | None = None
    stroke: str | None = None


@dataclass
class Diagram:
    """One plane of one `BPMNDiagram` (or a generated layout)."""

    id: str
    name: str
    plane_element: str | None
    plane_kind: str | None
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    generated: bool = False

    def bounds(self) -> Bounds | None:
        """The box around everything drawn (shapes, labels, waypoints)."""
        def points() -> Iterator[tuple[float, float]]:
            for shape in self.shapes:
                for b in (shape.bounds, shape.label):
                    if b is not None:
                        yield b.x, b.y
                        yield b.right, b.bottom
            for edge in self.edges:
                yield from edge.waypoints
                if edge.label is not None:
                    yield edge.label.x, edge.label.y
                    yield edge.label.right, edge.label.bottom
        return Bounds.around(points())

    @property
    def element_ids(self) -> list[str]:
        return [s.id for s in self.shapes] + [e.id for e in self.edges]


@dataclass
class Document:
    """Everything the reports need from one file."""

    path: str
    name: str
    elements: dict[str, ElementInfo] = field(default_factory=dict)
    processes: list[ElementInfo] = field(default_factory=list)
    diagrams: list[Diagram] = field(default_factory=list)
    has_di: bool = False
    notes: list[str] = field(default_factory=list)
    kind: str = "bpmn"                # bpmn | dmn

    @property
    def di_element_ids(self) -> set[str]:
        """Ids of the elements the file's own DI draws (not the generated layout)."""
        return {i for d in self.diagrams if not d.generated for i in d.element_ids}


# --- helpers over the ElementTree API -------------------------------------------------------------------

def _split(tag: Any) -> tuple[str | None, str]:
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _is_bpmn_ns(ns: str | None) -> bool:
    return ns == BPMN_NS or (ns is not None and "/BPMN/" in ns and ns.endswith("/MODEL"))


def _local(element: Any) -> str:
    return _split(element.tag)[1]


def _children(element: Any, local: str | None = None) -> Iterator[Any]:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if local is None or _split(child.tag)[1] == local:
            yield child


def _bpmn_children(element: Any, local: str) -> Iterator[Any]:
    for child in element:
        ns, name = _split(child.tag)
        if name == local and _is_bpmn_ns(ns):
            yield child


def _text(element: Any) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _float(value: str | None) -> float:
    try:
        number = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1")


def _bounds(element: Any) -> Bounds | None:
    for child in _children(element, "Bounds"):
        return Bounds(_float(child.get("x")), _float(child.get("y")),
                      max(0.0, _float(child.get("width"))), max(0.0, _float(child.get("height"))))
    return None


def _ref(value: str | None) -> str | None:
    """A reference attribute, trimmed; `_Index.resolve` then accepts both `tns:Foo` and `Foo`."""
    if not value:
        return None
    value = value.strip()
    return value


# --- semantic model -------------------------------------------------------------------------------------

class _Index:
    def __init__(self, root: Any) -> None:
        self.by_id: dict[str, Any] = {}
        for element in root.iter():
            ns, _ = _split(element.tag)
            if not _is_bpmn_ns(ns):
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
    return "\n".join(t for t in (_text(d) for d in _bpmn_children(element, "documentation")) if t)


def _named(index: _Index, ref: str | None) -> tuple[str, Any]:
    ident, target = index.resolve(_ref(ref))
    if target is None:
        return ident or "", None
    return target.get("name") or ident or "", target


def _read_event_details(info: ElementInfo, element: Any, index: _Index) -> None:
    definitions: list[Any] = []
    for child in _children(element):
        ns, local = _split(child.tag)
        if _is_bpmn_ns(ns) and local in _EVENT_DEFINITIONS:
            definitions.append(child)
        elif _is_bpmn_ns(ns) and local == "eventDefinitionRef":
            _, target = index.resolve(_text(child))
            if target is not None and _local(target) in _EVENT_DEFINITIONS:
                definitions.append(target)
    for definition in definitions:
        kind = _EVENT_DEFINITIONS[_local(definition)]
        info.event_definitions.append(kind)
        if kind == "timer":
            for local in ("timeDuration", "timeDate", "timeCycle"):
                for node in _bpmn_children(definition, local):
                    info.timers.append(f"{local}: {_text(node)}")
            if not any(True for _ in _children(definition)):
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
            for node in _bpmn_children(definition, "condition"):
                info.conditions.append(_text(node))
        elif kind == "link":
            info.messages.append(f"link: {definition.get('name') or ''}".rstrip())
        elif kind == "compensation":
            ref = definition.get("activityRef")
            if ref:
                info.messages.append(f"compensates: {ref}")
    info.parallel_multiple = _bool(element.get("parallelMultiple")) or False


def _error_text(index: _Index, ref: str | None, code_attr: str) -> str:
    if not ref:
        return "any"
    ident, target = index.resolve(_ref(ref))
    if target is None:
        return ident or ""
    name = target.get("name") or ident or ""
    code = target.get(code_attr)
    return f"{name} (code {code})" if code and code != name else name


def _read_loop(info: ElementInfo, element: Any) -> None:
    for child in _children(element):
        ns, local = _split(child.tag)
        if not _is_bpmn_ns(ns):
            continue
        if local == "standardLoopCharacteristics":
            info.loop = "standard"
        elif local == "multiInstanceLoopCharacteristics":
            info.loop = "sequential" if _bool(child.get("isSequential")) else "parallel"


def _read_semantics(root: Any, index: _Index) -> tuple[dict[str, ElementInfo], list[ElementInfo]]:
    elements: dict[str, ElementInfo] = {}
    processes: list[ElementInfo] = []
    lane_of: dict[str, str] = {}
    categories: dict[str, str] = {}
    for element in root.iter():
        ns, local = _split(element.tag)
        if not _is_bpmn_ns(ns):
            continue
        if local == "categoryValue" and element.get("id"):
            categories[element.get("id")] = element.get("value") or ""
        if local == "lane":
            name = element.get("name") or element.get("id") or ""
            for ref in _bpmn_children(element, "flowNodeRef"):
                lane_of[_text(ref)] = name  # inner lanes come later in document order and win

    def visit(element: Any, process_id: str | None, parent_id: str | None) -> None:
        for child in _children(element):
            ns, local = _split(child.tag)
            if not _is_bpmn_ns(ns):
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
            elif info is not None and local in FLOW_NODE_KINDS:
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
        ns, local = _split(element.tag)
        if _is_bpmn_ns(ns) and local == "lane" and element.get("id") and element.get("id") not in elements:
            elements[element.get("id")] = ElementInfo(
                id=element.get("id"), kind="lane", name=element.get("name") or "",
                documentation=_documentation(element), line=element.sourceline)
    return elements, processes


def _element_info(element: Any, local: str, ident: str, index: _Index, process_id: str | None,
                  parent_id: str | None, categories: dict[str, str]) -> ElementInfo:
    info = ElementInfo(id=ident, kind=local, name=(element.get("name") or "").strip(),
                       documentation=_documentation(element), line=element.sourceline,
                       process_id=process_id, parent_id=parent_id)
    if local in EVENT_KINDS:
        _read_event_details(info, element, index)
        if local == "boundaryEvent":
            info.attached_to = index.resolve(_ref(element.get("attachedToRef")))[0]
            info.interrupting = element.get("cancelActivity", "true").strip().lower() != "false"
        elif local == "startEvent":
            info.interrupting = element.get("isInterrupting", "true").strip().lower() != "false"
    if local in ACTIVITY_KINDS:
        _read_loop(info, element)
        info.is_for_compensation = bool(_bool(element.get("isForCompensation")))
        info.default_flow = element.get("default")
    if local in SUBPROCESS_KINDS:
        info.triggered_by_event = bool(_bool(element.get("triggeredByEvent")))
    if local in GATEWAY_KINDS:
        info.default_flow = element.get("default")
        if local == "eventBasedGateway":
            info.instantiate = bool(_bool(element.get("instantiate")))
            info.event_gateway_type = element.get("eventGatewayType")
    if local == "receiveTask":
        info.instantiate = bool(_bool(element.get("instantiate")))
    if local in ("sendTask", "receiveTask") and element.get("messageRef"):
        info.messages.append(_named(index, element.get("messageRef"))[0])
    if local == "callActivity":
        called = element.get("calledElement")
        if not called:
            for ext in _bpmn_children(element, "extensionElements"):
                for node in ext:
                    if node.tag == f"{{{ZEEBE_NS}}}calledElement":
                        called = node.get("processId")
        info.called_element = (called or "").strip() or None
    if element.tag in BINDABLE_TAGS:
        info.bindable = True
        info.binding = read_binding(element)
    elif local in ("intermediateThrowEvent", "endEvent") and "message" in info.event_definitions:
        info.binding = read_binding(element)
        if info.binding is None:
            for definition in _bpmn_children(element, "messageEventDefinition"):
                info.binding = read_binding(definition)
        info.bindable = info.binding is not None
    if local in ("sequenceFlow", "messageFlow", "association"):
        info.source_ref = index.resolve(_ref(element.get("sourceRef")))[0]
        info.target_ref = index.resolve(_ref(element.get("targetRef")))[0]
        if local == "association":
            info.association_direction = element.get("associationDirection")
    if local in ("dataInputAssociation", "dataOutputAssociation"):
        sources = [_text(n) for n in _bpmn_children(element, "sourceRef")]
        targets = [_text(n) for n in _bpmn_children(element, "targetRef")]
        info.source_ref = index.resolve(sources[0])[0] if sources else None
        info.target_ref = index.resolve(targets[0])[0] if targets else None
    if local == "sequenceFlow":
        for node in _bpmn_children(element, "conditionExpression"):
            text = _text(node)
            info.condition = text
            if text:
                info.conditions.append(text)
    if local == "participant":
        info.process_ref = index.resolve(_ref(element.get("processRef")))[0]
    if local == "process":
        info.is_executable = _bool(element.get("isExecutable"))
    if local == "textAnnotation":
        info.name = "\n".join(_text(t) for t in _bpmn_children(element, "text")).strip()
    if local == "group":
        ref = element.get("categoryValueRef")
        if ref:
            info.name = categories.get(ref) or categories.get(ref.split(":")[-1], "") or info.name
    if local in ("dataObject", "dataInput", "dataOutput"):
        info.is_collection = bool(_bool(element.get("isCollection")))
    if local == "dataObjectReference":
        _, target = index.resolve(_ref(element.get("dataObjectRef")))
        if target is not None:
            info.is_collection = bool(_bool(target.get("isCollection")))
            if not info.name:
                info.name = (target.get("name") or "").strip()
    if local == "dataStoreReference" and not info.name:
        name, _ = _named(index, element.get("dataStoreRef"))
        info.name = name if element.get("dataStoreRef") else ""
    return info


# --- DI ---------------------------------------------------------------------------------------------------

def _markers_for(info: ElementInfo, *, expanded: bool, marker_visible: bool) -> list[str]:
    kind = info.kind
    markers: list[str] = []
    if kind in EVENT_KINDS:
        defs = info.event_definitions
        if len(defs) > 1:
            markers.append("parallelMultiple" if info.parallel_multiple else "multiple")
        elif defs:
            markers.append(defs[0])
    elif kind in GATEWAY_KINDS:
        marker = _GATEWAY_MARKERS[kind]
        if kind == "exclusiveGateway" and not marker_visible:
            marker = ""
        if kind == "eventBasedGateway":
            if (info.event_gateway_type or "").lower() == "parallel":
                marker = "eventBasedParallel"
            elif info.instantiate:
                marker = "eventBasedInstantiate"
        if marker:
            markers.append(marker)
    elif kind in ACTIVITY_KINDS:
        if info.loop == "standard":
            markers.append("loop")
        elif info.loop == "parallel":
            markers.append("parallelMultiInstance")
        elif info.loop == "sequential":
            markers.append("sequentialMultiInstance")
        if kind in SUBPROCESS_KINDS and not expanded:
            markers.append("subprocess")
        if kind == "adHocSubProcess":
            markers.append("adHoc")
        if info.is_for_compensation:
            markers.append("compensation")
    elif kind in ("dataObject", "dataObjectReference", "dataInput", "dataOutput"):
        if kind == "dataInput":
            markers.append("input")
        elif kind == "dataOutput":
            markers.append("output")
        if info.is_collection:
            markers.append("collection")
    return markers


_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\(\s*[\d.%]+\s*(,\s*[\d.%]+\s*){2,3}\))$")


def _colours(element: Any) -> tuple[str | None, str | None]:
    """Fill and stroke colours a modeler saved on a DI element, when they are plain CSS colours."""
    fill = stroke = None
    for name, value in element.attrib.items():
        local = _split(name)[1]
        value = (value or "").strip()
        if not _COLOUR.match(value):
            continue
        if local in ("background-color", "fill"):
            fill = value
        elif local in ("border-color", "stroke"):
            stroke = value
    return fill, stroke


def _label(element: Any) -> Bounds | None:
    for label in _children(element, "BPMNLabel"):
        return _bounds(label)
    return None


def _read_plane(plane: Any, diagram_el: Any, number: int, index: _Index,
                elements: dict[str, ElementInfo]) -> Diagram:
    plane_ref, plane_target = index.resolve(_ref(plane.get("bpmnElement")))
    plane_info = elements.get(plane_ref or "")
    plane_kind = plane_info.kind if plane_info else (_local(plane_target) if plane_target is not None else None)
    name = (diagram_el.get("name") or "").strip()
    if not name:
        if plane_info and plane_info.kind in SUBPROCESS_KINDS | {"callActivity"}:
            name = f"{plane_info.name or plane_info.id} (sub-process)"
        elif plane_info and plane_info.name:
            name = plane_info.name
        elif plane_ref and plane_kind:
            name = f"{plane_kind[:1].upper()}{plane_kind[1:]} {plane_ref}"
        else:
            name = plane_ref or diagram_el.get("id") or f"Diagram {number}"
    diagram = Diagram(id=diagram_el.get("id") or plane.get("id") or f"diagram-{number}", name=name,
                      plane_element=plane_ref, plane_kind=plane_kind)
    raw_shapes: list[tuple[Any, str, ElementInfo | None, Any]] = []
    for child in plane.iter():
        local = _local(child)
        if local not in ("BPMNShape", "BPMNEdge"):
            continue
        ref, target = index.resolve(_ref(child.get("bpmnElement")), plane_ref)
        info = elements.get(ref or "")
        if info is None and target is not None:  # a BPMN element we keep no info for (e.g. choreography)
            info = ElementInfo(id=ref or "", kind=_local(target), name=(target.get("name") or "").strip(),
                               line=target.sourceline)
        if local == "BPMNShape":
            raw_shapes.append((child, ref or child.get("id") or "", info, target))
        else:
            diagram.edges.append(_read_edge(child, ref, info, elements))

    # A sub-process without isExpanded is expanded when its children are drawn in the same plane.
    drawn = {ref for _, ref, _, _ in raw_shapes}
    parents_with_drawn_children = {elements[r].parent_id for r in drawn if r in elements}
    for child, ref, info, target in raw_shapes:
        diagram.shapes.append(_read_shape(child, ref, info, parents_with_drawn_children))
    return diagram


def _read_shape(element: Any, ref: str, info: ElementInfo | None, parents_drawn: set[str | None]) -> Shape:
    bounds = _bounds(element) or Bounds(0, 0, 0, 0)
    expanded_attr = _bool(element.get("isExpanded"))
    marker_visible = _bool(element.get("isMarkerVisible"))
    horizontal = _bool(element.get("isHorizontal"))
    known = info is not None and info.kind in SHAPE_KINDS
    kind = info.kind if known and info is not None else "unknown"
    expanded = False
    if info is not None and info.kind in SUBPROCESS_KINDS:
        expanded = expanded_attr if expanded_attr is not None else (info.id in parents_drawn)
    elif info is not None and info.kind in CONTAINER_KINDS:
        expanded = True
    shape = Shape(id=ref, di_id=element.get("id") or ref, kind=kind,
                  name=(info.name if info is not None else ""), bounds=bounds, label=_label(element),
                  is_expanded=expanded, is_horizontal=True if horizontal is None else horizontal,
                  is_marker_visible=True if marker_visible is None else marker_visible,
                  known=known, element_kind=info.kind if info is not None else None,
                  line=element.sourceline)
    shape.fill, shape.stroke = _colours(element)
    if known and info is not None:
        shape.markers = _markers_for(info, expanded=expanded, marker_visible=shape.is_marker_visible)
        shape.throwing = info.kind in THROWING_EVENTS
        shape.interrupting = info.interrupting
    return shape


def _read_edge(element: Any, ref: str | None, info: ElementInfo | None,
               elements: dict[str, ElementInfo]) -> Edge:
    points = [(_float(w.get("x")), _float(w.get("y"))) for w in _children(element, "waypoint")]
    known = info is not None and info.kind in EDGE_KINDS
    edge = Edge(id=ref or element.get("id") or "", di_id=element.get("id") or "",
                kind=info.kind if known and info is not None else "unknown",
                name=(info.name if info is not None else ""), waypoints=points, label=_label(element),
                known=known, line=element.sourceline)
    edge.stroke = _colours(element)[1]
    if known and info is not None:
        edge.source_id, edge.target_id = info.source_ref, info.target_ref
        edge.direction = info.association_direction
        if info.kind == "sequenceFlow":
            source = elements.get(info.source_ref or "")
            edge.is_default = source is not None and source.default_flow == info.id
            edge.has_condition = bool(info.condition)
            edge.is_conditional = (edge.has_condition and not edge.is_default and source is not None
                                   and source.kind in ACTIVITY_KINDS)
    return edge


def _attach_missing_waypoints(diagram: Diagram) -> None:
    """An edge saved without waypoints is drawn between the centres of its ends when both are drawn."""
    centres = {s.id: (s.bounds.cx, s.bounds.cy) for s in diagram.shapes}
    for edge in diagram.edges:
        if len(edge.waypoints) >= 2:
            continue
        if edge.source_id in centres and edge.target_id in centres:
            edge.waypoints = [centres[edge.source_id], centres[edge.target_id]]


# --- generated layout -------------------------------------------------------------------------------------

def _size_for(kind: str) -> tuple[float, float]:
    if kind in EVENT_KINDS:
        return _DEFAULT_SIZES["event"]
    if kind in GATEWAY_KINDS:
        return _DEFAULT_SIZES["gateway"]
    if kind in DATA_KINDS:
        return _DEFAULT_SIZES["data"]
    return _DEFAULT_SIZES["activity"]


def generate_layout(document: Document, container_ids: Iterable[str] | None = None) -> list[Diagram]:
    """Left-to-right layouts for processes (and their sub-processes) that the file does not draw.

    Flow nodes are layered by a breadth-first walk over sequence flows from the nodes nobody flows into;
    boundary events sit on the bottom edge of their activity. One diagram per process or sub-process.
    """
    by_parent: dict[str, list[ElementInfo]] = defaultdict(list)
    for info in document.elements.values():
        if info.parent_id and (info.is_flow_node or info.kind == "sequenceFlow"):
            by_parent[info.parent_id].append(info)
    if container_ids is None:
        container_ids = [p.id for p in document.processes]
    diagrams: list[Diagram] = []
    queue = deque(container_ids)
    seen: set[str] = set()
    while queue:
        container = queue.popleft()
        if container in seen or not by_parent.get(container):
            continue
        seen.add(container)
        owner = document.elements.get(container)
        diagram = _layout_container(container, owner, by_parent[container], document.elements)
        diagrams.append(diagram)
        queue.extend(i.id for i in by_parent[container] if i.kind in SUBPROCESS_KINDS)
    return diagrams


def _layout_container(container: str, owner: ElementInfo | None, members: list[ElementInfo],
                      elements: dict[str, ElementInfo]) -> Diagram:
    nodes = [m for m in members if m.is_flow_node and m.kind != "boundaryEvent"]
    boundaries = [m for m in members if m.kind == "boundaryEvent"]
    flows = [m for m in members if m.kind == "sequenceFlow"]
    node_ids = {n.id for n in nodes}
    host_of = {b.id: b.attached_to for b in boundaries if b.attached_to in node_ids}
    outgoing: dict[str, list[str]] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    for flow in flows:
        source = host_of.get(flow.source_ref or "", flow.source_ref)
        if source in node_ids and flow.target_ref in node_ids:
            outgoing[source].append(flow.target_ref)
            incoming[flow.target_ref] += 1
    layer: dict[str, int] = {}
    order: list[str] = []
    pending = [n.id for n in nodes if incoming[n.id] == 0] + [n.id for n in nodes]
    for root in pending:
        if root in layer:
            continue
        base = max(layer.values(), default=-1) + 1 if layer else 0
        layer[root] = base
        order.append(root)
        walk = deque([root])
        while walk:
            current = walk.popleft()
            for target in outgoing[current]:
                if target not in layer:
                    layer[target] = layer[current] + 1
                    order.append(target)
                    walk.append(target)
    rows: dict[int, int] = defaultdict(int)
    cell_w, cell_h, margin = 170.0, 130.0, 40.0
    shapes: dict[str, Shape] = {}
    for ident in order:
        info = elements[ident]
        col = layer[ident]
        row = rows[col]
        rows[col] += 1
        width, height = _size_for(info.kind)
        x = margin + col * cell_w + (cell_w - 70 - width) / 2
        y = margin + row * cell_h + (cell_h - 30 - height) / 2
        shapes[ident] = _generated_shape(info, Bounds(x, y, width, height))
    attached_count: dict[str, int] = defaultdict(int)
    for boundary in boundaries:
        host = shapes.get(boundary.attached_to or "")
        if host is None:
            continue
        i = attached_count[host.id]
        attached_count[host.id] += 1
        width, height = _DEFAULT_SIZES["event"]
        cx = host.bounds.right - 20 - i * 40
        shapes[boundary.id] = _generated_shape(boundary, Bounds(cx - width / 2, host.bounds.bottom - height / 2,
                                                                width, height))
    edges: list[Edge] = []
    lowest = max((s.bounds.bottom for s in shapes.values()), default=0.0)
    back = 0
    for flow in flows:
        source, target = shapes.get(flow.source_ref or ""), shapes.get(flow.target_ref or "")
        if source is None or target is None:
            continue
        sb, tb = source.bounds, target.bounds
        if source.kind == "boundaryEvent":
            points = [(sb.cx, sb.bottom), (sb.cx, tb.cy), (tb.x, tb.cy)] if tb.x > sb.cx else \
                [(sb.cx, sb.bottom), (sb.cx, tb.bottom + 20), (tb.cx, tb.bottom + 20), (tb.cx, tb.bottom)]
        elif tb.x > sb.right:
            mid = (sb.right + tb.x) / 2
            points = [(sb.right, sb.cy), (tb.x, tb.cy)] if abs(sb.cy - tb.cy) < 0.5 else \
                [(sb.right, sb.cy), (mid, sb.cy), (mid, tb.cy), (tb.x, tb.cy)]
        else:  # a flow back to an earlier layer: go round underneath
            back += 1
            low = lowest + 20 + back * 12
            points = [(sb.cx, sb.bottom), (sb.cx, low), (tb.cx, low), (tb.cx, tb.bottom)]
        source_info = elements.get(flow.source_ref or "")
        is_default = source_info is not None and source_info.default_flow == flow.id
        edges.append(Edge(id=flow.id, di_id=flow.id, kind="sequenceFlow", name=flow.name, waypoints=points,
                          is_default=is_default, has_condition=bool(flow.condition),
                          is_conditional=bool(flow.condition) and not is_default and source_info is not None
                          and source_info.kind in ACTIVITY_KINDS,
                          source_id=flow.source_ref, target_id=flow.target_ref, line=flow.line))
    label = owner.name or owner.id if owner is not None else container
    return Diagram(id=f"generated-{container}", name=f"{label} (generated layout)", plane_element=container,
                   plane_kind=owner.kind if owner else None, shapes=list(shapes.values()), edges=edges,
                   generated=True)


def _generated_shape(info: ElementInfo, bounds: Bounds) -> Shape:
    shape = Shape(id=info.id, di_id=info.id, kind=info.kind, name=info.name, bounds=bounds,
                  is_expanded=False, known=True, element_kind=info.kind, line=info.line)
    shape.markers = _markers_for(info, expanded=False, marker_visible=True)
    shape.throwing = info.kind in THROWING_EVENTS
    shape.interrupting = info.interrupting
    return shape


# --- entry point ------------------------------------------------------------------------------------------

def read_document(path: str | Path, *, layout_missing: bool = True) -> Document:
    """Read one BPMN file's semantic elements and every diagram plane.

    Raises `XmlError` for files the hardened parser refuses and `DefinitionError` for XML that is not BPMN.
    """
    from .loader.xml import parse_file  # local import keeps this module importable without the loader cost

    path = Path(path)
    tree = parse_file(path)
    root = tree.getroot()
    ns, local = _split(root.tag)
    if local == "definitions" and ns is not None and "/DMN/" in ns.upper():
        # Decision tables are drawn as tables in the report's Decisions section, not as a diagram.
        return Document(path=str(path), name=path.name, kind="dmn",
                        notes=["This is a decision model (DMN); its decisions are listed under Decisions."])
    if local != "definitions" or not _is_bpmn_ns(ns):
        raise DefinitionError(f"not a BPMN 2.0 document: the root element is <{local}> in namespace "
                              f"{ns or '(none)'}; expected <definitions> in {BPMN_NS}",
                              file=str(path), line=root.sourceline or 1)
    index = _Index(root)
    elements, processes = _read_semantics(root, index)
    document = Document(path=str(path), name=path.name, elements=elements, processes=processes)
    number = 0
    empty_planes: list[Diagram] = []
    for diagram_el in root.iter():
        if _local(diagram_el) != "BPMNDiagram":
            continue
        for plane in _children(diagram_el, "BPMNPlane"):
            number += 1
            diagram = _read_plane(plane, diagram_el, number, index, elements)
            _attach_missing_waypoints(diagram)
            if diagram.shapes or diagram.edges:
                document.diagrams.append(diagram)
            elif diagram.plane_element:
                empty_planes.append(diagram)
    document.has_di = bool(document.diagrams)
    for empty in empty_planes if document.has_di else ():
        # bpmn-js writes a plane per collapsed sub-process; when it is empty, lay out what the sub-process holds.
        generated = generate_layout(document, [empty.plane_element]) if layout_missing else []
        if generated:
            document.diagrams.extend(generated[:1])
        else:
            document.notes.append(f"Diagram \u201c{empty.name}\u201d is empty: nothing inside it is drawn "
                                  "in this file.")
    if not document.has_di:
        document.notes.append("This file has no diagram layout (no BPMN DI).")
        if layout_missing:
            generated = generate_layout(document)
            if generated:
                document.notes.append("The diagram below is a generated left-to-right layout, not the modeler's.")
            document.diagrams.extend(generated)
    return document

"""The BPMN DI (diagram interchange) of one file: every plane of every `BPMNDiagram` as a `Diagram` of `Shape`s
and `Edge`s in drawing coordinates exactly as the modeler saved them, resolved against the file's semantics."""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any, Iterable, Iterator

from ..kinds import (ACTIVITY_KINDS, ARTIFACT_KINDS, DATA_KINDS, EDGE_KINDS, GATEWAY_KINDS, GATEWAY_MARKERS,
                     POOL_KINDS, SUBPROCESS_KINDS, THROWING_EVENT_KINDS)
from .semantics import DRAWN_EVENT_KINDS, DRAWN_FLOW_NODE_KINDS, ElementIndex, ElementInfo, Semantics
from .tree import children, local_name, reference, split_tag, to_bool, to_float

_SHAPE_KINDS = DRAWN_FLOW_NODE_KINDS | DATA_KINDS | ARTIFACT_KINDS | POOL_KINDS


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



def bounds_of(element: Any) -> Bounds | None:
    """The `dc:Bounds` child of a DI shape or label."""
    for child in children(element, "Bounds"):
        return Bounds(to_float(child.get("x")), to_float(child.get("y")),
                      max(0.0, to_float(child.get("width"))), max(0.0, to_float(child.get("height"))))
    return None


# --- DI ---------------------------------------------------------------------------------------------------

def markers_for(info: ElementInfo, *, expanded: bool, marker_visible: bool) -> list[str]:
    kind = info.kind
    markers: list[str] = []
    if kind in DRAWN_EVENT_KINDS:
        defs = info.event_definitions
        if len(defs) > 1:
            markers.append("parallelMultiple" if info.parallel_multiple else "multiple")
        elif defs:
            markers.append(defs[0])
    elif kind in GATEWAY_KINDS:
        marker = GATEWAY_MARKERS[kind]
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
        local = split_tag(name)[1]
        value = (value or "").strip()
        if not _COLOUR.match(value):
            continue
        if local in ("background-color", "fill"):
            fill = value
        elif local in ("border-color", "stroke"):
            stroke = value
    return fill, stroke


def _label(element: Any) -> Bounds | None:
    for label in children(element, "BPMNLabel"):
        return bounds_of(label)
    return None


def _read_plane(plane: Any, diagram_el: Any, number: int, index: ElementIndex,
                elements: dict[str, ElementInfo]) -> Diagram:
    plane_ref, plane_target = index.resolve(reference(plane.get("bpmnElement")))
    plane_info = elements.get(plane_ref or "")
    plane_kind = plane_info.kind if plane_info else (local_name(plane_target) if plane_target is not None else None)
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
        local = local_name(child)
        if local not in ("BPMNShape", "BPMNEdge"):
            continue
        ref, target = index.resolve(reference(child.get("bpmnElement")), plane_ref)
        info = elements.get(ref or "")
        if info is None and target is not None:  # a BPMN element we keep no info for (e.g. choreography)
            info = ElementInfo(id=ref or "", kind=local_name(target), name=(target.get("name") or "").strip(),
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
    bounds = bounds_of(element) or Bounds(0, 0, 0, 0)
    expanded_attr = to_bool(element.get("isExpanded"))
    marker_visible = to_bool(element.get("isMarkerVisible"))
    horizontal = to_bool(element.get("isHorizontal"))
    known = info is not None and info.kind in _SHAPE_KINDS
    kind = info.kind if known and info is not None else "unknown"
    expanded = False
    if info is not None and info.kind in SUBPROCESS_KINDS:
        expanded = expanded_attr if expanded_attr is not None else (info.id in parents_drawn)
    elif info is not None and info.kind in POOL_KINDS:
        expanded = True
    shape = Shape(id=ref, di_id=element.get("id") or ref, kind=kind,
                  name=(info.name if info is not None else ""), bounds=bounds, label=_label(element),
                  is_expanded=expanded, is_horizontal=True if horizontal is None else horizontal,
                  is_marker_visible=True if marker_visible is None else marker_visible,
                  known=known, element_kind=info.kind if info is not None else None,
                  line=element.sourceline)
    shape.fill, shape.stroke = _colours(element)
    if known and info is not None:
        shape.markers = markers_for(info, expanded=expanded, marker_visible=shape.is_marker_visible)
        shape.throwing = info.kind in THROWING_EVENT_KINDS
        shape.interrupting = info.interrupting
    return shape


def _read_edge(element: Any, ref: str | None, info: ElementInfo | None,
               elements: dict[str, ElementInfo]) -> Edge:
    points = [(to_float(w.get("x")), to_float(w.get("y"))) for w in children(element, "waypoint")]
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



def read_diagrams(root: Any, semantics: Semantics) -> tuple[list[Diagram], list[Diagram]]:
    """The drawn planes of the file, and the planes that draw nothing (bpmn-js writes one per collapsed
    sub-process) but name the element they are for."""
    index = semantics.index or ElementIndex(root)
    drawn: list[Diagram] = []
    empty: list[Diagram] = []
    number = 0
    for diagram_el in root.iter():
        if local_name(diagram_el) != "BPMNDiagram":
            continue
        for plane in children(diagram_el, "BPMNPlane"):
            number += 1
            diagram = _read_plane(plane, diagram_el, number, index, semantics.elements)
            _attach_missing_waypoints(diagram)
            if diagram.shapes or diagram.edges:
                drawn.append(diagram)
            elif diagram.plane_element:
                empty.append(diagram)
    return drawn, empty

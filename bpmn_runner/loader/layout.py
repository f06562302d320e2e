"""A generated left-to-right layout for a file (or a collapsed sub-process) that the modeler did not draw."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Iterable

from ..kinds import ACTIVITY_KINDS, DATA_KINDS, GATEWAY_KINDS, SUBPROCESS_KINDS, THROWING_EVENT_KINDS
from .di import Bounds, Diagram, Edge, Shape, markers_for
from .semantics import DRAWN_EVENT_KINDS, ElementInfo, Semantics

# Sizes for the generated layout (the ones bpmn-js uses by default).
_DEFAULT_SIZES = {"event": (36.0, 36.0), "gateway": (50.0, 50.0), "activity": (100.0, 80.0),
                  "data": (36.0, 50.0)}


def _size_for(kind: str) -> tuple[float, float]:
    if kind in DRAWN_EVENT_KINDS:
        return _DEFAULT_SIZES["event"]
    if kind in GATEWAY_KINDS:
        return _DEFAULT_SIZES["gateway"]
    if kind in DATA_KINDS:
        return _DEFAULT_SIZES["data"]
    return _DEFAULT_SIZES["activity"]


def generate_layout(semantics: Semantics, container_ids: Iterable[str] | None = None) -> list[Diagram]:
    """Left-to-right layouts for processes (and their sub-processes) that the file does not draw.

    Flow nodes are layered by a breadth-first walk over sequence flows from the nodes nobody flows into;
    boundary events sit on the bottom edge of their activity. One diagram per process or sub-process.
    """
    by_parent: dict[str, list[ElementInfo]] = defaultdict(list)
    for info in semantics.elements.values():
        if info.parent_id and (info.is_flow_node or info.kind == "sequenceFlow"):
            by_parent[info.parent_id].append(info)
    if container_ids is None:
        container_ids = [p.id for p in semantics.processes]
    diagrams: list[Diagram] = []
    queue = deque(container_ids)
    seen: set[str] = set()
    while queue:
        container = queue.popleft()
        if container in seen or not by_parent.get(container):
            continue
        seen.add(container)
        owner = semantics.elements.get(container)
        diagram = _layout_container(container, owner, by_parent[container], semantics.elements)
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
    shape.markers = markers_for(info, expanded=False, marker_visible=True)
    shape.throwing = info.kind in THROWING_EVENT_KINDS
    shape.interrupting = info.interrupting
    return shape


"""The one report-view builder: the files a report draws, their diagrams as SVG view-models with a `Paint`
applied, and the lookups every report's tables need."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..diagram import read_document, report_document
from ..errors import ReportError
from ..kinds import SUBPROCESS_KINDS
from ..loader.di import Bounds, Diagram
from ..loader.documents import Document, read_source
from ..loader.semantics import ElementInfo
from .formatting import svg_number
from .svg_edges import edge_view
from .svg_shapes import Paint, shape_view

MARGIN = 24.0

#: What a report can be given: file paths, documents already loaded (drawn from their own bytes), or stored
#: sources as (name, bytes), as a store keeps them; nothing is written to disk to draw them.
DiagramSource = str | Path | Document | tuple[str, bytes]


@dataclass
class DiagramPage:
    """The documents of one report, with every element by id and the ids their diagrams draw."""

    documents: list[Document]
    lookup: dict[str, ElementInfo] = field(default_factory=dict)
    drawn: set[str] = field(default_factory=set)

    def sections(self, paint: Paint) -> list[dict[str, Any]]:
        """One section per file (notes, diagram anchors) with the SVG view of each of its diagrams."""
        return diagram_sections(self.documents, paint)

    def name(self, ident: str) -> str:
        info = self.lookup.get(ident)
        return info.name if info is not None else ""


def open_page(sources: Sequence[DiagramSource] | DiagramSource) -> DiagramPage:
    """Read the files (or loaded documents) a report draws; at least one is needed."""
    if isinstance(sources, (str, Path, Document)):
        sources = [sources]
    if not sources:
        raise ReportError("no BPMN file given: pass at least one .bpmn file to draw")
    documents = [_document(s) for s in sources]
    lookup: dict[str, ElementInfo] = {}
    for document in documents:
        for ident, info in document.elements.items():
            lookup.setdefault(ident, info)
    drawn = {i for d in documents for g in d.diagrams for i in g.element_ids}
    return DiagramPage(documents, lookup, drawn)


def _document(source: DiagramSource) -> Document:
    if isinstance(source, Document):
        return report_document(source)
    if isinstance(source, tuple):
        name, content = source
        return read_source(name, content, lenient=True)
    return read_document(source)


def _diagram_view(document: Document, diagram: Diagram, anchor: str, paint: Paint,
                  links: Mapping[str, str]) -> dict[str, Any]:
    shapes = [shape_view(s, paint, links, document.elements.get(s.id)) for s in diagram.shapes]
    edges = [edge_view(e, paint) for e in diagram.edges]
    ordered = sorted(((v["layer"], -v["area"] if v["layer"] < 3 else 0, i, v) for i, v in enumerate(shapes)),
                     key=lambda t: t[:3])
    back = [v for layer, _, _, v in ordered if layer < 5]
    front = [v for layer, _, _, v in ordered if layer >= 5]
    bounds = diagram.bounds() or Bounds(0, 0, 100, 60)
    x, y = bounds.x - MARGIN, bounds.y - MARGIN - 12  # room for badges above the top row
    width, height = bounds.width + 2 * MARGIN, bounds.height + 2 * MARGIN + 24
    return {
        "anchor": anchor, "title": diagram.name, "file": document.name, "generated": diagram.generated,
        "viewbox": f"{svg_number(x)} {svg_number(y)} {svg_number(width)} {svg_number(height)}",
        "width": svg_number(width), "height": svg_number(height),
        "shapes_back": back, "edges": edges, "shapes_front": front,
        "count": len(diagram.shapes) + len(diagram.edges),
    }


def diagram_sections(documents: list[Document], paint: Paint) -> list[dict[str, Any]]:
    """The SVG view of every diagram of every file, grouped in one section per file."""
    anchors: dict[tuple[int, int], str] = {}
    plane_anchor: dict[str, str] = {}    # collapsed sub-process -> its own plane
    process_anchor: dict[str, str] = {}  # process id -> first diagram drawing it (for call activities)
    for di, document in enumerate(documents):
        for gi, diagram in enumerate(document.diagrams):
            anchor = anchors[(di, gi)] = f"diagram-{di + 1}-{gi + 1}"
            if diagram.plane_element and diagram.plane_kind in SUBPROCESS_KINDS | {"callActivity"}:
                plane_anchor.setdefault(diagram.plane_element, anchor)
            elif diagram.plane_element and diagram.plane_kind == "process":
                process_anchor.setdefault(diagram.plane_element, anchor)
            for shape in diagram.shapes:
                info = document.elements.get(shape.id)
                if shape.kind == "participant" and info is not None and info.process_ref:
                    process_anchor.setdefault(info.process_ref, anchor)
    links: dict[str, str] = {}
    for document in documents:
        for info in document.elements.values():
            if info.kind in SUBPROCESS_KINDS and info.id in plane_anchor:
                links[info.id] = "#" + plane_anchor[info.id]
            elif info.kind == "callActivity" and info.called_element in process_anchor:
                links[info.id] = "#" + process_anchor[info.called_element]
    sections = []
    for di, document in enumerate(documents):
        items = [_diagram_view(document, diagram, anchors[(di, gi)], paint, links)
                 for gi, diagram in enumerate(document.diagrams)]
        sections.append({"file": document.name, "path": str(document.path), "notes": document.notes,
                         "diagrams": items, "has_di": document.has_di})
    return sections

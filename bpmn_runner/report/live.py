"""Diagram fragments for the pages of `serve`: one instance's state, or a process's open instances per element,
painted on the diagram and rendered as SVG markup to put inside a page (not a whole report)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from .page import DiagramSource, open_page
from .svg_shapes import Paint
from .templates import render as _render


def instance_diagram(sources: Sequence[DiagramSource], view: Mapping[str, Any]) -> str:
    """An instance as `Queries.instance_view` gives it: traversed elements and flows, where it waits, incidents."""
    paint = Paint()
    runs = Counter(str(p) for p in view.get("path") or [])
    for ident, count in runs.items():
        paint.classes[ident].append("traversed")
        if count > 1:
            paint.badges[ident] = f"×{count}"
    for ident in dict.fromkeys(str(f) for f in view.get("flows") or []):
        paint.classes[ident].append("traversed")
    for wait in view.get("waiting") or []:
        paint.classes[str(wait.get("element_id", ""))].append("waiting")
    for incident in view.get("incidents") or []:
        ident = str(incident.get("element_id", ""))
        paint.classes[ident].append("failed")
        paint.titles[ident] = str(incident.get("error") or "incident")
    return _fragment(sources, paint)


def counts_diagram(sources: Sequence[DiagramSource], open_counts: Mapping[str, int],
                   incident_counts: Mapping[str, int]) -> str:
    """Cockpit's view of a process: how many open instances wait at each element (badge), incidents in red."""
    paint = Paint()
    for ident, count in open_counts.items():
        if count > 0:
            paint.classes[ident].append("waiting")
            paint.badges[ident] = str(count)
            paint.titles[ident] = f"{count} open instance{'s' if count != 1 else ''} here"
    for ident, count in incident_counts.items():
        if count > 0:
            paint.classes[ident].append("failed")
            paint.notes[ident] = f"{count} incident{'s' if count != 1 else ''}"
            paint.titles[ident] = f"{paint.titles.get(ident, '')} {count} incident(s)".strip()
    return _fragment(sources, paint)


def _fragment(sources: Sequence[DiagramSource], paint: Paint) -> str:
    page = open_page(sources)
    return _render("server_diagram.html.j2", sections=page.sections(paint))

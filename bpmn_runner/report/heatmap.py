"""The heatmap report: counts and mean/p95 durations of many runs drawn on the diagram, plus tables."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..errors import ReportError
from .formatting import float_or_none, format_duration, kind_words, to_int
from .page import DiagramSource, open_page
from .svg_shapes import Paint
from .templates import render as _render


_HEAT_STOPS = ((0.0, (255, 244, 204)), (0.5, (255, 196, 120)), (1.0, (240, 124, 100)))


def _heat(t: float) -> str:
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(_HEAT_STOPS, _HEAT_STOPS[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
            return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(c0, c1))
    return "#" + "".join(f"{c:02x}" for c in _HEAT_STOPS[-1][1])


def _scale(count: float, top: float) -> float:
    return math.log1p(count) / math.log1p(top) if top > 0 and count > 0 else 0.0


def render_heatmap_report(paths: Sequence[DiagramSource], stats: dict) -> str:
    """Counts and mean/p95 durations of many runs drawn on the diagram (colour by count), plus tables."""
    if not isinstance(stats, Mapping):
        raise ReportError(f"a heatmap needs stats as a dict, got {type(stats).__name__}")
    page = open_page(paths)
    lookup = page.lookup
    elements = stats.get("elements") or {}
    flows = stats.get("flows") or {}
    if not isinstance(elements, Mapping) or not isinstance(flows, Mapping):
        raise ReportError("stats['elements'] and stats['flows'] must be dicts keyed by element id")
    element_rows = []
    for ident, row in elements.items():
        row = row if isinstance(row, Mapping) else {"count": row}
        element_rows.append({"id": str(ident), "count": to_int(row.get("count")),
                             "mean_ms": float_or_none(row.get("mean_ms")),
                             "p95_ms": float_or_none(row.get("p95_ms"))})
    flow_rows = [{"id": str(ident), "count": to_int(count)} for ident, count in flows.items()]
    top = max((r["count"] for r in element_rows), default=0)
    top_flow = max((r["count"] for r in flow_rows), default=0)
    paint = Paint()
    for row in element_rows:
        if row["count"] <= 0:
            continue
        t = _scale(row["count"], top)
        paint.fills[row["id"]] = _heat(t)
        paint.classes[row["id"]].append("hot")
        paint.badges[row["id"]] = str(row["count"])
        parts = []
        if row["mean_ms"] is not None:
            parts.append(f"μ {format_duration(row['mean_ms'], compact=True)}")
        if row["p95_ms"] is not None:
            parts.append(f"p95 {format_duration(row['p95_ms'], compact=True)}")
        if parts:
            paint.notes[row["id"]] = "\n".join(parts)
        paint.titles[row["id"]] = f"{row['count']} runs" + (", " + ", ".join(parts) if parts else "")
    for row in flow_rows:
        if row["count"] <= 0:
            continue
        t = _scale(row["count"], top_flow)
        paint.strokes[row["id"]] = (_heat(0.25 + 0.75 * t), 1.5 + 4.5 * t)
        paint.classes[row["id"]].append("hot")
        paint.badges[row["id"]] = str(row["count"])
        paint.titles[row["id"]] = f"taken {row['count']} times"
    sections = page.sections(paint)
    drawn = page.drawn
    for row in element_rows + flow_rows:
        info = lookup.get(row["id"])
        row["name"] = info.name if info else ""
        row["type"] = kind_words(info.kind) if info else ""
        row["drawn"] = row["id"] in drawn
        row["colour"] = paint.fills.get(row["id"]) or (paint.strokes.get(row["id"], ("",))[0])
    for row in element_rows:
        row["mean"] = format_duration(row["mean_ms"])
        row["p95"] = format_duration(row["p95_ms"])
    element_rows.sort(key=lambda r: (-r["count"], r["id"]))
    flow_rows.sort(key=lambda r: (-r["count"], r["id"]))
    by_status = stats.get("instances_by_status") or {}
    status_rows = [{"status": str(k), "count": to_int(v)} for k, v in
                   (by_status.items() if isinstance(by_status, Mapping) else [])]
    legend = [{"colour": _heat(t), "label": str(round(math.expm1(t * math.log1p(top)))) if top else "0"}
              for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    title = f"Heatmap of {stats.get('process_id') or 'process'}"
    return _render("report_heatmap.html.j2", title=title, process_id=str(stats.get("process_id") or ""),
                   sections=sections, elements=element_rows, flows=flow_rows, statuses=status_rows,
                   instances=sum(r["count"] for r in status_rows), legend=legend)



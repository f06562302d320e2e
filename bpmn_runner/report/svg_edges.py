"""Edge view-models for the report templates: waypoints, arrow heads, markers, labels and paint of every DI edge."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..loader.di import Edge
from .formatting import kind_words, svg_number as _n, text_block
from .svg_shapes import Paint


def _unit(ax: float, ay: float, bx: float, by: float) -> tuple[float, float] | None:
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length < 1e-6:
        return None
    return dx / length, dy / length


def _end_direction(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    tip = points[-1]
    for prev in reversed(points[:-1]):
        u = _unit(prev[0], prev[1], tip[0], tip[1])
        if u:
            return u
    return None


def _start_direction(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    start = points[0]
    for nxt in points[1:]:
        u = _unit(start[0], start[1], nxt[0], nxt[1])
        if u:
            return u
    return None


def _arrow(tip: tuple[float, float], u: tuple[float, float], length: float = 11.0, half: float = 4.0,
           closed: bool = True) -> str:
    bx, by = tip[0] - u[0] * length, tip[1] - u[1] * length
    nx, ny = -u[1], u[0]
    p1 = (bx + nx * half, by + ny * half)
    p2 = (bx - nx * half, by - ny * half)
    if closed:
        return f"M{_n(tip[0])},{_n(tip[1])} L{_n(p1[0])},{_n(p1[1])} L{_n(p2[0])},{_n(p2[1])} Z"
    return f"M{_n(p1[0])},{_n(p1[1])} L{_n(tip[0])},{_n(tip[1])} L{_n(p2[0])},{_n(p2[1])}"


def _midpoint(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    lengths = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])]
    half = sum(lengths) / 2
    for (a, b), length in zip(zip(points, points[1:]), lengths):
        if half <= length and length > 0:
            t = half / length
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        half -= length
    return points[len(points) // 2]


def edge_view(edge: Edge, paint: Paint) -> dict[str, Any]:
    classes = ["element", "edge", edge.kind]
    if not edge.known:
        classes.append("unknown")
    classes.extend(paint.classes.get(edge.id, ()))
    points = edge.waypoints
    title_kind = kind_words(edge.kind if edge.known else "connection")
    title = f"{edge.name} ({title_kind}, {edge.id})" if edge.name else f"{title_kind} {edge.id}"
    if edge.id in paint.titles:
        title += " — " + paint.titles[edge.id]
    view: dict[str, Any] = {"id": edge.id, "cls": " ".join(classes), "title": title, "d": "", "heads": [],
                            "circles": [], "text": None, "badge": None, "style": ""}
    if edge.id in paint.strokes:
        colour, width = paint.strokes[edge.id]
        view["style"] = f"stroke:{colour};stroke-width:{_n(width)}"
    elif edge.stroke and not paint.classes.get(edge.id):
        view["style"] = f"stroke:{edge.stroke}"
    if len(points) < 2:
        return view
    view["d"] = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in points)
    end_u, start_u = _end_direction(points), _start_direction(points)
    kind = edge.kind
    if end_u:
        if kind == "sequenceFlow":
            view["heads"].append({"d": _arrow(points[-1], end_u), "cls": "head filled"})
        elif kind == "messageFlow":
            view["heads"].append({"d": _arrow(points[-1], end_u), "cls": "head open"})
        elif kind in ("dataInputAssociation", "dataOutputAssociation"):
            view["heads"].append({"d": _arrow(points[-1], end_u, 10, 5, closed=False), "cls": "head line"})
        elif kind == "association" and (edge.direction or "").lower() in ("one", "both"):
            view["heads"].append({"d": _arrow(points[-1], end_u, 10, 5, closed=False), "cls": "head line"})
    if start_u:
        sx, sy = points[0]
        if kind == "association" and (edge.direction or "").lower() == "both":
            view["heads"].append({"d": _arrow(points[0], (-start_u[0], -start_u[1]), 10, 5, closed=False),
                                  "cls": "head line"})
        if kind == "messageFlow":
            view["circles"].append({"cx": _n(sx + start_u[0] * 4), "cy": _n(sy + start_u[1] * 4), "r": "4"})
        if edge.is_default:
            px, py = sx + start_u[0] * 10, sy + start_u[1] * 10
            nx, ny = -start_u[1], start_u[0]
            vx, vy = nx * 6 - start_u[0] * 3, ny * 6 - start_u[1] * 3
            view["heads"].append({"d": f"M{_n(px + vx)},{_n(py + vy)} L{_n(px - vx)},{_n(py - vy)}",
                                  "cls": "head line default"})
        elif edge.is_conditional:
            nx, ny = -start_u[1], start_u[0]
            pts = [(sx, sy), (sx + start_u[0] * 8 + nx * 5, sy + start_u[1] * 8 + ny * 5),
                   (sx + start_u[0] * 16, sy + start_u[1] * 16), (sx + start_u[0] * 8 - nx * 5,
                                                                   sy + start_u[1] * 8 - ny * 5)]
            view["heads"].append({"d": "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in pts) + " Z",
                                  "cls": "head open conditional"})
    if edge.name:
        label = edge.label
        if label is not None and label.width >= 5 and label.height >= 5:
            view["text"] = text_block(edge.name, width=max(label.width + 10, 60.0), font=11.0, cls="label",
                                 cx=label.cx, top=label.y - 1)
        else:
            mx, my = _midpoint(points)
            view["text"] = text_block(edge.name, width=90.0, font=11.0, cls="label", cx=mx + 4, top=my - 18)
    if edge.id in paint.badges:
        mx, my = _midpoint(points)
        text = paint.badges[edge.id]
        width = 10 + 6.5 * len(text)
        view["badge"] = {"x": _n(mx - width / 2), "y": _n(my - 8), "w": _n(width), "h": "16",
                         "tx": _n(mx), "ty": _n(my + 4), "t": text}
    return view


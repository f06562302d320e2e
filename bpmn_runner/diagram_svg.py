"""Diagram view-models for the report templates: every shape, edge and label of the DI with its geometry
computed and its paint (traversed, waiting, failed, heat) applied, plus the small formatters the reports share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .diagram import (
    ACTIVITY_KINDS,
    DATA_KINDS,
    EVENT_KINDS,
    GATEWAY_KINDS,
    SUBPROCESS_KINDS,
    Bounds,
    Diagram,
    Document,
    Edge,
    ElementInfo,
    Shape,
    read_document,
)
from .errors import ReportError

MARGIN = 24.0

_TASK_ICONS = {"serviceTask": "service", "userTask": "user", "scriptTask": "script", "sendTask": "send",
               "receiveTask": "receive", "businessRuleTask": "businessRule", "manualTask": "manual"}


# --- small formatting helpers -----------------------------------------------------------------------------

def _n(value: float) -> str:
    """A coordinate for SVG: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def kind_words(kind: str) -> str:
    """`businessRuleTask` -> `Business rule task`."""
    out: list[str] = []
    for ch in kind:
        if ch.isupper() and out:
            out.append(" ")
            out.append(ch.lower())
        else:
            out.append(ch)
    text = "".join(out)
    return text[:1].upper() + text[1:]


def format_duration(ms: float | None, compact: bool = False) -> str:
    """`850 ms`, `2.4 s`, `3 min 20 s`, `5 h 2 min`, `3 d 4 h` (`3m20s` when compact)."""
    if ms is None or not math.isfinite(ms):
        return ""
    sp = "" if compact else " "
    if ms == 0:
        return f"0{sp}ms"
    if ms < 1:
        return f"{ms:.2f}{sp}ms"
    if ms < 1000:
        return f"{ms:.0f}{sp}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}{sp}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    units = ("m", "s", "h", "d") if compact else ("min", "s", "h", "d")
    if minutes < 60:
        return f"{minutes}{sp}{units[0]}{sp}{sec}{sp}{units[1]}"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}{sp}{units[2]}{sp}{minutes}{sp}{units[0]}"
    days, hours = divmod(hours, 24)
    return f"{days}{sp}{units[3]}{sp}{hours}{sp}{units[2]}"


def format_timestamp(at: Any) -> str:
    try:
        return datetime.fromtimestamp(float(at), tz=timezone.utc).isoformat(timespec="milliseconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(at) if at is not None else ""


def format_json(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def short_json(value: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: float, font: float, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap by an average character width; long words are cut; too many lines end with `…`."""
    max_chars = max(1, int(width / (font * 0.54)))
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in _hyphen_split(paragraph.split(), max_chars):
            while len(word) > max_chars + max(2, max_chars // 3):  # cut only words far too long to overflow
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:max_chars])
                word = word[max_chars:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= max_chars:
                current = candidate
            else:
                if current:
                    lines.append(current)
                current = word
        if current:
            lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[: max(1, max_lines)]
        lines[-1] = lines[-1][: max(1, max_chars - 1)].rstrip() + "…"
    return lines


def _hyphen_split(words: list[str], max_chars: int) -> Iterable[str]:
    """Words too long for a line break after their hyphens first (`Sub-` / `Process`)."""
    for word in words:
        if len(word) <= max_chars or "-" not in word.strip("-"):
            yield word
            continue
        parts = word.split("-")
        chunk = ""
        for i, part in enumerate(parts):
            piece = part + ("-" if i < len(parts) - 1 else "")
            if chunk and len(chunk) + len(piece) > max_chars:
                yield chunk
                chunk = piece
            else:
                chunk += piece
        if chunk:
            yield chunk


def _text(text: str, *, width: float, font: float, cls: str, cx: float | None = None, x: float | None = None,
          cy: float | None = None, top: float | None = None, anchor: str = "middle",
          max_lines: int | None = None, transform: str | None = None) -> dict[str, Any] | None:
    lines = _wrap(text or "", width, font, max_lines)
    if not lines:
        return None
    height = font * 1.2
    if cy is not None:
        first = cy - (len(lines) - 1) * height / 2 + font * 0.35
    else:
        first = (top or 0.0) + font
    tx = cx if anchor == "middle" else x
    return {"cls": cls, "anchor": anchor, "transform": transform,
            "lines": [{"x": _n(tx or 0.0), "y": _n(first + i * height), "t": line} for i, line in enumerate(lines)]}


# --- painting -----------------------------------------------------------------------------------------------

@dataclass
class Paint:
    """What a report paints on the diagram, by element id."""

    classes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    badges: dict[str, str] = field(default_factory=dict)       # top-right counter
    notes: dict[str, str] = field(default_factory=dict)        # small text next to the shape
    fills: dict[str, str] = field(default_factory=dict)        # heat colour of a shape body
    strokes: dict[str, tuple[str, float]] = field(default_factory=dict)  # heat colour and width of an edge
    titles: dict[str, str] = field(default_factory=dict)       # extra tooltip text


# --- shapes -------------------------------------------------------------------------------------------------

def _shape_draw(shape: Shape) -> str:
    kind = shape.kind
    if kind in ("participant", "process"):
        return "pool"
    if kind == "lane":
        return "lane"
    if kind in SUBPROCESS_KINDS and shape.is_expanded:
        return "container"
    if kind in ACTIVITY_KINDS:
        return "activity"
    if kind in EVENT_KINDS:
        return "event"
    if kind in GATEWAY_KINDS:
        return "gateway"
    if kind in ("dataStore", "dataStoreReference"):
        return "dataStore"
    if kind in DATA_KINDS:
        return "dataObject"
    if kind == "group":
        return "group"
    if kind == "textAnnotation":
        return "annotation"
    return "unknown"


def _layer(shape: Shape, draw: str) -> int:
    return {"pool": 0, "lane": 1, "container": 2, "group": 8}.get(draw, 9 if shape.kind == "boundaryEvent" else 4)


def _outside_label(shape: Shape, name: str, font: float = 11.0) -> dict[str, Any] | None:
    if not name:
        return None
    label = shape.label
    if label is not None and label.width >= 5 and label.height >= 5:
        return _text(name, width=max(label.width + 10, 60.0), font=font, cls="label", cx=label.cx, top=label.y - 1)
    b = shape.bounds
    return _text(name, width=max(b.width + 40, 100.0), font=font, cls="label", cx=b.cx, top=b.bottom + 4)


def _shape_view(shape: Shape, paint: Paint, links: Mapping[str, str], info: ElementInfo | None) -> dict[str, Any]:
    b = shape.bounds
    draw = _shape_draw(shape)
    classes = ["element", "shape", shape.kind]
    if not shape.known:
        classes.append("unknown")
    classes.extend(paint.classes.get(shape.id, ()))
    title_kind = kind_words(shape.element_kind or shape.kind)
    title = f"{shape.name} ({title_kind}, {shape.id})" if shape.name else f"{title_kind} {shape.id}"
    if shape.id in paint.titles:
        title += " — " + paint.titles[shape.id]
    view: dict[str, Any] = {
        "id": shape.id, "draw": draw, "cls": " ".join(classes), "title": title, "layer": _layer(shape, draw),
        "x": _n(b.x), "y": _n(b.y), "w": _n(b.width), "h": _n(b.height), "cx": _n(b.cx), "cy": _n(b.cy),
        "text": None, "icon": None, "markers": [], "badge": None, "note": None, "style": "",
        "link": None, "area": b.width * b.height, "inner": None, "call": False, "event_sub": False,
        "band": "",
    }
    if shape.kind == "transaction" and b.width > 8 and b.height > 8:
        view["inner"] = {"x": _n(b.x + 3), "y": _n(b.y + 3), "w": _n(b.width - 6), "h": _n(b.height - 6)}
    if shape.id in paint.fills:
        view["style"] = f"fill:{paint.fills[shape.id]}"
    elif (shape.fill or shape.stroke) and not paint.classes.get(shape.id):
        # the modeler's own colours; status painting takes precedence over them
        view["style"] = ";".join(f"{prop}:{value}" for prop, value in (("fill", shape.fill), ("stroke", shape.stroke))
                                 if value)
    name = shape.name
    if draw in ("pool", "lane"):
        _pool_view(view, shape, name, draw, info)
    elif draw == "container":
        view["text"] = _text(name, width=max(b.width - 16, 20.0), font=12.0, cls="name", x=b.x + 8,
                             top=b.y + 4, anchor="start", max_lines=3)
        view["event_sub"] = bool(info and info.triggered_by_event)
        view["markers"] = _activity_markers(shape, b)
    elif draw == "activity":
        icon = _TASK_ICONS.get(shape.kind)
        width, bottom_room = max(b.width - 12, 20.0), (16 if shape.markers else 4)
        cy = b.cy + (4 if icon and b.height < 70 else 0) - (7 if shape.markers else 0)
        max_lines = max(1, int((b.height - (22 if icon else 6) - bottom_room) // 14.4))
        needed = len(_wrap(name or "", width, 12.0))
        if icon and needed > max_lines:
            # Rather than cut the analyst's name, use the icon's rows too (as the modeler does), moved down as far
            # as the box allows so that the first line clears the icon.
            max_lines = max(1, int((b.height - 6 - bottom_room) // 14.4))
            half = (min(needed, max_lines) - 1) * 7.2
            cy += max(0.0, min(b.y + 23 - (cy - half - 4.8), b.bottom - bottom_room - (cy + half + 7.2)))
        view["text"] = _text(name, width=width, font=12.0, cls="name", cx=b.cx, cy=cy, max_lines=max_lines)
        if icon:
            view["icon"] = {"name": icon, "x": _n(b.x + 6), "y": _n(b.y + 6), "s": "1", "filled": False}
        view["call"] = shape.kind == "callActivity"
        view["event_sub"] = bool(info and info.triggered_by_event)
        view["markers"] = _activity_markers(shape, b)
    elif draw == "event":
        r = min(b.width, b.height) / 2
        variant = {"startEvent": "start", "endEvent": "end", "boundaryEvent": "intermediate"}.get(
            shape.kind, "intermediate")
        view.update(r=_n(r), r2=_n(max(r - 3, 1.0)), variant=variant, dashed=not shape.interrupting)
        if shape.markers:
            marker = shape.markers[0]
            filled = shape.throwing or marker == "terminate"
            view["markers"] = [{"name": marker, "x": _n(b.cx), "y": _n(b.cy), "s": _n(r / 18), "filled": filled}]
        view["text"] = _outside_label(shape, name)
    elif draw == "gateway":
        view["points"] = " ".join(f"{_n(px)},{_n(py)}" for px, py in
                                  ((b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)))
        if shape.markers:
            view["markers"] = [{"name": shape.markers[0], "x": _n(b.cx), "y": _n(b.cy),
                                "s": _n(min(b.width, b.height) / 50), "filled": False}]
        view["text"] = _outside_label(shape, name)
    elif draw == "dataObject":
        fold = min(10.0, b.width / 3, b.height / 3)
        view["d"] = (f"M{_n(b.x)},{_n(b.y)} H{_n(b.right - fold)} L{_n(b.right)},{_n(b.y + fold)} "
                     f"V{_n(b.bottom)} H{_n(b.x)} Z")
        view["fold"] = f"M{_n(b.right - fold)},{_n(b.y)} V{_n(b.y + fold)} H{_n(b.right)}"
        view["markers"] = []
        for marker in shape.markers:
            if marker in ("input", "output"):
                view["markers"].append({"name": marker, "x": _n(b.x + 3), "y": _n(b.y + 3), "s": "1",
                                        "filled": marker == "output"})
            elif marker == "collection":
                view["markers"].append({"name": "collection", "x": _n(b.cx - 5), "y": _n(b.bottom - 12),
                                        "s": "1", "filled": False})
        view["text"] = _outside_label(shape, name)
    elif draw == "dataStore":
        ry = min(8.0, b.height / 5)
        rx = b.width / 2
        view["d"] = (f"M{_n(b.x)},{_n(b.y + ry)} A{_n(rx)},{_n(ry)} 0 0 0 {_n(b.right)},{_n(b.y + ry)} "
                     f"A{_n(rx)},{_n(ry)} 0 0 0 {_n(b.x)},{_n(b.y + ry)} V{_n(b.bottom - ry)} "
                     f"A{_n(rx)},{_n(ry)} 0 0 0 {_n(b.right)},{_n(b.bottom - ry)} V{_n(b.y + ry)}")
        view["rims"] = (f"M{_n(b.x)},{_n(b.y + 2 * ry)} A{_n(rx)},{_n(ry)} 0 0 0 {_n(b.right)},{_n(b.y + 2 * ry)} "
                        f"M{_n(b.x)},{_n(b.y + 3 * ry)} A{_n(rx)},{_n(ry)} 0 0 0 {_n(b.right)},{_n(b.y + 3 * ry)}")
        view["text"] = _outside_label(shape, name)
    elif draw == "group":
        if shape.label is not None and shape.label.width >= 5:
            view["text"] = _text(name, width=max(shape.label.width + 10, 60.0), font=11.0, cls="label",
                                 cx=shape.label.cx, top=shape.label.y)
        else:
            view["text"] = _text(name, width=max(b.width - 10, 40.0), font=11.0, cls="label", cx=b.cx, top=b.y + 4)
    elif draw == "annotation":
        view["d"] = f"M{_n(b.x + 10)},{_n(b.y)} H{_n(b.x)} V{_n(b.bottom)} H{_n(b.x + 10)}"
        view["text"] = _text(name, width=max(b.width - 10, 20.0), font=11.0, cls="annotation", x=b.x + 5,
                             top=b.y + 3, anchor="start", max_lines=max(1, int((b.height - 4) // 13.2)))
    else:  # unknown kind, or an element missing from the file: an outlined box with its id
        what = shape.element_kind or "missing element"
        label = f"{shape.id} ({what})" + (f"\n{name}" if name else "")
        view["text"] = _text(label, width=max(b.width * 0.9 - 8, 36.0), font=10.0, cls="unknown-id",
                             x=b.x + 4, top=b.y + 2, anchor="start", max_lines=max(1, int((b.height - 4) // 12)))
    if shape.id in links and draw in ("activity",):
        view["link"] = links[shape.id]
    if shape.id in paint.badges:
        text = paint.badges[shape.id]
        width = 10 + 6.5 * len(text)
        bx = b.right - width / 2 if draw not in ("event", "gateway") else b.right - 4
        view["badge"] = {"x": _n(bx - width / 2), "y": _n(b.y - 9), "w": _n(width), "h": "16",
                         "tx": _n(bx), "ty": _n(b.y + 3), "t": text}
    if shape.id in paint.notes:
        parts = paint.notes[shape.id].split("\n")
        if draw == "activity" and b.height < 70:  # too flat to hold it: one line under the activity
            x, y, anchor = b.cx, b.bottom + 11, "middle"
            parts = [" ".join(parts)]
        elif draw in ("activity", "container"):  # top right inside, under the count badge, clear of the icon
            x, y, anchor = b.right - 6, b.y + 19, "end"
        elif shape.kind != "boundaryEvent":  # above the badge (a boundary event's would sit in its activity)
            x, y, anchor = b.cx, b.y - 12 - 10 * (len(parts) - 1), "middle"
            parts = [" ".join(parts)] if draw != "gateway" else parts
        else:
            parts = []
        if parts:
            view["note"] = {"x": _n(x), "anchor": anchor,
                            "lines": [{"y": _n(y + 10 * i), "t": t} for i, t in enumerate(parts)]}
    return view


def _pool_view(view: dict[str, Any], shape: Shape, name: str, draw: str, info: ElementInfo | None) -> None:
    b = shape.bounds
    band = min(30.0, b.width if shape.is_horizontal else b.height)
    black_box = shape.kind == "participant" and info is not None and not info.process_ref
    view["band"] = ""
    if black_box:  # a pool with no process inside: its name reads across the middle
        view["text"] = _text(name, width=max(b.width - 20, 20.0), font=12.0, cls="name", cx=b.cx, cy=b.cy,
                             max_lines=2)
    elif shape.is_horizontal:
        if draw == "pool":
            view["band"] = f"M{_n(b.x + band)},{_n(b.y)} V{_n(b.bottom)}"
        cx, cy = b.x + band / 2, b.cy
        view["text"] = _text(name, width=max(b.height - 10, 20.0), font=12.0, cls="name", cx=cx, cy=cy,
                             max_lines=2, transform=f"rotate(-90 {_n(cx)} {_n(cy)})")
    else:
        if draw == "pool":
            view["band"] = f"M{_n(b.x)},{_n(b.y + band)} H{_n(b.right)}"
        view["text"] = _text(name, width=max(b.width - 10, 20.0), font=12.0, cls="name", cx=b.cx,
                             cy=b.y + band / 2, max_lines=2)


def _activity_markers(shape: Shape, b: Bounds) -> list[dict[str, Any]]:
    names = ["compensationActivity" if m == "compensation" else m for m in shape.markers]
    size, gap = 14.0, 4.0
    total = len(names) * size + max(0, len(names) - 1) * gap
    x = b.cx - total / 2
    y = b.bottom - size - 4
    out = []
    for name in names:
        out.append({"name": name, "x": _n(x), "y": _n(y), "s": "1", "filled": False})
        x += size + gap
    return out


# --- edges --------------------------------------------------------------------------------------------------

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


def _edge_view(edge: Edge, paint: Paint) -> dict[str, Any]:
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
            view["text"] = _text(edge.name, width=max(label.width + 10, 60.0), font=11.0, cls="label",
                                 cx=label.cx, top=label.y - 1)
        else:
            mx, my = _midpoint(points)
            view["text"] = _text(edge.name, width=90.0, font=11.0, cls="label", cx=mx + 4, top=my - 18)
    if edge.id in paint.badges:
        mx, my = _midpoint(points)
        text = paint.badges[edge.id]
        width = 10 + 6.5 * len(text)
        view["badge"] = {"x": _n(mx - width / 2), "y": _n(my - 8), "w": _n(width), "h": "16",
                         "tx": _n(mx), "ty": _n(my + 4), "t": text}
    return view


# --- diagrams -----------------------------------------------------------------------------------------------

def _diagram_view(document: Document, diagram: Diagram, anchor: str, paint: Paint,
                  links: Mapping[str, str]) -> dict[str, Any]:
    shapes = [_shape_view(s, paint, links, document.elements.get(s.id)) for s in diagram.shapes]
    edges = [_edge_view(e, paint) for e in diagram.edges]
    ordered = sorted(((v["layer"], -v["area"] if v["layer"] < 3 else 0, i, v) for i, v in enumerate(shapes)),
                     key=lambda t: t[:3])
    back = [v for layer, _, _, v in ordered if layer < 5]
    front = [v for layer, _, _, v in ordered if layer >= 5]
    bounds = diagram.bounds() or Bounds(0, 0, 100, 60)
    x, y = bounds.x - MARGIN, bounds.y - MARGIN - 12  # room for badges above the top row
    width, height = bounds.width + 2 * MARGIN, bounds.height + 2 * MARGIN + 24
    return {
        "anchor": anchor, "title": diagram.name, "file": document.name, "generated": diagram.generated,
        "viewbox": f"{_n(x)} {_n(y)} {_n(width)} {_n(height)}", "width": _n(width), "height": _n(height),
        "shapes_back": back, "edges": edges, "shapes_front": front,
        "count": len(diagram.shapes) + len(diagram.edges),
    }


def load_documents(paths: Sequence[str | Path]) -> list[Document]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ReportError("no BPMN file given: pass at least one .bpmn file to draw")
    return [read_document(p) for p in paths]


def diagram_views(documents: list[Document], paint: Paint) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The SVG view of every diagram of every file, and one section per file (notes, diagram anchors)."""
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
    views = []
    for di, document in enumerate(documents):
        items = []
        for gi, diagram in enumerate(document.diagrams):
            view = _diagram_view(document, diagram, anchors[(di, gi)], paint, links)
            items.append(view)
            views.append(view)
        sections.append({"file": document.name, "path": document.path, "notes": document.notes,
                         "diagrams": items, "has_di": document.has_di})
    return sections, views


def drawn_ids(documents: Iterable[Document]) -> set[str]:
    return {i for d in documents for g in d.diagrams for i in g.element_ids}


def element_lookup(documents: Iterable[Document]) -> dict[str, ElementInfo]:
    out: dict[str, ElementInfo] = {}
    for document in documents:
        for ident, info in document.elements.items():
            out.setdefault(ident, info)
    return out

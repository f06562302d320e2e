"""Shape view-models for the report templates: every DI shape with its geometry, markers, labels and paint."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..kinds import ACTIVITY_KINDS, DATA_KINDS, GATEWAY_KINDS, SUBPROCESS_KINDS, TASK_ICONS
from ..loader.di import Bounds, Shape
from ..loader.semantics import DRAWN_EVENT_KINDS, ElementInfo
from .formatting import kind_words, svg_number as _n, text_block, wrap_text


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
    if kind in DRAWN_EVENT_KINDS:
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
        return text_block(name, width=max(label.width + 10, 60.0), font=font, cls="label", cx=label.cx, top=label.y - 1)
    b = shape.bounds
    return text_block(name, width=max(b.width + 40, 100.0), font=font, cls="label", cx=b.cx, top=b.bottom + 4)


def shape_view(shape: Shape, paint: Paint, links: Mapping[str, str], info: ElementInfo | None) -> dict[str, Any]:
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
        view["text"] = text_block(name, width=max(b.width - 16, 20.0), font=12.0, cls="name", x=b.x + 8,
                             top=b.y + 4, anchor="start", max_lines=3)
        view["event_sub"] = bool(info and info.triggered_by_event)
        view["markers"] = _activity_markers(shape, b)
    elif draw == "activity":
        icon = TASK_ICONS.get(shape.kind)
        width, bottom_room = max(b.width - 12, 20.0), (16 if shape.markers else 4)
        cy = b.cy + (4 if icon and b.height < 70 else 0) - (7 if shape.markers else 0)
        max_lines = max(1, int((b.height - (22 if icon else 6) - bottom_room) // 14.4))
        needed = len(wrap_text(name or "", width, 12.0))
        if icon and needed > max_lines:
            # Rather than cut the analyst's name, use the icon's rows too (as the modeler does), moved down as far
            # as the box allows so that the first line clears the icon.
            max_lines = max(1, int((b.height - 6 - bottom_room) // 14.4))
            half = (min(needed, max_lines) - 1) * 7.2
            cy += max(0.0, min(b.y + 23 - (cy - half - 4.8), b.bottom - bottom_room - (cy + half + 7.2)))
        view["text"] = text_block(name, width=width, font=12.0, cls="name", cx=b.cx, cy=cy, max_lines=max_lines)
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
            view["text"] = text_block(name, width=max(shape.label.width + 10, 60.0), font=11.0, cls="label",
                                 cx=shape.label.cx, top=shape.label.y)
        else:
            view["text"] = text_block(name, width=max(b.width - 10, 40.0), font=11.0, cls="label", cx=b.cx, top=b.y + 4)
    elif draw == "annotation":
        view["d"] = f"M{_n(b.x + 10)},{_n(b.y)} H{_n(b.x)} V{_n(b.bottom)} H{_n(b.x + 10)}"
        view["text"] = text_block(name, width=max(b.width - 10, 20.0), font=11.0, cls="annotation", x=b.x + 5,
                             top=b.y + 3, anchor="start", max_lines=max(1, int((b.height - 4) // 13.2)))
    else:  # unknown kind, or an element missing from the file: an outlined box with its id
        what = shape.element_kind or "missing element"
        label = f"{shape.id} ({what})" + (f"\n{name}" if name else "")
        view["text"] = text_block(label, width=max(b.width * 0.9 - 8, 36.0), font=10.0, cls="unknown-id",
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
        view["text"] = text_block(name, width=max(b.width - 20, 20.0), font=12.0, cls="name", cx=b.cx, cy=b.cy,
                             max_lines=2)
    elif shape.is_horizontal:
        if draw == "pool":
            view["band"] = f"M{_n(b.x + band)},{_n(b.y)} V{_n(b.bottom)}"
        cx, cy = b.x + band / 2, b.cy
        view["text"] = text_block(name, width=max(b.height - 10, 20.0), font=12.0, cls="name", cx=cx, cy=cy,
                             max_lines=2, transform=f"rotate(-90 {_n(cx)} {_n(cy)})")
    else:
        if draw == "pool":
            view["band"] = f"M{_n(b.x)},{_n(b.y + band)} H{_n(b.right)}"
        view["text"] = text_block(name, width=max(b.width - 10, 20.0), font=12.0, cls="name", cx=b.cx,
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

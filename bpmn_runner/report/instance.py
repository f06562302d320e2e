"""The instance report: one run painted on its diagram(s), where it waits, incidents, a timeline of element
durations, data changes, messages and the final data."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import asdict, is_dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..dmn_views import file_decision_views, matched_rule_rows
from ..errors import ReportError
from ..loader.semantics import ElementInfo
from .formatting import float_or_none, format_duration, format_json, format_timestamp, kind_words, short_json
from .page import DiagramSource, open_page
from .svg_shapes import Paint
from .templates import render as _render

RUN_STATUSES = ("completed", "waiting", "failed", "running", "incident", "cancelled")
MAX_STEP_ROWS = 400          # history rows shown in full; the rest is summarised
MAX_MESSAGE_ROWS = 500


def _as_run(run: Any) -> dict[str, Any]:
    if is_dataclass(run) and not isinstance(run, type):
        run = asdict(run)
    if not isinstance(run, Mapping):
        raise ReportError(f"an instance report needs a run as a dict (JSON-ready), got {type(run).__name__}")
    return dict(run)


def _list_of(run: Mapping[str, Any], key: str) -> list[Any]:
    value = run.get(key)
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ReportError(f"run[{key!r}] must be a list, got {type(value).__name__}")
    return list(value)


def _records(run: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    out = []
    for item in _list_of(run, key):
        if is_dataclass(item) and not isinstance(item, type):
            item = asdict(item)
        if isinstance(item, Mapping):
            out.append(dict(item))
        else:
            out.append({"element_id": str(item)})
    return out


def _timeline(history: list[dict[str, Any]], lookup: Mapping[str, ElementInfo]) -> dict[str, Any]:
    """Per-element durations from entered -> completed/failed/cancelled pairs, in one pass."""
    open_runs: dict[str, deque[float]] = defaultdict(deque)
    stats: dict[str, dict[str, Any]] = {}
    times = [t for t in (float_or_none(h.get("at")) for h in history) if t is not None]
    t0 = min(times) if times else 0.0
    t_end = max(times) if times else 0.0
    for event in history:
        ident = str(event.get("element_id", ""))
        at = float_or_none(event.get("at"))
        kind = str(event.get("event", ""))
        row = stats.get(ident)
        if row is None:
            info = lookup.get(ident)
            row = stats[ident] = {"id": ident, "name": event.get("name") or (info.name if info else ""),
                                  "type": event.get("element_type") or (info.kind if info else ""),
                                  "runs": 0, "total": 0.0, "max": 0.0, "first": at, "last": at,
                                  "outcomes": Counter(), "open": 0}
        if at is not None:
            row["first"] = at if row["first"] is None else min(row["first"], at)
            row["last"] = at if row["last"] is None else max(row["last"], at)
        if kind == "entered":
            if at is not None:
                open_runs[ident].append(at)
        elif kind in ("completed", "failed", "cancelled"):
            row["outcomes"][kind] += 1
            started = open_runs[ident].popleft() if open_runs[ident] else None
            if started is not None and at is not None:
                duration = max(0.0, at - started)
                row["runs"] += 1
                row["total"] += duration
                row["max"] = max(row["max"], duration)
    span = max(t_end - t0, 1e-9)
    rows = []
    for ident, row in stats.items():
        still_open = len(open_runs.get(ident, ()))
        first = row["first"] if row["first"] is not None else t0
        last = t_end if still_open else (row["last"] if row["last"] is not None else first)
        mean_ms = row["total"] / row["runs"] * 1000 if row["runs"] else None
        left = min((first - t0) / span * 100, 99.6)
        rows.append({
            "id": ident, "name": row["name"], "type": kind_words(row["type"]) if row["type"] else "",
            "runs": row["runs"], "mean": format_duration(mean_ms),
            "total": format_duration(row["total"] * 1000) if row["runs"] else "",
            "max": format_duration(row["max"] * 1000) if row["runs"] else "",
            "outcomes": ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items())),
            "open": still_open, "start": f"+{format_duration((first - t0) * 1000) or '0 ms'}",
            "bar_left": f"{left:.2f}",
            "bar_width": f"{min(max((last - first) / span * 100, 0.4), 100 - left):.2f}",
            "sort": first,
        })
    rows.sort(key=lambda r: r["sort"])
    return {"rows": rows, "span": format_duration((t_end - t0) * 1000) if times else "", "t0": t0,
            "start": format_timestamp(t0) if times else "", "end": format_timestamp(t_end) if times else ""}


def _step_rows(history: list[dict[str, Any]], t0: float, lookup: Mapping[str, ElementInfo]) -> dict[str, Any]:
    def row(index: int, event: dict[str, Any]) -> dict[str, Any]:
        ident = str(event.get("element_id", ""))
        info = lookup.get(ident)
        at = float_or_none(event.get("at"))
        changes = event.get("data_changes") or {}
        if not isinstance(changes, Mapping):
            changes = {"(changes)": changes}
        return {"n": index + 1, "id": ident, "name": event.get("name") or (info.name if info else ""),
                "event": str(event.get("event", "")), "at": format_timestamp(at) if at is not None else "",
                "offset": f"+{format_duration((at - t0) * 1000) or '0 ms'}" if at is not None else "",
                "detail": str(event.get("detail") or ""),
                "changes": [{"key": str(k), "value": short_json(v)} for k, v in changes.items()]}
    total = len(history)
    if total <= MAX_STEP_ROWS:
        return {"head": [row(i, e) for i, e in enumerate(history)], "tail": [], "omitted": 0, "total": total}
    half = MAX_STEP_ROWS // 2
    return {"head": [row(i, e) for i, e in enumerate(history[:half])],
            "tail": [row(total - half + i, e) for i, e in enumerate(history[-half:])],
            "omitted": total - 2 * half, "total": total}


def _messages(records: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [{"name": str(m.get("name", "")), "at": format_timestamp(m.get("at")) if m.get("at") is not None else "",
             "payload": format_json(m.get("payload")) if m.get("payload") is not None else "",
             "correlation": str(m.get("correlation_key") or m.get("correlation") or "")}
            for m in records[:MAX_MESSAGE_ROWS]]
    return {"rows": rows, "omitted": max(0, len(records) - MAX_MESSAGE_ROWS)}


def render_instance_report(paths: Sequence[DiagramSource], run: dict) -> str:
    """One run painted on its diagram(s): traversed, waiting and failed elements, timeline, data and messages."""
    run = _as_run(run)
    page = open_page(paths)
    lookup = page.lookup
    path = [str(p) for p in _list_of(run, "path")]
    flows = [str(f) for f in _list_of(run, "flows")]
    history = _records(run, "history")
    waiting = _records(run, "waiting")
    incidents = _records(run, "incidents")
    status = str(run.get("status") or "unknown")

    paint = Paint()
    runs = Counter(path)
    completed_after: dict[str, float] = {}
    failed_at: dict[str, dict[str, Any]] = {}
    compensated: Counter[str] = Counter()
    for index, event in enumerate(history):
        ident = str(event.get("element_id", ""))
        kind = event.get("event")
        if kind == "compensated":
            compensated[ident] += 1
        elif kind == "completed":
            completed_after[ident] = index
            if ident not in runs:
                runs[ident] += 0  # traversed even when `path` was not given
        elif kind == "failed":
            failed_at[ident] = {"index": index, "detail": str(event.get("detail") or "")}
    traversed = set(runs) | set(completed_after)
    failed = {str(i.get("element_id", "")) for i in incidents}
    failed |= {i for i, f in failed_at.items() if completed_after.get(i, -1) < f["index"]}
    waiting_ids = {str(w.get("element_id", "")) for w in waiting}
    for ident in traversed:
        paint.classes[ident].append("traversed")
    for ident, count in runs.items():
        if count > 1:
            paint.badges[ident] = f"×{count}"
            paint.titles[ident] = f"ran {count} times"
    for ident in waiting_ids:
        paint.classes[ident].append("waiting")
    for ident in failed:
        paint.classes[ident].append("failed")
    for ident, count in compensated.items():  # undone by its compensation handler
        paint.classes[ident].append("compensated")
        note = f"compensated {count} time{'s' if count > 1 else ''}"
        paint.titles[ident] = f"{paint.titles[ident]}, {note}" if ident in paint.titles else note
    for ident, count in Counter(flows).items():
        paint.classes[ident].append("traversed")
        if count > 1:
            paint.badges[ident] = f"×{count}"
            paint.titles[ident] = f"taken {count} times"

    sections = page.sections(paint)
    drawn = page.drawn
    not_drawn = sorted((traversed | waiting_ids | failed | set(flows)) - drawn - {""})
    timeline = _timeline(history, lookup)
    steps = _step_rows(history, timeline["t0"], lookup)

    def named(ident: str, fallback: str = "") -> str:
        info = lookup.get(ident)
        return fallback or (info.name if info else "")

    waiting_rows = [{"id": str(w.get("element_id", "")), "name": named(str(w.get("element_id", "")),
                                                                          str(w.get("name") or "")),
                     "kind": str(w.get("kind") or ""), "detail": str(w.get("detail") or "")} for w in waiting]
    incident_rows = [{"id": str(i.get("element_id", "")), "name": named(str(i.get("element_id", ""))),
                      "error": str(i.get("error") or ""),
                      "at": format_timestamp(i.get("at")) if i.get("at") is not None else ""} for i in incidents]
    for ident, f in sorted(failed_at.items()):
        if ident in failed and not any(r["id"] == ident for r in incident_rows):
            incident_rows.append({"id": ident, "name": named(ident), "error": f["detail"] or "failed",
                                  "at": format_timestamp(history[f["index"]].get("at"))})
    data = run.get("data")
    info = {
        "instance_id": str(run.get("instance_id") or ""), "process_id": str(run.get("process_id") or ""),
        "status": status, "status_cls": status if status in RUN_STATUSES else "unknown",
        "business_key": "" if run.get("business_key") is None else str(run.get("business_key")),
        "error": "" if run.get("error") is None else str(run.get("error")),
    }
    decision_rows = matched_rule_rows(history)
    matched = {rule for row in decision_rows for rule in row["rules"]}
    dmn_files = [file_decision_views(d.path, d.name, matched, content=d.content) for d in page.documents
                 if d.kind == "dmn"] if decision_rows else []
    title = f"Instance {info['instance_id'] or '(no id)'} of {info['process_id'] or 'process'}: {status}"
    return _render(
        "report_instance.html.j2", title=title, run=info, sections=sections, waiting=waiting_rows,
        incidents=incident_rows, timeline=timeline, steps=steps, not_drawn=not_drawn,
        sent=_messages(_records(run, "messages_sent")), received=_messages(_records(run, "messages_received")),
        data_json=format_json(data if data is not None else {}), path_length=len(path), flow_count=len(flows),
        distinct=len(traversed), decision_rows=decision_rows, dmn_files=dmn_files,
    )



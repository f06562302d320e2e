"""Self-contained HTML reports: the diagram as the analyst drew it, with what happened painted on it.

Four reports, each one HTML file with inline CSS, no script, no network and a strict Content-Security-Policy:

- `render_definition_report(paths)`: the diagram(s) and a table of every flow node and flow (bindings,
  conditions, timers, messages, errors, call targets).
- `render_instance_report(paths, run)`: one run painted on the diagram (traversed, waiting, failed), where it
  waits, incidents, a timeline of element durations, data changes, messages and the final data.
- `render_heatmap_report(paths, stats)`: counts and mean/p95 durations of many runs on the diagram.

The inputs are file paths and JSON-ready dicts (never a live workflow). This module builds plain view-model
dicts (the diagrams come from `diagram_svg`, with all geometry computed) and hands them to the Jinja2 templates in
`templates/`, rendered with autoescape on, so every piece of user text is escaped by the template engine.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import asdict, is_dataclass
from functools import lru_cache
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .diagram import ElementInfo
from .loader.review import element_details
from .diagram_svg import (Paint, diagram_views, drawn_ids, element_lookup, format_duration, format_json,
                          format_timestamp, kind_words, load_documents, short_json)
from .dmn_views import file_decision_views, matched_rule_rows
from .errors import ReportError

__all__ = ["render_coverage_report", "render_definition_report", "render_heatmap_report", "render_instance_report"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:;"
RUN_STATUSES = ("completed", "waiting", "failed", "running", "incident", "cancelled")
MAX_STEP_ROWS = 400          # history rows shown in full; the rest is summarised
MAX_MESSAGE_ROWS = 500



# --- templates --------------------------------------------------------------------------------------------

def _templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report_base.html.j2").is_file():
            return candidate
    raise ReportError(f"report templates not found (looked in {here / 'templates'} and {here.parent / 'templates'})")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(_templates_dir())), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["csp"] = CSP
    return env


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


# --- definition report ----------------------------------------------------------------------------------------

def _binding_view(info: ElementInfo, handler_names: set[str] | None) -> dict[str, str] | None:
    if not info.bindable and info.binding is None:
        return None
    binding = info.binding
    if binding is None or not binding.name:
        return {"text": "no handler binding" if binding is None else f"{binding.dialect} {binding.kind}: (empty)",
                "status": "unbound", "cls": "bad"}
    text = f"{binding.name} ({binding.dialect} {binding.kind})"
    if binding.result_variable:
        text += f", result in {binding.result_variable}"
    if binding.retries is not None:
        text += f", {binding.retries} retries"
    if handler_names is None:
        return {"text": text, "status": "", "cls": ""}
    registered = binding.name in handler_names
    return {"text": text, "status": "registered" if registered else "missing", "cls": "ok" if registered else "bad"}


def review_details(path: str) -> dict[str, Any]:
    """Scripts, form fields and called decisions by element id (none for a file the hardened loader refuses)."""
    from .errors import BpmnRunnerError
    from .loader.documents import read_document
    try:
        document = read_document(Path(path))
    except BpmnRunnerError:
        return {}
    return element_details(document.root, document.path) if document.kind == "bpmn" else {}


def render_definition_report(paths: list[str], *, handler_names: set[str] | None = None) -> str:
    """The diagram(s) of the given files and a table of every flow node and flow, as one HTML page."""
    documents = load_documents(paths)
    sections, _ = diagram_views(documents, Paint())
    tables = []
    summary = Counter()
    known_processes = {p.id for document in documents for p in document.processes}
    for document in documents:
        rows = []
        details = review_details(document.path)
        for info in document.elements.values():
            if not (info.is_flow_node or info.is_flow):
                continue
            extra = details.get(info.id)
            binding = _binding_view(info, handler_names)
            if extra is not None and extra.decision and info.binding is None:
                binding = {"text": f"DMN decision {extra.decision}", "status": "", "cls": ""}
            if binding and binding["cls"] == "bad":
                summary["problems"] += 1
            summary["elements"] += 1
            rows.append({
                "id": info.id, "name": info.name, "type": kind_words(info.kind), "kind": info.kind,
                "line": info.line or "", "documentation": info.documentation, "lane": info.lane or "",
                "process": info.process_id or "", "binding": binding,
                "conditions": info.conditions, "timers": info.timers, "messages": info.messages,
                "errors": info.errors, "called": info.called_element or "",
                "called_here": (info.called_element or "") in known_processes,
                "decision": extra.decision if extra is not None else None,
                "scripts": extra.scripts if extra is not None else [],
                "form": extra.form if extra is not None else [],
                "loop": info.loop or "",
            })
        processes = [{"id": p.id, "name": p.name,
                      "executable": {True: "yes", False: "no", None: "not set"}[p.is_executable]}
                     for p in document.processes]
        tables.append({"file": document.name, "rows": rows, "processes": processes})
    title = "Process definition: " + ", ".join(d.name for d in documents)
    dmn_files = [file_decision_views(d.path, d.name) for d in documents if d.kind == "dmn"]
    return _render("report_definition.html.j2", title=title, sections=sections, tables=tables, dmn_files=dmn_files,
                   handler_check=handler_names is not None, problems=summary["problems"],
                   element_count=summary["elements"])


# --- instance report ------------------------------------------------------------------------------------------

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


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _timeline(history: list[dict[str, Any]], lookup: Mapping[str, ElementInfo]) -> dict[str, Any]:
    """Per-element durations from entered -> completed/failed/cancelled pairs, in one pass."""
    open_runs: dict[str, deque[float]] = defaultdict(deque)
    stats: dict[str, dict[str, Any]] = {}
    times = [t for t in (_float_or_none(h.get("at")) for h in history) if t is not None]
    t0 = min(times) if times else 0.0
    t_end = max(times) if times else 0.0
    for event in history:
        ident = str(event.get("element_id", ""))
        at = _float_or_none(event.get("at"))
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
        at = _float_or_none(event.get("at"))
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


def render_instance_report(paths: list[str], run: dict) -> str:
    """One run painted on its diagram(s): traversed, waiting and failed elements, timeline, data and messages."""
    run = _as_run(run)
    documents = load_documents(paths)
    lookup = element_lookup(documents)
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

    sections, _ = diagram_views(documents, paint)
    drawn = drawn_ids(documents)
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
    decision_rows = matched_rule_rows(history)
    matched = {rule for row in decision_rows for rule in row["rules"]}
    dmn_files = [file_decision_views(d.path, d.name, matched) for d in documents if d.kind == "dmn"] \
        if decision_rows else []
    data = run.get("data")
    info = {
        "instance_id": str(run.get("instance_id") or ""), "process_id": str(run.get("process_id") or ""),
        "status": status, "status_cls": status if status in RUN_STATUSES else "unknown",
        "business_key": "" if run.get("business_key") is None else str(run.get("business_key")),
        "error": "" if run.get("error") is None else str(run.get("error")),
    }
    title = f"Instance {info['instance_id'] or '(no id)'} of {info['process_id'] or 'process'}: {status}"
    return _render(
        "report_instance.html.j2", title=title, run=info, sections=sections, waiting=waiting_rows,
        incidents=incident_rows, timeline=timeline, steps=steps, not_drawn=not_drawn,
        sent=_messages(_records(run, "messages_sent")), received=_messages(_records(run, "messages_received")),
        data_json=format_json(data if data is not None else {}), path_length=len(path), flow_count=len(flows),
        distinct=len(traversed), decision_rows=decision_rows, dmn_files=dmn_files,
    )


# --- heatmap ----------------------------------------------------------------------------------------------------

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


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def render_heatmap_report(paths: list[str], stats: dict) -> str:
    """Counts and mean/p95 durations of many runs drawn on the diagram (colour by count), plus tables."""
    if not isinstance(stats, Mapping):
        raise ReportError(f"a heatmap needs stats as a dict, got {type(stats).__name__}")
    documents = load_documents(paths)
    lookup = element_lookup(documents)
    elements = stats.get("elements") or {}
    flows = stats.get("flows") or {}
    if not isinstance(elements, Mapping) or not isinstance(flows, Mapping):
        raise ReportError("stats['elements'] and stats['flows'] must be dicts keyed by element id")
    element_rows = []
    for ident, row in elements.items():
        row = row if isinstance(row, Mapping) else {"count": row}
        element_rows.append({"id": str(ident), "count": _int(row.get("count")),
                             "mean_ms": _float_or_none(row.get("mean_ms")),
                             "p95_ms": _float_or_none(row.get("p95_ms"))})
    flow_rows = [{"id": str(ident), "count": _int(count)} for ident, count in flows.items()]
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
    sections, _ = diagram_views(documents, paint)
    drawn = drawn_ids(documents)
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
    status_rows = [{"status": str(k), "count": _int(v)} for k, v in
                   (by_status.items() if isinstance(by_status, Mapping) else [])]
    legend = [{"colour": _heat(t), "label": str(round(math.expm1(t * math.log1p(top)))) if top else "0"}
              for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    title = f"Heatmap of {stats.get('process_id') or 'process'}"
    return _render("report_heatmap.html.j2", title=title, process_id=str(stats.get("process_id") or ""),
                   sections=sections, elements=element_rows, flows=flow_rows, statuses=status_rows,
                   instances=sum(r["count"] for r in status_rows), legend=legend)


# --- coverage ---------------------------------------------------------------------------------------------------

_UNCOVERED_FILL = "#fff1f0"
_UNCOVERED_STROKE = "#cf222e"


def render_coverage_report(paths: list[str], coverage: dict) -> str:
    """Test coverage of one diagram: covered elements and flows painted, uncovered ones marked, the percentage,
    and which tests covered what. `coverage` is the JSON-ready dict of `bpmn_runner.coverage.Coverage.summary`."""
    if not isinstance(coverage, Mapping):
        raise ReportError(f"a coverage report needs coverage as a dict, got {type(coverage).__name__}")
    documents = load_documents(paths)
    nodes = [dict(n) for n in coverage.get("nodes") or [] if isinstance(n, Mapping)]
    flows = [dict(f) for f in coverage.get("flows") or [] if isinstance(f, Mapping)]
    paint = Paint()
    for is_flow, row in [(False, n) for n in nodes] + [(True, f) for f in flows]:
        ident = str(row.get("id", ""))
        tests = [str(t) for t in row.get("tests") or []]
        row["tests"] = tests
        row["type"] = kind_words(str(row.get("kind") or ""))
        if row.get("covered"):
            paint.classes[ident].extend(["traversed", "covered"])
            paint.badges[ident] = str(len(tests)) if tests else "✓"
            paint.titles[ident] = f"covered by {len(tests)} test{'s' if len(tests) != 1 else ''}: " + ", ".join(tests)
        else:
            paint.classes[ident].append("uncovered")
            paint.titles[ident] = "not covered by any test"
            if is_flow:
                paint.strokes[ident] = (_UNCOVERED_STROKE, 2.0)
            else:
                paint.fills[ident] = _UNCOVERED_FILL
    sections, _ = diagram_views(documents, paint)
    drawn = drawn_ids(documents)
    for row in nodes + flows:
        row["drawn"] = str(row.get("id", "")) in drawn
    tests = [{"name": str(t.get("name", "")), "nodes": len(t.get("nodes") or []), "flows": len(t.get("flows") or []),
              "elements": [str(e) for e in (t.get("nodes") or [])]}
             for t in coverage.get("tests") or [] if isinstance(t, Mapping)]
    pct = coverage.get("percentage")
    pct_text = f"{float(pct):.1f}%" if isinstance(pct, (int, float)) else "n/a"
    diagram = str(coverage.get("diagram") or ", ".join(d.name for d in documents))
    facts = {
        "percentage": pct_text, "covered": _int(coverage.get("covered")), "total": _int(coverage.get("total")),
        "nodes_covered": sum(1 for n in nodes if n.get("covered")), "nodes_total": len(nodes),
        "flows_covered": sum(1 for f in flows if f.get("covered")), "flows_total": len(flows),
    }
    uncovered = [r for r in nodes + flows if not r.get("covered")]
    return _render("report_coverage.html.j2", title=f"Test coverage of {diagram}: {pct_text}", diagram=diagram,
                   facts=facts, sections=sections, nodes=nodes, flows=flows, tests=tests, uncovered=uncovered)

"""The coverage report: covered elements and flows of one diagram painted, uncovered ones marked."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..errors import ReportError
from .formatting import kind_words, to_int
from .page import DiagramSource, open_page
from .svg_shapes import Paint
from .templates import render as _render


_UNCOVERED_FILL = "#fff1f0"
_UNCOVERED_STROKE = "#cf222e"


def render_coverage_report(paths: Sequence[DiagramSource], coverage: dict) -> str:
    """Test coverage of one diagram: covered elements and flows painted, uncovered ones marked, the percentage,
    and which tests covered what. `coverage` is the JSON-ready dict of `bpmn_runner.coverage.Coverage.summary`."""
    if not isinstance(coverage, Mapping):
        raise ReportError(f"a coverage report needs coverage as a dict, got {type(coverage).__name__}")
    page = open_page(paths)
    documents = page.documents
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
    sections = page.sections(paint)
    drawn = page.drawn
    for row in nodes + flows:
        row["drawn"] = str(row.get("id", "")) in drawn
    tests = [{"name": str(t.get("name", "")), "nodes": len(t.get("nodes") or []), "flows": len(t.get("flows") or []),
              "elements": [str(e) for e in (t.get("nodes") or [])]}
             for t in coverage.get("tests") or [] if isinstance(t, Mapping)]
    pct = coverage.get("percentage")
    pct_text = f"{float(pct):.1f}%" if isinstance(pct, (int, float)) else "n/a"
    diagram = str(coverage.get("diagram") or ", ".join(d.name for d in documents))
    facts = {
        "percentage": pct_text, "covered": to_int(coverage.get("covered")), "total": to_int(coverage.get("total")),
        "nodes_covered": sum(1 for n in nodes if n.get("covered")), "nodes_total": len(nodes),
        "flows_covered": sum(1 for f in flows if f.get("covered")), "flows_total": len(flows),
    }
    uncovered = [r for r in nodes + flows if not r.get("covered")]
    return _render("report_coverage.html.j2", title=f"Test coverage of {diagram}: {pct_text}", diagram=diagram,
                   facts=facts, sections=sections, nodes=nodes, flows=flows, tests=tests, uncovered=uncovered)

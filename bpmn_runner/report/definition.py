"""The definition report: the diagram(s) and a table of every flow node and flow (bindings, conditions, timers,
messages, errors, call targets)."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from ..dmn_views import file_decision_views
from ..loader.review import element_details
from ..loader.semantics import ElementInfo
from .formatting import kind_words
from .page import DiagramSource, open_page
from .svg_shapes import Paint
from .templates import render as _render


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


def render_definition_report(paths: Sequence[DiagramSource], *, handler_names: set[str] | None = None) -> str:
    """The diagram(s) of the given files and a table of every flow node and flow, as one HTML page."""
    page = open_page(paths)
    documents = page.documents
    sections = page.sections(Paint())
    tables = []
    summary = Counter()
    known_processes = {p.id for document in documents for p in document.processes}
    for document in documents:
        rows = []
        # scripts, form fields and called decisions by element id, from the same document
        details = element_details(document.root, document.path) if document.kind == "bpmn" else {}
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
    dmn_files = [file_decision_views(d.path, d.name, content=d.content) for d in documents if d.kind == "dmn"]
    return _render("report_definition.html.j2", title=title, sections=sections, tables=tables, dmn_files=dmn_files,
                   handler_check=handler_names is not None, problems=summary["problems"],
                   element_count=summary["elements"])

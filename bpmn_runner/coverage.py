"""Diagram coverage: which flow nodes and sequence flows the tests took, per diagram.

Like Camunda's process-test-coverage, coverage counts flow nodes (events, activities, gateways, also inside
sub-processes) and sequence flows of the executable processes of a `.bpmn` file:

    coverage % = (covered flow nodes + covered sequence flows) / (all flow nodes + all sequence flows)

An element is covered by a run when the token reached it. Two kinds of element are armed before anything
reaches them, so they count only when they fire: boundary events, and the events or receive tasks after an
event-based gateway. A sequence flow is covered when the run took it into a covered element.

`Coverage` collects runs from many tests (`record(paths, result, test)`) and answers JSON-ready dicts
(`summary(path)`) for `report.render_coverage_report` and for CI. No pytest, Jinja or SpiffWorkflow here:
the diagrams are the loader's documents (their semantics), the runs are plain `RunResult`s (or their dicts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .kinds import ACTIVITY_KINDS, FLOW_NODE_KINDS
from .loader.documents import Document, display_name, read_document

__all__ = ["Coverage", "DiagramModel", "Trace", "model_of", "read_model", "trace"]

@dataclass(frozen=True)
class Element:
    """One flow node or sequence flow of a diagram."""

    id: str
    kind: str
    name: str = ""
    line: int = 0
    process_id: str = ""
    source: str = ""   # sequence flows only
    target: str = ""


@dataclass
class DiagramModel:
    """The coverable elements of one .bpmn file."""

    path: Path
    name: str
    nodes: dict[str, Element] = field(default_factory=dict)
    flows: dict[str, Element] = field(default_factory=dict)
    deferred: set[str] = field(default_factory=set)   # armed before reached: count only when completed

    @property
    def total(self) -> int:
        return len(self.nodes) + len(self.flows)

    def kind(self, element_id: str) -> str:
        element = self.nodes.get(element_id)
        return element.kind if element is not None else ""


def read_model(path: str | Path) -> DiagramModel:
    """Read the flow nodes and sequence flows of the executable processes (isExecutable not "false")."""
    return model_of(read_document(Path(path)))


def model_of(document: Document) -> DiagramModel:
    """The coverable elements of a document, from its semantics."""
    model = DiagramModel(path=document.path, name=document.name)
    if document.kind != "bpmn":
        return model
    executable = {p.id for p in document.processes if p.is_executable is not False}
    event_gateways: set[str] = set()
    for info in document.elements.values():
        if info.process_id not in executable:
            continue
        common = {"id": info.id, "kind": info.kind, "name": info.name, "line": info.line or 0,
                  "process_id": info.process_id}
        if info.kind in FLOW_NODE_KINDS:
            model.nodes[info.id] = Element(**common)
            if info.kind == "boundaryEvent":
                model.deferred.add(info.id)
            elif info.kind == "eventBasedGateway":
                event_gateways.add(info.id)
        elif info.kind == "sequenceFlow":
            model.flows[info.id] = Element(**common, source=info.source_ref or "", target=info.target_ref or "")
    for flow in model.flows.values():
        if flow.source in event_gateways:
            model.deferred.add(flow.target)
    return model


# --- one run ------------------------------------------------------------------------------------------------

@dataclass
class Trace:
    """What one run covered: the path in the order elements were reached, and the flows it took."""

    path: list[str]
    nodes: set[str]
    flows: set[str]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def trace(result: Any, models: Iterable[DiagramModel]) -> Trace:
    """The elements a run reached (in order) and the flows it took, from a RunResult or its JSON-ready dict.

    Reached means completed, or entered and never cancelled (waiting, failed), or - for activities only -
    entered and then interrupted (e.g. by an error boundary event). Boundary events and the alternatives
    after an event-based gateway are armed when entered, so they count only once completed.
    """
    kinds: dict[str, str] = {}
    deferred: set[str] = set()
    targets: dict[str, str] = {}
    for model in models:
        for ident, element in model.nodes.items():
            kinds.setdefault(ident, element.kind)
        deferred |= model.deferred
        for ident, flow in model.flows.items():
            targets.setdefault(ident, flow.target)
    history = list(_get(result, "history") or [])
    if not history:  # no history: fall back to the completion path
        path = [str(e) for e in _get(result, "path") or []]
    else:
        slots: list[str | None] = []
        open_at: dict[str, list[int]] = {}
        for event in history:
            ident = str(_get(event, "element_id", "") or "")
            what = _get(event, "event", "")
            if not ident:
                continue
            if what == "entered":
                open_at.setdefault(ident, []).append(len(slots))
                slots.append(None if ident in deferred else ident)
            elif what == "completed":
                pending = open_at.get(ident)
                if pending:
                    slots[pending.pop(0)] = None  # shown where it completed, as RunResult.path has it
                slots.append(ident)
            elif what == "cancelled":
                pending = open_at.get(ident)
                if pending:
                    index = pending.pop(0)
                    if kinds.get(ident) not in ACTIVITY_KINDS:  # an armed event or a merged join
                        slots[index] = None
            elif what == "failed":
                pending = open_at.get(ident)
                if pending:
                    pending.pop(0)  # stays in the path where it was entered
        path = [s for s in slots if s is not None]
    nodes = set(path)
    flows = {str(f) for f in _get(result, "flows") or [] if targets.get(str(f), "") in nodes or str(f) not in targets}
    return Trace(path=path, nodes=nodes, flows=flows)


# --- many runs ------------------------------------------------------------------------------------------------

_MODELS: dict[tuple[str, float, int], DiagramModel] = {}


def _model(path: str | Path) -> DiagramModel:
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime, stat.st_size)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = read_model(resolved)
        model.name = display_name(resolved)
    return model


class Coverage:
    """Covered elements per diagram and the tests that covered each, over many runs."""

    def __init__(self) -> None:
        self._models: dict[str, DiagramModel] = {}
        self._nodes: dict[str, dict[str, list[str]]] = {}
        self._flows: dict[str, dict[str, list[str]]] = {}
        self._tests: dict[str, list[str]] = {}

    def add_diagram(self, path: str | Path) -> DiagramModel:
        """Count a diagram even if no test runs it (then it shows 0%)."""
        model = _model(path)
        key = str(model.path.resolve())
        if key not in self._models:
            self._models[key] = model
            self._nodes[key] = {}
            self._flows[key] = {}
            self._tests[key] = []
        return self._models[key]

    def models(self, paths: Iterable[str | Path]) -> list[DiagramModel]:
        return [self.add_diagram(p) for p in paths if Path(p).suffix.lower() != ".dmn"]

    def record(self, paths: Iterable[str | Path], result: Any, test: str) -> Trace:
        """Record one run (a RunResult or its dict) of the given diagrams, covered by `test`."""
        models = self.models(paths)
        taken = trace(result, models)
        for model in models:
            key = str(model.path.resolve())
            if test not in self._tests[key]:
                self._tests[key].append(test)
            for ident in taken.nodes & model.nodes.keys():
                tests = self._nodes[key].setdefault(ident, [])
                if test not in tests:
                    tests.append(test)
            for ident in taken.flows & model.flows.keys():
                tests = self._flows[key].setdefault(ident, [])
                if test not in tests:
                    tests.append(test)
        return taken

    def merge(self, other: "Coverage") -> None:
        for key, model in other._models.items():
            self.add_diagram(model.path)
            for mine, theirs in ((self._nodes, other._nodes), (self._flows, other._flows)):
                for ident, tests in theirs[key].items():
                    bucket = mine[key].setdefault(ident, [])
                    bucket.extend(t for t in tests if t not in bucket)
            self._tests[key].extend(t for t in other._tests[key] if t not in self._tests[key])

    def diagrams(self) -> list[DiagramModel]:
        return sorted(self._models.values(), key=lambda m: m.name)

    def summary(self, path: str | Path) -> dict[str, Any]:
        """JSON-ready coverage of one diagram: percentage, every node and flow, and what each test covered."""
        model = self.add_diagram(path)
        key = str(model.path.resolve())
        nodes = [{"id": e.id, "name": e.name, "kind": e.kind, "line": e.line, "process_id": e.process_id,
                  "covered": e.id in self._nodes[key], "tests": list(self._nodes[key].get(e.id, []))}
                 for e in model.nodes.values()]
        flows = [{"id": e.id, "name": e.name, "kind": e.kind, "line": e.line, "process_id": e.process_id,
                  "source": e.source, "target": e.target,
                  "covered": e.id in self._flows[key], "tests": list(self._flows[key].get(e.id, []))}
                 for e in model.flows.values()]
        covered_nodes = sum(1 for n in nodes if n["covered"])
        covered_flows = sum(1 for f in flows if f["covered"])
        tests = []
        for test in self._tests[key]:
            tests.append({"name": test,
                          "nodes": [n["id"] for n in nodes if test in n["tests"]],
                          "flows": [f["id"] for f in flows if test in f["tests"]]})
        return {
            "diagram": model.name, "path": str(model.path),
            "covered": covered_nodes + covered_flows, "total": model.total,
            "percentage": percentage(covered_nodes + covered_flows, model.total),
            "nodes_covered": covered_nodes, "nodes_total": len(nodes),
            "flows_covered": covered_flows, "flows_total": len(flows),
            "nodes": nodes, "flows": flows, "tests": tests,
        }

    def summaries(self) -> list[dict[str, Any]]:
        return [self.summary(m.path) for m in self.diagrams()]

    def total(self) -> dict[str, Any]:
        """Over every diagram: covered and total elements and the percentage."""
        covered = sum(len(self._nodes[k]) + len(self._flows[k]) for k in self._models)
        total = sum(m.total for m in self._models.values())
        return {"covered": covered, "total": total, "percentage": percentage(covered, total)}


def percentage(covered: int, total: int) -> float:
    return round(100.0 * covered / total, 1) if total else 100.0


def format_line(summary: Mapping[str, Any]) -> str:
    """`<diagram>: coverage NN.N%` with the counts, as the CLI and the pytest summary print it."""
    return (f"{summary['diagram']}: coverage {summary['percentage']:.1f}% "
            f"({summary['nodes_covered']}/{summary['nodes_total']} flow nodes, "
            f"{summary['flows_covered']}/{summary['flows_total']} sequence flows)")


def write_reports(coverage: Coverage, directory: str | Path) -> list[Path]:
    """One HTML report per diagram plus coverage.json into `directory`; returns the files written."""
    import json

    from .report import render_coverage_report

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    summaries = coverage.summaries()
    used: set[str] = set()
    for summary in summaries:
        stem = Path(summary["path"]).stem
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name)
        summary["report"] = f"{name}.html"
        out = target / f"{name}.html"
        out.write_text(render_coverage_report([summary["path"]], summary), encoding="utf-8")
        written.append(out)
    out = target / "coverage.json"
    out.write_text(json.dumps({"total": coverage.total(), "diagrams": summaries}, indent=2), encoding="utf-8")
    written.append(out)
    return written


def sequence(items: Sequence[str]) -> str:
    """A path for a message: `a → b → c`, shortened in the middle when long."""
    shown = list(items) if len(items) <= 40 else [*items[:18], f"… ({len(items) - 36} more) …", *items[-18:]]
    return " → ".join(shown) if shown else "(nothing)"

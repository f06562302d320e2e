"""The package's layers and import boundaries hold (see `.importlinter` and ARCHITECTURE.md).

import-linter checks the contracts of `.importlinter`: layers L0 errors/models/kinds/namespaces < L1 registry/
expressions/_spiff/settings/timing < L2 loader/definitions/report/store/lint/... < L3 engine/durable/testing
< L4 cli; SpiffWorkflow only in `_spiff`, lxml only in the loader (with listed exceptions), SQLAlchemy only in
`store`, Jinja2 only in `report`, Typer only in the CLI. The tests below add what an import graph cannot see.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bpmn_runner"


def test_import_contracts_hold():
    pytest.importorskip("importlinter")
    check = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                               "sys.exit(lint_imports(config_filename='.importlinter', no_cache=True, no_logo=True))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_module_outside_spiff_reaches_spiffworkflow_by_name():
    """`importlib.import_module("SpiffWorkflow...")` or `files("SpiffWorkflow...")` load it without an import."""
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in PACKAGE.rglob("*.py")
                 if "_spiff" not in path.relative_to(PACKAGE).parts
                 for line, text in _string_constants(path) if text.split(".")[0] == "SpiffWorkflow"]
    assert offenders == []


def _foreign_objects(value: Any, path: str = "result", seen: set[int] | None = None) -> list[str]:
    """Paths inside a value to objects of SpiffWorkflow or lxml types."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    module = type(value).__module__ or ""
    if module.split(".")[0] in ("SpiffWorkflow", "lxml"):
        return [f"{path}: {type(value).__module__}.{type(value).__name__}"]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value)
                for p in _foreign_objects(getattr(value, f.name), f"{path}.{f.name}", seen)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _foreign_objects(v, f"{path}[{k!r}]", seen)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [p for i, v in enumerate(value) for p in _foreign_objects(v, f"{path}[{i}]", seen)]
    return []


def test_no_spiffworkflow_object_reaches_a_run_result():
    """What `run` returns is plain data: no task, spec or lxml element rides along in it."""
    from bpmn_runner import HandlerRegistry, run

    registry = HandlerRegistry.from_specs([str(ROOT / "processes" / "order_handlers.py")])
    result = run([str(ROOT / "processes" / "order_fulfillment.bpmn")], handlers=registry,
                 data=json.loads((ROOT / "processes" / "order_fulfillment.data.json").read_text(encoding="utf-8")))
    assert result.status == "completed", result.error
    assert result.history
    assert _foreign_objects(result) == []


def test_loaded_definitions_hand_out_no_spiffworkflow_object():
    """Definitions answer in ids, documents and plain models; the parsed specs stay behind the opaque `built`."""
    from bpmn_runner import load

    definitions = load([ROOT / "processes" / "order_fulfillment.bpmn"])
    answers = {"executable": definitions.executable_processes(), "entries": definitions.entry_processes(),
               "called": definitions.called_processes(), "sources": definitions.sources(),
               "tasks": [(t.element_id, t.binding) for t in definitions.bound_tasks()],
               "reachable": definitions.reachable_processes(definitions.choose_process(None)),
               "flows": definitions.sequence_flows, "prepared": definitions.prepare(definitions.choose_process(None))}
    assert _foreign_objects(answers) == []

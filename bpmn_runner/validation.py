"""`validate`: load diagrams and check their handler bindings, as `file:line: severity: message` lines."""

from __future__ import annotations

from pathlib import Path

from .definitions import Definitions, load
from .engine import binding_problem
from .errors import BpmnRunnerError
from .registry import HandlerRegistry


def _line(error: BpmnRunnerError, fallback: str) -> str:
    text = str(error)
    if error.file:
        return text
    return f"{fallback}:1: error: {text}"


def validate_paths(paths: list[Path], registry: HandlerRegistry, *, handlers_given: bool) -> list[str]:
    """Problems found, one line each; an empty list means the diagrams would run."""
    try:
        definitions = load(list(paths), search_siblings=True)
    except BpmnRunnerError as exc:
        return [_line(exc, str(paths[0]))]
    return check_bindings(definitions, registry, handlers_given=handlers_given)


def check_bindings(definitions: Definitions, registry: HandlerRegistry, *, handlers_given: bool) -> list[str]:
    lines: list[str] = []
    for bound in definitions.bound_tasks():
        problem = binding_problem(bound.binding, registry, bound.element_id)
        if problem is None:
            continue
        has_name = bound.binding is not None and bool(bound.binding.name)
        severity = "error" if handlers_given or not has_name else "warning"
        lines.append(f"{bound.document.name}:{bound.line}: {severity}: {problem}")
    return lines

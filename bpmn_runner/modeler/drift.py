"""Drift between diagrams and handlers, both ways, as `(file, line, severity, message, rule_id)` findings."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import NamedTuple

from ..definitions import BoundTask, Definitions
from ..engine import binding_problem
from ..loader.dialects import read_io_mappings, read_spiff_parameters
from ..loader.documents import display_name
from ..registry import HandlerRegistry, RegisteredHandler

HANDLER_MISSING = "handler-missing"
HANDLER_UNUSED = "handler-unused"
HANDLER_INPUT_MISSING = "handler-input-missing"


class Finding(NamedTuple):
    """One drift finding; `str()` gives the `file:line: severity: message [rule]` line that `validate` prints."""

    file: str
    line: int
    severity: str                 # error | warning | info
    message: str
    rule_id: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message} [{self.rule_id}]"


def handler_missing(definitions: Definitions, registry: HandlerRegistry, *,
                    handlers_given: bool | None = None) -> list[Finding]:
    """Tasks whose handler is not registered: an error once handlers are given (or when the task names none)."""
    given = len(registry) > 0 if handlers_given is None else handlers_given
    findings = []
    for task in definitions.bound_tasks():
        problem = binding_problem(task.binding, registry, task.element_id)
        if problem is None:
            continue
        named = task.binding is not None and bool(task.binding.name)
        findings.append(Finding(task.document.name, task.line, "error" if given or not named else "warning",
                                problem, HANDLER_MISSING))
    return findings


def handler_unused(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Registered handlers that no task of the loaded diagrams binds to (info: other diagrams may use them)."""
    used = {task.binding.name for task in definitions.bound_tasks() if task.binding is not None}
    files = ", ".join(doc.name for doc in definitions.documents if doc.kind == "bpmn") or "the loaded files"
    findings = []
    for name, registered in registry.items():
        if name in used:
            continue
        file, line = _where(registered)
        findings.append(Finding(file, line, "info", f"handler {name!r} is not used by any task in {files}; "
                                f"bind a task to it (camunda:topic, zeebe:taskDefinition type or operator id) "
                                f"or remove it", HANDLER_UNUSED))
    return findings


def handler_input_missing(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Inputs a registered handler declares that the task's input mappings or SpiffArena parameters do not give."""
    findings = []
    for task in definitions.bound_tasks():
        registered = registry.get(task.binding.name) if task.binding is not None and task.binding.name else None
        if registered is None or not registered.info.inputs:
            continue
        provided = provided_inputs(task)
        label = f"{task.element.get('name')!r} ({task.element_id})" if task.element.get("name") else \
            repr(task.element_id)
        for name, type_name in registered.info.inputs.items():
            if name in provided:
                continue
            findings.append(Finding(
                task.document.name, task.line, "warning",
                f"task {label} gives handler {registered.info.name!r} no input {name!r} ({type_name}), so "
                f"call.params has no {name!r}; add an input mapping (or SpiffArena parameter) named {name!r}, "
                f"or apply the handler's element template", HANDLER_INPUT_MISSING))
    return findings


def find_drift(definitions: Definitions, registry: HandlerRegistry, *,
               handlers_given: bool | None = None) -> list[Finding]:
    """All three rules: tasks without handlers, handlers no diagram uses, declared inputs the diagram lacks."""
    return (handler_missing(definitions, registry, handlers_given=handlers_given)
            + handler_input_missing(definitions, registry)
            + handler_unused(definitions, registry))


def provided_inputs(task: BoundTask) -> set[str]:
    """Names the task puts in `call.params`: input mapping targets and SpiffArena parameter names."""
    names = {m.target for m in read_io_mappings(task.element).inputs if m.target}
    return names | set(read_spiff_parameters(task.element))


def _where(registered: RegisteredHandler) -> tuple[str, int]:
    func = inspect.unwrap(registered.func)
    try:
        file = inspect.getsourcefile(func)
        line = inspect.getsourcelines(func)[1]
    except (OSError, TypeError):
        return registered.source, 1
    return (display_name(Path(file)) if file else registered.source), line

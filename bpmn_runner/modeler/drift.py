"""Drift between diagrams and handlers, both ways, as `(file, line, severity, message, rule_id)` findings."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import NamedTuple

from lxml import etree

from ..definitions import BoundTask, Definitions
from ..engine import binding_problem
from ..loader.dialects import read_binding, read_io_mappings, read_spiff_parameters
from ..loader.documents import display_name
from ..registry import HandlerRegistry, RegisteredHandler

# Rule ids as `bpmn_runner.lint` names them, so `validate` speaks one vocabulary.
UNBOUND_SERVICE_TASK = "unbound-service-task"      # a service task that names no handler
HANDLER_NOT_REGISTERED = "handler-not-registered"  # a task names a handler nobody registered
HANDLER_MISSING = (UNBOUND_SERVICE_TASK, HANDLER_NOT_REGISTERED)
HANDLER_UNUSED = "unused-handler"                  # a registered handler no loaded diagram uses
HANDLER_INPUT_MISSING = "handler-input-missing"    # a declared input the task's mappings do not give


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
        if task.binding is None or not task.binding.name:
            findings.append(Finding(task.document.name, task.line, "error", problem, UNBOUND_SERVICE_TASK))
        else:
            findings.append(Finding(task.document.name, task.line, "error" if given else "warning", problem,
                                    HANDLER_NOT_REGISTERED))
    return findings


def handler_unused(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Registered handlers that no task of the loaded diagrams binds to (info: other diagrams may use them).
    Handlers from installed plugins (entry points) serve many projects and are not reported."""
    used = {task.binding.name for task in definitions.bound_tasks() if task.binding is not None}
    files = ", ".join(doc.name for doc in definitions.documents if doc.kind == "bpmn") or "the loaded files"
    findings = []
    for name, registered in registry.items():
        if name in used or registered.source.startswith("entry point"):
            continue
        file, line = _where(registered)
        findings.append(Finding(file, line, "info", f"handler {name!r} is not used by any task in {files}; "
                                f"bind a task to it (camunda:topic, zeebe:taskDefinition type or operator id) "
                                f"or remove it", HANDLER_UNUSED))
    return findings


def handler_input_missing(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Inputs a registered handler declares that the task's input mappings or SpiffArena parameters do not give."""
    return [Finding(task.document.name, task.line, "warning", message, HANDLER_INPUT_MISSING)
            for task in definitions.bound_tasks() for message in input_gaps(task.element, registry)]


def input_gaps(element: etree._Element, registry: HandlerRegistry) -> list[str]:
    """One message per input the task's registered handler declares and the task does not map."""
    binding = read_binding(element)
    registered = registry.get(binding.name) if binding is not None and binding.name else None
    if registered is None or not registered.info.inputs:
        return []
    provided = _provided(element)
    element_id = element.get("id", "")
    name = " ".join((element.get("name") or "").split())
    label = f"{name!r} ({element_id})" if name else repr(element_id)
    return [f"task {label} gives handler {registered.info.name!r} no input {key!r} ({type_name}), so call.params "
            f"has no {key!r}; add an input mapping (or SpiffArena parameter) named {key!r}, or apply the "
            f"handler's element template"
            for key, type_name in registered.info.inputs.items() if key not in provided]


def find_drift(definitions: Definitions, registry: HandlerRegistry, *,
               handlers_given: bool | None = None) -> list[Finding]:
    """All three rules: tasks without handlers, handlers no diagram uses, declared inputs the diagram lacks."""
    return (handler_missing(definitions, registry, handlers_given=handlers_given)
            + handler_input_missing(definitions, registry)
            + handler_unused(definitions, registry))


def provided_inputs(task: BoundTask) -> set[str]:
    """Names the task puts in `call.params`: input mapping targets and SpiffArena parameter names."""
    return _provided(task.element)


def _provided(element: etree._Element) -> set[str]:
    names = {m.target for m in read_io_mappings(element).inputs if m.target}
    return names | set(read_spiff_parameters(element))


def _where(registered: RegisteredHandler) -> tuple[str, int]:
    func = inspect.unwrap(registered.func)
    try:
        file = inspect.getsourcefile(func)
        line = inspect.getsourcelines(func)[1]
    except (OSError, TypeError):
        return registered.source, 1
    return (display_name(Path(file)) if file else registered.source), line

"""Drift between diagrams and handlers, both ways, as `(file, line, severity, message, rule_id)` findings."""

from __future__ import annotations

from typing import NamedTuple

from ..definitions import BoundTask, Definitions
from ..lint.bindings import (HANDLER_INPUT_MISSING as _INPUT_RULE, HANDLER_NOT_REGISTERED as _NOT_REGISTERED_RULE,
                             UNBOUND_SERVICE_TASK as _UNBOUND_RULE, UNUSED_HANDLER as _UNUSED_RULE, binding_finding,
                             handler_location, input_gaps, provided_inputs as _provided, unused_handlers)
from ..registry import HandlerRegistry

# Rule ids as `bpmn_runner.lint` names them (the rules themselves live there), so `validate` speaks one vocabulary.
UNBOUND_SERVICE_TASK = _UNBOUND_RULE.id            # a service task that names no handler
HANDLER_NOT_REGISTERED = _NOT_REGISTERED_RULE.id   # a task names a handler nobody registered
HANDLER_MISSING = (UNBOUND_SERVICE_TASK, HANDLER_NOT_REGISTERED)
HANDLER_UNUSED = _UNUSED_RULE.id                   # a registered handler no loaded diagram uses
HANDLER_INPUT_MISSING = _INPUT_RULE.id             # a declared input the task's mappings do not give


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
        found = binding_finding(task.binding, registry, task.element_id, handlers_given=given)
        if found is not None:
            rule, severity, message = found
            findings.append(Finding(task.document.name, task.line, severity, message, rule.id))
    return findings


def handler_unused(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Registered handlers that no task of the loaded diagrams binds to (info: other diagrams may use them).
    Handlers from installed plugins (entry points) serve many projects and are not reported."""
    used = {task.binding.name for task in definitions.bound_tasks() if task.binding is not None}
    files = ", ".join(doc.name for doc in definitions.documents if doc.kind == "bpmn") or "the loaded files"
    findings = []
    for name, registered in unused_handlers(registry, used):
        file, line = handler_location(registered)
        findings.append(Finding(file, line, "info", f"handler {name!r} is not used by any task in {files}; "
                                f"bind a task to it (camunda:topic, zeebe:taskDefinition type or operator id) "
                                f"or remove it", HANDLER_UNUSED))
    return findings


def handler_input_missing(definitions: Definitions, registry: HandlerRegistry) -> list[Finding]:
    """Inputs a registered handler declares that the task's input mappings or SpiffArena parameters do not give."""
    return [Finding(task.document.name, task.line, "warning", message, HANDLER_INPUT_MISSING)
            for task in definitions.bound_tasks() for message in input_gaps(task.element, registry)]


def find_drift(definitions: Definitions, registry: HandlerRegistry, *,
               handlers_given: bool | None = None) -> list[Finding]:
    """All three rules: tasks without handlers, handlers no diagram uses, declared inputs the diagram lacks."""
    return (handler_missing(definitions, registry, handlers_given=handlers_given)
            + handler_input_missing(definitions, registry)
            + handler_unused(definitions, registry))


def provided_inputs(task: BoundTask) -> set[str]:
    """Names the task puts in `call.params`: input mapping targets and SpiffArena parameter names."""
    return _provided(task.element)

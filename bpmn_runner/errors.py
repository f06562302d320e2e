"""The exception tree of bpmn-runner and the CLI exit code each branch maps to.

    BpmnRunnerError                      base of everything we raise on purpose
    ├── DefinitionError        exit 3    a diagram cannot be loaded or run as drawn
    │   ├── XmlError                     not well-formed, hostile or too large
    │   ├── UnsupportedElementError      an element we cannot execute
    │   ├── UnboundTaskError             a service task with no handler
    │   └── UnknownProcessError          a process or decision that is not loaded
    ├── ExecutionError         exit 1    something failed while an instance ran
    │   ├── HandlerError                 a handler raised (not a BpmnError)
    │   ├── ExpressionError              a condition, mapping or script failed
    │   │   └── DecisionError            a DMN decision cannot be evaluated as modelled (bpmn_runner.dmn)
    │   ├── UnhandledBpmnError           a BpmnError no boundary or event subprocess caught
    │   └── StepLimitError               --max-steps was exceeded
    ├── InvalidOperationError  exit 2    a request that makes no sense in the current state
    ├── StoreError             exit 1    persistence problems
    │   ├── NotFoundError
    │   └── ConcurrentUpdateError
    └── ReportError            exit 1    a report could not be written

`BpmnError` is not part of this tree: handlers raise it on purpose to take a BPMN error path.
"""

from __future__ import annotations


class BpmnRunnerError(Exception):
    """Base class; `str()` is one line meant for a user."""

    exit_code = 1

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 element_id: str | None = None, instance_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.element_id = element_id
        self.instance_id = instance_id

    def __str__(self) -> str:
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
            return f"{where}: error: {self.message}"
        if self.instance_id and self.element_id:
            return f"instance {self.instance_id}, element {self.element_id}: {self.message}"
        if self.element_id:
            return f"element {self.element_id}: {self.message}"
        return self.message


class DefinitionError(BpmnRunnerError):
    """A diagram cannot be loaded or executed as drawn."""

    exit_code = 3


class XmlError(DefinitionError):
    """The file is not well-formed XML, or it is hostile (DOCTYPE, entities, too large, too deep)."""


class UnsupportedElementError(DefinitionError):
    """The diagram uses an element that bpmn-runner cannot execute faithfully."""


class UnboundTaskError(DefinitionError):
    """A service task has no handler binding, or its handler is not registered."""


class UnknownProcessError(DefinitionError):
    """A process, called element or decision is not among the loaded files."""


class ExecutionError(BpmnRunnerError):
    """Something failed while an instance was running."""

    exit_code = 1


class HandlerError(ExecutionError):
    """A handler raised an exception that is not a BpmnError."""


class ExpressionError(ExecutionError):
    """A condition, mapping, timer or script could not be evaluated."""


class UnhandledBpmnError(ExecutionError):
    """A BpmnError was raised and nothing in the diagram catches its code."""


class StepLimitError(ExecutionError):
    """The run took more steps than --max-steps allows."""


class InvalidOperationError(BpmnRunnerError):
    """The request makes no sense in the current state (e.g. completing a finished task)."""

    exit_code = 2


class StoreError(BpmnRunnerError):
    """The store could not do what was asked."""


class NotFoundError(StoreError):
    """No instance, task or definition with that id."""


class ConcurrentUpdateError(StoreError):
    """Another worker changed the instance first."""


class ReportError(BpmnRunnerError):
    """A report could not be produced."""


class BpmnError(Exception):
    """Raised by a handler to take a BPMN error path (an error boundary event or error event subprocess)."""

    def __init__(self, code: str, message: str = "", data: dict | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.data = dict(data or {})

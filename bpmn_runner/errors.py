"""The exception tree of bpmn-runner and the CLI exit code each branch maps to.

    BpmnRunnerError                      base of everything we raise on purpose
    ├── DefinitionError        exit 3    a diagram cannot be loaded or run as drawn
    │   ├── XmlError                     not well-formed, hostile or too large
    │   ├── UnsupportedElementError      an element we cannot execute
    │   ├── UnboundTaskError             a service task with no handler
    │   ├── UnknownProcessError          a process or decision that is not loaded
    │   ├── FeelSyntaxError              a FEEL expression or unary test does not parse (bpmn_runner.feel)
    │   └── ScenarioFileError            a scenario file is not valid YAML or not a valid scenario
    ├── ExecutionError         exit 1    something failed while an instance ran
    │   ├── HandlerError                 a handler raised (not a BpmnError)
    │   ├── ExpressionError              a condition, mapping or script failed
    │   │   ├── MissingVariableError     it read a variable the process data does not have
    │   │   ├── FeelEvaluationError      FEEL cannot answer with null (an external function call)
    │   │   └── DecisionError            a DMN decision cannot be evaluated as modelled (bpmn_runner.dmn)
    │   ├── UnhandledBpmnError           a BpmnError no boundary or event subprocess caught
    │   ├── StepLimitError               --max-steps was exceeded
    │   └── StepFailed                   a durable step failed (a script, a condition, an uncaught BPMN error)
    ├── InvalidOperationError  exit 2    a request that makes no sense in the current state
    │   └── ExternalTaskError            an external task is locked by another worker, or its lock expired
    ├── StoreError             exit 1    persistence problems
    │   ├── NotFoundError                no instance, task or definition with that id
    │   └── ConcurrentUpdateError        another worker changed the instance first
    │       └── LeaseLostError           a worker no longer holds the job it ran
    └── ReportError            exit 1    a report could not be written

Outside the tree, raised on purpose:

    BpmnError                            handlers raise it to take a BPMN error path
    ProcessAssertionError                (an AssertionError) a test's business assertion about a run failed
    ScenarioFailed                       a scenario of a scenario file failed (pytest reports its explanation)
"""

from __future__ import annotations

from typing import Any


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


class FeelSyntaxError(DefinitionError):
    """A FEEL expression or unary test does not parse; `.column` is 1-based, `.text` the source."""

    def __init__(self, problem: str, text: str, position: int) -> None:
        self.problem = problem
        self.text = text
        self.position = position
        self.column = position + 1
        shown = text if len(text) <= 120 else text[:117] + "..."
        super().__init__(f"FEEL syntax error at column {self.column}: {problem} in {shown.replace(chr(10), ' ')!r}")


class ScenarioFileError(DefinitionError):
    """A scenario file is not valid YAML or not a valid scenario (exit 3, with its file and line)."""


class ExecutionError(BpmnRunnerError):
    """Something failed while an instance was running."""

    exit_code = 1


class HandlerError(ExecutionError):
    """A handler raised an exception that is not a BpmnError; `traceback` keeps the handler's traceback text (for
    `show --json` and logs, never printed by default)."""

    traceback: str = ""


class ExpressionError(ExecutionError):
    """A condition, mapping, timer or script could not be evaluated."""


class MissingVariableError(ExpressionError):
    """An expression or script read a variable (or a key of one) that the process data does not have."""

    def __init__(self, message: str, name: str = "", **where: Any) -> None:
        super().__init__(message, **where)
        # The top-level variable name, or the dotted path when a key inside a present variable is absent.
        self.name = name


class FeelEvaluationError(ExpressionError):
    """An evaluation that FEEL cannot answer with null (for example an external Java function call)."""


class DecisionError(ExpressionError):
    """A decision could not be evaluated as modelled (hit policy violated, a value of the wrong type, ...)."""


class UnhandledBpmnError(ExecutionError):
    """A BpmnError was raised and nothing in the diagram catches its code."""


class StepLimitError(ExecutionError):
    """The run took more steps than --max-steps allows."""


class StepFailed(ExecutionError):
    """The engine failed while running a durable step (a script, a condition, an uncaught BPMN error, ...)."""


class InvalidOperationError(BpmnRunnerError):
    """The request makes no sense in the current state (e.g. completing a finished task)."""

    exit_code = 2


class ExternalTaskError(InvalidOperationError):
    """A request about an external task that its lock does not allow (Camunda's BadUserRequestException)."""


class StoreError(BpmnRunnerError):
    """The store could not do what was asked."""


class NotFoundError(StoreError):
    """No instance, task or definition with that id."""


class ConcurrentUpdateError(StoreError):
    """Another worker changed the instance first."""


class LeaseLostError(ConcurrentUpdateError):
    """The worker no longer holds the job: its lease expired and another worker took it, or the job is gone."""


class ReportError(BpmnRunnerError):
    """A report could not be produced."""


class BpmnError(Exception):
    """Raised by a handler to take a BPMN error path (an error boundary event or error event subprocess)."""

    def __init__(self, code: str, message: str = "", data: dict | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.data = dict(data or {})


class ProcessAssertionError(AssertionError):
    """A business assertion about a run failed (in a test); the message shows the path taken."""


class ScenarioFailed(Exception):
    """A scenario of a scenario file failed; `str()` is its explanation and `result` the scenario's result."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.explain())
        self.result = result

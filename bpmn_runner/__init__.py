"""bpmn-runner: run modeler-drawn BPMN 2.0 diagrams with a Python handler per service task."""

from .definitions import Definitions, load
from .engine import Engine, Instance, run
from .errors import BpmnError, BpmnRunnerError
from .models import RunResult, ServiceCall
from .registry import HandlerRegistry, handler

__all__ = [
    "BpmnError",
    "BpmnRunnerError",
    "Definitions",
    "Engine",
    "HandlerRegistry",
    "Instance",
    "RunResult",
    "ServiceCall",
    "handler",
    "load",
    "run",
]

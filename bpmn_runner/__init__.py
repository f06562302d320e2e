"""bpmn-runner: run modeler-drawn BPMN 2.0 diagrams with a Python handler per service task."""

from .errors import BpmnError, BpmnRunnerError
from .models import RunResult, ServiceCall
from .registry import HandlerRegistry, handler

__all__ = [
    "BpmnError",
    "BpmnRunnerError",
    "HandlerRegistry",
    "RunResult",
    "ServiceCall",
    "handler",
]

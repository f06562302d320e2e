"""bpmn-runner: run modeler-drawn BPMN 2.0 diagrams with a Python handler per service task."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decisions import decide, load_decisions
    from .definitions import Definitions, load
    from .durable import Runtime, open_runtime
    from .engine import Engine, run
    from .environment import Environment, build_environment
    from .instance import Instance
    from .errors import BpmnError, BpmnRunnerError
    from .models import ListenerCall, RunResult, ServiceCall
    from .registry import HandlerRegistry, handler

__all__ = [
    "BpmnError",
    "BpmnRunnerError",
    "Definitions",
    "Engine",
    "Environment",
    "HandlerRegistry",
    "Instance",
    "ListenerCall",
    "RunResult",
    "Runtime",
    "ServiceCall",
    "build_environment",
    "decide",
    "handler",
    "load",
    "load_decisions",
    "open_runtime",
    "run",
]

# Imported on first use, so that `import bpmn_runner` (and the pytest plugin) does not load SpiffWorkflow and lxml
# into every test session of a project that merely has the package installed.
_HOMES = {
    "BpmnError": ".errors", "BpmnRunnerError": ".errors", "Definitions": ".definitions", "load": ".definitions",
    "Engine": ".engine", "Instance": ".instance", "run": ".engine", "RunResult": ".models", "ServiceCall": ".models",
    "ListenerCall": ".models",
    "HandlerRegistry": ".registry", "handler": ".registry", "decide": ".decisions", "load_decisions": ".decisions",
    "Environment": ".environment", "build_environment": ".environment", "Runtime": ".durable",
    "open_runtime": ".durable",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bpmn_runner' has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

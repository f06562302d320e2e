"""The one set of fake handlers tests use: the pytest fixture `bpmn_handlers` and scenario files' `fakes`."""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from .errors import BpmnError

__all__ = ["Fake", "failing", "in_turn", "raising", "returning"]

Fake = Callable[[Any], Any]


def returning(values: Any) -> Fake:
    """Returns a fresh copy of `values` (the variables a handler sets) on every call; None returns nothing."""
    text = json.dumps(values) if values is not None else None
    return lambda call: json.loads(text) if text is not None else None


def raising(code: str, message: str = "", data: dict[str, Any] | None = None) -> Fake:
    """Raises the BPMN error `code` (for an error boundary event or event subprocess)."""
    def fake(call: Any) -> Any:
        raise BpmnError(code, message, data)
    return fake


def failing(message: str = "failed") -> Fake:
    """Fails like a broken system (not a BPMN error): the task fails, or a worker retries it."""
    def fake(call: Any) -> Any:
        raise RuntimeError(message)
    return fake


def in_turn(fakes: Sequence[Fake]) -> Fake:
    """Each call does what the next fake does; the last one repeats."""
    state = {"n": 0}

    def fake(call: Any) -> Any:
        chosen = fakes[min(state["n"], len(fakes) - 1)]
        state["n"] += 1
        return chosen(call)
    return fake

"""Name what failed when SpiffWorkflow lets a plain Python error escape a step, in words about the diagram."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from ..errors import ExecutionError


def failing_task(exc: BaseException) -> Any:
    """The innermost SpiffWorkflow task (`my_task`) on the traceback, or None."""
    found = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("my_task")
        if candidate is not None and hasattr(candidate, "task_spec"):
            found = candidate
        tb = tb.tb_next
    return found


def step_failure(exc: Exception, *, instance_id: str, fallback_element: str | None) -> ExecutionError:
    """An ExecutionError naming the element and what it needed; no Python exception text reaches the user."""
    task = failing_task(exc)
    spec = getattr(task, "task_spec", None)
    element_id = getattr(spec, "bpmn_id", None) or fallback_element
    if isinstance(spec, MultiInstanceTask) and isinstance(exc, TypeError) and spec.data_input is not None:
        name = getattr(spec.data_input, "bpmn_id", None) or getattr(spec.data_input, "name", "")
        message = (f"this multi-instance activity needs {name!r} as its input collection, but the process data "
                   f"has no list (or map) under that name; give it in the start data or set it before the activity")
    else:
        # The Python error stays the __cause__ (shown with --debug), never in the message.
        message = ("the engine could not run this element; check its data and settings in the modeler, and report "
                   "it to bpmn-runner (with --debug output) if the diagram is right")
    return ExecutionError(message, instance_id=instance_id, element_id=element_id)


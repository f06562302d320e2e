"""When a waiting timer is due: the one reading of SpiffWorkflow's timer state, for the in-memory engine and the
durable runtime alike."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


def timer_due(task: Any) -> datetime | None:
    """When a waiting timer task is due (UTC), from the time SpiffWorkflow computed when the timer started; the
    one reading of a due time, for the in-memory engine and the durable runtime alike."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # a cycle: the next firing
        value = value.get("next")
    if not value:
        return None
    try:
        due = TimerEventDefinition.get_datetime(str(value))
    except (ValueError, TypeError):
        try:
            due = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return due if due.tzinfo else due.replace(tzinfo=timezone.utc)

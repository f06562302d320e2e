"""Timers as Camunda evaluates them: expression results as ISO text, and Quartz cron cycles (via bpmn_runner.cron)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .. import cron
from ..errors import ExpressionError
from . import clock


def is_timer_expression(task: Any, expression: str) -> bool:
    """True when SpiffWorkflow evaluates this task's own timer expression."""
    definition = getattr(getattr(task, "task_spec", None), "event_definition", None)
    return isinstance(definition, TimerEventDefinition) and definition.expression == expression


def timer_text(value: Any) -> str:
    """An evaluated timer expression as the ISO 8601 (or cron) text SpiffWorkflow parses."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime) or isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"PT{seconds:g}S" if seconds >= 0 else f"-PT{-seconds:g}S"
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    text = str(value)
    if text.startswith(("P", "-P", "R")):
        return text
    raise ExpressionError(f"the timer expression gave {value!r}, which is not an ISO 8601 date, duration or cycle")


def _cycle_complete(self: CycleTimerEventDefinition, my_task: Any) -> bool:
    """SpiffWorkflow's cycle timer, plus cron cycles: each firing schedules the cron's next time."""
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        text = timer_text(my_task.workflow.script_engine.evaluate(my_task, self.expression))
        if cron.is_cron(text):
            event_value = {"cycles": -1, "next": cron.next_fire(text, clock.now()).isoformat(), "duration": 0,
                           "cron": text}
        else:
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
    ready = False
    if event_value["cycles"] != 0:
        next_event = datetime.fromisoformat(event_value["next"])
        if next_event < clock.now():
            if "cron" in event_value:
                event_value["next"] = cron.next_fire(event_value["cron"], next_event).isoformat()
            else:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
            event_value["cycles"] -= 1
            ready = True
    else:
        my_task.internal_data.pop("event_value", None)
        my_task.internal_data["event_fired"] = True
    my_task._set_internal_data(event_value=event_value)
    return ready


def fire_start_timers_once(session: Any, only: str | None = None) -> list[str]:
    """Timer start events of the top process fire now, once, as a foreground `run` starts one instance (or as a
    worker starts one repetition: `only` names its start event); returns a note per timer saying when the timer
    itself would start the next instance."""
    from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

    notes: list[str] = []
    workflow = session.workflow
    if only is not None:
        _open_start_events(workflow)
    for task in list(workflow.event_manager.tasks.values()):
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if task.workflow is not workflow or not isinstance(spec, StartEvent) or \
                not isinstance(definition, TimerEventDefinition) or only not in (None, spec.bpmn_id):
            continue
        text = timer_text(workflow.script_engine.evaluate(task, definition.expression))
        if isinstance(definition, CycleTimerEventDefinition):
            # A cycle start creates its outgoing path per firing: make it due now with this one firing left.
            due = (clock.now() - timedelta(seconds=1)).isoformat()
            task._set_internal_data(event_value={"cycles": 1, "next": due, "duration": 0})
            spec._update(task)  # fires: the path after the start event begins
        else:
            definition.catch(task)
        for _ in range(2):  # the timer is done (a cycle notes its last firing first): the start event is ready
            spec._update(task)
            if not task.has_state(TaskState.WAITING):
                break
        if task.has_state(TaskState.READY):
            task.run()  # so the path reads start first
        # done with: a later timer refresh would otherwise update the finished start event and make the path
        # after it ready again (a waiting service task would then queue its job twice)
        workflow.event_manager.remove_task(task)
        if only is None:
            notes.append(f"timer start event {spec.bpmn_id!r} ({text}): started this one instance now; "
                         f"{_next_start(definition, text)}")
    return notes


def _open_start_events(workflow: Any) -> None:
    """Run the process's internal start tasks, so its start events wait, before any of them runs: the timer start
    then completes first and the process's other start events (a none start too) are cancelled."""
    from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, StartEventSplit

    for _ in range(4):
        ready = [t for t in workflow.get_tasks(state=TaskState.READY)
                 if isinstance(t.task_spec, (BpmnStartTask, StartEventSplit))]
        if not ready:
            return
        for task in ready:
            task.run()


def _next_start(definition: TimerEventDefinition, text: str) -> str:
    if not isinstance(definition, CycleTimerEventDefinition):
        return "the timer does not repeat"
    try:
        if cron.is_cron(text):
            due = cron.next_fire(text, clock.now())
        else:
            cycles, due, _ = TimerEventDefinition.parse_iso_recurring_interval(text)
            if cycles == 0:
                return "the timer does not repeat"
    except Exception:  # an unreadable cycle fails when the timer runs; the note only informs
        return "the next start could not be computed"
    return (f"the next would start at {due.isoformat()} (run does not repeat timer starts; `deploy` or `start` "
            f"with a store, and a worker, start one instance per repetition)")


def start_schedule(kind: str, text: str, now: datetime) -> tuple[int, datetime | None, float]:
    """When a timer start event first starts an instance: (repetitions, -1 for unbounded; the first due time, None
    when it never fires; seconds between repetitions, 0 for a cron cycle, whose next time comes from the cron)."""
    token = clock.use_clock(lambda: now)
    try:
        if kind == "timeCycle":
            if cron.is_cron(text):
                return -1, cron.next_fire(text, now), 0.0
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
            return cycles, (start if cycles != 0 else None), duration.total_seconds()
        if kind == "timeDate":
            return 1, TimerEventDefinition.get_datetime(text), 0.0
        return 1, now + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text)),\
            0.0
    except ExpressionError:
        raise
    except Exception as exc:  # SpiffWorkflow's parsers raise plain exceptions
        raise ExpressionError(f"the timer start {kind} {text!r} cannot be read: {exc}") from None
    finally:
        clock.reset_clock(token)


def apply() -> None:
    CycleTimerEventDefinition.cycle_complete = _cycle_complete

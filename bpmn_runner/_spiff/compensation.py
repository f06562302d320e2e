"""Compensation at run time: a ledger of completed compensable activities and the compensations in progress.

BPMN 2.0 (section 10.7.5 "Compensation") and Camunda 7 undo completed activities last-completed-first, one after
the other; Camunda 8 starts every handler at once. Each completion of an activity (every multi-instance or loop
iteration too) is one ledger record holding the data it completed with; a handler runs once per record, with
that data. A completed sub-process is one record whose compensation is its compensation event sub-process, or
else the compensation of the activities inside it.

The ledger is plain JSON kept on the top workflow (saved with the instance state), so a compensation in progress
resumes after a save and restore or a crash; handlers are ordinary tasks, so a worker runs them as jobs.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..errors import ExecutionError
from ..models import HistoryEvent
from .compensation_specs import DONE

ATTRIBUTE = "runner_compensation"
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
TOP_SCOPE = ""
Listener = Callable[[str, str, Any, str], None]  # (element id, event, task, process id)


def empty_state() -> dict[str, Any]:
    return {"seq": 0, "records": [], "runs": {}, "hosts": {}}


def ledger_of(task: Any) -> "Ledger":
    return Ledger(task.workflow.top_workflow)


def scope_key(workflow: Any) -> str:
    return TOP_SCOPE if workflow.parent_task_id is None else str(workflow.parent_task_id)


def plan_of(spec: Any) -> dict[str, Any]:
    return getattr(spec, ATTRIBUTE, None) or {}


class Ledger:
    """A view of the compensation state of one top workflow."""

    def __init__(self, top: Any) -> None:
        self.top = top
        if not isinstance(getattr(top, ATTRIBUTE, None), dict):
            setattr(top, ATTRIBUTE, empty_state())
        self.state: dict[str, Any] = getattr(top, ATTRIBUTE)
        self.listener: Listener | None = getattr(top, "_runner_compensation_listener", None)

    # ----- recording ----------------------------------------------------------------------------------------

    def task_completed(self, task: Any) -> None:
        """Called for every completed task: handlers and runs move on, compensable completions are recorded."""
        task_id = str(task.id)
        for run_id, run in list(self.state["runs"].items()):
            if task_id in run["active"]:
                self._step_done(run_id, run, task)
                return
        spec = task.task_spec
        element_id = getattr(spec, "bpmn_id", None)
        if element_id is None or isinstance(spec, LoopTask):
            return  # a multi-instance or loop is recorded once per inner completion, not for the whole
        plan = plan_of(task.workflow.spec)
        compensable = element_id in plan.get("handlers", {})
        subscope = isinstance(spec, SubWorkflowTask) and element_id in plan.get("subscopes", [])
        if isinstance(spec, SubWorkflowTask) and not subscope:
            self._close_called_process(task, element_id, compensable)
        if not (compensable or subscope):
            return
        # A sub-process compensated through what it holds needs no copy of its data; its event sub-process does.
        keep_data = compensable or bool(plan_of(self._process_spec(spec.spec)).get("event_subprocess"))
        self.state["seq"] += 1
        self.state["records"].append({
            "seq": self.state["seq"], "scope": scope_key(task.workflow), "process": task.workflow.spec.name,
            "activity": element_id, "data": copy.deepcopy(dict(task.data)) if keep_data else {},
            "subscope": task_id if subscope else None, "subprocess": spec.spec if subscope else None,
        })

    def _close_called_process(self, task: Any, element_id: str, compensable: bool) -> None:
        """A call activity completed: what completed inside the process it called can no longer be compensated
        from outside (Camunda 8, "Compensation handler": the compensation handlers of a child process are not
        invoked; BPMN 10.7: compensation reaches the activities of the scope, and a called process is not an
        inner scope). Those records leave the ledger; without a handler of its own the call activity keeps a
        record that only says so when a compensation reaches it."""
        scopes, dropped = {str(task.id)}, []
        while scopes:
            scope = scopes.pop()
            inner = [r for r in self.state["records"] if r["scope"] == scope]
            dropped += [r["activity"] for r in inner]
            scopes.update(r["subscope"] for r in inner if r.get("subscope"))
            self.state["records"] = [r for r in self.state["records"] if r["scope"] != scope]
        if not dropped or compensable:
            return
        self.state["seq"] += 1
        self.state["records"].append({
            "seq": self.state["seq"], "scope": scope_key(task.workflow), "process": task.workflow.spec.name,
            "activity": element_id, "data": {}, "subscope": None, "subprocess": None,
            "unreached": sorted(set(dropped)), "called": getattr(task.task_spec, "spec", None)})

    # ----- starting -----------------------------------------------------------------------------------------

    def start(self, throw: Any, activity_ref: str | None, *, wait: bool, parallel: bool) -> bool | None:
        """Start compensating for a throw task: True when there is nothing to wait for, None while it runs."""
        steps = self._claim(self._target_scope(throw.workflow), activity_ref)
        if not steps:
            return True
        run_id = str(throw.id)
        run = {"throw": run_id if wait else None, "steps": steps, "next": 0, "active": {}, "parallel": parallel,
               "results": {}}
        self.state["runs"][run_id] = run
        workflow = throw.workflow
        for _ in range(len(steps) if parallel else 1):
            self._launch(run, workflow, throw)
        return None if wait else True

    def _target_scope(self, workflow: Any) -> str:
        """The scope a throw compensates: its own; an event sub-process's parent's; for a compensation event
        sub-process, the sub-process instance being compensated."""
        if workflow.parent_task_id is None:
            return TOP_SCOPE
        host = self.state["hosts"].get(str(workflow.parent_task_id))
        if host is not None:
            return host
        parent_task = self.top.get_task_from_id(workflow.parent_task_id)
        if parent_task is not None and plan_of(workflow.spec).get("triggered_by_event"):
            return scope_key(parent_task.workflow)
        return scope_key(workflow)

    def _claim(self, scope: str, activity_ref: str | None) -> list[dict[str, Any]]:
        """The steps that compensate `scope` (or one activity in it), last completed first; their records are
        taken off the ledger so nothing is compensated twice."""
        records = self.state["records"]
        chosen = [r for r in records if r["scope"] == scope and (activity_ref is None or r["activity"] == activity_ref)]
        chosen.sort(key=lambda r: r["seq"], reverse=True)
        taken = {r["seq"] for r in chosen}
        self.state["records"] = [r for r in records if r["seq"] not in taken]
        steps: list[dict[str, Any]] = []
        for record in chosen:
            if record.get("unreached"):
                self._say(f"compensation: call activity {record['activity']!r} has no compensation handler of its "
                          f"own; what completed in the process it called ({record.get('called')}: "
                          f"{', '.join(record['unreached'])}) is not compensated from outside, as in Camunda; "
                          f"attach a compensation boundary event with a handler to {record['activity']!r}")
                continue
            spec = self._process_spec(record["process"])
            plan = plan_of(spec)
            handler = plan.get("handlers", {}).get(record["activity"])
            step = {"activity": record["activity"], "process": record["process"], "data": record["data"],
                    "boundary": plan.get("boundaries", {}).get(record["activity"]), "host": None}
            if handler is not None:
                steps.append({**step, "spec": handler})
                continue
            if record["subscope"] is None:
                continue
            inner = plan_of(self._process_spec(record.get("subprocess") or record["activity"]))
            if inner.get("event_subprocess"):
                steps.append({**step, "spec": inner["event_subprocess"], "host": record["subscope"]})
            else:
                nested = self._claim(record["subscope"], None)
                steps.extend(nested)
                if nested:
                    steps.append({**step, "spec": None})  # marks the sub-process compensated after its inside
        return steps

    def _process_spec(self, name: str) -> Any:
        if name == self.top.spec.name:
            return self.top.spec
        return self.top.subprocess_specs.get(name)

    # ----- running ------------------------------------------------------------------------------------------

    def _launch(self, run: dict[str, Any], workflow: Any, throw: Any) -> None:
        """Start the run's next step as a task of the throwing workflow, with the data its activity completed with."""
        while run["next"] < len(run["steps"]):
            index = run["next"]
            run["next"] += 1
            step = run["steps"][index]
            if step["spec"] is None:  # a sub-process, compensated once what it holds is (at the end when parallel)
                if run["parallel"]:
                    run.setdefault("marks", []).append(index)
                else:
                    self._notify(step["activity"], "compensated", None, step["process"])
                continue
            spec = workflow.spec.task_specs.get(step["spec"])
            if spec is None:
                raise ExecutionError(f"compensation handler {step['spec']!r} of {step['activity']!r} cannot run from "
                                     f"{getattr(throw.task_spec, 'bpmn_id', '')!r}", element_id=step["activity"])
            if step["boundary"]:
                self._notify(step["boundary"], "completed", None, step["process"])
            task = Task(workflow, spec, parent=workflow.task_tree, state=TaskState.FUTURE)
            task.data = copy.deepcopy(step["data"])
            run["active"][str(task.id)] = index
            if isinstance(spec, SubWorkflowTask):
                if step["host"] is not None:
                    self.state["hosts"][str(task.id)] = step["host"]
                spec.start_workflow(task)
                task._set_state(TaskState.STARTED)
            else:
                task._set_state(TaskState.READY)  # not _ready(): a handler has no incoming flow to test
            return

    def _step_done(self, run_id: str, run: dict[str, Any], task: Any) -> None:
        index = run["active"].pop(str(task.id))
        self.state["hosts"].pop(str(task.id), None)
        step = run["steps"][index]
        changes = {k: v for k, v in task.data.items() if step["data"].get(k, _MISSING) != v}
        run["results"].update(changes)
        if run["throw"] is None and changes:
            self._apply_results(task, changes)
        self._notify(step["activity"], "compensated", task, step["process"])
        workflow = task.workflow
        if not run["parallel"]:
            self._launch(run, workflow, task)
        if run["active"]:
            return
        while run["next"] < len(run["steps"]) and run["steps"][run["next"]]["spec"] is None:
            self._launch(run, workflow, task)  # only trailing "sub-process compensated" marks are left
        if run["active"] or run["next"] < len(run["steps"]):
            return
        del self.state["runs"][run_id]
        for mark in run.get("marks", []):
            self._notify(run["steps"][mark]["activity"], "compensated", None, run["steps"][mark]["process"])
        if run["throw"] is not None:
            throw = self.top.get_task_from_id(UUID(run["throw"]))
            if throw is not None and throw.state == TaskState.STARTED:
                throw.data.update(run["results"])
                throw.internal_data[DONE] = True
                throw._set_state(TaskState.READY)

    def _apply_results(self, handler: Any, changes: dict[str, Any]) -> None:
        """A handler of a throw that did not wait (waitForCompletion="false") finishes after the process moved
        on: what it changed goes to the data where the process is now, as a waited-for handler's results go to
        its throw event: every live task of its workflow, and the workflow's data once it has ended."""
        from . import frontier  # frontier imports the specs this module's specs build on

        running = handler_task_ids(self.top)
        workflow = handler.workflow
        for task in frontier.tasks_in_state(workflow, LIVE):
            if task is not handler and task.state & LIVE and str(task.id) not in running:
                task.data.update(copy.deepcopy(changes))
        if workflow.completed:
            workflow.data.update(copy.deepcopy(changes))

    def _say(self, note: str) -> None:
        say = getattr(self.top, "_runner_compensation_note", None)
        if say is not None:
            say(note)

    def _notify(self, element_id: str, event: str, task: Any, process: str) -> None:
        if self.listener is not None:
            self.listener(element_id, event, task, process)


_MISSING = object()


def handler_task_ids(workflow: Any) -> set[str]:
    """Ids of the compensation handlers running now (they hold the data of the past, not of the instance)."""
    state = getattr(workflow, ATTRIBUTE, None) or {}
    return {task_id for run in state.get("runs", {}).values() for task_id in run["active"]}


def state_for_save(workflow: Any) -> dict[str, Any] | None:
    """The ledger to save with the instance, or None when there is nothing left to compensate."""
    state = getattr(workflow, ATTRIBUTE, None)
    if not isinstance(state, dict) or state == empty_state() or getattr(workflow, "completed", False):
        return None
    return copy.deepcopy(state)


def restore_state(workflow: Any, state: dict[str, Any] | None) -> None:
    if state:
        setattr(workflow, ATTRIBUTE, copy.deepcopy(state))


def _may_record(top: Any, task: Any) -> bool:
    """False when the ledger has nothing to do for this completion: no compensation runs, and nothing in the
    task's process is compensable (most processes: the ledger is then not touched at all)."""
    state = getattr(top, ATTRIBUTE, None)
    if state is not None and state["runs"]:
        return True
    spec = task.workflow.spec
    known = spec.__dict__.get("_runner_compensable")
    if known is None:  # the plan is fixed once the spec is parsed
        plan = plan_of(spec)
        known = spec._runner_compensable = bool(plan.get("handlers") or plan.get("subscopes"))
    return known


class CompensationRecorder:
    """Mixed into Session before HistoryRecorder: feeds completions to the ledger and records `compensated`."""

    workflow: Any
    history: list[Any]

    def _init_compensation(self) -> None:
        self.workflow._runner_compensation_listener = self._compensation_event
        self.workflow._runner_compensation_note = self._compensation_note

    def _compensation_note(self, note: str) -> None:
        notes = getattr(self, "notes", None)
        if notes is not None and note not in notes:
            notes.append(note)

    def _on_state(self, task: Any, old: int, new: int) -> None:
        super()._on_state(task, old, new)  # type: ignore[misc]
        if new == TaskState.COMPLETED and _may_record(self.workflow, task):
            Ledger(self.workflow).task_completed(task)

    def _compensation_event(self, element_id: str, event: str, task: Any, process: str) -> None:
        spec = Ledger(self.workflow)._process_spec(process)
        element = spec.task_specs.get(element_id) if spec is not None else None
        self.history.append(HistoryEvent(element_id=element_id, event=event, at=time.time(),
                                         element_type=type(element).__name__ if element is not None else
                                         "BoundaryEvent", name=getattr(element, "bpmn_name", "") or "",
                                         process_id=process))

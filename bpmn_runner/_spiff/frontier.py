"""A BpmnWorkflow that steps over its live tasks only and prunes the finished part of its task tree."""

from __future__ import annotations

import os
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import conditional

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
UNFINISHED = TaskState.NOT_FINISHED_MASK
FINISHED = TaskState.FINISHED_MASK
PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE  # what SpiffWorkflow foresees; can be foreseen again
PRUNE_FLOOR = 64  # never prune fewer finished tasks than this: small processes pay nothing
MAX_DEFER = 16  # rounds a prune may wait for fired joins to run
ENABLED = os.environ.get("BPMN_RUNNER_FLAT", "1") != "0"  # BPMN_RUNNER_FLAT=0: stock BpmnWorkflow, to compare


class _Frontier:
    """Shared by the top workflow and its subprocesses: an index of its live (READY/WAITING/STARTED) tasks and one
    of its finished tasks, so that pruning and saving never walk the tasks SpiffWorkflow merely predicts."""

    tasks: dict[Any, Task]
    task_tree: Task
    completed: bool
    _live: dict[Any, Task] | None = None  # None after deserializing: rebuilt from `tasks` on first use
    _done: dict[Any, Task] | None = None  # the same for finished tasks

    def _live_tasks(self) -> dict[Any, Task]:
        if self._live is None:
            self._live = {t.id: t for t in self.tasks.values() if t._state & LIVE}
        return self._live

    def _done_tasks(self) -> dict[Any, Task]:
        if self._done is None:
            self._done = {t.id: t for t in self.tasks.values() if t._state & FINISHED}
        return self._done

    def update_waiting_tasks(self) -> None:
        for task in _tree_order(self, [t for t in self._live_tasks().values() if t._state == TaskState.WAITING]):
            if task._state == TaskState.WAITING and task.id in self.tasks:
                task.task_spec._update(task)

    def is_completed(self) -> bool:
        if not self.completed and not self._live_tasks():
            self.completed = not any(t._state & UNFINISHED for t in self.tasks.values())
        return self.completed

    def _remove_task(self, task_id: Any) -> None:
        if self._live is not None:
            self._live.pop(task_id, None)
        if self._done is not None:
            self._done.pop(task_id, None)
        super()._remove_task(task_id)  # type: ignore[misc]

    def frontier_tasks(self) -> list[Task] | None:
        """The tasks a saved state needs, in the order they were made: every finished and live task, and the predicted
        tasks right below them (restoring predicts the rest again, as SpiffWorkflow did when it built the tree).
        None when a finished or live task hangs below a predicted one, which SpiffWorkflow never does: save all."""
        tasks = self.tasks
        for task in (*self._done_tasks().values(), *self._live_tasks().values()):
            parent = tasks.get(task._parent)
            if parent is not None and parent._state & PREDICTED:
                return None
        out: list[Task] = []
        stack = [self.task_tree]
        while stack:
            task = stack.pop()
            out.append(task)
            if not task._state & PREDICTED:
                stack.extend(tasks[c] for c in reversed(task._children) if c in tasks)
        out.sort(key=_created)  # the order they were made in, as SpiffWorkflow saves them (parents first)
        return out


class FlatSubWorkflow(_Frontier, BpmnSubWorkflow):
    """A subprocess of a FlatWorkflow."""

    def __init__(self, spec: Any, parent_task_id: Any, top_workflow: Any, **kwargs: Any) -> None:
        self._live = None if kwargs.get("deserializing") else {}
        self._done = None if kwargs.get("deserializing") else {}
        super().__init__(spec, parent_task_id, top_workflow, **kwargs)


class FlatWorkflow(_Frontier, BpmnWorkflow):
    """BpmnWorkflow with a per-step cost independent of what already ran, and a bounded task tree."""

    def __init__(self, spec: Any, subprocess_specs: Any = None, script_engine: Any = None, **kwargs: Any) -> None:
        self._live = None if kwargs.get("deserializing") else {}
        self._done = None if kwargs.get("deserializing") else {}
        self._track = self._track_task  # what patches.py calls on every state change (a bound method made once)
        self.prune_enabled = True
        self._prune_at = PRUNE_FLOOR
        self._deferred = 0
        super().__init__(spec, subprocess_specs, script_engine=script_engine, **kwargs)

    def _track_task(self, task: Task) -> None:
        """Called by patches.py whenever a task of this workflow or of its subprocesses is created or changes state."""
        workflow = task.workflow
        live = getattr(workflow, "_live", None)
        if live is not None:
            if task._state & LIVE and task.id in workflow.tasks:  # a removed task may still change state
                live[task.id] = task
            else:
                live.pop(task.id, None)
        done = getattr(workflow, "_done", None)
        if done is not None:
            if task._state & FINISHED and task.id in workflow.tasks:  # a removed task may still be cancelled
                done[task.id] = task
            else:
                done.pop(task.id, None)

    def create_subprocess(self, my_task: Task, spec_name: str) -> FlatSubWorkflow:
        subprocess = FlatSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess

    def do_engine_steps(self, will_complete_task: Any = None, did_complete_task: Any = None) -> None:
        while self._do_engine_steps(will_complete_task, did_complete_task):
            self.maybe_prune()  # between rounds no task is half-run
        self.maybe_prune()
        self.refresh_timers()

    def _do_engine_steps(self, will_complete_task: Any = None, did_complete_task: Any = None) -> bool:
        """BpmnWorkflow._do_engine_steps over the live index instead of a walk from the root."""
        if not self.subprocesses:  # the common case: nothing to step below this workflow first
            count = self._update_workflow(self, will_complete_task, did_complete_task)
            return count > 0 or bool(self.subprocesses and self.get_active_subprocesses())
        active = self.get_active_subprocesses()
        for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
            while self._update_workflow(subprocess, will_complete_task, did_complete_task) > 0:
                pass
            if subprocess.parent_task_id is not None:
                task = self.get_task_from_id(subprocess.parent_task_id)
                task.task_spec._update(task)
        count = self._update_workflow(self, will_complete_task, did_complete_task)
        return count > 0 or len(self.get_active_subprocesses()) > len(active)

    def _update_workflow(self, wf: Any, will_complete_task: Any, did_complete_task: Any) -> int:
        """Run the tasks of `wf` that are READY now, in tree order; returns how many ran."""
        count = 0
        ready = [t for t in wf._live_tasks().values() if t._state == TaskState.READY and not t.task_spec.manual]
        for task in _tree_order(wf, ready):
            if task._state != TaskState.READY or task.id not in wf.tasks:
                continue
            if will_complete_task is not None:
                will_complete_task(task)
            task.run()
            count += 1
            if self.event_manager.tasks:  # a conditional event may have become true (Camunda: at once)
                conditional.fire_now(self)
            if did_complete_task is not None:
                did_complete_task(task)
        return count

    # ----- pruning ------------------------------------------------------------------------------------------

    def size(self) -> int:
        return len(self.tasks) + sum(len(sp.tasks) for sp in self.subprocesses.values())

    def finished_count(self) -> int:
        count = len(self._done_tasks())
        if self.subprocesses:
            count += sum(len(sp._done_tasks()) for sp in self.subprocesses.values())
        return count

    def maybe_prune(self) -> int:
        """Prune once the finished tasks have doubled since the last prune: its cost (the finished tasks and the
        frontier, never the predicted rest) is spread flat over the steps."""
        if not self.prune_enabled or self.finished_count() <= self._prune_at:
            return 0
        if self._deferred < MAX_DEFER and any(_fired_joins(wf) for wf in [self, *self.subprocesses.values()]):
            self._deferred += 1  # a fired join merges its cancelled siblings' data when it runs, next round
            return 0
        self._deferred = 0
        dropped = self.prune()
        self._prune_at = max(PRUNE_FLOOR, 2 * self.finished_count())
        return dropped

    def prune_for_save(self) -> int:
        """Prune before the state is saved, so that it holds what the frontier needs and no finished tail. Its cost
        is the finished tasks since the last prune; saving happens between engine rounds, a safe point."""
        if not self.prune_enabled or any(_fired_joins(wf) for wf in [self, *self.subprocesses.values()]):
            return 0
        dropped = self.prune()
        self._prune_at = max(PRUNE_FLOOR, 2 * self.finished_count())
        return dropped

    def prune(self) -> int:
        """Drop finished tasks that nothing can reach any more; returns how many were dropped."""
        dropped = self._prune_tree(self)
        for key in list(self.subprocesses):
            subprocess = self.subprocesses.get(key)
            if subprocess is not None:
                dropped += self._prune_tree(subprocess)
        return dropped

    def _prune_tree(self, wf: Any) -> int:
        tasks = wf.tasks
        root = wf.task_tree
        done = wf._done_tasks()
        keep = {root.id}
        if wf.last_task is not None:
            keep.add(wf.last_task.id)
        # Only finished tasks are dropped. What keeps one: being the parent or grandparent of an unfinished task
        # (its children are kept with it). An unfinished task below a predicted one adds nothing (its parent and
        # grandparent are predicted, or are the parent of a predicted task), so the predicted tasks right below a
        # finished or live task are the only predicted ones to look at.
        unfinished = list(wf._live_tasks().values())
        for task in (*done.values(), *unfinished):
            for child_id in task._children:
                child = tasks.get(child_id)
                if child is not None and child._state & PREDICTED:
                    unfinished.append(child)
        for task in unfinished:
            keep.add(task.id)
            keep.update(task._children)  # finished multi-instance children are looked up by id
            parent = tasks.get(task._parent)
            if parent is not None:
                keep.add(parent.id)
                if parent._parent is not None:
                    keep.add(parent._parent)  # boundary and start-event joins look up their split
        for join in _fired_joins(wf):
            # It merges the data of the finished instances that are not its ancestors (the ones it cancelled).
            ancestors = set()
            node = join
            while node is not None:
                ancestors.add(node.id)
                node = tasks.get(node._parent)
            for task in done.values():
                if task.task_spec is join.task_spec and task.id not in ancestors:
                    keep.update((task.id, task._parent))
        drop = [t for t in done.values() if t.id not in keep]
        if not drop:
            return 0
        if self.subprocesses:
            for task in drop:
                if task.id in self.subprocesses:
                    self.delete_subprocess(task)
        # Contract the tree onto the kept tasks: each hangs under its nearest kept ancestor, in depth-first order,
        # so the order Spiff walks tasks in and "is an ancestor of" between kept tasks stay as they were. Below a
        # predicted task everything is predicted and kept: the walk does not go there. (Ids are hashed in Python:
        # the walk carries the kept ancestor and its new child list instead of looking them up.)
        contracted: list[tuple[Task, list[Any]]] = []
        stack: list[tuple[Task, Any, list[Any] | None]] = [(root, None, None)]
        get = tasks.get
        while stack:
            task, above, kids = stack.pop()
            if not task._state & FINISHED or task.id in keep:
                if kids is not None:
                    task._parent = above
                    kids.append(task.id)
                if task._state & PREDICTED:
                    continue
                above, kids = task.id, []
                contracted.append((task, kids))
            for child_id in reversed(task._children):
                child = get(child_id)
                if child is not None:
                    stack.append((child, above, kids))
        events = self.event_manager.tasks
        for task in drop:
            task_id = task.id
            del tasks[task_id]
            del done[task_id]
            if events:
                events.pop(task_id, None)
        for task, kids in contracted:
            task._children = kids
        return len(drop)


def _tree_order(wf: Any, tasks: list[Task]) -> list[Task]:
    """Tasks in the order Spiff's depth-first walk from the root meets them (rarely more than a few)."""
    if len(tasks) < 2:
        return tasks

    def position(task: Task) -> list[int]:
        path = []
        parent = wf.tasks.get(task._parent)
        while parent is not None:
            children = parent._children  # a pruned parent may no longer list a child that is still live: last
            path.append(children.index(task.id) if task.id in children else len(children))
            task, parent = parent, wf.tasks.get(parent._parent)
        path.reverse()
        return path
    return sorted(tasks, key=position)


def _fired_joins(wf: Any) -> list[Task]:
    return [t for t in wf._live_tasks().values()
            if t._state == TaskState.READY and isinstance(t.task_spec, UnstructuredJoin)]


def tasks_in_state(wf: Any, state: int) -> list[Task]:
    """A superset of the tasks of `wf` in `state`, in the order SpiffWorkflow lists them: from the frontier's
    indexes when they cover `state` (no walk over the predicted tasks), else all of them."""
    if not isinstance(wf, _Frontier):
        return list(wf.tasks.values())
    if not state & ~LIVE:
        found = list(wf._live_tasks().values())
    elif not state & ~(LIVE | TaskState.ERROR):
        found = [*wf._live_tasks().values(), *(t for t in wf._done_tasks().values() if t._state & state)]
    elif not state & ~FINISHED:
        found = list(wf._done_tasks().values())
    else:
        return list(wf.tasks.values())
    return sorted(found, key=_created) if len(found) > 1 else found


def _created(task: Task) -> int:
    return getattr(task, "_seq", 0)


def workflow_class() -> type:
    return FlatWorkflow if ENABLED else BpmnWorkflow

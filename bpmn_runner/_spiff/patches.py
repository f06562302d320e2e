"""Process-wide fixes to SpiffWorkflow 3.2 traps, applied once on import of `bpmn_runner._spiff`."""

from __future__ import annotations

import itertools
import logging
import re
import sys
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.node_parser import NodeParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import _BpmnCondition
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import async_points, clock, message_refs, simulated_specs
from .task_ids import new_task_id

_applied = False


def _is_descendant_of(self: Task, parent: Task) -> bool:
    node = self.parent
    while node is not None:
        if node == parent:
            return True
        node = node.parent
    return False


def _find_ancestor(self: Task, spec_name: str) -> Task | None:
    node = self.parent
    while node is not None:
        if node.task_spec.name == spec_name:
            return node
        node = node.parent
    return None


def apply() -> None:
    """Lift the silent depth-1000 limit of task iterators and make ancestor walks iterative."""
    global _applied
    if _applied:
        return
    # Past depth 1000 SpiffWorkflow stops seeing READY tasks and reports the workflow completed.
    TaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, None)
    BpmnTaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, False, None)
    Task.is_descendant_of = _is_descendant_of
    Task.find_ancestor = _find_ancestor
    # With its loggers' level unset (NOTSET, below INFO), SpiffWorkflow lists every task of the workflow into the
    # log record of each workflow event, whether or not anything logs it: a walk of the whole tree twice per
    # instance. Unset levels become WARNING; a level someone set stays.
    for name in ("spiff.workflow", "spiff.task"):
        spiff_logger = logging.getLogger(name)
        if spiff_logger.level == logging.NOTSET:
            spiff_logger.setLevel(logging.WARNING)
    apply_parser_patches()
    simulated_specs.apply()
    async_points.apply()
    _applied = True


def _handles_multiple_outgoing(self: Any) -> bool:
    """An activity with several outgoing flows splits in parallel, as in Camunda (an implicit split)."""
    for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id):
        if flow.xpath("./bpmn:conditionExpression", namespaces=self.nsmap):
            raise ValidationException(
                "conditional sequence flows leaving a task are not supported; put a gateway after the task",
                node=self.node, file_name=self.filename)
    return True


def _set_state(self: Task, value: int) -> None:
    """SpiffWorkflow's `_set_state` without its per-call log record, plus our state listener."""
    old = self._state
    if value != old:
        self.last_state_change = clock.timestamp()
        self._state = value
        top = self.workflow.top_workflow
        hooks = top.__dict__
        track = hooks.get("_track")  # frontier.FlatWorkflow's live index; before the listener may raise
        if track is not None:
            track(self)
        listener = hooks.get("_runner_listener")
        if listener is not None:
            listener(self, old, value)


_task_init = Task.__init__
_SEQUENCE = itertools.count()
_DEFINITE = TaskState.DEFINITE_MASK
_TRACKED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.FINISHED_MASK


def _init_task(self: Task, workflow: Any, task_spec: Any, parent: Task | None = None, state: int = TaskState.MAYBE,
               id: Any = None) -> None:
    """Task.__init__, numbering tasks in the order they are made (the order the frontier's indexes list them in),
    giving new tasks ids that hash fast, and telling those indexes about a task created already live or finished."""
    _task_init(self, workflow, task_spec, parent, state, id if id is not None else new_task_id())
    self._seq = next(_SEQUENCE)
    if state & _TRACKED:
        track = getattr(getattr(workflow, "top_workflow", None), "_track", None)
        if track is not None:
            track(self)


def _predict(self: Any, my_task: Task, seen: Any = None, looked_ahead: int = 0,
             mask: int = TaskState.PREDICTED_MASK) -> None:
    """TaskSpec._predict without recursion: a long chain is predicted in one loop, not one stack frame per task."""
    tasks = my_task.workflow.tasks
    stack = [(my_task, looked_ahead, True)]
    while stack:
        task, ahead, first = stack.pop()
        if not task._state & mask:
            if not first:
                continue
        else:
            task.task_spec._predict_hook(task)
        if task._state & _DEFINITE or ahead + 1 < task.task_spec.lookahead:
            for child_id in reversed(task._children):
                child = tasks.get(child_id)
                if child is not None:
                    stack.append((child, ahead + 1, False))


_catching_run_hook = CatchingEvent._run_hook


def _catching_event_run_hook(self: Any, my_task: Task) -> Any:
    """CatchingEvent._run_hook without its walk of every task below this one when the event has nothing to reset
    (a none event: every start event of a process started by hand); the walk was a twentieth of a short run."""
    definition = self.event_definition
    if type(definition).reset is not NoneEventDefinition.reset:
        return _catching_run_hook(self, my_task)
    definition.update_task_data(my_task)
    return super(CatchingEvent, self)._run_hook(my_task)


class StandardParallelMultiInstanceTask(ParallelMultiInstanceTask):
    """BPMN-standard multi-instance (loopDataInputRef) in Camunda-dialect files."""


class StandardSequentialMultiInstanceTask(SequentialMultiInstanceTask):
    """BPMN-standard sequential multi-instance in Camunda-dialect files."""


_camunda_add_multiinstance = CamundaTaskParser._add_multiinstance_task


def _add_multiinstance_task(self: Any, loop_characteristics: Any) -> None:
    """Camunda files may use `camunda:collection` or the standard loopDataInputRef; SpiffWorkflow reads only the first."""
    standard = loop_characteristics.xpath("./bpmn:loopDataInputRef", namespaces=self.nsmap)
    if standard and self.attribute("collection", "camunda", loop_characteristics) is None:
        return TaskParser._add_multiinstance_task(self, loop_characteristics)
    return _camunda_add_multiinstance(self, loop_characteristics)


def _camunda_message_throw(self: Any, my_task: Task) -> None:
    """A Camunda message throw without a payload expression sends no payload (SpiffWorkflow evaluates None)."""
    payload = None
    if self.expression:
        payload = {"payload": my_task.workflow.script_engine.evaluate(my_task, self.expression),
                   "result_var": self.result_var}
    my_task.workflow.top_workflow.catch(BpmnEvent(self, payload=payload))


def _camunda_message_update_internal(self: Any, my_task: Task, event: Any) -> None:
    """A message from outside (a plain dict) is merged into the variables, as Camunda's correlate() does."""
    payload = event.payload
    if isinstance(payload, dict) and "payload" in payload and "result_var" in payload:
        return _camunda_update_internal(self, my_task, event)
    my_task.internal_data[self.name] = {"merge": payload if isinstance(payload, dict) else {}}


def _camunda_message_update_task_data(self: Any, my_task: Task) -> None:
    event_data = my_task.internal_data.get(self.name)
    if isinstance(event_data, dict) and "merge" in event_data:
        my_task.data.update(event_data["merge"])
    elif event_data is not None:
        _camunda_update_task_data(self, my_task)


_camunda_update_internal = CamundaMessageEventDefinition.update_internal_data
_camunda_update_task_data = CamundaMessageEventDefinition.update_task_data


def _raise_validation_exception(self: Any, message: str, node: Any = None) -> None:
    """SpiffWorkflow's own event parsers pass `node=`, which its NodeParser does not accept (a TypeError)."""
    raise ValidationException(message, node=node if node is not None else self.node, file_name=self.filename)


def _condition_matches(self: Any, task: Task) -> Any:
    """A sequence-flow condition goes through the engine's condition rule (JUEL must give a Boolean)."""
    engine = task.workflow.script_engine
    evaluate = getattr(engine, "evaluate_condition", engine.evaluate)
    return evaluate(task, self.args[0], external_context=task.workflow.data_objects)


_COMPILED: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
_LEAF_EMPTY: dict[str, bool] = {}  # xpath -> whether it selects nothing on an element without children
_ELEMENT_STEP = re.compile(r"^\.//?[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*(?:[/\[]|$)")


def _node_xpath(self: Any, node: Any, xpath: str) -> Any:
    """NodeParser._xpath with the expression compiled once (it compiled it on every call: a fifth of a parse), and
    no evaluation at all for a path into the children of an element that has none (most tasks)."""
    leaf_empty = _LEAF_EMPTY.get(xpath)
    if leaf_empty is None:
        # one location path whose first step selects child or descendant elements: empty on a leaf
        leaf_empty = _LEAF_EMPTY[xpath] = bool(_ELEMENT_STEP.match(xpath)) and "|" not in xpath \
            if len(_LEAF_EMPTY) < 2048 else False
    if leaf_empty and len(node) == 0:
        return []
    key = (xpath, tuple(self.nsmap.items()))
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 2048:  # some expressions embed an element id: keep the cache bounded
            return node.xpath(xpath, namespaces=self.nsmap)
        compiled = _COMPILED[key] = etree.XPath(xpath, namespaces=self.nsmap)
    return compiled(node)


def apply_parser_patches() -> None:
    message_refs.apply()
    NodeParser._xpath = _node_xpath
    from . import conditional, multi_instance, scopes, timers
    conditional.apply()
    timers.apply()
    scopes.apply()
    multi_instance.apply()
    _BpmnCondition._matches = _condition_matches
    NodeParser.raise_validation_exception = _raise_validation_exception
    CamundaMessageEventDefinition.throw = _camunda_message_throw
    CamundaMessageEventDefinition.update_internal_data = _camunda_message_update_internal
    CamundaMessageEventDefinition.update_task_data = _camunda_message_update_task_data
    CamundaTaskParser._add_multiinstance_task = _add_multiinstance_task
    CamundaTaskParser.PARALLEL_MI_CLASS = StandardParallelMultiInstanceTask
    CamundaTaskParser.SEQUENTIAL_MI_CLASS = StandardSequentialMultiInstanceTask
    TaskParser.handles_multiple_outgoing = _handles_multiple_outgoing
    Task._set_state = _set_state
    Task.__init__ = _init_task
    TaskSpec._predict = _predict
    CatchingEvent._run_hook = _catching_event_run_hook

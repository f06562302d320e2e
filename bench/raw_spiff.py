"""Raw SpiffWorkflow 3.2 side of the benchmark: stock parser and BpmnWorkflow, service tasks call plain functions.

Imports nothing from bpmn_runner (whose import patches SpiffWorkflow). `lift()` applies the minimum a user needs for
long processes to finish at all: no depth-1000 iterator limit and a deep recursion limit (the caller runs the
workload in a thread with a large stack).
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskIterator, TaskState

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {}


class HandlerTask(ServiceTask):
    """A service task that calls HANDLERS[topic](task.data) and completes: the raw equivalent of a handler."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str = "", **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _run_hook(self, task: Any) -> bool:
        HANDLERS[self.topic](task.data)
        return True


class HandlerTaskParser(TaskParser):
    def create_task(self) -> HandlerTask:
        return HandlerTask(self.spec, self.bpmn_id, topic=self.node.get(f"{{{CAMUNDA_NS}}}topic", ""),
                           **self.bpmn_attributes)


class HandlerTaskConverter(BpmnTaskSpecConverter):
    def to_dict(self, spec: HandlerTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct


class Parser(BpmnParser):
    OVERRIDE_PARSER_CLASSES = {full_tag("serviceTask"): (HandlerTaskParser, HandlerTask)}


def lift() -> None:
    TaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, None)
    BpmnTaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, False, None)
    sys.setrecursionlimit(1_000_000)


def parse(path: str, process_id: str) -> Any:
    parser = Parser()
    parser.add_bpmn_xml(etree.parse(path), filename=path)
    return parser.get_spec(process_id)


def run(spec: Any, data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec)
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    return workflow


def reached(workflow: BpmnWorkflow, end_id: str) -> bool:
    """The end event COMPLETED (is_completed() alone says True past the depth limit)."""
    return any(t.task_spec.name == end_id and t.state == TaskState.COMPLETED for t in workflow.tasks.values())


def unfinished(workflow: BpmnWorkflow) -> int:
    return sum(1 for t in workflow.tasks.values() if t.state & TaskState.NOT_FINISHED_MASK)


def state_bytes(workflow: BpmnWorkflow) -> int:
    """Serialized state without the spec (bpmn-runner stores the spec once per definition, not per instance)."""
    config = dict(DEFAULT_CONFIG)
    config[HandlerTask] = HandlerTaskConverter
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    dct = serializer.to_dict(workflow)
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    return len(json.dumps(dct, cls=serializer._encoder_cls))

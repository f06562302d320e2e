"""Camunda 7 method expressions on beans outside service tasks (`camunda:assignee="#{service.findRequester(id)}"`,
conditions, mappings): the handler named "bean.method" is called in-process and its return value used."""

from __future__ import annotations

from typing import Any

from ..models import Binding, ServiceCall
from .business_keys import business_key


def bean_resolver(task: Any) -> Any:
    """Camunda 7 calls `${bean.method(args)}` on a bean; bpmn-runner calls the handler named "bean.method" with a
    ServiceCall whose `args` are the arguments, in-process (as a listener runs), and uses what it returns."""
    engine = task.workflow.top_workflow.script_engine
    invoker = getattr(engine, "invoker", None)
    if invoker is None:
        return None
    spec = task.task_spec
    element_id = getattr(spec, "bpmn_id", None) or spec.name

    def resolve(name: str, args: list[Any]) -> tuple[bool, Any]:
        call = ServiceCall(params={}, data=dict(task.data), headers={}, instance_id=invoker.instance_id,
                           element_id=element_id, idempotency_key=f"{invoker.instance_id}:{element_id}:{task.id}",
                           topic=name, element_name=getattr(spec, "bpmn_name", "") or "",
                           process_id=task.workflow.spec.name, args=list(args),
                           business_key=business_key(task.workflow))
        return True, invoker.call_handler(Binding(name, "camunda7", "listener"), call, str(task.id))
    return resolve

"""Camunda 7's message correlation by process variables (`correlationKeys` of `POST /message`): the message goes
to the one waiting instance whose variables equal every key, or starts a process at a message start event; none
or several matching is refused, as Camunda's MismatchingMessageCorrelationException."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..instance import Instance
from ..errors import InvalidOperationError

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime


def correlate_by_variables(runtime: "Runtime", name: str, keys: dict[str, Any], *, business_key: str | None = None,
                           payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Deliver message `name` to the instance waiting for it whose process variables match `keys` (and whose
    business key is `business_key`, when given); with none waiting, start a process with a message start event
    of that name (the keys then restrict nothing, as in Camunda 7)."""
    payload = dict(payload or {})
    matched: dict[str, str] = {}
    for wait in runtime.store.find_waits("message", name):
        if wait.instance_id in matched or business_key is not None and wait.business_key != business_key:
            continue
        data = runtime.store.get_instance(wait.instance_id).data
        if all(k in data and data[k] == v for k, v in keys.items()):
            matched[wait.instance_id] = wait.task_id
    if len(matched) > 1:
        raise InvalidOperationError(f"{len(matched)} executions match message {name!r} with correlation keys "
                                    f"{keys}: {', '.join(matched)}")
    if matched:
        [(instance_id, task_id)] = matched.items()

        def deliver(instance: Instance) -> None:
            here = [w for w in instance.event_waits()
                    if w["kind"] == "message" and w["event_name"] == name and w["task_id"] == task_id]
            if not here or not instance.send_message(name, payload, here[0]["correlations"] or None):
                raise InvalidOperationError(f"instance {instance_id} no longer waits for message {name!r}")
        out = runtime.steps.step(instance_id, deliver)
        return {"outcome": "delivered", "instance_id": out["instance_id"], "status": out["status"]}
    started = runtime.correlation.start_by_event("message", name, payload, business_key, first_only=True)
    if started:
        return {"outcome": "started", "instance_id": started[0]["instance_id"], "status": started[0]["status"]}
    raise InvalidOperationError(f"no process definition or execution matches message {name!r} with correlation "
                                f"keys {keys}")

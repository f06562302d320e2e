"""Job mode: service tasks become jobs that a worker completes later, across saves and reloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpmn_runner import BpmnError, Engine, HandlerRegistry, load
from bpmn_runner.errors import InvalidOperationError, UnhandledBpmnError
from bpmn_runner.registry import import_handler_module

from . import generate

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def order_engine(**options):
    module = import_handler_module(str(PROCESSES / "order_handlers.py"))
    module.reset()
    registry = HandlerRegistry()
    registry.add_module(module)
    return Engine(registry, jobs=True, timer_wait=0, **options), load([PROCESSES / "order_fulfillment.bpmn"])


def order_data(**changes):
    data = json.loads((PROCESSES / "order_fulfillment.data.json").read_text())
    data["order"].update(changes)
    return data


def work_off(engine: Engine, definitions, instance):
    """Act as a worker: run each queued job's handler, reloading the instance from JSON state every time."""
    jobs = instance.take_new_jobs()
    ran = []
    while jobs:
        job = jobs.pop(0)
        state = json.loads(json.dumps(instance.state()))
        instance = engine.restore(definitions, instance.process_id, state, instance.instance_id)
        handler = engine.handlers.get(job.binding.name).func
        ran.append(job.call.element_id)
        try:
            instance.complete_service_task(job.task_id, handler(job.call))
        except BpmnError as error:
            instance.raise_in_service_task(job.task_id, error)
        instance.run()
        jobs.extend(instance.take_new_jobs())
    return instance, ran


def test_start_stops_at_the_first_service_task_as_a_job() -> None:
    engine, definitions = order_engine()
    instance = engine.start(definitions, None, order_data())
    result = instance.run()
    assert result.status == "waiting"
    assert [(w.element_id, w.kind) for w in result.waiting] == [("Activity_CheckStock", "service")]
    jobs = instance.take_new_jobs()
    assert [j.call.element_id for j in jobs] == ["Activity_CheckStock"]
    assert jobs[0].call.params["sku"] == "BOOK-42" and jobs[0].binding.name == "erp.check-stock"
    assert instance.take_new_jobs() == []


def test_a_worker_completes_the_order_job_by_job() -> None:
    engine, definitions = order_engine()
    instance = engine.start(definitions, None, order_data())
    instance.run()
    instance, ran = work_off(engine, definitions, instance)
    assert ran[:3] == ["Activity_CheckStock", "Activity_ReserveStock", "Activity_ChargePayment"]
    assert {"Activity_UpdateCrm", "Activity_BookShipment"} <= set(ran)
    assert [w.element_id for w in instance.waiting()] == ["Event_WaitForPickup"]
    instance.fire_timers()
    instance.run()
    instance, ran = work_off(engine, definitions, instance)
    assert ran == ["Activity_NotifyShipped"]
    assert instance.status() == "completed"


def test_bpmn_error_from_a_job_takes_the_boundary_path() -> None:
    engine, definitions = order_engine()
    instance = engine.start(definitions, None, order_data(card="4000000000000002"))
    instance.run()
    instance, ran = work_off(engine, definitions, instance)
    assert ran[-1] == "Activity_NotifyDeclined"
    assert instance.status() == "completed"


def test_idempotency_key_is_stable_across_reloads(tmp_path) -> None:
    path = tmp_path / "chain.bpmn"
    path.write_text(generate.chain(3))
    definitions = load([path])
    handlers = HandlerRegistry()
    handlers.register("noop", lambda call: {})
    engine = Engine(handlers, jobs=True, timer_wait=0)
    instance = engine.start(definitions, None, {})
    instance.run()
    pending = instance.take_new_jobs()[0]
    state = instance.state()
    assert pending.call.idempotency_key == f"{instance.instance_id}:{pending.call.element_id}:1"
    # a run redone from the same saved state (as after a crash) gives the next call the same key both times
    keys = []
    for _ in range(2):
        again = engine.restore(definitions, instance.process_id, state, instance.instance_id)
        again.complete_service_task(pending.task_id, {})
        again.run()
        keys.append([job.call.idempotency_key for job in again.take_new_jobs()])
    assert keys[0] and keys[0] == keys[1]


def test_completing_a_task_that_is_not_waiting_is_refused() -> None:
    engine, definitions = order_engine()
    instance = engine.start(definitions, None, order_data())
    instance.run()
    with pytest.raises(InvalidOperationError):
        instance.complete_service_task("not-a-task", {})


def test_uncaught_bpmn_error_from_a_job_raises() -> None:
    engine, definitions = order_engine()
    instance = engine.start(definitions, None, order_data())
    instance.run()
    job = instance.take_new_jobs()[0]
    with pytest.raises(UnhandledBpmnError):
        instance.raise_in_service_task(job.task_id, BpmnError("NOBODY_CATCHES"))

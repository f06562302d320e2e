"""Cheap commits (issue 15, item 2): a saved state holds the frontier, not every task SpiffWorkflow predicts, so its
size and a committed step's cost do not grow with the length of the diagram ahead; a worker takes the next job of
the instance it just moved in the same commit. Timings live in bench/step_breakdown.py, not here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpmn_runner import Engine, HandlerRegistry, load

from . import generate
from .durable import MovableClock, registry, runtime, three_services, worker


def _chain_engine() -> Engine:
    handlers = HandlerRegistry()
    handlers.register("noop", lambda call: {"last": call.element_id})
    return Engine(handlers, jobs=True, timer_wait=0)


def test_the_saved_state_of_a_long_chain_stays_small_and_a_restore_finishes_it(tmp_path: Path) -> None:
    path = tmp_path / "chain.bpmn"
    path.write_text(generate.chain(300))
    definitions = load([path])
    engine = _chain_engine()
    instance = engine.start(definitions, None, {})
    instance.run()
    sizes = {}
    task_id = ""
    for step in range(300):
        pending = instance.take_new_jobs()
        task_id = pending[0].task_id if pending else task_id
        instance.complete_service_task(task_id, {"step": step})
        result = instance.run()
        sizes[step] = len(instance.state_json())
        if step == 150:  # a worker elsewhere picks the instance up from its saved state
            task_id = instance.take_new_jobs()[0].task_id
            instance = engine.restore(definitions, instance.process_id, json.loads(instance.state_json()),
                                      instance.instance_id)
    assert result.status == "completed" and result.data["step"] == 299
    assert result.path[-2:] == ["t299", "end"] and len([e for e in result.path if e.startswith("t")]) == 149
    # the whole chain lies ahead at step 1 and nothing at step 298: the state is the same size
    assert sizes[1] < 6000 and sizes[298] < 6000 and abs(sizes[298] - sizes[1]) < 1500


def test_a_state_saved_mid_chain_predicts_the_rest_again_when_restored(tmp_path: Path) -> None:
    path = tmp_path / "chain.bpmn"
    path.write_text(generate.chain(50))
    definitions = load([path])
    engine = _chain_engine()
    instance = engine.start(definitions, None, {})
    instance.run()
    saved = json.loads(instance.state_json())
    assert len(saved["tasks"]) < 10  # not the 50 tasks ahead
    restored = engine.restore(definitions, instance.process_id, saved, instance.instance_id)
    assert [w.element_id for w in restored.waiting()] == ["t0"]
    assert len(restored.session.workflow.tasks) > 50  # predicted again, as when the instance was started


def test_a_worker_takes_the_next_job_of_its_instance_in_the_same_commit(db_url: str, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(db_url, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    job = rt.store.claim_jobs("w1", ["step.a"], now=rt.now(), lease=30.0)[0][0]
    out = rt.complete_service_job(job, "w1", {}, lease_next=("w1", rt.now() + 30.0, ["step.b"]))
    leased = out["leased_jobs"]
    assert [j.element_id for j in leased] == ["b"] and "new_service_jobs" not in out
    stored = {j.element_id: j for j in rt.store.jobs_of(iid)}
    assert stored["b"].locked_by == "w1" and stored["b"].attempts == 1
    # another worker cannot take it while the lease holds; after it expires the job is anyone's again
    assert rt.store.claim_jobs("w2", ["step.b"], now=rt.now(), lease=30.0)[0] == []
    clock.advance(seconds=31)
    taken = rt.store.claim_jobs("w2", ["step.b"], now=rt.now(), lease=30.0)[0]
    assert [j.element_id for j in taken] == ["b"] and taken[0].attempts == 2
    assert "expired" in (taken[0].last_error or "")
    rt.store.close()


def test_a_worker_runs_a_chain_without_a_claim_per_job(db_url: str, tmp_path: Path) -> None:
    rt = runtime(db_url, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}))
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    claims = []
    original = rt.store.claim_jobs

    def counted(*args, **kwargs):
        found = original(*args, **kwargs)
        claims.append(len(found[0]))
        return found
    rt.store.claim_jobs = counted  # type: ignore[method-assign]
    assert worker(rt).run_once() == 3
    assert rt.show(iid)["status"] == "completed"
    assert sum(claims) == 1  # the first job is claimed; b and c come leased with the steps that made them
    rt.store.close()


def test_a_driver_error_in_a_step_is_one_line_and_nothing_is_committed(tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    from bpmn_runner.errors import ConcurrentUpdateError, StoreError
    from bpmn_runner.store.hot_path import HotPath

    rt = runtime(f"sqlite:///{tmp_path / 'store.db'}", registry(step_a=lambda c: {}, step_b=lambda c: {},
                                                               step_c=lambda c: {}))
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    before = rt.store.get_instance(iid).version
    job = rt.store.claim_jobs("w1", ["step.a"], now=rt.now(), lease=30.0)[0][0]

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(HotPath, "write_step", locked)
    with pytest.raises(ConcurrentUpdateError):  # retried by the step loop, then given up on
        rt.complete_service_job(job, "w1", {})

    def broken(*args, **kwargs):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: jobs.id")
    monkeypatch.setattr(HotPath, "write_step", broken)
    with pytest.raises(StoreError) as raised:
        rt.complete_service_job(job, "w1", {})
    assert "UNIQUE constraint failed" in str(raised.value) and "\n" not in str(raised.value)
    assert rt.store.get_instance(iid).version == before  # rolled back
    rt.store.close()


def test_a_step_refused_after_its_writes_leaves_nothing_and_the_next_step_commits(tmp_path: Path) -> None:
    # a SQLite step with no waits commits on the driver's connection: a refusal rolls its statements back
    rt = runtime(f"sqlite:///{tmp_path / 'store.db'}", registry(step_a=lambda c: {}, step_b=lambda c: {},
                                                               step_c=lambda c: {}))
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    before = (rt.store.get_instance(iid).version, len(rt.store.history_of(iid)))
    job = rt.store.claim_jobs("w1", ["step.a"], now=rt.now(), lease=30.0)[0][0]
    # w2 does not hold the job: its step is refused (LeaseLostError, dropped) once the rows are written
    assert rt.complete_service_job(job, "w2", {}) is None
    assert (rt.store.get_instance(iid).version, len(rt.store.history_of(iid))) == before
    rt.complete_service_job(job, "w1", {})
    after = rt.store.get_instance(iid)
    assert after.version == before[0] + 1 and len(rt.store.history_of(iid)) > before[1]
    rt.store.close()


def test_a_saved_state_is_what_spiffworkflows_own_serializer_writes_for_the_same_tasks(tmp_path: Path) -> None:
    """The state writer converts tasks itself (it is on every committed step); a restore still reads it with
    SpiffWorkflow's converter, so each task must come out exactly as SpiffWorkflow's TaskConverter writes it:
    data deltas against the parent (changed, added and removed keys), internal data, the root's full data."""
    from bpmn_runner._spiff import serializer

    path = tmp_path / "chain.bpmn"
    path.write_text(generate.chain(6))
    definitions = load([path])
    handlers = HandlerRegistry()
    handlers.register("noop", lambda call: {"last": call.element_id, "n": len(call.element_id)})
    instance = Engine(handlers, jobs=True, timer_wait=0).start(definitions, None, {"keep": 1, "drop": [1, 2]})
    instance.run()
    compared = 0
    for step in range(6):
        workflow = instance.session.workflow
        registry = serializer.serializer_for(instance.session.built.family).registry
        registry._encoder_mode = True
        if step == 3:  # a key the parent has and the newest task dropped: the delta lists it as deleted
            newest = max(workflow.tasks.values(), key=lambda t: t.last_state_change)
            newest.data.pop("drop", None)
            assert "drop" in newest.parent.data
        try:
            for task in workflow.tasks.values():
                stock = registry.convert(task)
                assert serializer._task_dict(registry, task, workflow.tasks) == stock
                compared += 1
        finally:
            registry._encoder_mode = False
        task_id = instance.take_new_jobs()[0].task_id
        instance.complete_service_task(task_id, {"step": step})
        instance.run()
    assert compared > 20


def test_a_service_job_payload_is_the_call_as_json_whatever_its_data_holds() -> None:
    """A step writes each new service job's call and binding as JSON (a cheaper path than dataclasses.asdict when
    they hold only JSON types): a worker elsewhere reads them back, so both paths must write the same thing,
    datetimes, tuples and nested dataclasses included."""
    import dataclasses
    from datetime import datetime

    from bpmn_runner.jsondata import dataclass_json, json_safe
    from bpmn_runner.models import Binding, ServiceCall

    binding = Binding("noop", "camunda7", "expression", 3, "R3/PT1M", {"h": "v"}, "out", ("a", "b"))
    plain = ServiceCall(params={"p": (1, 2)}, data={"x": 1, "nested": {"list": [1, "two", None]}}, headers={},
                        instance_id="i", element_id="t", idempotency_key="i:t:1", args=[1.5, True])
    odd = ServiceCall(params={}, data={"when": datetime(2026, 1, 2, 3, 4), "binding": binding, 7: "int key"},
                      headers={}, instance_id="i", element_id="t", idempotency_key="i:t:2")
    for value in (binding, plain, odd):
        assert dataclass_json(value) == json_safe(dataclasses.asdict(value))
    assert dataclass_json(odd)["data"] == {"when": "2026-01-02T03:04:00", "7": "int key",
                                           "binding": json_safe(dataclasses.asdict(binding))}

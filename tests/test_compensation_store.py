"""Compensation in the store: handlers are jobs a worker runs, the ledger is in the saved state, and a compensation
in progress resumes in a new runtime (as after a crash), on SQLite and PostgreSQL.

Orders as in tests/test_compensation.py: BPMN 2.0 section 10.7.5 and Camunda 7 "Cancel and Compensation Events"
(last completed first, one after the other); Camunda 8 "Compensation events" (all handlers at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import BpmnError

from .compensation_helpers import compensable, service, throw
from .durable import END, START, MovableClock, chain, flow, registry, runtime, worker, write


def saga(dialect: str) -> str:
    """reserve -> charge -> book; a failed booking (BPMN error) compensates everything done, then ends."""
    error = '<bpmn:error id="Err" errorCode="NO_CARRIER"/>'
    failed = ('<bpmn:boundaryEvent id="failed" attachedToRef="book"><bpmn:errorEventDefinition errorRef="Err"/>'
              '</bpmn:boundaryEvent>')
    return (START + compensable(dialect, "reserve") + compensable(dialect, "charge")
            + service(dialect, "book", "do.book")
            + error + failed + throw("undo_all") + '<bpmn:endEvent id="cancelled"/>' + END
            + chain("start", "reserve", "charge", "book", "end") + flow("f_failed", "failed", "undo_all")
            + flow("f_undone", "undo_all", "cancelled"))


def handlers(log: list[str], refund=None):
    def no_carrier(call):
        log.append("do.book")
        raise BpmnError("NO_CARRIER", "no carrier")

    def step(name: str):
        return lambda call: log.append(name) or {name.replace(".", "_"): True}
    return registry(do_reserve=step("do.reserve"), do_charge=step("do.charge"), undo_reserve=step("undo.reserve"),
                    undo_charge=refund or step("undo.charge"), do_book=no_carrier)


@pytest.mark.parametrize("dialect", ["camunda7", "camunda8"])
def test_a_worker_runs_the_compensation_handlers_as_jobs(store, tmp_path: Path, dialect: str) -> None:
    log: list[str] = []
    rt = runtime(store, handlers(log), MovableClock())
    iid = rt.start([write(tmp_path, "saga.bpmn", saga(dialect))])["instance_id"]
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed", shown
    assert log == ["do.reserve", "do.charge", "do.book", "undo.charge", "undo.reserve"]
    assert [h["element_id"] for h in shown["history"] if h["event"] == "compensated"] == ["charge", "reserve"]
    assert shown["data"]["undo_charge"] is True and shown["data"]["undo_reserve"] is True
    assert [h["element_id"] for h in shown["history"] if h["event"] == "completed"][-2:] == ["undo_all", "cancelled"]


def test_a_compensation_in_progress_resumes_in_a_new_runtime(store, tmp_path: Path) -> None:
    """One job per worker round, and a fresh runtime (nothing cached in memory) after every round."""
    log: list[str] = []
    path = write(tmp_path, "saga.bpmn", saga("camunda7"))
    iid = runtime(store, handlers(log), MovableClock()).start([path])["instance_id"]
    for _ in range(10):
        if worker(runtime(store, handlers(log), MovableClock())).run_once(limit=1) == 0:
            break
    shown = runtime(store, handlers(log), MovableClock()).show(iid)
    assert shown["status"] == "completed", shown
    assert log == ["do.reserve", "do.charge", "do.book", "undo.charge", "undo.reserve"]


def test_a_failing_compensation_handler_is_retried_like_any_job(store, tmp_path: Path) -> None:
    """A refund that fails once is retried with backoff (same idempotency key), then the compensation goes on."""
    log: list[str] = []
    keys: list[str] = []
    clock = MovableClock()
    failures = {"left": 1}

    def flaky_refund(call):
        keys.append(call.idempotency_key)
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("payment provider down")
        log.append("undo.charge")
        return {"undo_charge": True}
    rt = runtime(store, handlers(log, flaky_refund), clock)
    iid = rt.start([write(tmp_path, "saga.bpmn", saga("camunda7"))])["instance_id"]
    w = worker(rt)
    w.run_once()
    assert rt.show(iid)["status"] == "running" and "undo.reserve" not in log
    clock.advance(seconds=5)
    w.run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed", shown
    assert log[-2:] == ["undo.charge", "undo.reserve"] and len(keys) == 2 and keys[0] == keys[1]

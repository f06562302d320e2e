"""Compensation and call activities, and the results of handlers nobody waits for.

- Camunda 8, "Compensation handler" (https://docs.camunda.io/docs/components/modeler/bpmn/compensation-handler/):
  "Using a call activity as the compensation handler can be useful since the compensation handlers of a child
  process are not invoked." A completed call activity is compensated by its own compensation handler (for the
  scope, or named by activityRef); what completed in the process it called is not undone from outside, and a run
  says so in a note when the call activity has no handler of its own. BPMN 2.0 section 10.7: compensation reaches
  the activities of the scope, and a called process is not an inner scope of the caller.
- BPMN 2.0 section 10.7.5, waitForCompletion="false": the throw moves on at once; what the handler changes still
  reaches the instance's data (as a waited-for handler's results reach its throw event), in memory and in the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .compensation_helpers import DIALECTS, Calls, boundary, compensable, service, throw
from .durable import MovableClock, runtime, worker
from .durable import write as write_stored
from .scenario import Scenario, write
from .test_elements import END, START, chain

HANDLERS = ("do.A", "do.B", "undo.A", "undo.B", "undo.call")


def child(tmp_path: Path, dialect: str) -> Path:
    """The called process: B (compensable inside the child)."""
    body = ('<bpmn:startEvent id="c_start"/>' + compensable(dialect, "B") + '<bpmn:endEvent id="c_end"/>'
            + chain("c_start", "B", "c_end"))
    return write(tmp_path, body, "child.bpmn", process_id="child")


def caller(dialect: str, *, handler: bool, activity_ref: str | None = None) -> str:
    own = (service(dialect, "undo_call", "undo.call", handler=True) + boundary("call", "undo_call")) if handler else ""
    return (START + '<bpmn:callActivity id="call" calledElement="child"/>' + own + compensable(dialect, "A")
            + throw("t", activity_ref) + END + chain("start", "call", "A", "t", "end"))


def compensated(result) -> list[str]:
    return [h.element_id for h in result.history if h.event == "compensated"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_completed_call_activity_is_compensated_by_its_own_handler_last_first(tmp_path: Path,
                                                                                dialect: str) -> None:
    calls = Calls()
    main = write(tmp_path, caller(dialect, handler=True), "main.bpmn", process_id="main")
    s = Scenario([main, child(tmp_path, dialect)], calls.registry(*HANDLERS), process_id="main")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.B", "do.A", "undo.A", "undo.call"]  # undo.B: the child's handler is not invoked
    assert compensated(s.result) == ["A", "call"]
    assert s.result.notes == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_activity_ref_names_a_call_activity(tmp_path: Path, dialect: str) -> None:
    calls = Calls()
    main = write(tmp_path, caller(dialect, handler=True, activity_ref="call"), "main.bpmn", process_id="main")
    s = Scenario([main, child(tmp_path, dialect)], calls.registry(*HANDLERS), process_id="main")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.B", "do.A", "undo.call"]
    assert compensated(s.result) == ["call"]


def test_a_call_activity_without_a_handler_is_not_undone_from_outside_and_the_run_says_so(tmp_path: Path) -> None:
    calls = Calls()
    main = write(tmp_path, caller("camunda7", handler=False), "main.bpmn", process_id="main")
    s = Scenario([main, child(tmp_path, "camunda7")], calls.registry(*HANDLERS), process_id="main")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.B", "do.A", "undo.A"]
    assert compensated(s.result) == ["A"]
    assert len(s.result.notes) == 1
    note = s.result.notes[0]
    assert "'call'" in note and "child: B" in note and "compensation boundary event" in note and "\n" not in note


def test_a_called_process_still_compensates_itself_from_inside(tmp_path: Path) -> None:
    calls = Calls()
    inner = ('<bpmn:startEvent id="c_start"/>' + compensable("camunda7", "B") + throw("c_throw")
             + '<bpmn:endEvent id="c_end"/>' + chain("c_start", "B", "c_throw", "c_end"))
    called = write(tmp_path, inner, "child.bpmn", process_id="child")
    main = write(tmp_path, caller("camunda7", handler=False), "main.bpmn", process_id="main")
    s = Scenario([main, called], calls.registry(*HANDLERS), process_id="main")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.B", "undo.B", "do.A", "undo.A"]
    assert s.result.notes == []  # B was compensated already: nothing is left undone


def _no_wait(dialect: str) -> str:
    return (START + compensable(dialect, "A") + throw("t", wait=False) + '<bpmn:userTask id="after"/>' + END
            + chain("start", "A", "t", "after", "end"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_result_of_a_handler_nobody_waits_for_reaches_the_data(tmp_path: Path, dialect: str) -> None:
    calls = Calls()
    handlers = calls.registry("do.A", "undo.A", undo_A=lambda call: {"refunded": True})
    s = Scenario(write(tmp_path, _no_wait(dialect)), handlers)
    assert s.waiting_ids() == ["after"]
    assert s.result.data.get("refunded") is True
    s.complete("after")
    assert s.result.status == "completed" and s.result.data["refunded"] is True


def test_a_handler_nobody_waits_for_that_finishes_later_updates_where_the_process_is(tmp_path: Path) -> None:
    """The handler is a user task: the process waits at `after` and at the handler; the handler's answer reaches
    `after`'s data, and from there the end."""
    body = (START + service("camunda7", "A", "do.A") + '<bpmn:userTask id="undo_A" isForCompensation="true"/>'
            + boundary("A", "undo_A") + throw("t", wait=False) + '<bpmn:userTask id="after"/>' + END
            + chain("start", "A", "t", "after", "end"))
    s = Scenario(write(tmp_path, body), Calls().registry("do.A"))
    assert sorted(s.waiting_ids()) == ["after", "undo_A"]
    s.complete("undo_A", {"refund_id": "r-1"})
    s.complete("after")
    assert s.result.status == "completed" and s.result.data["refund_id"] == "r-1"


def test_in_the_store_the_result_of_a_handler_nobody_waits_for_reaches_the_data(store, tmp_path: Path) -> None:
    calls = Calls()
    handlers = calls.registry("do.A", "undo.A", undo_A=lambda call: {"refunded": True})
    rt = runtime(store, handlers, MovableClock())
    iid = rt.start([write_stored(tmp_path, "nowait.bpmn", _no_wait("camunda8"))])["instance_id"]
    worker(rt).run_once()
    assert calls.order == ["do.A", "undo.A"]
    task = rt.list_tasks(iid)[0]
    assert task["element_id"] == "after"
    rt.complete_task(task["task_id"], {})
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["data"]["refunded"] is True


def test_in_the_store_a_call_activity_is_compensated_by_its_handler_as_a_job(store, tmp_path: Path) -> None:
    """The called process runs, then A; the throw undoes A, then the call activity (its own handler, a job a
    worker runs); the called process's B is not undone."""
    calls = Calls()
    rt = runtime(store, calls.registry(*HANDLERS), MovableClock())
    main = write_stored(tmp_path, "main.bpmn", caller("camunda7", handler=True), process_id="main")
    child_body = ('<bpmn:startEvent id="c_start"/>' + compensable("camunda7", "B") + '<bpmn:endEvent id="c_end"/>'
                  + chain("c_start", "B", "c_end"))
    called = write_stored(tmp_path, "child.bpmn", child_body, process_id="child")
    iid = rt.start([main, called], process_id="main")["instance_id"]
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed", shown
    assert calls.order == ["do.B", "do.A", "undo.A", "undo.call"]
    assert [h["element_id"] for h in shown["history"] if h["event"] == "compensated"] == ["A", "call"]


def test_what_completed_in_a_called_process_leaves_the_saved_ledger_when_the_call_completes(tmp_path: Path) -> None:
    body = (START + '<bpmn:callActivity id="call" calledElement="child"/>' + '<bpmn:userTask id="review"/>'
            + compensable("camunda7", "A") + END + chain("start", "call", "A", "review", "end"))
    main = write(tmp_path, body, "main.bpmn", process_id="main")
    s = Scenario([main, child(tmp_path, "camunda7")], Calls().registry(*HANDLERS), process_id="main")
    assert s.waiting_ids() == ["review"]
    records = s.instance.state()["compensation"]["records"]
    assert [r["activity"] for r in records] == ["call", "A"]  # B (inside child) is gone; `call` only says so
    assert records[0]["unreached"] == ["B"]

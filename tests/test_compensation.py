"""Scenario tests for compensation: boundary events with handlers, throw and end events, sub-processes,
multi-instance, transactions with cancel events; in memory and through save, reload and resume, in the Camunda 7,
Camunda 8 and plain BPMN dialects.

Expected orders come from the BPMN 2.0 specification, section 10.7.5 "Compensation" (completed activities are
undone in reverse order of completion; each completion once, with the data it completed with), and from:
- Camunda 7, "Cancel and Compensation Events"
  (https://docs.camunda.org/manual/latest/reference/bpmn20/events/cancel-and-compensation-events/);
- Camunda 8, "Compensation events" (https://docs.camunda.io/docs/components/modeler/bpmn/compensation-events/)
  and "Compensation handler" (https://docs.camunda.io/docs/components/modeler/bpmn/compensation-handler/):
  all handlers are invoked at once, and the throw event completes when all are done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.errors import DefinitionError

from .compensation_helpers import DIALECTS, Calls, boundary, compensable, service, throw
from .scenario import Scenario, write
from .test_elements import END, START, chain

HANDLERS = ("do.A", "do.B", "do.C", "undo.A", "undo.B", "undo.C")


def events(result, kind: str) -> list[str]:
    return [h.element_id for h in result.history if h.event == kind]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_throw_event_undoes_completed_activities_last_first(tmp_path: Path, dialect: str) -> None:
    """BPMN 10.7.5 and Camunda 7: reverse order of completion, one after the other; Camunda 8 ("Compensation
    events"): every handler is started at once and the throw event waits until all are done."""
    calls = Calls()
    body = (START + compensable(dialect, "A") + compensable(dialect, "B") + throw("undo_all") + END
            + chain("start", "A", "B", "undo_all", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.B", "undo.A"]
    assert events(s.result, "compensated") == ["B", "A"]
    entered = [h.element_id for h in s.result.history if h.event in ("entered", "completed")
               and h.element_id.startswith("undo_") and h.element_id != "undo_all"]
    if dialect == "camunda8":  # both handlers are active before either finishes
        assert entered[:2] == ["undo_B", "undo_A"]
    else:
        assert entered == ["undo_B", "undo_B", "undo_A", "undo_A"]
    assert s.result.path.index("undo_A") < s.result.path.index("undo_all") < s.result.path.index("end")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_activity_ref_compensates_only_that_activity(tmp_path: Path, dialect: str) -> None:
    """Camunda 7: "Compensation can either be triggered for a designated activity or for the scope"."""
    calls = Calls()
    body = (START + compensable(dialect, "A") + compensable(dialect, "B") + throw("undo_a", "A") + END
            + chain("start", "A", "B", "undo_a", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.A"]
    assert events(s.result, "compensated") == ["A"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_only_completed_activities_are_compensated_and_only_once(tmp_path: Path, dialect: str) -> None:
    """Camunda 8: "The compensation handlers of active or terminated activities are not invoked"; an activity
    already compensated is not compensated again by a second throw."""
    calls = Calls()
    body = (START + compensable(dialect, "A") + throw("first") + compensable(dialect, "B") + throw("second")
            + compensable(dialect, "C") + END + chain("start", "A", "first", "B", "second", "C", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "undo.A", "do.B", "undo.B", "do.C"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compensation_end_event_waits_for_its_handlers(tmp_path: Path, dialect: str) -> None:
    calls = Calls()
    body = (START + compensable(dialect, "A") + throw("undo_end", end=True) + chain("start", "A", "undo_end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "undo.A"]
    assert s.result.path[-2:] == ["undo_A", "undo_end"]


def test_handler_sees_the_data_its_activity_completed_with_and_returns_results(tmp_path: Path) -> None:
    calls = Calls()
    body = (START + compensable("camunda7", "A") + compensable("camunda7", "B") + throw("t") + END
            + chain("start", "A", "B", "t", "end"))
    reg = calls.registry(*HANDLERS, do_A=lambda c: {"charge": "CH-1"}, do_B=lambda c: {"charge": "CH-2"},
                         undo_A=lambda c: {"refunded": c.data["charge"]})
    s = Scenario(write(tmp_path, body), reg)
    assert calls.seen["undo.A"][0]["charge"] == "CH-1"   # not CH-2, which B wrote later
    assert calls.seen["undo.B"][0]["charge"] == "CH-2"
    assert s.result.data["refunded"] == "CH-1"


def multi_instance(dialect: str, tid: str) -> str:
    loop = ('<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>3'
            '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    return (service(dialect, tid, f"do.{tid}", inner=loop) + service(dialect, f"undo_{tid}", f"undo.{tid}",
                                                                     handler=True) + boundary(tid, f"undo_{tid}"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_multi_instance_completion_is_compensated_once_with_its_own_data(tmp_path: Path, dialect: str) -> None:
    """Camunda 8 ("Compensation handler"): "If an activity has been completed more than once, the compensation
    handler is invoked for the same amount"; BPMN 10.7.5: each with the data of that completion."""
    counter = iter(range(1, 10))
    calls = Calls()
    body = START + multi_instance(dialect, "A") + throw("t") + END + chain("start", "A", "t", "end")
    reg = calls.registry(*HANDLERS, do_A=lambda c: {"n": next(counter)})
    s = Scenario(write(tmp_path, body), reg)
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A"] * 3 + ["undo.A"] * 3
    assert [seen["n"] for seen in calls.seen["undo.A"]] == [3, 2, 1]
    assert events(s.result, "compensated") == ["A", "A", "A"]


def test_a_compensation_in_progress_resumes_after_save_and_reload(tmp_path: Path) -> None:
    """The second handler is a user task: the instance is saved, reloaded and resumed there, then finishes the
    compensation and leaves the throw event."""
    calls = Calls()
    body = (START + compensable("camunda7", "A") + service("camunda7", "B", "do.B")
            + '<bpmn:userTask id="undo_B" name="Undo B by hand" isForCompensation="true"/>' + boundary("B", "undo_B")
            + throw("t") + END + chain("start", "A", "B", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "waiting" and s.waiting_ids() == ["undo_B"]
    assert calls.order == ["do.A", "do.B"]
    s.complete("undo_B", {"undone": True})
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.A"]
    assert s.result.data["undone"] is True
    assert events(s.result, "compensated") == ["B", "A"]


def test_handlers_run_as_jobs_and_survive_a_restore_between_them(tmp_path: Path) -> None:
    """In job mode a handler is a job like any service task; the ledger and the run are in the saved state."""
    calls = Calls()
    body = (START + compensable("camunda7", "A") + compensable("camunda7", "B") + throw("t") + END
            + chain("start", "A", "B", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS), jobs=True)
    done: list[str] = []
    for _ in range(10):
        jobs = s.instance.take_new_jobs()
        if not jobs:
            break
        assert len(jobs) == 1
        done.append(jobs[0].binding.name)
        s.reload()
        s.instance.complete_service_task(jobs[0].task_id, {})
        s.result = s.instance.run()
    assert done == ["do.A", "do.B", "undo.B", "undo.A"]
    assert s.result.status == "completed", s.result.error


def test_wait_for_completion_false_moves_on_at_once(tmp_path: Path) -> None:
    """BPMN 10.7.5 (waitForCompletion): false triggers the compensation and continues immediately."""
    calls = Calls()
    body = (START + service("camunda7", "A", "do.A") + '<bpmn:userTask id="undo_A" isForCompensation="true"/>'
            + boundary("A", "undo_A") + throw("t", wait=False) + '<bpmn:userTask id="after"/>' + END
            + chain("start", "A", "t", "after", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert sorted(s.waiting_ids()) == ["after", "undo_A"]   # the throw did not wait for the handler
    s.complete("undo_A")
    assert events(s.result, "compensated") == ["A"]
    s.complete("after")
    assert s.result.status == "completed", s.result.error


def test_a_boundary_event_without_a_marked_handler_is_refused(tmp_path: Path) -> None:
    body = (START + service("camunda7", "A", "do.A") + service("camunda7", "undo_A", "undo.A")
            + boundary("A", "undo_A") + throw("t") + END + chain("start", "A", "t", "end"))
    with pytest.raises(DefinitionError, match="isForCompensation"):
        Scenario(write(tmp_path, body), Calls().registry(*HANDLERS))


def sub(sid: str, inner: str, *, tag: str = "subProcess", attrs: str = "") -> str:
    return f'<bpmn:{tag} id="{sid}"{attrs}>{inner}</bpmn:{tag}>'


def sub_start_end(prefix: str) -> tuple[str, str]:
    return f'<bpmn:startEvent id="{prefix}_start"/>', f'<bpmn:endEvent id="{prefix}_end"/>'


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compensating_a_completed_sub_process_undoes_its_inside_last_first(tmp_path: Path, dialect: str) -> None:
    """Camunda 7: "Compensation is triggered hierarchically: if an activity to be compensated is a subprocess,
    compensation is triggered for all activities contained within the subprocess"."""
    calls = Calls()
    s_start, s_end = sub_start_end("s")
    inner = (s_start + compensable(dialect, "A") + compensable(dialect, "B") + s_end
             + chain("s_start", "A", "B", "s_end"))
    body = (START + sub("S", inner) + compensable(dialect, "C") + throw("t") + END
            + chain("start", "S", "C", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order[3:] == ["undo.C", "undo.B", "undo.A"]
    assert events(s.result, "compensated") == ["C", "B", "A", "S"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_throw_inside_a_sub_process_does_not_reach_outside_it(tmp_path: Path, dialect: str) -> None:
    """Camunda 7: "compensation is not propagated to the upper levels of the process"."""
    calls = Calls()
    s_start, s_end = sub_start_end("s")
    inner = s_start + compensable(dialect, "A") + throw("t") + s_end + chain("s_start", "A", "t", "s_end")
    body = START + compensable(dialect, "C") + sub("S", inner) + END + chain("start", "C", "S", "end")
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.C", "do.A", "undo.A"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sub_process_can_be_the_compensation_handler(tmp_path: Path, dialect: str) -> None:
    """Camunda 8 ("Compensation handler"): an embedded sub-process as compensation handler."""
    calls = Calls()
    h_start, h_end = sub_start_end("h")
    handler_body = (h_start + service(dialect, "refund", "undo.A") + service(dialect, "tell", "undo.B") + h_end
                    + chain("h_start", "refund", "tell", "h_end"))
    body = (START + service(dialect, "A", "do.A") + sub("undo_A", handler_body, attrs=' isForCompensation="true"')
            + boundary("A", "undo_A") + throw("t") + END + chain("start", "A", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "undo.A", "undo.B"]
    assert events(s.result, "compensated") == ["A"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compensation_event_sub_process_runs_when_its_sub_process_is_compensated(tmp_path: Path,
                                                                                 dialect: str) -> None:
    """BPMN 10.7.5: a compensation event sub-process is the compensation handler of its sub-process; its own
    throw event compensates the activities inside that sub-process."""
    calls = Calls()
    e_start = '<bpmn:startEvent id="e_start"><bpmn:compensateEventDefinition/></bpmn:startEvent>'
    esp = sub("E", e_start + service(dialect, "notify", "undo.C") + throw("e_throw") + '<bpmn:endEvent id="e_end"/>'
              + chain("e_start", "notify", "e_throw", "e_end"), attrs=' triggeredByEvent="true"')
    s_start, s_end = sub_start_end("s")
    inner = s_start + compensable(dialect, "A") + compensable(dialect, "B") + esp + s_end + \
        chain("s_start", "A", "B", "s_end")
    body = START + sub("S", inner) + throw("t") + END + chain("start", "S", "t", "end")
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.C", "undo.B", "undo.A"]
    assert "S" in events(s.result, "compensated")


def transaction_body(dialect: str) -> str:
    t_start = '<bpmn:startEvent id="t_start"/>'
    cancel_end = '<bpmn:endEvent id="t_cancel"><bpmn:cancelEventDefinition/></bpmn:endEvent>'
    inner = (t_start + compensable(dialect, "A") + compensable(dialect, "B") + cancel_end
             + chain("t_start", "A", "B", "t_cancel"))
    return (START + sub("T", inner, tag="transaction")
            + '<bpmn:boundaryEvent id="cancelled" attachedToRef="T"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>'
            + service(dialect, "C", "do.C") + '<bpmn:endEvent id="end_cancelled"/>' + END
            + chain("start", "T", "end") + chain("cancelled", "C", "end_cancelled"))


@pytest.mark.parametrize("dialect", ("camunda7", "bpmn"))
def test_cancel_end_event_compensates_the_transaction_then_leaves_by_the_cancel_boundary(tmp_path: Path,
                                                                                       dialect: str) -> None:
    """Camunda 7 ("Cancel and Compensation Events"): the cancel boundary event "starts compensation of all active
    compensation boundary events in the scope of the transaction ... When compensation is completed, the
    transaction subprocess is left using the sequence flow(s) running out of the cancel boundary event"."""
    calls = Calls()
    s = Scenario(write(tmp_path, transaction_body(dialect)), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.B", "undo.A", "do.C"]
    assert s.result.path[-1] == "end_cancelled" and "end" not in s.result.path
    assert events(s.result, "compensated") == ["B", "A"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_sub_process_still_running_is_not_compensated(tmp_path: Path, dialect: str) -> None:
    """Camunda 7: "compensation is only propagated to the subprocess if it has completed successfully when
    compensation is thrown"."""
    calls = Calls()
    s_start, s_end = sub_start_end("s")
    inner = (s_start + compensable(dialect, "A") + '<bpmn:userTask id="review"/>' + s_end
             + chain("s_start", "A", "review", "s_end"))
    body = (START + '<bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>' + sub("S", inner)
            + compensable(dialect, "C") + throw("t") + END
            + chain("start", "fork", "S", "join", "end") + chain("fork", "C", "t", "join").replace("f_fork_C", "f2"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.waiting_ids() == ["review"]
    assert calls.order == ["do.A", "do.C", "undo.C"]
    s.complete("review")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.C", "undo.C"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_throw_in_an_event_sub_process_compensates_its_parent_scope(tmp_path: Path, dialect: str) -> None:
    """BPMN 10.7.5 and Camunda 7: compensation thrown in an event sub-process reaches the activities of the scope
    that holds it (the usual saga shape: an error event sub-process undoes what the process did)."""
    calls = Calls()
    error = '<bpmn:errorEventDefinition errorRef="Err"/>'
    esp = sub("on_error", f'<bpmn:startEvent id="e_start">{error}</bpmn:startEvent>' + throw("e_throw")
              + '<bpmn:endEvent id="e_end"/>' + chain("e_start", "e_throw", "e_end"), attrs=' triggeredByEvent="true"')

    def fail(call):
        from bpmn_runner import BpmnError
        raise BpmnError("BROKEN", "broken")
    body = (START + compensable(dialect, "A") + compensable(dialect, "B") + service(dialect, "C", "do.C") + esp
            + END + chain("start", "A", "B", "C", "end"))
    reg = calls.registry(*HANDLERS, do_C=fail)
    s = Scenario(write(tmp_path, body, extra='<bpmn:error id="Err" errorCode="BROKEN"/>'), reg)
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "do.C", "undo.B", "undo.A"]


def test_each_loop_iteration_is_compensated_with_its_data(tmp_path: Path) -> None:
    """Camunda 7: "the associated compensation handler is executed the same amount of times the activity
    completed successfully"; standard loops as well as multi-instance."""
    calls = Calls()
    loop = ('<bpmn:standardLoopCharacteristics><bpmn:loopCondition>i &lt; 3</bpmn:loopCondition>'
            '</bpmn:standardLoopCharacteristics>')
    body = (START + service("camunda7", "A", "do.A", inner=loop) + service("camunda7", "undo_A", "undo.A", handler=True)
            + boundary("A", "undo_A") + throw("t") + END + chain("start", "A", "t", "end"))
    reg = calls.registry(*HANDLERS, do_A=lambda c: {"i": c.data.get("i", 0) + 1})
    s = Scenario(write(tmp_path, body), reg, data={"i": 0}, trust_scripts=True)
    assert s.result.status == "completed", s.result.error
    assert [seen["i"] for seen in calls.seen["undo.A"]] == [3, 2, 1]


def test_many_completions_survive_the_task_tree_being_pruned(tmp_path: Path) -> None:
    """The ledger, not the task tree, remembers completions: a run long enough to be pruned still compensates
    every one of them, newest first."""
    calls = Calls()
    counter = iter(range(1, 1000))
    loop = ('<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>60'
            '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    body = (START + service("camunda7", "A", "do.A", inner=loop) + service("camunda7", "undo_A", "undo.A", handler=True)
            + boundary("A", "undo_A") + throw("t") + END + chain("start", "A", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS, do_A=lambda c: {"n": next(counter)}))
    assert s.result.status == "completed", s.result.error
    assert [seen["n"] for seen in calls.seen["undo.A"]] == list(range(60, 0, -1))


def test_a_throw_with_nothing_to_compensate_passes_straight_through(tmp_path: Path) -> None:
    calls = Calls()
    body = START + service("camunda7", "A", "do.A") + throw("t") + END + chain("start", "A", "t", "end")
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed" and s.result.path == ["start", "A", "t", "end"]


def test_spiffarena_files_compensate_too(tmp_path: Path) -> None:
    def spiff(tid: str, topic: str, handler: bool = False) -> str:
        marker = ' isForCompensation="true"' if handler else ""
        return (f'<bpmn:serviceTask id="{tid}"{marker}><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
                f'id="{topic}" resultVariable="r_{tid}"/></bpmn:extensionElements></bpmn:serviceTask>')
    calls = Calls()
    body = (START + spiff("A", "do.A") + spiff("undo_A", "undo.A", True) + boundary("A", "undo_A")
            + spiff("B", "do.B") + spiff("undo_B", "undo.B", True) + boundary("B", "undo_B") + throw("t") + END
            + chain("start", "A", "B", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "undo.B", "undo.A"]


def test_a_failing_handler_stops_the_instance_at_the_handler(tmp_path: Path) -> None:
    calls = Calls()
    body = (START + compensable("camunda7", "A") + throw("t") + END + chain("start", "A", "t", "end"))

    def broken(call):
        raise RuntimeError("refund service down")
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS, undo_A=broken))
    assert s.result.status == "failed"
    assert "undo_A" in (s.result.error or "") and "refund service down" in (s.result.error or "")


def test_a_cancelled_transaction_interrupts_its_other_branches_before_compensating(tmp_path: Path) -> None:
    """Camunda 7 ("Cancel and Compensation Events"): the cancel "first interrupts all active executions in the
    current scope. Next, it starts compensation"; here the handler is a user task, so the compensation waits and
    the interrupted branch's user task is no longer offered meanwhile."""
    calls = Calls()
    inner = ('<bpmn:startEvent id="t_start"/><bpmn:parallelGateway id="fork"/>'
             + service("camunda7", "A", "do.A") + '<bpmn:userTask id="undo_A" isForCompensation="true"/>'
             + '<bpmn:userTask id="approve"/><bpmn:endEvent id="t_cancel"><bpmn:cancelEventDefinition/></bpmn:endEvent>'
             + '<bpmn:endEvent id="t_end"/>' + boundary("A", "undo_A")
             + chain("t_start", "fork", "A", "t_cancel")
             + chain("fork", "approve", "t_end").replace("f_fork_approve", "f2"))
    body = (START + sub("T", inner, tag="transaction")
            + '<bpmn:boundaryEvent id="cancelled" attachedToRef="T"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>'
            + '<bpmn:endEvent id="end_cancelled"/>' + END + chain("start", "T", "end")
            + chain("cancelled", "end_cancelled"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert "undo_A" in s.waiting_ids() and "approve" not in s.waiting_ids()
    s.complete("undo_A")
    assert s.result.status == "completed", s.result.error
    assert s.result.path[-1] == "end_cancelled"


def test_the_saved_state_holds_a_ledger_only_while_there_is_something_to_compensate(tmp_path: Path) -> None:
    s_start, s_end = sub_start_end("s")
    plain = sub("S", s_start + '<bpmn:userTask id="wait"/>' + s_end + chain("s_start", "wait", "s_end"))
    without = Scenario(write(tmp_path, START + plain + END + chain("start", "S", "end"), name="plain.bpmn"))
    assert "compensation" not in without.instance.state()   # nothing compensable: nothing recorded
    calls = Calls()
    body = (START + compensable("camunda7", "A") + '<bpmn:userTask id="wait"/>' + throw("t") + END
            + chain("start", "A", "wait", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    ledger = s.instance.state()["compensation"]
    assert [(r["activity"], r["scope"]) for r in ledger["records"]] == [("A", "")]
    s.complete("wait")
    assert s.result.status == "completed" and "compensation" not in s.instance.state()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_call_activity_can_be_the_compensation_handler(tmp_path: Path, dialect: str) -> None:
    """Camunda 8 ("Compensation handler"): a call activity as compensation handler."""
    calls = Calls()
    undo = ('<bpmn:process id="undo_process" isExecutable="true"><bpmn:startEvent id="u_start"/>'
            + service(dialect, "u_task", "undo.A") + '<bpmn:endEvent id="u_end"/>'
            + chain("u_start", "u_task", "u_end") + '</bpmn:process>')
    called = ('<bpmn:extensionElements><zeebe:calledElement processId="undo_process"/></bpmn:extensionElements>'
              if dialect == "camunda8" else "")
    handler = (f'<bpmn:callActivity id="undo_A" calledElement="undo_process" isForCompensation="true">{called}'
               f'</bpmn:callActivity>')
    body = (START + service(dialect, "A", "do.A") + handler + boundary("A", "undo_A") + throw("t") + END
            + chain("start", "A", "t", "end"))
    path = write(tmp_path, body)
    path.write_text(path.read_text().replace("</bpmn:definitions>", undo + "</bpmn:definitions>"))
    s = Scenario(path, calls.registry(*HANDLERS), process_id="p")
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "undo.A"]


def test_while_a_handler_waits_the_instance_data_is_today_s_not_the_handler_s(tmp_path: Path) -> None:
    """The handler works on the data its activity completed with; the instance shows its current data."""
    body = (START + service("camunda7", "A", "do.A") + '<bpmn:userTask id="undo_A" isForCompensation="true"/>'
            + boundary("A", "undo_A") + compensable("camunda7", "B") + throw("t") + END
            + chain("start", "A", "B", "t", "end"))
    calls = Calls()
    reg = calls.registry(*HANDLERS, do_A=lambda c: {"step": "A"}, do_B=lambda c: {"step": "B"})
    s = Scenario(write(tmp_path, body), reg)
    assert s.waiting_ids() == ["undo_A"]
    assert s.result.data["step"] == "B"


def test_activity_ref_in_an_event_sub_process_names_an_activity_of_its_parent(tmp_path: Path) -> None:
    calls = Calls()
    error = '<bpmn:errorEventDefinition errorRef="Err"/>'
    esp = sub("on_error", f'<bpmn:startEvent id="e_start">{error}</bpmn:startEvent>' + throw("e_throw", "A")
              + '<bpmn:endEvent id="e_end"/>' + chain("e_start", "e_throw", "e_end"), attrs=' triggeredByEvent="true"')

    def fail(call):
        from bpmn_runner import BpmnError
        raise BpmnError("BROKEN", "broken")
    body = (START + compensable("camunda7", "A") + compensable("camunda7", "B") + service("camunda7", "C", "do.C")
            + esp + END + chain("start", "A", "B", "C", "end"))
    s = Scenario(write(tmp_path, body, extra='<bpmn:error id="Err" errorCode="BROKEN"/>'),
                 calls.registry(*HANDLERS, do_C=fail))
    assert s.result.status == "completed", s.result.error
    assert calls.order == ["do.A", "do.B", "do.C", "undo.A"]


def test_an_activity_ref_to_nothing_is_refused_at_load(tmp_path: Path) -> None:
    body = START + throw("t", "ghost") + END + chain("start", "t", "end")
    with pytest.raises(DefinitionError, match="activityRef 'ghost'"):
        Scenario(write(tmp_path, body))


def test_a_handler_with_its_own_boundary_event_is_refused_at_load(tmp_path: Path) -> None:
    body = (START + compensable("camunda7", "A")
            + '<bpmn:boundaryEvent id="late" attachedToRef="undo_A"><bpmn:timerEventDefinition><bpmn:timeDuration>'
              'PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
            + throw("t") + END + chain("start", "A", "t", "end"))
    with pytest.raises(DefinitionError, match="boundary events of its own"):
        Scenario(write(tmp_path, body), Calls().registry(*HANDLERS))


def test_each_instance_of_a_multi_instance_sub_process_is_compensated_inside(tmp_path: Path) -> None:
    calls = Calls()
    counter = iter(range(1, 10))
    s_start, s_end = sub_start_end("s")
    loop = ('<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2'
            '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    inner = loop + s_start + compensable("camunda7", "A") + s_end + chain("s_start", "A", "s_end")
    body = START + sub("S", inner) + throw("t") + END + chain("start", "S", "t", "end")
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS, do_A=lambda c: {"n": next(counter)}))
    assert s.result.status == "completed", s.result.error
    assert [seen["n"] for seen in calls.seen["undo.A"]] == [2, 1]


@pytest.mark.parametrize("with_event_sub_process", (False, True))
def test_a_completed_sub_process_is_compensated_after_a_save_and_reload(tmp_path: Path,
                                                                       with_event_sub_process: bool) -> None:
    """The saved state holds the live frontier, not the completed tasks inside the sub-process; the ledger keeps
    them, and the compensation after the reload still undoes the inside last first (or runs its compensation event
    sub-process), as Camunda 7 "Cancel and Compensation Events" describes."""
    calls = Calls()
    esp = ""
    if with_event_sub_process:
        e_start = '<bpmn:startEvent id="e_start"><bpmn:compensateEventDefinition/></bpmn:startEvent>'
        esp = sub("E", e_start + service("camunda7", "notify", "undo.C") + throw("e_throw")
                  + '<bpmn:endEvent id="e_end"/>' + chain("e_start", "notify", "e_throw", "e_end"),
                  attrs=' triggeredByEvent="true"')
    s_start, s_end = sub_start_end("s")
    inner = (s_start + compensable("camunda7", "A") + compensable("camunda7", "B") + esp + s_end
             + chain("s_start", "A", "B", "s_end"))
    body = (START + sub("S", inner) + '<bpmn:userTask id="review" name="Review"/>' + throw("t") + END
            + chain("start", "S", "review", "t", "end"))
    s = Scenario(write(tmp_path, body), calls.registry(*HANDLERS))
    assert s.result.status == "waiting" and s.waiting_ids() == ["review"]
    state = s.instance.state()
    saved = [task["task_spec"] for sub in state["subprocesses"].values() for task in sub["tasks"].values()]
    assert "compensation" in state and not {"A", "B"} & set(saved)
    s.complete("review")
    assert s.result.status == "completed", s.result.error
    expected = ["undo.C", "undo.B", "undo.A"] if with_event_sub_process else ["undo.B", "undo.A"]
    assert calls.order == ["do.A", "do.B", *expected]
    assert "S" in events(s.result, "compensated")

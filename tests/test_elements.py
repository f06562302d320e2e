"""Scenario tests, one per BPMN element: given a small diagram, when it runs (saved, reloaded and resumed at each
wait), then the path, the wait states and the data are what a user expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import BpmnError
from bpmn_runner.errors import DefinitionError, UnsupportedElementError

from .scenario import Scenario, registry, write

START = '<bpmn:startEvent id="start"/>'
END = '<bpmn:endEvent id="end"/>'


def flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow>')


def service(tid: str, topic: str, extra: str = "") -> str:
    return f'<bpmn:serviceTask id="{tid}" name="{tid} task" camunda:type="external" camunda:topic="{topic}">{extra}</bpmn:serviceTask>'


def chain(*ids: str) -> str:
    return "".join(flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:]))


def test_service_task_runs_its_handler_and_merges_the_result(tmp_path: Path) -> None:
    calls = []
    reg = registry(erp_check=lambda call: calls.append(call) or {"inStock": True})
    path = write(tmp_path, START + service("check", "erp.check") + END + chain("start", "check", "end"))
    s = Scenario(path, reg, data={"sku": "A"})
    assert s.result.status == "completed"
    assert s.result.path == ["start", "check", "end"]
    assert s.result.data == {"sku": "A", "inStock": True}
    assert calls[0].element_id == "check" and calls[0].data == {"sku": "A"}
    assert calls[0].idempotency_key and calls[0].instance_id == s.result.instance_id
    assert s.result.flows == ["f_start_check", "f_check_end"]


def test_plain_task_passes_through_like_camunda(tmp_path: Path) -> None:
    path = write(tmp_path, START + '<bpmn:task id="t" name="Think"/>' + END + chain("start", "t", "end"))
    s = Scenario(path)
    assert s.result.status == "completed"
    assert s.result.path == ["start", "t", "end"]


def test_manual_task_passes_through_in_camunda_dialect(tmp_path: Path) -> None:
    path = write(tmp_path, START + '<bpmn:manualTask id="m" camunda:asyncBefore="false"/>' + END
                 + chain("start", "m", "end"))
    assert Scenario(path).result.status == "completed"


def test_exclusive_gateway_takes_the_true_branch_then_the_default(tmp_path: Path) -> None:
    body = (START + '<bpmn:exclusiveGateway id="gw" default="f_low"/>' + service("high", "h") + service("low", "l")
            + '<bpmn:endEvent id="end_high"/><bpmn:endEvent id="end_low"/>' + flow("f0", "start", "gw")
            + flow("f_high", "gw", "high", "${amount &gt;= 100 &amp;&amp; vip}") + flow("f_low", "gw", "low")
            + flow("f1", "high", "end_high") + flow("f2", "low", "end_low"))
    path = write(tmp_path, body)
    reg = registry(h=lambda c: None, l=lambda c: None)
    assert Scenario(path, reg, data={"amount": 150, "vip": True}).result.path[-1] == "end_high"
    assert Scenario(path, reg, data={"amount": 150, "vip": False}).result.path[-1] == "end_low"


def test_parallel_gateway_runs_both_branches_and_joins_once(tmp_path: Path) -> None:
    body = (START + '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>' + service("a", "a")
            + service("b", "b") + service("after", "after") + END + flow("f0", "start", "split")
            + flow("f1", "split", "a") + flow("f2", "split", "b") + flow("f3", "a", "join") + flow("f4", "b", "join")
            + flow("f5", "join", "after") + flow("f6", "after", "end"))
    after_calls = []
    reg = registry(a=lambda c: {"a": 1}, b=lambda c: {"b": 2}, after=lambda c: after_calls.append(c.data) or None)
    s = Scenario(write(tmp_path, body), reg)
    assert s.result.status == "completed"
    assert sorted(s.result.path[2:4]) == ["a", "b"]
    assert s.result.path.count("after") == 1 and len(after_calls) == 1
    assert {"f1", "f2", "f3", "f4", "f5"} <= set(s.result.flows)


def test_inclusive_gateway_takes_every_true_branch(tmp_path: Path) -> None:
    body = (START + '<bpmn:inclusiveGateway id="split" default="f_none"/><bpmn:inclusiveGateway id="join"/>'
            + service("a", "a") + service("b", "b") + service("none", "n") + END
            + flow("f0", "start", "split") + flow("f_a", "split", "a", "${wantA}") + flow("f_b", "split", "b", "${wantB}")
            + flow("f_none", "split", "none") + flow("f1", "a", "join") + flow("f2", "b", "join")
            + flow("f3", "none", "join") + flow("f4", "join", "end"))
    reg = registry(a=lambda c: None, b=lambda c: None, n=lambda c: None)
    path = write(tmp_path, body)
    both = Scenario(path, reg, data={"wantA": True, "wantB": True}).result
    assert both.status == "completed" and {"a", "b"} <= set(both.path) and "none" not in both.path
    neither = Scenario(path, reg, data={"wantA": False, "wantB": False}).result
    assert "none" in neither.path and "a" not in neither.path


def test_user_task_waits_survives_reload_and_completes_with_form_data(tmp_path: Path) -> None:
    user = ('<bpmn:userTask id="approve" name="Approve order"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="approved" label="Approved?" type="boolean"/></camunda:formData>'
            '</bpmn:extensionElements></bpmn:userTask>')
    s = Scenario(write(tmp_path, START + user + END + chain("start", "approve", "end")))
    assert s.result.status == "waiting"
    waiting = s.instance.waiting()
    assert [w.element_id for w in waiting] == ["approve"]
    assert waiting[0].kind == "user" and waiting[0].fields[0].id == "approved"
    result = s.complete("approve", {"approved": True})
    assert result.status == "completed"
    assert result.data["approved"] is True
    assert s.full_path == ["start", "approve", "end"]


def test_intermediate_timer_written_as_bare_iso_waits_and_fires(tmp_path: Path) -> None:
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT5M</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    s = Scenario(write(tmp_path, START + timer + END + chain("start", "wait", "end")), timer_wait=0)
    assert s.result.status == "waiting"
    assert s.result.waiting[0].kind == "timer" and s.result.waiting[0].detail  # the due time
    assert s.fire_timers().status == "completed"


def test_timer_from_the_injected_clock(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone
    now = [datetime(2030, 1, 1, tzinfo=timezone.utc)]
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    s = Scenario(write(tmp_path, START + timer + END + chain("start", "wait", "end")), timer_wait=0,
                 clock=lambda: now[0])
    assert s.result.status == "waiting"
    assert s.result.waiting[0].detail.startswith("2030-01-01T01:00")
    now[0] += timedelta(hours=2)
    assert s.resume().status == "completed"


def test_interrupting_boundary_timer_cancels_the_task(tmp_path: Path) -> None:
    body = (START + '<bpmn:userTask id="review"/>'
            '<bpmn:boundaryEvent id="late" attachedToRef="review"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
            + service("escalate", "esc") + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_late"/>'
            + flow("f0", "start", "review") + flow("f1", "review", "end") + flow("f2", "late", "escalate")
            + flow("f3", "escalate", "end_late"))
    s = Scenario(write(tmp_path, body), registry(esc=lambda c: {"escalated": True}), timer_wait=0)
    assert sorted(s.waiting_ids()) == ["late", "review"]
    result = s.fire_timers("late")
    assert result.status == "completed" and result.data["escalated"] is True
    assert "review" not in s.full_path and s.full_path[-1] == "end_late"


def test_non_interrupting_boundary_timer_keeps_the_task(tmp_path: Path) -> None:
    body = (START + '<bpmn:userTask id="review"/>'
            '<bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent>' + service("mail", "mail") + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_r"/>'
            + flow("f0", "start", "review") + flow("f1", "review", "end") + flow("f2", "remind", "mail")
            + flow("f3", "mail", "end_r"))
    s = Scenario(write(tmp_path, body), registry(mail=lambda c: {"reminded": True}), timer_wait=0)
    s.fire_timers("remind")
    assert "mail" in s.full_path and "review" in s.waiting_ids()
    assert s.complete("review").status == "completed"


def test_message_catch_waits_for_its_message(tmp_path: Path) -> None:
    extra = '<bpmn:message id="Msg" name="payment-received"/>'
    catch = ('<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="Msg"/>'
             '</bpmn:intermediateCatchEvent>')
    s = Scenario(write(tmp_path, START + catch + END + chain("start", "paid", "end"), extra=extra))
    assert s.result.status == "waiting" and s.result.waiting[0].kind == "message"
    assert s.result.waiting[0].detail == "payment-received"
    result = s.message("payment-received", {"amount": 12})
    assert result.status == "completed" and result.data["amount"] == 12


def test_receive_task_waits_for_its_message(tmp_path: Path) -> None:
    extra = '<bpmn:message id="Msg" name="reply"/>'
    body = START + '<bpmn:receiveTask id="recv" messageRef="Msg"/>' + END + chain("start", "recv", "end")
    s = Scenario(write(tmp_path, body, extra=extra))
    assert s.waiting_ids() == ["recv"]
    assert s.message("reply", {"ok": 1}).status == "completed"


def test_signal_end_event_throws_its_signal(tmp_path: Path) -> None:
    extra = '<bpmn:signal id="Sig" name="order-cancelled"/>'
    body = (START + '<bpmn:parallelGateway id="split"/>'
            '<bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition signalRef="Sig"/>'
            '</bpmn:intermediateCatchEvent>' + service("react", "react") +
            '<bpmn:endEvent id="shout"><bpmn:signalEventDefinition signalRef="Sig"/></bpmn:endEvent>'
            '<bpmn:endEvent id="end"/>' + flow("f0", "start", "split") + flow("f1", "split", "hear")
            + flow("f2", "split", "shout") + flow("f3", "hear", "react") + flow("f4", "react", "end"))
    s = Scenario(write(tmp_path, body, extra=extra), registry(react=lambda c: {"heard": True}))
    assert s.result.status == "completed"
    assert s.result.data["heard"] is True and "react" in s.result.path


def test_external_signal_reaches_a_waiting_catch(tmp_path: Path) -> None:
    extra = '<bpmn:signal id="Sig" name="go"/>'
    catch = '<bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="Sig"/></bpmn:intermediateCatchEvent>'
    s = Scenario(write(tmp_path, START + catch + END + chain("start", "wait", "end"), extra=extra))
    assert s.result.waiting[0].kind == "signal"
    assert s.signal("go").status == "completed"


def test_link_events_connect(tmp_path: Path) -> None:
    body = (START + '<bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition name="B"/>'
            '</bpmn:intermediateThrowEvent><bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition name="B"/>'
            '</bpmn:intermediateCatchEvent>' + service("after", "after") + END + flow("f0", "start", "jump")
            + flow("f1", "land", "after") + flow("f2", "after", "end"))
    s = Scenario(write(tmp_path, body), registry(after=lambda c: {"ran": True}))
    assert s.result.status == "completed"
    assert s.result.path == ["start", "jump", "land", "after", "end"]


def test_link_throw_without_catch_is_refused_at_load(tmp_path: Path) -> None:
    body = (START + '<bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition name="nowhere"/>'
            '</bpmn:intermediateThrowEvent>' + flow("f0", "start", "jump"))
    with pytest.raises(DefinitionError) as err:
        Scenario(write(tmp_path, body))
    assert "diagram.bpmn:" in str(err.value) and "link" in str(err.value)


def test_bpmn_error_from_handler_is_caught_by_error_boundary(tmp_path: Path) -> None:
    extra = '<bpmn:error id="Err" name="Declined" errorCode="PAYMENT_DECLINED"/>'

    def charge(call):
        raise BpmnError("PAYMENT_DECLINED", "card declined")
    body = (START + service("charge", "charge") + '<bpmn:boundaryEvent id="declined" attachedToRef="charge">'
            '<bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>' + service("notify", "notify")
            + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_declined"/>' + flow("f0", "start", "charge")
            + flow("f1", "charge", "end") + flow("f2", "declined", "notify") + flow("f3", "notify", "end_declined"))
    s = Scenario(write(tmp_path, body, extra=extra), registry(charge=charge, notify=lambda c: {"told": True}))
    assert s.result.status == "completed"
    assert s.result.path[-3:] == ["declined", "notify", "end_declined"]
    assert "charge" not in s.result.path


def test_uncaught_bpmn_error_fails_naming_the_code(tmp_path: Path) -> None:
    def charge(call):
        raise BpmnError("PAYMENT_DECLINED", "card declined")
    s = Scenario(write(tmp_path, START + service("charge", "charge") + END + chain("start", "charge", "end")),
                 registry(charge=charge))
    assert s.result.status == "failed"
    assert "PAYMENT_DECLINED" in s.result.error and "charge" in s.result.error


def test_handler_exception_fails_the_task_with_its_own_error(tmp_path: Path) -> None:
    def broken(call):
        raise ConnectionError("upstream 503")
    s = Scenario(write(tmp_path, START + service("call", "svc") + END + chain("start", "call", "end")),
                 registry(svc=broken))
    assert s.result.status == "failed"
    assert "ConnectionError: upstream 503" in s.result.error
    assert "call" in s.result.error and "NameError" not in s.result.error


def test_error_event_subprocess_catches_a_handler_error(tmp_path: Path) -> None:
    extra = '<bpmn:error id="Err" errorCode="BOOM"/>'

    def boom(call):
        raise BpmnError("BOOM")
    body = (START + service("work", "work") + END + chain("start", "work", "end") +
            '<bpmn:subProcess id="on_error" triggeredByEvent="true"><bpmn:startEvent id="err_start">'
            '<bpmn:errorEventDefinition errorRef="Err"/></bpmn:startEvent>' + service("cleanup", "cleanup")
            + '<bpmn:endEvent id="err_end"/>' + chain("err_start", "cleanup", "err_end") + '</bpmn:subProcess>')
    s = Scenario(write(tmp_path, body, extra=extra), registry(work=boom, cleanup=lambda c: {"cleaned": True}))
    assert s.result.status == "completed"
    assert "cleanup" in s.result.path and "end" not in s.result.path


def test_embedded_subprocess_with_error_end_caught_on_its_boundary(tmp_path: Path) -> None:
    extra = '<bpmn:error id="Err" errorCode="E1"/>'
    body = (START + '<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/>'
            '<bpmn:endEvent id="s_err"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>'
            + flow("sf", "s_start", "s_err") + '</bpmn:subProcess><bpmn:boundaryEvent id="caught" attachedToRef="sub">'
            '<bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_err"/>' + flow("f0", "start", "sub") + flow("f1", "sub", "end")
            + flow("f2", "caught", "end_err"))
    s = Scenario(write(tmp_path, body, extra=extra))
    assert s.result.status == "completed" and s.result.path[-1] == "end_err"


def test_escalation_end_caught_by_non_interrupting_boundary(tmp_path: Path) -> None:
    extra = '<bpmn:escalation id="Esc" escalationCode="LATE"/>'
    body = (START + '<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/><bpmn:parallelGateway id="ps"/>'
            '<bpmn:intermediateThrowEvent id="s_esc"><bpmn:escalationEventDefinition escalationRef="Esc"/>'
            '</bpmn:intermediateThrowEvent><bpmn:endEvent id="s_end"/>'
            + flow("sf0", "s_start", "s_esc") + flow("sf1", "s_esc", "s_end") + '</bpmn:subProcess>'
            '<bpmn:boundaryEvent id="esc" attachedToRef="sub" cancelActivity="false">'
            '<bpmn:escalationEventDefinition escalationRef="Esc"/></bpmn:boundaryEvent>' + service("notify", "n")
            + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_n"/>' + flow("f0", "start", "sub")
            + flow("f1", "sub", "end") + flow("f2", "esc", "notify") + flow("f3", "notify", "end_n"))
    s = Scenario(write(tmp_path, body, extra=extra), registry(n=lambda c: {"notified": True}))
    assert s.result.status == "completed"
    assert "notify" in s.result.path and "end" in s.result.path


def test_embedded_subprocess_with_user_task_reloads_inside(tmp_path: Path) -> None:
    body = (START + '<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/><bpmn:userTask id="inner"/>'
            '<bpmn:endEvent id="s_end"/>' + chain("s_start", "inner", "s_end") + '</bpmn:subProcess>' + END
            + chain("start", "sub", "end"))
    s = Scenario(write(tmp_path, body))
    assert s.waiting_ids() == ["inner"]
    assert s.complete("inner", {"x": 1}).status == "completed"
    assert s.result.data["x"] == 1


def test_call_activity_across_files(tmp_path: Path) -> None:
    child = write(tmp_path, START + service("child_work", "child") + END + chain("start", "child_work", "end"),
                  name="child.bpmn", process_id="child_process")
    parent = write(tmp_path, START + '<bpmn:callActivity id="call" calledElement="child_process"/>'
                   + '<bpmn:endEvent id="p_end"/>' + chain("start", "call", "p_end"), name="parent.bpmn",
                   process_id="parent_process")
    s = Scenario([parent, child], registry(child=lambda c: {"y": c.data["x"] * 10}), process_id="parent_process",
                 data={"x": 2})
    assert s.result.status == "completed"
    assert s.result.data["y"] == 20 and "child_work" in s.result.path


def test_call_activity_target_found_beside_the_file(tmp_path: Path) -> None:
    write(tmp_path, START + END + chain("start", "end"), name="child.bpmn", process_id="child_process")
    parent = write(tmp_path, START + '<bpmn:callActivity id="call" calledElement="child_process"/>'
                   + '<bpmn:endEvent id="p_end"/>' + chain("start", "call", "p_end"), name="parent.bpmn",
                   process_id="parent_process")
    s = Scenario(parent)
    assert s.result.status == "completed"
    assert any("child.bpmn" in note for note in s.result.notes)


def test_missing_call_activity_target_is_a_definition_error_with_line(tmp_path: Path) -> None:
    parent = write(tmp_path, START + '\n<bpmn:callActivity id="call" calledElement="nowhere"/>'
                   + '<bpmn:endEvent id="p_end"/>' + chain("start", "call", "p_end"), name="parent.bpmn")
    with pytest.raises(DefinitionError) as err:
        Scenario(parent)
    assert "parent.bpmn:" in str(err.value) and "nowhere" in str(err.value)
    assert err.value.line == 6


def test_parallel_multi_instance_over_a_collection(tmp_path: Path) -> None:
    mi = ('<bpmn:serviceTask id="each" camunda:type="external" camunda:topic="double">'
          '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
          '<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef><bpmn:inputDataItem id="item" name="item"/>'
          '<bpmn:outputDataItem id="result" name="result"/></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>')
    s = Scenario(write(tmp_path, START + mi + END + chain("start", "each", "end")),
                 registry(double=lambda c: {"result": c.data["item"] * 2}), data={"items": [1, 2, 3]})
    assert s.result.status == "completed"
    assert s.result.data["results"] == [2, 4, 6]


def test_standard_loop_repeats_until_the_condition(tmp_path: Path) -> None:
    loop = ('<bpmn:serviceTask id="inc" camunda:type="external" camunda:topic="inc"><bpmn:standardLoopCharacteristics>'
            '<bpmn:loopCondition>i &lt; 5</bpmn:loopCondition></bpmn:standardLoopCharacteristics></bpmn:serviceTask>')
    s = Scenario(write(tmp_path, START + loop + END + chain("start", "inc", "end")),
                 registry(inc=lambda c: {"i": c.data["i"] + 1}), data={"i": 0})
    assert s.result.status == "completed" and s.result.data["i"] == 5


def test_script_task_runs_sandboxed_python(tmp_path: Path) -> None:
    script = '<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:script>total = price * qty</bpmn:script></bpmn:scriptTask>'
    s = Scenario(write(tmp_path, START + script + END + chain("start", "calc", "end")), data={"price": 3, "qty": 4})
    assert s.result.data["total"] == 12


def test_script_task_that_imports_is_refused_naming_the_flag(tmp_path: Path) -> None:
    script = '<bpmn:scriptTask id="calc"><bpmn:script>import os\nx = os.getcwd()</bpmn:script></bpmn:scriptTask>'
    s = Scenario(write(tmp_path, START + script + END + chain("start", "calc", "end")))
    assert s.result.status == "failed"
    assert "calc" in s.result.error and "--trust-scripts" in s.result.error


def test_terminate_end_event_stops_other_branches(tmp_path: Path) -> None:
    body = (START + '<bpmn:parallelGateway id="split"/><bpmn:userTask id="never"/>'
            '<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent><bpmn:endEvent id="end"/>'
            + flow("f0", "start", "split") + flow("f1", "split", "never") + flow("f2", "split", "stop")
            + flow("f3", "never", "end"))
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed" and "stop" in s.result.path and "never" not in s.result.path


def test_event_based_gateway_takes_the_message_and_drops_the_timer(tmp_path: Path) -> None:
    extra = '<bpmn:message id="Msg" name="answer"/>'
    body = (START + '<bpmn:eventBasedGateway id="gw"/><bpmn:intermediateCatchEvent id="got">'
            '<bpmn:messageEventDefinition messageRef="Msg"/></bpmn:intermediateCatchEvent>'
            '<bpmn:intermediateCatchEvent id="timeout"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D'
            '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            '<bpmn:endEvent id="end_ok"/><bpmn:endEvent id="end_late"/>' + flow("f0", "start", "gw")
            + flow("f1", "gw", "got") + flow("f2", "gw", "timeout") + flow("f3", "got", "end_ok")
            + flow("f4", "timeout", "end_late"))
    s = Scenario(write(tmp_path, body, extra=extra), timer_wait=0)
    assert s.result.status == "waiting"
    result = s.message("answer")
    assert result.status == "completed" and s.full_path[-1] == "end_ok"


def test_send_task_with_binding_calls_its_handler(tmp_path: Path) -> None:
    send = '<bpmn:sendTask id="mail" camunda:type="external" camunda:topic="mail.send"/>'
    s = Scenario(write(tmp_path, START + send + END + chain("start", "mail", "end")),
                 registry(mail_send=lambda c: {"sent": True}))
    assert s.result.data["sent"] is True


def test_business_rule_task_evaluates_its_dmn_decision(tmp_path: Path) -> None:
    dmn = ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
           'id="d" name="d" namespace="http://camunda.org/schema/1.0/dmn">'
           '<decision id="discount" name="Discount"><decisionTable id="t">'
           '<input id="i1" label="Tier"><inputExpression id="e1" typeRef="string"><text>tier</text></inputExpression></input>'
           '<output id="o1" name="discount" typeRef="integer"/>'
           '<rule id="r1"><inputEntry id="ie1"><text>"gold"</text></inputEntry><outputEntry id="oe1"><text>10</text></outputEntry></rule>'
           '<rule id="r2"><inputEntry id="ie2"><text>"silver"</text></inputEntry><outputEntry id="oe2"><text>5</text></outputEntry></rule>'
           '</decisionTable></decision></definitions>')
    (tmp_path / "discount.dmn").write_text(dmn, encoding="utf-8")
    rule = ('<bpmn:businessRuleTask id="decide" camunda:decisionRef="discount" camunda:resultVariable="discount" '
            'camunda:mapDecisionResult="singleEntry"/>')
    path = write(tmp_path, START + rule + END + chain("start", "decide", "end"))
    s = Scenario(path, data={"tier": "gold"})
    assert s.result.status == "completed" and s.result.data["discount"] == 10


def test_compensation_boundary_without_a_handler_is_refused_at_load_with_line(tmp_path: Path) -> None:
    """Compensation runs (tests/test_compensation.py); a boundary event with no handler to run cannot."""
    body = (START + service("a", "a") + '<bpmn:boundaryEvent id="comp" attachedToRef="a">'
            '<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>' + END + chain("start", "a", "end"))
    with pytest.raises(DefinitionError) as err:
        Scenario(write(tmp_path, body), registry(a=lambda c: None))
    assert "diagram.bpmn:5:" in str(err.value) and "isForCompensation" in str(err.value)


def test_complex_gateway_is_refused_at_load_with_line(tmp_path: Path) -> None:
    body = START + '<bpmn:complexGateway id="cx"/>' + END + chain("start", "cx", "end")
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, body))
    assert "diagram.bpmn:" in str(err.value) and "complexGateway" in str(err.value)


def test_spiffarena_json_schema_form_fields_are_offered(tmp_path: Path) -> None:
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "order.json").write_text(
        '{"required": ["qty"], "properties": {"qty": {"title": "Quantity", "type": "integer", "default": 1},'
        ' "color": {"type": "string", "enum": ["red", "blue"]}}}')
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="order.json"/></spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:userTask>')
    s = Scenario(write(tmp_path, START + user + END + chain("start", "ask", "end")))
    fields = {f.id: f for f in s.instance.waiting()[0].fields}
    assert fields["qty"].label == "Quantity" and fields["qty"].required and fields["qty"].type == "long"
    assert fields["color"].options == ["red", "blue"]


def test_timer_due_exactly_now_fires_and_a_still_clock_never_spins(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone
    start = datetime(2032, 1, 1, tzinfo=timezone.utc)
    now = [start]
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    s = Scenario(write(tmp_path, START + timer + END + chain("start", "wait", "end")), timer_wait=0,
                 clock=lambda: now[0])
    assert s.result.status == "waiting"
    assert s.resume().status == "waiting"  # the clock did not move: the run returns instead of spinning
    now[0] = start + timedelta(hours=1)
    assert s.resume().status == "completed"


def test_history_has_one_join_and_no_unfired_boundary_events(tmp_path: Path) -> None:
    extra = '<bpmn:error id="Err" errorCode="E"/>'
    body = (START + '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>' + service("a", "a")
            + service("b", "b") + '<bpmn:boundaryEvent id="oops" attachedToRef="a"><bpmn:errorEventDefinition '
            'errorRef="Err"/></bpmn:boundaryEvent><bpmn:endEvent id="end_oops"/>' + END
            + flow("f0", "start", "split") + flow("f1", "split", "a") + flow("f2", "split", "b")
            + flow("f3", "a", "join") + flow("f4", "b", "join") + flow("f5", "join", "end")
            + flow("f6", "oops", "end_oops"))
    s = Scenario(write(tmp_path, body, extra=extra), registry(a=lambda c: None, b=lambda c: None))
    events = [(h.element_id, h.event) for h in s.result.history]
    assert events.count(("join", "entered")) == 1 and events.count(("join", "completed")) == 1
    assert not [e for e in events if e[0] == "oops"]
    assert sorted(s.result.flows) == ["f0", "f1", "f2", "f3", "f4", "f5"]

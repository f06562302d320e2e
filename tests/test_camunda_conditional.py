"""Conditional events (boundary, intermediate, event sub-process start) evaluated when variables change."""

from __future__ import annotations

from pathlib import Path

from .scenario import Scenario, write
from .test_elements import START, chain, flow

C7_CONDITIONAL = "docs.camunda.org/manual/latest/reference/bpmn20/events/conditional-events"


def condition(text: str, filters: str = "") -> str:
    return (f'<bpmn:conditionalEventDefinition {filters}><bpmn:condition xsi:type="bpmn:tFormalExpression">{text}'
            f'</bpmn:condition></bpmn:conditionalEventDefinition>')


def parallel_with_boundary(cond: str, filters: str = "", interrupting: bool = True) -> str:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return (START + '<bpmn:parallelGateway id="split"/><bpmn:userTask id="review"/><bpmn:userTask id="other"/>'
            f'<bpmn:boundaryEvent id="cancel" attachedToRef="review"{cancel}>{condition(cond, filters)}'
            '</bpmn:boundaryEvent><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
            + chain("start", "split", "review", "e1") + flow("fo", "split", "other") + flow("fo2", "other", "e2")
            + flow("fc", "cancel", "e3"))


def test_a_boundary_condition_fires_when_another_branch_sets_the_variable(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/conditional-events (Conditional Boundary Event):
    the condition is checked when variables change; a missing variable is false, not an incident."""
    s = Scenario(write(tmp_path, parallel_with_boundary("${cancelRequested}")))
    assert s.result.status == "waiting" and "cancel" in s.waiting_ids()
    s.complete("other", {"cancelRequested": True})
    assert s.result.status == "completed", s.result.error
    assert "cancel" in s.full_path and "e3" in s.full_path and "e1" not in s.full_path


def test_variable_name_filter_ignores_changes_of_other_variables(tmp_path: Path) -> None:
    """conditional-events page (camunda:variableName): the condition is evaluated only when that variable
    changes."""
    s = Scenario(write(tmp_path, parallel_with_boundary("${y &gt; 5}", 'camunda:variableName="x"')))
    s.complete("other", {"y": 10})
    assert s.result.status == "waiting" and "review" in s.waiting_ids()


def test_variable_events_filter_listens_to_the_named_change_only(tmp_path: Path) -> None:
    """conditional-events page (camunda:variableEvents="update"): creating the variable does not trigger."""
    body = (START + '<bpmn:parallelGateway id="split"/><bpmn:userTask id="review"/><bpmn:userTask id="first"/>'
            '<bpmn:userTask id="second"/><bpmn:boundaryEvent id="cancel" attachedToRef="review">'
            + condition("${x &gt; 5}", 'camunda:variableName="x" camunda:variableEvents="update"')
            + '</bpmn:boundaryEvent><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
            + chain("start", "split", "review", "e1") + flow("fo", "split", "first") + chain("first", "second", "e2")
            + flow("fc", "cancel", "e3"))
    s = Scenario(write(tmp_path, body))
    s.complete("first", {"x": 10})
    assert "review" in s.waiting_ids()  # created, not updated
    s.complete("second", {"x": 11})
    assert "cancel" in s.full_path and "review" not in s.waiting_ids()


def test_a_boundary_condition_that_becomes_true_inside_a_sub_process_fires(tmp_path: Path) -> None:
    """conditional-events page: a conditional boundary event on a sub-process fires when a step inside it makes
    the condition true."""
    sub = ('<bpmn:subProcess id="sub"><bpmn:startEvent id="s1"/><bpmn:scriptTask id="calc" scriptFormat="javascript">'
           '<bpmn:script>execution.setVariable("stop", amount &gt; 10)</bpmn:script></bpmn:scriptTask>'
           '<bpmn:userTask id="wait"/><bpmn:endEvent id="s2"/>' + chain("s1", "calc", "wait", "s2") + '</bpmn:subProcess>')
    body = (START + sub + f'<bpmn:boundaryEvent id="cancel" attachedToRef="sub">{condition("${stop}")}'
            '</bpmn:boundaryEvent><bpmn:endEvent id="e1"/><bpmn:endEvent id="e3"/>' + chain("start", "sub", "e1")
            + flow("fc", "cancel", "e3"))
    assert Scenario(write(tmp_path, body), data={"amount": 5}).result.status == "waiting"
    s = Scenario(write(tmp_path, body), data={"amount": 50})
    assert s.result.status == "completed" and s.result.path[-1] == "e3"


def test_an_intermediate_conditional_event_waits_until_true(tmp_path: Path) -> None:
    """conditional-events page (Intermediate Conditional Catch Event): the process waits until the condition is
    satisfied."""
    body = (START + '<bpmn:parallelGateway id="split"/><bpmn:userTask id="prepare"/>'
            f'<bpmn:intermediateCatchEvent id="ready">{condition("${goods == &quot;packed&quot;}")}'
            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
            + chain("start", "split", "ready", "e1") + flow("fp", "split", "prepare") + flow("fp2", "prepare", "e2"))
    s = Scenario(write(tmp_path, body))
    assert set(s.waiting_ids()) == {"prepare", "ready"}
    s.complete("prepare", {"goods": "packed"})
    assert s.result.status == "completed", s.result.error
    assert "e1" in s.full_path


def test_an_event_sub_process_with_a_conditional_start_runs_when_true(tmp_path: Path) -> None:
    """conditional-events page (Conditional Start Event of an event sub-process)."""
    body = (START + '<bpmn:userTask id="work"/><bpmn:endEvent id="end"/>' + chain("start", "work", "end")
            + '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es" isInterrupting="false">'
            + condition("${urgent}") + '</bpmn:startEvent><bpmn:scriptTask id="flag" scriptFormat="javascript">'
            '<bpmn:script>execution.setVariable("escalated", true)</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="ee"/>' + chain("es", "flag", "ee") + '</bpmn:subProcess>'
            '<bpmn:userTask id="raise"/><bpmn:endEvent id="end2"/>'
            + '<bpmn:parallelGateway id="split"/>')
    body = body.replace(chain("start", "work", "end"), chain("start", "split", "work", "end")
                        + flow("fr", "split", "raise") + flow("fr2", "raise", "end2"))
    s = Scenario(write(tmp_path, body))
    assert "work" in s.waiting_ids()
    s.complete("raise", {"urgent": True})
    assert "flag" in s.full_path and "work" in s.waiting_ids()

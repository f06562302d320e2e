"""Camunda variable scopes: input/output mappings on every activity, call-activity passing, local variables."""

from __future__ import annotations

from pathlib import Path

from .scenario import Scenario, write
from .test_elements import END, START, chain

C7_VARIABLES = "docs.camunda.org/manual/latest/user-guide/process-engine/variables"
C7_CALL = "docs.camunda.org/manual/latest/reference/bpmn20/subprocesses/call-activity"
C8_MAPPINGS = "docs.camunda.io/docs/components/concepts/variables"


def js(task_id: str, code: str, extra: str = "") -> str:
    return (f'<bpmn:scriptTask id="{task_id}" scriptFormat="javascript">{extra}<bpmn:script>{code}</bpmn:script>'
            f'</bpmn:scriptTask>')


def io(*params: str) -> str:
    return f'<bpmn:extensionElements><camunda:inputOutput>{"".join(params)}</camunda:inputOutput></bpmn:extensionElements>'


def inp(name: str, value: str) -> str:
    return f'<camunda:inputParameter name="{name}">{value}</camunda:inputParameter>'


def out(name: str, value: str) -> str:
    return f'<camunda:outputParameter name="{name}">{value}</camunda:outputParameter>'


def test_input_parameters_are_local_to_a_script_task_and_hide_a_process_variable(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/variables (Input/Output Variable Mapping): input
    parameters are local variables of the activity; a variable set with setVariable goes to the process."""
    task = js("task", 'execution.setVariable("doubled", x * 2);', io(inp("x", "${base + 4}")))
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data={"x": 1, "base": 1})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"x": 1, "base": 1, "doubled": 10}


def test_user_task_mappings_in_camunda7(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/variables: the output parameter is evaluated in
    the activity's scope when it ends; its local input variable vanishes."""
    task = ('<bpmn:userTask id="task">' + io(inp("label", "Review ${orderId}"), out("decision", "${approved}"))
            + '</bpmn:userTask>')
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data={"orderId": 7})
    assert s.instance.waiting()[0].element_id == "task"
    s.complete("task", {"approved": True})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"orderId": 7, "approved": True, "decision": True}


def test_zeebe_user_task_with_output_mappings_keeps_completion_variables_local(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/concepts/variables (Output mappings): when output mappings are defined,
    the variables of the completion are local; only the mapped ones reach the process."""
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements><zeebe:ioMapping>'
            '<zeebe:input source="=amount * 2" target="double"/><zeebe:output source="=double + bonus" '
            'target="result"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:userTask>')
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data={"amount": 5})
    s.complete("task", {"bonus": 1, "note": "hi"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"amount": 5, "result": 11}


def test_sub_process_input_is_seen_inside_and_vanishes_after(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/variables: a sub-process with input parameters has
    them as local variables for everything inside; variables set inside without a local one go to the process."""
    sub = ('<bpmn:subProcess id="sub">' + io(inp("limit", "${10 * factor}"))
           + '<bpmn:startEvent id="s_start"/>' + js("inner", 'execution.setVariable("seen", limit);')
           + '<bpmn:endEvent id="s_end"/>' + chain("s_start", "inner", "s_end") + '</bpmn:subProcess>')
    s = Scenario(write(tmp_path, START + sub + END + chain("start", "sub", "end")), data={"factor": 3})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"factor": 3, "seen": 30}


def _child(tmp_path: Path) -> Path:
    body = (START + js("work", 'execution.setVariable("z", execution.getVariable("x") + execution.getVariable("y"));'
                       '\nexecution.setVariable("sawSecret", execution.hasVariable("secret"));')
            + END + chain("start", "work", "end"))
    return write(tmp_path, body, name="child.bpmn", process_id="child")


def _parent(tmp_path: Path, passing: str) -> Path:
    call = (f'<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements>{passing}'
            '</bpmn:extensionElements></bpmn:callActivity>')
    return write(tmp_path, START + call + END + chain("start", "call", "end"), name="parent.bpmn",
                 process_id="parent")


def test_camunda7_call_activity_passes_only_what_in_and_out_say(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/subprocesses/call-activity (Passing Variables): camunda:in
    with source or sourceExpression and target; camunda:out back; nothing else crosses."""
    passing = ('<camunda:in source="a" target="x"/><camunda:in sourceExpression="${b * 10}" target="y"/>'
               '<camunda:out source="z" target="total"/><camunda:out source="sawSecret" target="childSawSecret"/>')
    s = Scenario([_parent(tmp_path, passing), _child(tmp_path)], process_id="parent",
                 data={"a": 1, "b": 2, "secret": 3})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"a": 1, "b": 2, "secret": 3, "total": 21, "childSawSecret": False}


def test_camunda7_call_activity_with_all_variables(tmp_path: Path) -> None:
    """call-activity page: <camunda:in variables="all"/> and <camunda:out variables="all"/> copy every variable."""
    passing = '<camunda:in variables="all"/><camunda:out variables="all"/>'
    s = Scenario([_parent(tmp_path, passing), _child(tmp_path)], process_id="parent",
                 data={"x": 1, "y": 2, "secret": 3})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"x": 1, "y": 2, "secret": 3, "z": 3, "sawSecret": True}


def test_zeebe_call_activity_without_child_propagation_maps_outputs_only(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/modeler/bpmn/call-activities (Variable mappings): with
    propagateAllChildVariables="false" only the output mappings bring child variables back."""
    child = write(tmp_path, START + '<bpmn:scriptTask id="work"><bpmn:extensionElements><zeebe:script '
                  'expression="=x + y" resultVariable="z"/></bpmn:extensionElements></bpmn:scriptTask>' + END
                  + chain("start", "work", "end"), name="child.bpmn", process_id="child")
    call = ('<bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="child" '
            'propagateAllChildVariables="false"/><zeebe:ioMapping><zeebe:output source="=z" target="total"/>'
            '</zeebe:ioMapping></bpmn:extensionElements></bpmn:callActivity>')
    parent = write(tmp_path, START + call + END + chain("start", "call", "end"), name="parent.bpmn",
                   process_id="parent")
    s = Scenario([parent, child], process_id="parent", data={"x": 1, "y": 2})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"x": 1, "y": 2, "total": 3}


def test_camunda7_call_activity_without_in_passes_nothing(tmp_path: Path) -> None:
    """call-activity page (Passing Variables): Camunda 7 passes variables only through camunda:in/camunda:out."""
    call = ('<bpmn:callActivity id="call" calledElement="child" camunda:asyncBefore="false"/>')
    parent = write(tmp_path, START + call + END + chain("start", "call", "end"), name="parent.bpmn",
                   process_id="parent")
    s = Scenario([parent, _child(tmp_path)], process_id="parent", data={"x": 1, "y": 2, "secret": 3})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"x": 1, "y": 2, "secret": 3}


def _multi_instance(tmp_path: Path, sequential: bool) -> tuple[Scenario, list[dict]]:
    from .scenario import registry
    flag = ' isSequential="true"' if sequential else ""
    task = ('<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="t">'
            f'<bpmn:multiInstanceLoopCharacteristics camunda:collection="${{items}}" camunda:elementVariable="item"{flag}>'
            '<bpmn:completionCondition>${nrOfCompletedInstances &gt;= 2}</bpmn:completionCondition>'
            '</bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>')
    seen: list[dict] = []
    reg = registry()
    reg.register("t", lambda call: seen.append(dict(call.data)) or {"last": call.data["item"]})
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), reg,
                 data={"items": ["a", "b", "c"]})
    return s, seen


def test_sequential_multi_instance_counters_and_local_element_variable(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/tasks/task-markers (Multiple Instance): loopCounter,
    nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances inside each instance and in the completion
    condition; the element variable is local to its instance; what an instance sets reaches the process."""
    s, seen = _multi_instance(tmp_path, sequential=True)
    assert s.result.status == "completed", s.result.error
    counts = [(d["loopCounter"], d["nrOfInstances"], d["nrOfActiveInstances"], d["nrOfCompletedInstances"])
              for d in seen]
    assert counts == [(0, 3, 1, 0), (1, 3, 1, 1)]  # the completion condition stops it after two
    assert s.result.data == {"items": ["a", "b", "c"], "last": "b"}


def test_parallel_multi_instance_counters(tmp_path: Path) -> None:
    """task-markers page: in a parallel multi-instance all instances are active from the start; the completion
    condition cancels the rest."""
    s, seen = _multi_instance(tmp_path, sequential=False)
    assert s.result.status == "completed", s.result.error
    assert [(d["loopCounter"], d["nrOfActiveInstances"]) for d in seen] == [(0, 3), (1, 3)]
    assert "item" not in s.result.data and "loopCounter" not in s.result.data


def test_camunda7_call_activity_local_passing(tmp_path: Path) -> None:
    """call-activity page (Passing Variables: local="true" passes only the call activity's local variables in, and
    sets the child's variables as local ones on the way out, which only output parameters carry further)."""
    passing = ('<camunda:inputOutput><camunda:inputParameter name="x">${a}</camunda:inputParameter>'
               '<camunda:inputParameter name="y">${b}</camunda:inputParameter>'
               '<camunda:outputParameter name="total">${z}</camunda:outputParameter></camunda:inputOutput>'
               '<camunda:in variables="all" local="true"/><camunda:out variables="all" local="true"/>')
    s = Scenario([_parent(tmp_path, passing), _child(tmp_path)], process_id="parent",
                 data={"a": 1, "b": 2, "secret": 3})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"a": 1, "b": 2, "secret": 3, "total": 3}

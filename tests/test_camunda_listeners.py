"""Camunda execution and task listeners: called as handlers with a ListenerCall, in Camunda's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.errors import UnsupportedElementError
from bpmn_runner.modeler.scaffold import scaffold

from .scenario import Scenario, registry, write
from .test_elements import END, START, chain

DELEGATION = "docs.camunda.org/manual/latest/user-guide/process-engine/delegation-code"

USER_TASK = ('<bpmn:userTask id="task"><bpmn:extensionElements>'
             '<camunda:inputOutput><camunda:inputParameter name="local">${1}</camunda:inputParameter>'
             '<camunda:outputParameter name="mapped">${local + 1}</camunda:outputParameter></camunda:inputOutput>'
             '<camunda:executionListener event="start" class="com.acme.Audit"/>'
             '<camunda:executionListener event="end" delegateExpression="${auditDelegate}"/>'
             '<camunda:taskListener event="create" expression="${notifier.created(task, 5)}"/>'
             '<camunda:taskListener event="complete" class="com.acme.Audit"/>'
             '<camunda:executionListener event="end"><camunda:script scriptFormat="javascript">'
             'execution.setVariable("endedBy", "script")</camunda:script></camunda:executionListener>'
             '</bpmn:extensionElements></bpmn:userTask>')
TAKE_FLOW = ('<bpmn:sequenceFlow id="f_out" sourceRef="task" targetRef="end"><bpmn:extensionElements>'
             '<camunda:executionListener expression="${execution.setVariable(\'took\', true)}"/>'
             '</bpmn:extensionElements></bpmn:sequenceFlow>')


def recording(log: list) -> object:
    def listener(call):
        log.append((call.scope, call.event, call.listener, call.args, "local" in call.data, "mapped" in call.data))
        return {"calls": len(log)}
    return listener


def test_camunda7_listeners_run_in_camundas_order(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/delegation-code (Execution Listener, Task
    Listener) and .../variables (input mappings before start listeners, output mappings before end listeners):
    start, task create, task complete, end, then take on the outgoing flow; class, delegateExpression, expression
    and script listeners."""
    log: list = []
    reg = registry()
    for name in ("com.acme.Audit", "auditDelegate", "notifier.created"):
        reg.register(name, recording(log))
    s = Scenario(write(tmp_path, START + USER_TASK + END + chain("start", "task") + TAKE_FLOW), reg)
    assert s.result.status == "waiting"
    s.complete("task", {"ok": True})
    assert s.result.status == "completed", s.result.error
    assert [entry[:3] for entry in log] == [
        ("execution", "start", "com.acme.Audit"), ("task", "create", "notifier.created"),
        ("task", "complete", "com.acme.Audit"), ("execution", "end", "auditDelegate")]
    assert log[0][4] is True                       # the start listener sees the input mapping's local variable
    assert log[1][3][1] == 5                       # expression arguments are evaluated
    assert log[3][4:] == (False, True)             # the end listener runs after the output mapping
    assert s.result.data == {"calls": 4, "ok": True, "mapped": 2, "endedBy": "script", "took": True}


def test_a_cancelled_user_task_gets_delete_and_end_listeners(tmp_path: Path) -> None:
    """delegation-code page (Task Listener: delete fires when the task is removed, e.g. by an interrupting
    boundary event; the end execution listener fires too)."""
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements>'
            '<camunda:taskListener event="delete" class="audit"/><camunda:executionListener event="end" '
            'class="audit"/></bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:boundaryEvent id="cancel" attachedToRef="task"><bpmn:messageEventDefinition messageRef="m"/>'
            '</bpmn:boundaryEvent><bpmn:endEvent id="end_c"/>')
    log: list = []
    reg = registry()
    reg.register("audit", recording(log))
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end") + chain("cancel", "end_c"),
                       extra='<bpmn:message id="m" name="cancel"/>'), reg)
    s.message("cancel")
    assert s.result.status == "completed", s.result.error
    assert [entry[:2] for entry in log] == [("task", "delete"), ("execution", "end")]


def test_camunda8_execution_listeners_call_their_job_type(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/concepts/execution-listeners: start listeners before the element, end
    listeners after it, each a job of the given type."""
    task = ('<bpmn:serviceTask id="task"><bpmn:extensionElements><zeebe:taskDefinition type="work"/>'
            '<zeebe:executionListeners><zeebe:executionListener eventType="start" type="before"/>'
            '<zeebe:executionListener eventType="end" type="after"/></zeebe:executionListeners>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    order: list[str] = []
    reg = registry()
    reg.register("before", lambda call: order.append("before:" + call.event) or {"ready": True})
    reg.register("work", lambda call: order.append(f"work:{call.data['ready']}") or None)
    reg.register("after", lambda call: order.append("after:" + call.event) or None)
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), reg)
    assert s.result.status == "completed", s.result.error
    assert order == ["before:start", "work:True", "after:end"]


def test_scaffold_writes_a_stub_per_listener_handler(tmp_path: Path) -> None:
    """delegation-code page: a class, delegate expression or expression listener names code to write."""
    path = write(tmp_path, START + USER_TASK + END + chain("start", "task", "end"))
    result = scaffold([path])
    assert {stub.name for stub in result.stubs} == {"com.acme.Audit", "auditDelegate", "notifier.created"}
    assert "def com_acme_audit(call: ListenerCall)" in result.source


@pytest.mark.parametrize("listener, words", [
    ('<camunda:taskListener event="update" class="a"/>', "update task listeners"),
    ('<camunda:executionListener event="start"><camunda:script scriptFormat="groovy">x</camunda:script>'
     '</camunda:executionListener>', "'groovy'"),
])
def test_listeners_that_cannot_run_are_refused_at_load(tmp_path: Path, listener: str, words: str) -> None:
    """delegation-code page; bpmn-runner runs JavaScript listener scripts and no update task listeners."""
    task = f'<bpmn:userTask id="task"><bpmn:extensionElements>{listener}</bpmn:extensionElements></bpmn:userTask>'
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")))
    assert words in str(err.value) and "'task'" in str(err.value)


def test_a_listener_without_a_handler_is_refused_before_the_instance_starts(tmp_path: Path) -> None:
    """delegation-code page: Camunda fails to deploy a class it cannot load; bpmn-runner names the missing
    listener handler before anything runs."""
    from bpmn_runner.errors import UnboundTaskError
    with pytest.raises(UnboundTaskError) as err:
        Scenario(write(tmp_path, START + USER_TASK + END + chain("start", "task", "end")))
    assert "listener on 'task' needs a handler for 'com.acme.Audit'" in str(err.value)
    assert "diagram.bpmn:" in str(err.value)


def test_validate_reports_a_listener_handler_that_is_not_registered(tmp_path: Path) -> None:
    """delegation-code page: each class, delegate expression or expression listener names code; validate finds
    the missing ones as it does for service tasks."""
    from bpmn_runner.lint import lint
    path = write(tmp_path, START + USER_TASK + END + chain("start", "task", "end"))
    reg = registry()
    reg.register("com.acme.Audit", lambda call: None)
    reg.register("auditDelegate", lambda call: None)
    findings = [f for f in lint([path], handlers=reg, handlers_given=True) if f.rule == "handler-not-registered"]
    assert len(findings) == 1 and "'notifier.created'" in findings[0].message and findings[0].severity == "error"


@pytest.mark.parametrize("platform", ["camunda7", "camunda8"])
def test_a_listener_handler_gets_an_element_template_that_passes_the_published_schema(platform: str) -> None:
    """Camunda Modeler element templates (camunda:executionListener / zeebe:executionListener bindings, in the
    published schemas under tests/data/element-templates-schema) attach the listener to any flow node."""
    from bpmn_runner import HandlerRegistry, handler
    from bpmn_runner.modeler.templates import element_templates

    from .test_modeler import schema_errors, schema_validator

    @handler("audit.start", label="Audit start", listener="start")
    def audit(call):
        return None

    reg = HandlerRegistry()
    reg.add(audit)
    [(name, template)] = element_templates(reg, platform)
    assert schema_errors(schema_validator(platform), template) == []
    binding = template["properties"][0]["binding"]
    assert template["appliesTo"] == ["bpmn:FlowNode"] and template["properties"][0]["value"] == "audit.start"
    assert binding["type"] == ("zeebe:executionListener" if platform == "camunda8" else "camunda:executionListener")


def test_complete_from_the_store_runs_listeners_with_the_handlers_given(tmp_path: Path) -> None:
    """delegation-code page (Task Listener: complete): a store-backed `complete` runs the listener handlers it is
    given; without them the step is refused and the task stays open."""
    import json as _json

    from typer.testing import CliRunner

    from bpmn_runner.cli import app
    cli = CliRunner()
    db = f"sqlite:///{tmp_path / 'store.db'}"
    module = tmp_path / "listeners.py"
    module.write_text("from bpmn_runner import handler\n\n@handler('audit')\ndef audit(call):\n"
                      "    return {'audited': call.event}\n")
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements><camunda:taskListener event="complete" '
            'class="audit"/></bpmn:extensionElements></bpmn:userTask>')
    path = write(tmp_path, START + task + END + chain("start", "task", "end"))
    assert cli.invoke(app, ["start", str(path), "--db", db]).exit_code == 0
    task_id = _json.loads(cli.invoke(app, ["tasks", "--db", db, "--json"]).stdout)["tasks"][0]["task_id"]
    refused = cli.invoke(app, ["complete", task_id, "--db", db])
    assert refused.exit_code == 3 and "'audit'" in refused.stderr
    done = cli.invoke(app, ["complete", task_id, "--db", db, "--handlers", str(module), "--json"])
    assert done.exit_code == 0 and _json.loads(done.stdout)["status"] == "completed"

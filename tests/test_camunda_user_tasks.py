"""User tasks like Tasklist: camunda:formData types and constraints enforced on completion; assignment evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.errors import InvalidOperationError

from .scenario import Scenario, write
from .test_elements import END, START, chain

FORM = ('<bpmn:userTask id="task" camunda:assignee="${owner}" camunda:candidateGroups="sales, management" '
        'camunda:candidateUsers="${backup}" camunda:dueDate="${due}" camunda:followUpDate="2031-01-02T09:00:00" '
        'camunda:priority="80"><bpmn:extensionElements><camunda:formData>'
        '<camunda:formField id="amount" label="Amount" type="long"><camunda:validation>'
        '<camunda:constraint name="required"/><camunda:constraint name="min" config="1"/>'
        '<camunda:constraint name="max" config="1000"/></camunda:validation></camunda:formField>'
        '<camunda:formField id="comment" type="string"><camunda:validation>'
        '<camunda:constraint name="minlength" config="2"/><camunda:constraint name="maxlength" config="5"/>'
        '</camunda:validation></camunda:formField>'
        '<camunda:formField id="approved" type="boolean"/>'
        '<camunda:formField id="deliver" type="date"/>'
        '<camunda:formField id="tier" type="enum"><camunda:value id="gold" name="Gold"/>'
        '<camunda:value id="silver" name="Silver"/></camunda:formField>'
        '<camunda:formField id="ref" type="string"><camunda:validation><camunda:constraint name="readonly"/>'
        '</camunda:validation></camunda:formField>'
        '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')
DATA = {"owner": "demo", "backup": "mary,peter", "due": "2031-01-01T10:00:00"}


def scenario(tmp_path: Path) -> Scenario:
    return Scenario(write(tmp_path, START + FORM + END + chain("start", "task", "end")), data=dict(DATA))


@pytest.mark.parametrize("submitted, words", [
    ({"comment": "hi"}, "'amount' (Amount) is required"),
    ({"amount": "abc"}, "'amount' (Amount) must be a whole number"),
    ({"amount": 0}, "'amount' (Amount) must be at least 1"),
    ({"amount": 5000}, "'amount' (Amount) must be at most 1000"),
    ({"amount": 5, "comment": "x"}, "'comment' must have at least 2 characters"),
    ({"amount": 5, "comment": "too long"}, "'comment' must have at most 5 characters"),
    ({"amount": 5, "approved": "yes"}, "'approved' must be true or false"),
    ({"amount": 5, "deliver": "tomorrow"}, "'deliver' must be a date"),
    ({"amount": 5, "tier": "bronze"}, "'tier' must be one of gold, silver"),
    ({"amount": 5, "ref": "X"}, "'ref' is read-only"),
])
def test_a_form_that_breaks_a_constraint_is_refused_naming_the_field(tmp_path: Path, submitted: dict,
                                                                      words: str) -> None:
    """docs.camunda.org/manual/latest/user-guide/task-forms (Generated Task Forms: form field types string, long,
    boolean, date, enum; validation constraints required, minlength, maxlength, min, max, readonly)."""
    s = scenario(tmp_path)
    with pytest.raises(InvalidOperationError) as err:
        s.complete("task", submitted)
    assert words in str(err.value) and "task" in str(err.value)
    assert s.waiting_ids() == ["task"]  # still open


def test_a_valid_form_is_converted_to_the_field_types(tmp_path: Path) -> None:
    """task-forms page: long, boolean and date fields hold typed values (date as dd/MM/yyyy)."""
    s = scenario(tmp_path)
    s.complete("task", {"amount": "12", "approved": "true", "deliver": "31/01/2031", "tier": "gold"})
    assert s.result.status == "completed", s.result.error
    assert {k: s.result.data[k] for k in ("amount", "approved", "deliver", "tier")} == \
        {"amount": 12, "approved": True, "deliver": "2031-01-31", "tier": "gold"}


def test_assignment_attributes_are_evaluated_when_the_task_is_created(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/tasks/user-task (assignee, candidateUsers,
    candidateGroups, dueDate, followUpDate, priority; expressions allowed)."""
    waiting = scenario(tmp_path).instance.waiting()[0]
    assert waiting.assignment == {"assignee": "demo", "candidateGroups": ["sales", "management"],
                                  "candidateUsers": ["mary", "peter"], "dueDate": "2031-01-01T10:00:00",
                                  "followUpDate": "2031-01-02T09:00:00", "priority": 80}


def test_zeebe_assignment_schedule_priority_and_form(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/modeler/bpmn/user-tasks (assignments, scheduling, priority, forms)."""
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements><zeebe:userTask/>'
            '<zeebe:assignmentDefinition assignee="=owner" candidateGroups="sales"/>'
            '<zeebe:taskSchedule dueDate="=due"/><zeebe:priorityDefinition priority="=70"/>'
            '<zeebe:formDefinition formId="approve-form"/></bpmn:extensionElements></bpmn:userTask>')
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data=dict(DATA))
    assert s.instance.waiting()[0].assignment == {"assignee": "demo", "candidateGroups": ["sales"],
                                                 "dueDate": "2031-01-01T10:00:00", "priority": 70,
                                                 "formKey": "approve-form"}


def test_claim_and_unclaim_set_the_assignee_and_run_the_assignment_listener(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/webapps/tasklist/working-with-tasklist (claim / unclaim) and
    user-guide/process-engine/delegation-code (Task Listener: assignment fires when the assignee changes)."""
    from .scenario import registry
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements><camunda:taskListener event="assignment" '
            'class="notify"/></bpmn:extensionElements></bpmn:userTask>')
    seen: list = []
    reg = registry()
    reg.register("notify", lambda call: seen.append(call.task.get("assignee")) or None)
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), reg)
    task_id = s.instance.waiting()[0].task_id
    s.instance.claim(task_id, "mary")
    assert s.instance.waiting()[0].assignment == {"assignee": "mary"} and seen == ["mary"]
    s.reload()
    assert s.instance.waiting()[0].assignment == {"assignee": "mary"}  # kept in the saved state
    s.instance.unclaim(task_id)
    assert s.instance.waiting()[0].assignment == {}


def test_tasks_claim_and_unclaim_from_the_command_line(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/webapps/tasklist/working-with-tasklist: filter by assignee and candidate
    group, claim and unclaim; the form is checked on complete."""
    import json as _json

    from typer.testing import CliRunner

    from bpmn_runner.cli import app
    cli = CliRunner()
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = write(tmp_path, START + FORM + END + chain("start", "task", "end"))
    assert cli.invoke(app, ["start", str(path), "--db", db, "--data", _json.dumps(DATA)]).exit_code == 0
    listed = cli.invoke(app, ["tasks", "--db", db])
    assert "assignee: demo" in listed.stdout and "groups: sales, management" in listed.stdout
    task_id = _json.loads(cli.invoke(app, ["tasks", "--db", db, "--json"]).stdout)["tasks"][0]["task_id"]
    assert cli.invoke(app, ["claim", task_id, "mary", "--db", db]).exit_code == 0
    assert task_id in cli.invoke(app, ["tasks", "--db", db, "--assignee", "mary"]).stdout
    assert "no open user tasks" in cli.invoke(app, ["tasks", "--db", db, "--assignee", "demo"]).stdout
    assert task_id in cli.invoke(app, ["tasks", "--db", db, "--group", "sales"]).stdout
    assert "no open user tasks" in cli.invoke(app, ["tasks", "--db", db, "--group", "hr"]).stdout
    assert cli.invoke(app, ["unclaim", task_id, "--db", db]).exit_code == 0
    assert "assignee" not in cli.invoke(app, ["tasks", "--db", db]).stdout
    refused = cli.invoke(app, ["complete", task_id, "--db", db, "--data", '{"amount": "lots"}'])
    assert refused.exit_code == 2 and "'amount' (Amount) must be a whole number" in refused.stderr
    assert cli.invoke(app, ["complete", task_id, "--db", db, "--data", '{"amount": "7"}']).exit_code == 0

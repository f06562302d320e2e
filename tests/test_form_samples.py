"""A simulated person fills a Camunda 7 generated form the way Tasklist accepts it: every value passes the field's
type and validation constraints (https://docs.camunda.org/manual/latest/user-guide/task-forms/#form-field-validation),
and a read-only field is not submitted."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.form_samples import sample_form_data
from bpmn_runner.models import UserTaskField

from .scenario import write
from .test_elements import END, START, chain


def test_a_simulated_person_fills_a_constrained_camunda_form(tmp_path: Path) -> None:
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="count" type="long"><camunda:validation>'
            '<camunda:constraint name="min" config="3"/></camunda:validation></camunda:formField>'
            '<camunda:formField id="code" label="C" type="string"><camunda:validation>'
            '<camunda:constraint name="required"/><camunda:constraint name="minlength" config="4"/>'
            '</camunda:validation></camunda:formField>'
            '<camunda:formField id="shown" type="string"><camunda:validation>'
            '<camunda:constraint name="readonly"/></camunda:validation></camunda:formField>'
            '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    path = write(tmp_path, START + user + END + chain("start", "ask", "end"))
    result = CliRunner().invoke(app, ["run", str(path), "--simulate", "--json"])
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["status"] == "completed", result.output
    assert payload["data"] == {"count": 3, "code": "Cxxx"}


def test_fields_without_constraints_get_their_default_option_or_a_value_of_their_type() -> None:
    fields = [UserTaskField("n", "N", "long", "5"), UserTaskField("ok", "Ok", "boolean"),
              UserTaskField("size", "Size", "enum", options=["S", "M"]), UserTaskField("name", "Name", required=True),
              UserTaskField("note", "Note"), UserTaskField("x", "X", "number")]
    assert sample_form_data(fields) == {"n": 5, "ok": False, "size": "S", "name": "Name", "note": "", "x": 0}

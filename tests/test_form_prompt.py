"""The terminal prompt of `run` for a SpiffArena JSON-schema form (react-jsonschema-form, as SpiffArena's
"Forms" page describes them): it asks each field of the schema (string, number, boolean, enum; required ones
marked), checks the answers against the schema, says what is wrong by field, asks those fields again, then
completes the task with typed data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.cli import run as run_module

from .scenario import definitions_xml
from .test_elements import END, START, chain

SCHEMA = {
    "title": "Refund",
    "type": "object",
    "required": ["customer", "amount", "reason"],
    "properties": {
        "customer": {"type": "string", "title": "Customer", "minLength": 2},
        "amount": {"type": "number", "title": "Amount", "minimum": 0},
        "urgent": {"type": "boolean", "title": "Urgent", "default": False},
        "reason": {"type": "string", "title": "Reason", "enum": ["damaged", "late", "other"]},
        "note": {"type": "string", "title": "Note"},
    },
}


def refund(tmp_path: Path) -> Path:
    (tmp_path / "refund-schema.json").write_text(json.dumps(SCHEMA))
    user = ('<bpmn:userTask id="ask" name="Ask for the refund"><bpmn:extensionElements>'
            '<spiffworkflow:instructionsForEndUser>Fill in the refund</spiffworkflow:instructionsForEndUser>'
            '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
            'value="refund-schema.json"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
    path = tmp_path / "refund.bpmn"
    path.write_text(definitions_xml(START + user + END + chain("start", "ask", "end"), process_id="refund"))
    return path


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "_is_terminal", lambda: True)


def test_the_prompt_asks_the_schema_fields_says_what_is_wrong_by_field_then_completes(tmp_path: Path,
                                                                                      terminal: None) -> None:
    """Given a JSON-schema form, When a person answers `X` for customer (too short), `-5` for amount (below the
    minimum), takes the default for urgent, `refund` for reason (not a choice) and leaves note empty,
    Then the prompt names customer, amount and reason with their problems, asks only those again, and the task
    completes with typed data (a number, a boolean, the enum value; the empty note left out)."""
    answers = ["X", "-5", "", "refund", "",   # first round: customer, amount, urgent, reason, note
               "Ada Lovelace", "12.5", "damaged"]  # second round: only the three wrong fields
    db = f"sqlite:///{tmp_path / 'forms.db'}"
    result = CliRunner().invoke(app, ["run", str(refund(tmp_path)), "--db", db, "--user", "ada"],
                                input="\n".join(answers) + "\n")
    out = result.stdout
    assert result.exit_code == 0, out
    assert "Fill in the refund" in out
    assert "Customer *" in out and "Reason * [damaged/late/other]" in out and "Urgent [yes/no]" in out
    assert "Customer (customer): 'X' is too short" in out
    assert "Amount (amount): -5 is less than the minimum of 0" in out
    assert "Reason (reason): 'refund' is not one of ['damaged', 'late', 'other']" in out
    second_round = out.split("is not one of")[1]
    assert "Urgent" not in second_round and "Note" not in second_round  # the right answers are not asked again
    assert "refund: completed" in out
    instance = out.split("(instance ", 1)[1].split(")", 1)[0]
    shown = json.loads(CliRunner().invoke(app, ["show", instance, "--db", db, "--json"]).stdout)
    assert shown["data"] == {"customer": "Ada Lovelace", "amount": 12.5, "urgent": False, "reason": "damaged"}
    assert [(c["element_id"], c["user"]) for c in shown["completed_by"]] == [("ask", "ada")]


def test_a_required_field_left_empty_is_asked_again(tmp_path: Path, terminal: None) -> None:
    answers = ["", "3", "yes", "late", "n/a",   # customer left empty
               "Grace Hopper"]
    result = CliRunner().invoke(app, ["run", str(refund(tmp_path))], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.stdout
    assert "Customer (customer): is required" in result.stdout
    assert "refund: completed" in result.stdout


def test_an_object_field_is_answered_as_json(tmp_path: Path, terminal: None) -> None:
    schema = {"type": "object", "required": ["address"],
              "properties": {"address": {"type": "object", "title": "Address", "required": ["city"],
                                         "properties": {"city": {"type": "string"}}}}}
    (tmp_path / "addr-schema.json").write_text(json.dumps(schema))
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            'name="formJsonSchemaFilename" value="addr-schema.json"/></spiffworkflow:properties>'
            '</bpmn:extensionElements></bpmn:userTask>')
    path = tmp_path / "addr.bpmn"
    path.write_text(definitions_xml(START + user + END + chain("start", "ask", "end"), process_id="addr"))
    result = CliRunner().invoke(app, ["run", str(path)], input='{"street": "x"}\n{"city": "Oslo"}\n')
    assert result.exit_code == 0, result.stdout
    assert "Address (address): 'city' is a required property" in result.stdout
    assert "addr: completed" in result.stdout and '"city": "Oslo"' in result.stdout

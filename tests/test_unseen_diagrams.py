"""Diagrams nobody here has run before walk under `run --simulate --json` (issue 14, "Done when": the same holds
on diagrams nobody here has seen). tests/data/unseen holds small diagrams written for this test in the styles of
bpmn.io (isExecutable="false", gateways without conditions, no start event, bpmn-engine JavaScript), Camunda
Modeler 7 and 8 exports (timers without a definition, a call activity and a decision whose targets are not there,
JUEL and FEEL conditions over data that does not exist yet, JavaScript, a called process id computed by FEEL, a
timer start without a time) and SpiffArena exports (get_env(), get_current_user(), a JSON-schema form, a missing
called process, a secret that is not set, pre- and post-scripts, a complex gateway, a pool without a process). Each run
reaches an end or a wait, prints no traceback, and lists what it assumed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app

UNSEEN = Path(__file__).parent / "data" / "unseen"

EXPECTED = {  # file -> (outcome, words each expected assumption contains, by element)
    "bpmnio_leave_request.bpmn": ("completed", {"Process_LeaveRequest": 'isExecutable="false"',
                                                "Gateway_1r2h0cv": "has no condition"}),
    "bpmnio_no_start_event.bpmn": ("completed", {"Activity_collect": "simulated person"}),
    "bpmnio_engine_javascript.bpmn": ("completed", {"send": "simulated person"}),
    "camunda7_invoice.bpmn": ("completed", {"Task_read": "no handler", "Gateway_checks": "does not exist yet"}),
    "camunda7_subprocess_sketch.bpmn": ("completed", {"Task_photos": "simulated person"}),
    "camunda8_shipping.bpmn": ("waiting", {"Task_rate": "was not found", "Gateway_heavy": "does not exist yet"}),
    "spiffarena/finance/expense-claim/expense-claim.bpmn": ("completed", {"enter_claim": '"category": "travel"',
                                                                          "pay_out": "secret"}),
    "spiffarena_contract_sketch.bpmn": ("completed", {"cg": "walked as an inclusive gateway",
                                                      "m": "skipped"}),
    "camunda8_dynamic_call.bpmn": ("completed", {"s": "fires at once", "ca": "computed (=subId)",
                                                 "late": "fires at once"}),
    "spiffarena_invoice_loop.bpmn": ("completed", {"rate": "'tax_rate' was not found", "retry_loop": "the loop ends",
                                                   "approve": "'nope-schema.json' was not found"}),
}


def simulate(path: Path, *extra: str) -> dict:
    result = CliRunner().invoke(app, ["run", str(path), "--simulate", "--json", *extra], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_unseen_diagram_is_covered_here() -> None:
    found = {str(p.relative_to(UNSEEN)) for p in UNSEEN.rglob("*.bpmn")}
    assert found == set(EXPECTED) and len(found) >= 5


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_unseen_diagram_walks_and_lists_what_it_assumed(name: str) -> None:
    outcome, assumptions = EXPECTED[name]
    out = simulate(UNSEEN / name)
    assert out["status"] == outcome, out
    if outcome == "waiting":
        assert out["waiting"], out
    listed = {}
    for item in out["simulated"]:
        listed.setdefault(item["element_id"], []).append(item["assumed"])
    for element, words in assumptions.items():
        assert any(words in text for text in listed.get(element, [])), (element, listed)
    assert len(out["simulated"]) == len({(s["element_id"], s["assumed"]) for s in out["simulated"]})


def test_the_spiffarena_model_sees_the_user_and_the_environment() -> None:
    out = simulate(UNSEEN / "spiffarena/finance/expense-claim/expense-claim.bpmn", "--user", "dana")
    assert out["data"]["claimant"] == "dana" and out["data"]["environment_name"] == "local"
    assert out["data"]["message"] == "dana claimed 42.5 for travel (local)"


def test_bpmn_engine_javascript_runs_for_real_with_its_next_callback_in_conditions() -> None:
    """bpmn-engine: a script condition ends with next(err, result); environment.output wins over variables."""
    data = json.dumps({"items": [{"price": 400}, {"price": 300}]})
    result = CliRunner().invoke(app, ["run", str(UNSEEN / "bpmnio_engine_javascript.bpmn"), "--json", "--data", data])
    out = json.loads(result.stdout)
    assert out["path"] == ["start", "price", "big", "discount"] and out["waiting"] == ["send"]
    assert out["data"]["total"] == 630


def test_a_drawing_marked_not_executable_is_still_refused_for_a_real_run() -> None:
    result = CliRunner().invoke(app, ["run", str(UNSEEN / "bpmnio_leave_request.bpmn")])
    assert result.exit_code == 3 and "no executable process" in result.output


@pytest.mark.parametrize("name, refused", [("spiffarena_contract_sketch.bpmn", "complexGateway"),
                                           ("camunda8_dynamic_call.bpmn", "computed by an expression")])
def test_what_a_simulation_stands_in_for_is_still_refused_for_a_real_run(name: str, refused: str) -> None:
    result = CliRunner().invoke(app, ["run", str(UNSEEN / name)])
    assert result.exit_code == 3 and refused in result.output

"""Scenario files (`*.scenario.yaml`) and `bpmn-runner test`: analysts' scenarios pass or fail with the path taken,
coverage is printed per diagram, and a malformed file is one `file:line: error:` line with exit 3."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.coverage import Coverage, read_model
from bpmn_runner.scenarios import (
    FakeClock,
    ScenarioFileError,
    ScenarioRunner,
    find_scenario_files,
    load_scenario_file,
    parse_duration,
    subsequence_problem,
)

from .scenario import write
from .test_elements import START, flow

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def order_copy(tmp_path: Path) -> Path:
    """The order diagram, handlers and data in a folder of their own, without the shipped scenarios."""
    for name in ("order_fulfillment.bpmn", "order_handlers.py", "order_fulfillment.data.json"):
        shutil.copy(PROCESSES / name, tmp_path / name)
    return tmp_path


# --- the shipped order scenarios --------------------------------------------------------------------------------

def test_the_order_scenarios_pass_with_full_coverage() -> None:
    result = invoke("test", str(PROCESSES))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    passed = [line for line in lines if line.startswith("PASS ")]
    assert len(passed) == 9 and not [line for line in lines if line.startswith("FAIL ")]
    assert any("happy.scenario.yaml: in stock, card accepted, shipped" in line for line in passed)
    assert any("declined.scenario.yaml: declined card" in line for line in passed)
    assert any("backorder.scenario.yaml: out of stock, back-ordered, shipped" in line for line in passed)
    assert any("saga.scenario.yaml: no carrier, refunded and released" in line for line in passed)
    assert any("order_events.placed.scenario.yaml: order placed, shipped" in line for line in passed)
    assert re.search(r"^\S*order_fulfillment\.bpmn: coverage 100\.0%", result.output, re.M), result.output
    assert any("review.scenario.yaml: large order rejected, nothing charged" in line for line in passed)
    assert re.search(r"^\S*order_events\.bpmn: coverage 100\.0%", result.output, re.M), result.output
    assert "9 scenarios: 9 passed, 0 failed" in result.output


def test_a_bpmn_file_finds_the_scenarios_beside_it() -> None:
    files = find_scenario_files([PROCESSES / "order_fulfillment.bpmn"])
    assert sorted(f.name for f in files) == ["order_fulfillment.backorder.scenario.yaml",
                                             "order_fulfillment.declined.scenario.yaml",
                                             "order_fulfillment.happy.scenario.yaml",
                                             "order_fulfillment.review.scenario.yaml",
                                             "order_fulfillment.saga.scenario.yaml"]


def test_one_scenario_covers_part_of_the_diagram_and_the_report_says_what(tmp_path: Path) -> None:
    out = tmp_path / "cov"
    result = invoke("test", str(PROCESSES / "order_fulfillment.happy.scenario.yaml"), "--coverage-dir", str(out))
    assert result.exit_code == 0, result.output
    match = re.search(r"order_fulfillment\.bpmn: coverage (\d+\.\d)%", result.output)
    assert match and 50 < float(match.group(1)) < 100
    summary = json.loads((out / "coverage.json").read_text())["diagrams"][0]
    uncovered = {n["id"] for n in summary["nodes"] if not n["covered"]}
    assert uncovered == {"Activity_CreateBackOrder", "Event_CardDeclined", "Activity_NotifyDeclined",
                         "Event_OrderCancelled", "Event_NoCarrier", "Event_UndoOrder", "Activity_NotifyCancelled",
                         "Event_OrderRefunded", "Event_RefundCharge", "Activity_RefundPayment",
                         "Event_ReleaseReservation", "Activity_ReleaseStock", "Activity_ReviewOrder",
                         "Gateway_Approved", "Event_OrderRejected"}
    html = (out / "order_fulfillment.html").read_text()
    assert 'class="element shape serviceTask uncovered"' in html and "traversed covered" in html


def test_fail_under_exits_1_when_coverage_is_too_low() -> None:
    result = invoke("test", str(PROCESSES / "order_fulfillment.happy.scenario.yaml"), "--fail-under", "95")
    assert result.exit_code == 1
    assert "is below --fail-under 95%" in result.output


# --- failing scenarios ------------------------------------------------------------------------------------------

def test_a_failing_scenario_exits_1_and_shows_the_path_taken(tmp_path: Path) -> None:
    folder = order_copy(tmp_path)
    (folder / "order_fulfillment.wrong.scenario.yaml").write_text(
        "handlers: order_handlers.py\n"
        "name: expects a back-order for a book in stock\n"
        "given:\n  data_file: order_fulfillment.data.json\n"
        "when:\n  - advance: PT1S\n"
        "then:\n"
        "  path: [Activity_CheckStock, Activity_CreateBackOrder]\n"
        "  end: Event_OrderShipped\n"
        "  data: {inStock: false, order: {sku: BOOK-42}}\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1, result.output
    assert "FAIL  " in result.output and "expects a back-order for a book in stock" in result.output
    assert "expected to pass Activity_CreateBackOrder after Activity_CheckStock, but it never did" in result.output
    assert "data.inStock: expected false, got true" in result.output
    assert "data.order" not in result.output.replace("data.order.sku", "")  # equal nested values are no problem
    assert "path taken: Event_OrderReceived → Activity_CheckStock → Gateway_InStock → Activity_ReserveStock" \
        in result.output
    assert "1 scenario: 0 passed, 1 failed" in result.output


def test_a_step_that_cannot_happen_says_where_the_instance_waits(tmp_path: Path) -> None:
    folder = order_copy(tmp_path)
    (folder / "order_fulfillment.msg.scenario.yaml").write_text(
        "handlers: order_handlers.py\ngiven: {data_file: order_fulfillment.data.json}\n"
        "when:\n  - message: {name: parcel-lost}\n", encoding="utf-8")
    result = invoke("test", str(folder))
    assert result.exit_code == 1
    assert ("step 1 (message 'parcel-lost', line 4): nothing waits for message 'parcel-lost'; it waits at "
            "Event_WaitForPickup") in result.output


# --- malformed files --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, message", [
    ("name: x\ngiven:\n  data: {a: 1\nthen:\n  end: y\n", 4, "not valid YAML"),
    ("name: x\ngiven:\n  dta: {a: 1}\n", 3, "unknown key 'dta' in given; did you mean 'data'?"),
    ("name: x\nwhen:\n  - advance: two hours\n", 3, "'two hours' is not a duration"),
    ("name: x\nthen:\n  status: done\n", 3, "status must be one of completed, waiting, failed"),
    ("name: x\nthen:\n  end: a\n  end: b\n", 4, "duplicate key 'end' (first on line 3)"),
    ("scenarios:\n  - name: a\n  - name: a\n", 3, "two scenarios are named 'a'"),
    ("given:\n  handlers:\n    payment.charge: {raises: {message: no}}\n", 3, "raises needs the BPMN error code"),
])
def test_a_malformed_scenario_file_is_one_line_with_its_line_number(tmp_path: Path, text: str, line: int,
                                                                     message: str) -> None:
    folder = order_copy(tmp_path)
    path = folder / "order_fulfillment.bad.scenario.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_file(path)
    assert f"order_fulfillment.bad.scenario.yaml:{line}: error: " in str(caught.value)
    assert message in str(caught.value)
    result = invoke("test", str(path))
    assert result.exit_code == 3
    assert result.output.strip().splitlines()[-1].endswith(str(caught.value).split(": error: ", 1)[1])
    assert "Traceback" not in result.output


def test_a_missing_diagram_or_handler_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.scenario.yaml"
    path.write_text("diagram: nowhere.bpmn\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r"x\.scenario\.yaml:1: error: diagram nowhere\.bpmn not found"):
        load_scenario_file(path)
    folder = order_copy(tmp_path)
    path = folder / "order_fulfillment.h.scenario.yaml"
    path.write_text("name: x\nhandlers: missing_handlers.py\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r":2: error: handler file missing_handlers\.py not found"):
        load_scenario_file(path)


# --- the format on a small diagram: user tasks, messages, the clock, fakes ------------------------------------

def approval_diagram(tmp_path: Path) -> Path:
    """start → review (user task) → event-based gateway → message 'payment-received' → notify → paid
                                                        → timer PT2H → timed-out"""
    extra = '<bpmn:message id="Msg" name="payment-received"/>'
    body = (START + '<bpmn:userTask id="review" name="Review"/><bpmn:eventBasedGateway id="gw"/>'
            '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="Msg"/>'
            '</bpmn:intermediateCatchEvent>'
            '<bpmn:intermediateCatchEvent id="timeout"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT2H</bpmn:timeDuration>'
            '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            '<bpmn:serviceTask id="notify" camunda:type="external" camunda:topic="crm.notify"/>'
            '<bpmn:endEvent id="end_paid"/><bpmn:endEvent id="end_timeout"/>'
            + flow("f1", "start", "review") + flow("f2", "review", "gw") + flow("f3", "gw", "paid")
            + flow("f4", "gw", "timeout") + flow("f5", "paid", "notify") + flow("f6", "notify", "end_paid")
            + flow("f7", "timeout", "end_timeout"))
    return write(tmp_path, body, name="approval.bpmn", extra=extra)


APPROVAL_SCENARIOS = """\
given:
  data: {order: A-1}
  user_tasks:
    review: {approved: true}
  handlers:
    crm.notify: {returns: {notified: true}}
scenarios:
  - name: paid in time
    when:
      - message: {name: payment-received, payload: {amount: 12}, at: gw}
    then:
      path: [review, paid, notify]
      not_passed: [timeout]
      end: end_paid
      data: {order: A-1, approved: true, amount: 12, notified: true}
      calls: {crm.notify: 1}
  - name: still waiting after an hour
    when:
      - advance: PT1H
    then:
      waits_at: [gw]           # an event-based gateway waits for whichever comes first
      calls: {crm.notify: 0}
  - name: times out after two hours
    when:
      - advance: PT1H
      - advance: PT1H
        after: gw
    then:
      exact_path: [start, review, gw, timeout, end_timeout]
      end: end_timeout
"""


def test_user_tasks_messages_and_the_clock(tmp_path: Path) -> None:
    approval_diagram(tmp_path)
    (tmp_path / "approval.scenario.yaml").write_text(APPROVAL_SCENARIOS, encoding="utf-8")
    scenario_file = load_scenario_file(tmp_path / "approval.scenario.yaml")
    assert scenario_file.diagrams == [tmp_path / "approval.bpmn"]  # found from the file's name
    run = ScenarioRunner()
    results = run.run_file(scenario_file)
    assert [(r.name, r.passed) for r in results] == [("paid in time", True), ("still waiting after an hour", True),
                                                    ("times out after two hours", True)], \
        "\n".join(r.explain() for r in results if not r.passed)
    summary = run.coverage.summary(tmp_path / "approval.bpmn")
    assert summary["percentage"] == 100.0
    by_test = {t["name"].split("::")[1]: set(t["nodes"]) for t in summary["tests"]}
    # while the event-based gateway waits, neither alternative counts: each counts only once it fires
    assert by_test["still waiting after an hour"] == {"start", "review", "gw"}


def test_a_handler_that_fails_and_an_expected_failure(tmp_path: Path) -> None:
    approval_diagram(tmp_path)
    (tmp_path / "approval.fails.scenario.yaml").write_text(
        "given:\n  user_tasks: {review: {}}\n  handlers:\n    crm.notify: {fails: CRM is down}\n"
        "when:\n  - message: payment-received\n"
        "then:\n  status: failed\n  error: CRM is down\n  path: [paid, notify]\n", encoding="utf-8")
    results = ScenarioRunner().run_file(load_scenario_file(tmp_path / "approval.fails.scenario.yaml"))
    assert results[0].passed, results[0].explain()


def test_an_unbound_task_fails_the_scenario_with_the_task_named(tmp_path: Path) -> None:
    approval_diagram(tmp_path)
    (tmp_path / "approval.scenario.yaml").write_text("name: no handlers\n", encoding="utf-8")
    result = ScenarioRunner().run_file(load_scenario_file(tmp_path / "approval.scenario.yaml"))[0]
    assert not result.passed
    assert "the process could not start" in result.problems[0] and "crm.notify" in result.problems[0]


# --- pieces -----------------------------------------------------------------------------------------------------

def test_path_is_a_subsequence() -> None:
    path = ["a", "b", "c", "d"]
    assert subsequence_problem(["a", "c", "d"], path) is None
    assert subsequence_problem(["c", "b"], path) == "expected to pass b after c, but it came before it"
    assert subsequence_problem(["a", "x"], path) == "expected to pass x after a, but it never did"


def test_durations_and_the_fake_clock() -> None:
    assert parse_duration("PT2H").total_seconds() == 7200
    assert parse_duration("P1DT30M").total_seconds() == 86400 + 1800
    assert parse_duration("P2W").days == 14
    assert parse_duration("90").total_seconds() == 90
    for bad in ("P1Y", "PT", "2 hours", "P"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    clock = FakeClock()
    start = clock.now()
    clock.advance("PT1S")
    assert (clock.now() - start).total_seconds() == pytest.approx(1.0, abs=1e-5)


def test_coverage_counts_the_order_diagram() -> None:
    model = read_model(PROCESSES / "order_fulfillment.bpmn")
    assert len(model.nodes) == 30 and len(model.flows) == 26
    assert {"Event_CardDeclined", "Event_RefundCharge"} <= model.deferred  # boundary events count once fired
    coverage = Coverage()
    coverage.add_diagram(PROCESSES / "order_fulfillment.bpmn")
    assert coverage.summaries()[0]["percentage"] == 0.0


def test_the_coverage_report_escapes_test_names() -> None:
    from bpmn_runner.report import render_coverage_report

    coverage = Coverage()
    path = PROCESSES / "order_fulfillment.bpmn"
    coverage.record([path], {"path": ["Event_OrderReceived"], "flows": []}, "test_<script>alert(1)</script>")
    html = render_coverage_report([str(path)], coverage.summary(path))
    assert "<script>" not in html and "test_&lt;script&gt;" in html
    assert "coverage-percentage" in html and "1.8%" in html  # 1 of 56 elements

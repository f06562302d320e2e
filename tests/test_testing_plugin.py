"""The pytest plugin (`bpmn_runner.testing`), tried on a small test project with pytester: fixtures, business
assertions and their failure messages, scenario files as tests, --bpmn-cov reports and --bpmn-cov-fail-under."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"

ORDER_TESTS = '''
import json
from pathlib import Path

HERE = Path(__file__).parent
DATA = json.loads((HERE / "order_fulfillment.data.json").read_text())


def test_happy_path(bpmn, bpmn_handlers):
    bpmn_handlers.load(HERE / "order_handlers.py")
    run = bpmn.start("order_fulfillment.bpmn", data=DATA)
    run.assert_waits_at("Event_WaitForPickup").assert_passed("Activity_ReserveStock", "Activity_BookShipment")
    run.advance("PT1S")
    run.assert_ended_at("Event_OrderShipped").assert_not_passed("Activity_CreateBackOrder")
    run.assert_path("Activity_CheckStock", "Activity_ChargePayment", "Activity_NotifyShipped")
    run.assert_data(orderStatus="shipped", order={"sku": "BOOK-42"}).assert_called("payment.charge", times=1)
    assert bpmn_handlers.calls("payment.charge")[0].params["card"] == "4242424242424242"


def test_declined_payment_with_a_fake(bpmn, bpmn_handlers):
    bpmn_handlers.load(HERE / "order_handlers.py").raises("payment.charge", "PAYMENT_DECLINED", "no funds")
    run = bpmn.start("order_fulfillment.bpmn", data=DATA)
    run.assert_path("Activity_ChargePayment", "Event_CardDeclined", "Activity_NotifyDeclined")
    run.assert_ended_at("Event_OrderCancelled").assert_data({"orderStatus": "cancelled"})
'''

ORDER_ALL_FAKES = '''
def test_back_order_with_fakes_only(bpmn, bpmn_handlers, bpmn_clock):
    for name in ("erp.reserve-stock", "payment.charge", "crm.update-order", "logistics.book-shipment",
                 "crm.notify-shipped", "crm.notify-declined", "payment.refund", "erp.release-stock",
                 "crm.notify-cancelled"):
        bpmn_handlers.returns(name)
    bpmn_handlers.returns("erp.check-stock", inStock=False).returns("erp.back-order", {"backOrderId": "BO-1"})
    order = {"id": "X", "sku": "S", "quantity": 1, "amount": 5.0, "card": "1"}
    run = bpmn.start("order_fulfillment.bpmn", data={"order": order})
    run.assert_waits_at("Event_WaitForPickup")
    bpmn_clock.advance(0.5)
    run.run().assert_waits_at("Event_WaitForPickup")
    bpmn_clock.advance(0.5)
    run.run().assert_ended_at("Event_OrderShipped").assert_data(backOrderId="BO-1")
    assert bpmn_handlers.calls("erp.back-order")[0].element_id == "Activity_CreateBackOrder"
'''

FAILING = '''
import json
from pathlib import Path

HERE = Path(__file__).parent


def test_expects_the_wrong_end(bpmn, bpmn_handlers):
    bpmn_handlers.load(HERE / "order_handlers.py")
    run = bpmn.start("order_fulfillment.bpmn", data=json.loads((HERE / "order_fulfillment.data.json").read_text()))
    run.advance("PT1S").assert_ended_at("Event_OrderCancelled")
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("order_fulfillment.bpmn", "order_handlers.py", "order_fulfillment.data.json"):
        shutil.copy(PROCESSES / name, pytester.path / name)
    return pytester


class _Svg(HTMLParser):
    """Classes of every SVG element group by its data-element-id."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: dict[str, set[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "g" and values.get("data-element-id") and "element" in (values.get("class") or "").split():
            self.classes.setdefault(values["data-element-id"] or "", set()).update((values["class"] or "").split())


def test_fixtures_and_business_assertions(project: pytest.Pytester) -> None:
    project.makepyfile(test_order=ORDER_TESTS, test_fakes=ORDER_ALL_FAKES)
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "BPMN coverage" not in result.stdout.str()  # nothing printed or written without the options
    assert not (project.path / "bpmn-coverage").exists()


def test_a_failed_assertion_shows_the_path_taken(project: pytest.Pytester) -> None:
    project.makepyfile(test_failing=FAILING)
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*ProcessAssertionError: expected to end at Event_OrderCancelled, ended at Event_OrderShipped",
        "*status: completed",
        "*path taken: Event_OrderReceived → Activity_CheckStock → Gateway_InStock → Activity_ReserveStock*"
        "Event_OrderShipped",
    ])


def test_bpmn_cov_writes_a_painted_report_per_diagram(project: pytest.Pytester) -> None:
    project.makepyfile(test_order=ORDER_TESTS)
    result = project.runpytest("-p", "no:cacheprovider", "--bpmn-cov")
    result.assert_outcomes(passed=2)
    match = re.search(r"order_fulfillment\.bpmn: coverage (\d+\.\d)%", result.stdout.str())
    assert match, result.stdout.str()
    percentage = float(match.group(1))
    assert 60 < percentage < 100  # the back-order branch and the saga path are not tested
    html = (project.path / "bpmn-coverage" / "order_fulfillment.html").read_text(encoding="utf-8")
    assert f"{percentage:.1f}%" in html
    svg = _Svg()
    svg.feed(html)
    assert {"traversed", "covered"} <= svg.classes["Activity_ReserveStock"]
    assert {"traversed", "covered"} <= svg.classes["Flow_CardDeclined"]
    assert "uncovered" in svg.classes["Activity_CreateBackOrder"]
    assert "uncovered" in svg.classes["Flow_InStockNo"]
    assert "test_order.py::test_declined_payment_with_a_fake" in html  # which test covered what
    data = json.loads((project.path / "bpmn-coverage" / "coverage.json").read_text())
    assert data["total"]["percentage"] == percentage
    node = next(n for n in data["diagrams"][0]["nodes"] if n["id"] == "Event_CardDeclined")
    assert node["tests"] == ["test_order.py::test_declined_payment_with_a_fake"]


def test_bpmn_cov_fail_under_fails_the_run(project: pytest.Pytester) -> None:
    project.makepyfile(test_order=ORDER_TESTS)
    low = project.runpytest("-p", "no:cacheprovider", "--bpmn-cov-fail-under", "99")
    assert low.ret == 1
    low.stdout.fnmatch_lines(["*FAIL: BPMN coverage *% is below --bpmn-cov-fail-under 99%*"])
    ok = project.runpytest("-p", "no:cacheprovider", "--bpmn-cov-fail-under", "50", "--bpmn-cov-dir", "out")
    assert ok.ret == 0
    assert (project.path / "out" / "order_fulfillment.html").is_file()


def test_scenario_files_are_collected_with_the_same_coverage(project: pytest.Pytester) -> None:
    for path in PROCESSES.glob("order_fulfillment.*.scenario.yaml"):
        shutil.copy(path, project.path / path.name)
    result = project.runpytest("-p", "no:cacheprovider", "--bpmn-cov", "-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*order_fulfillment.declined.scenario.yaml::declined card PASSED*",
                                 "order_fulfillment.bpmn: coverage 100.0%*"])


def test_a_failing_scenario_and_a_malformed_one(project: pytest.Pytester) -> None:
    (project.path / "order_fulfillment.wrong.scenario.yaml").write_text(
        "handlers: order_handlers.py\nname: wrong end\ngiven: {data_file: order_fulfillment.data.json}\n"
        "when:\n  - advance: PT1S\nthen:\n  end: Event_OrderCancelled\n", encoding="utf-8")
    (project.path / "order_fulfillment.broken.scenario.yaml").write_text(
        "name: broken\nthen:\n  path: [a, b\n", encoding="utf-8")
    result = project.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*order_fulfillment.broken.scenario.yaml:4: error: not valid YAML*",
        "*expected to end at Event_OrderCancelled, ended at Event_OrderShipped",
        "*path taken: Event_OrderReceived → *",
    ])


def test_importing_the_plugin_stays_light() -> None:
    code = ("import sys, bpmn_runner.testing; "
            "print(sorted(m for m in ('yaml', 'bpmn_runner.scenarios', 'bpmn_runner.coverage', 'bpmn_runner.report')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

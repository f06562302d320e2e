"""HTML reports: structure checked with an HTML parser, as an analyst would see the page."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
import re

import lxml.html
import pytest

from bpmn_runner.diagram import read_document
from bpmn_runner.errors import DefinitionError, ReportError, XmlError
from bpmn_runner.models import HistoryEvent, RunResult, WaitingTask
from bpmn_runner.report.instance import MAX_STEP_ROWS
from bpmn_runner.report import (
    CSP,
    render_definition_report,
    render_heatmap_report,
    render_instance_report,
)

DATA = Path(__file__).parent / "data" / "report"
ORDER = str(DATA / "order_collaboration.bpmn")
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def parse(html: str):
    return lxml.html.fromstring(html)


def rows_of(tree, table_class: str) -> dict:
    """Table rows by their data-element-id."""
    found = tree.xpath(f"//table[contains(@class,'{table_class}')]//tr[@data-element-id]")
    return {tr.get("data-element-id"): tr for tr in found}


def groups(tree, element_id: str):
    return tree.xpath("//svg//g[@data-element-id=$i]", i=element_id)


def classes(tree, element_id: str) -> set[str]:
    found = groups(tree, element_id)
    assert found, f"{element_id} is not drawn"
    return set(found[0].get("class").split())


def assert_self_contained(html: str) -> None:
    tree = parse(html)
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp == [CSP]
    assert "script-src" not in csp[0]
    assert tree.xpath("//script") == []
    for attr in ("href", "src", "xlink:href", "action"):
        for value in tree.xpath(f"//@*[local-name()='{attr.split(':')[-1]}']"):
            assert value.startswith("#"), f"external reference {value!r}"
    assert tree.xpath("//link") == [] and tree.xpath("//img") == []


SAMPLE_RUN = {
    "instance_id": "inst-42", "process_id": "Process_Order", "status": "waiting", "business_key": "ORD-7",
    "data": {"approved": True, "order": {"id": 7}},
    "error": None,
    "path": ["Start_Order", "Task_Review", "Gw_Ok", "Task_Charge", "Pack_Start", "Pack_Pick", "Pack_Pick",
             "Pack_Pick", "Pack_End", "Sub_Pack", "Ship_Start"],
    "flows": ["Flow_1", "Flow_2", "Flow_Ok", "Flow_3", "Pack_F1", "Pack_F2", "Flow_4", "Ship_F1"],
    "waiting": [{"element_id": "Ship_Book", "name": "Book courier", "kind": "message", "detail": "courier_booked"}],
    "incidents": [],
    "history": [
        {"element_id": "Start_Order", "event": "entered", "at": 1700000000.0, "name": "Order received",
         "element_type": "startEvent", "data_changes": {}, "detail": ""},
        {"element_id": "Start_Order", "event": "completed", "at": 1700000000.2, "name": "Order received",
         "element_type": "startEvent", "data_changes": {"order": {"id": 7}}, "detail": ""},
        {"element_id": "Task_Review", "event": "entered", "at": 1700000000.2, "name": "Review order",
         "element_type": "userTask", "data_changes": {}, "detail": ""},
        {"element_id": "Task_Review", "event": "completed", "at": 1700000060.2, "name": "Review order",
         "element_type": "userTask", "data_changes": {"approved": True}, "detail": "completed by ann"},
        {"element_id": "Pack_Pick", "event": "entered", "at": 1700000061.0, "data_changes": {}},
        {"element_id": "Pack_Pick", "event": "completed", "at": 1700000063.0, "data_changes": {}},
        {"element_id": "Pack_Pick", "event": "entered", "at": 1700000063.0, "data_changes": {}},
        {"element_id": "Pack_Pick", "event": "completed", "at": 1700000067.0, "data_changes": {}},
        {"element_id": "Ship_Book", "event": "entered", "at": 1700000070.0, "data_changes": {}},
    ],
    "messages_sent": [{"name": "order_confirmed", "at": 1700000000.5, "payload": {"order": 7}}],
    "messages_received": [{"name": "order_placed", "at": 1700000000.0, "payload": {"sku": "A-1"}}],
}


# --- definition report ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def definition_html() -> str:
    return render_definition_report([ORDER], handler_names={"payment.charge", "courier.book"})


def test_definition_report_is_self_contained(definition_html):
    assert_self_contained(definition_html)
    assert definition_html.startswith("<!DOCTYPE html>")


def test_every_di_element_is_drawn_with_its_bpmn_id(definition_html):
    tree = parse(definition_html)
    drawn = {g.get("data-element-id") for g in tree.xpath("//svg//g[@data-element-id]")}
    assert read_document(ORDER).di_element_ids <= drawn
    for g in tree.xpath("//svg//g[@data-element-id]"):
        assert "element" in g.get("class").split()


def test_kinds_are_classes_on_element_groups(definition_html):
    tree = parse(definition_html)
    assert {"element", "userTask"} <= classes(tree, "Task_Review")
    assert {"element", "participant"} <= classes(tree, "Pool_Shop")
    assert {"element", "lane"} <= classes(tree, "Lane_Warehouse")
    assert {"element", "boundaryEvent"} <= classes(tree, "Boundary_Slow")
    assert {"element", "messageFlow"} <= classes(tree, "MF_Order")
    assert {"element", "sequenceFlow"} <= classes(tree, "Flow_Rejected")


def test_markers_and_icons_are_drawn(definition_html):
    tree = parse(definition_html)
    assert groups(tree, "Task_Charge")[0].xpath(".//g[contains(@class, 'icon service')]")
    assert groups(tree, "Task_Review")[0].xpath(".//g[contains(@class, 'icon user')]")
    assert groups(tree, "Task_Notify")[0].xpath(".//g[contains(@class, 'icon send')]")
    assert groups(tree, "Boundary_Slow")[0].xpath(".//g[contains(@class, 'icon timer')]")
    assert groups(tree, "Boundary_Slow")[0].xpath(".//*[contains(@class, 'dashed')]")  # non-interrupting
    assert not groups(tree, "Boundary_Declined")[0].xpath(".//*[contains(@class, 'dashed')]")
    assert groups(tree, "End_Failed")[0].xpath(".//g[contains(@class, 'icon terminate')]")
    assert groups(tree, "Gw_Ok")[0].xpath(".//g[contains(@class, 'icon exclusive')]")
    assert groups(tree, "Ship_Book")[0].xpath(".//g[contains(@class, 'sequentialMultiInstance')]")
    assert groups(tree, "Flow_Rejected")[0].xpath(".//path[contains(@class, 'default')]")
    assert groups(tree, "MF_Order")[0].xpath(".//circle[@class='start-circle']")
    assert groups(tree, "DOA_Order")[0].xpath(".//path[contains(@class, 'head')]")


def test_names_are_written_and_pool_names_run_sideways(definition_html):
    tree = parse(definition_html)
    assert "Review order" in groups(tree, "Task_Review")[0].text_content()
    pool_text = groups(tree, "Pool_Shop")[0].xpath(".//text")[0]
    assert "rotate(-90" in pool_text.get("transform")
    assert pool_text.text_content() == "Shop"
    customer = groups(tree, "Pool_Customer")[0].xpath(".//text")[0]  # black-box pool: name across
    assert customer.get("transform") is None
    assert "shipping notice" in groups(tree, "MF_Shipped")[0].text_content()


def test_long_names_wrap_into_the_shape_width(tmp_path):
    path = tmp_path / "long.bpmn"
    path.write_text(Path(ORDER).read_text(encoding="utf-8").replace(
        'name="Review order"', 'name="Review the order against the customer contract and the credit limit"'),
        encoding="utf-8")
    tree = parse(render_definition_report([str(path)]))
    lines = groups(tree, "Task_Review")[0].xpath(".//text[@class='name']/tspan")
    assert len(lines) >= 3
    assert all(len(t.text) <= 18 for t in lines)


def test_viewbox_includes_negative_coordinates(definition_html):
    tree = parse(definition_html)
    x, y, w, h = (float(v) for v in tree.xpath("//svg")[0].get("viewbox").split())  # lxml.html lower-cases names
    assert y < -30 and y + h > 680 and x < 100 and x + w > 1400


def test_collapsed_subprocess_plane_is_reachable(definition_html):
    tree = parse(definition_html)
    sections = tree.xpath("//details[contains(@class, 'diagram')]")
    assert len(sections) == 2
    plane = [d for d in sections if d.xpath(".//g[@data-element-id='Pack_Pick']")]
    assert plane, "the sub-process plane is not rendered"
    anchor = plane[0].get("id")
    assert groups(tree, "Sub_Pack")[0].xpath(".//a/@href") == [f"#{anchor}"]
    assert tree.xpath(f"//nav//a[@href='#{anchor}']")


def test_definition_table_lists_flow_nodes_with_bindings_and_details(definition_html):
    tree = parse(definition_html)
    rows = rows_of(tree, "elements")
    assert {"Start_Order", "Task_Charge", "Flow_Ok", "MF_Order", "Ship_Book"} <= set(rows)
    charge = rows["Task_Charge"].text_content()
    assert "payment.charge" in charge and "camunda7" in charge and "registered" in charge and "Sales" in charge
    remind = rows["Task_Remind"].text_content()
    assert "customer.remind" in remind and "missing" in remind
    assert "approved == True" in rows["Flow_Ok"].text_content()
    assert "timeDuration: P1D" in rows["Boundary_Slow"].text_content()
    assert "order_placed" in rows["Start_Order"].text_content()
    assert "PAYMENT_DECLINED" in rows["Boundary_Declined"].text_content()
    assert "address is valid" in rows["Task_Review"].text_content()
    assert "Warehouse" in rows["Ship_Book"].text_content()
    header = tree.xpath("//header")[0].text_content()
    assert "without a registered handler" in header


def test_handler_status_only_when_handler_names_given():
    tree = parse(render_definition_report([ORDER]))
    row = tree.xpath("//tr[@data-element-id='Task_Charge']")[0].text_content()
    assert "payment.charge" in row and "registered" not in row and "missing" not in row


def test_file_without_di_gets_the_note_and_a_generated_layout():
    html = render_definition_report([str(DATA / "no_layout.bpmn")])
    assert_self_contained(html)
    tree = parse(html)
    notes = " ".join(p.text_content() for p in tree.xpath("//p[contains(@class, 'no-di')]"))
    assert "this file has no diagram layout" in notes.lower()
    assert "generated" in notes
    drawn = {g.get("data-element-id") for g in tree.xpath("//svg//g[@data-element-id]")}
    assert {"Start", "Task_Extract", "Split", "Task_Approve", "Task_Auto", "Join", "Sub_Book", "End",
            "Flow_Big", "Book_Post"} <= drawn
    assert "generated layout" in tree.xpath("//details/summary")[0].text_content()


def test_unknown_kind_and_missing_element_are_boxes_with_their_id():
    tree = parse(render_definition_report([str(DATA / "unknown_shapes.bpmn")]))
    for element_id in ("ChoreoTask_1", "Ghost_Task"):
        group = groups(tree, element_id)[0]
        assert "unknown" in group.get("class").split()
        assert group.xpath("./rect[@class='body']")
        assert element_id in group.xpath(".//text")[0].text_content()
    assert "Exchange quote" in groups(tree, "ChoreoTask_1")[0].text_content()
    assert groups(tree, "Ghost_Flow")[0].xpath("./path[@class='edge-line']")


def test_several_files_in_one_report():
    tree = parse(render_definition_report([ORDER, str(DATA / "no_layout.bpmn")]))
    assert len(tree.xpath("//details[contains(@class,'diagram')]")) == 4
    assert len({d.get("id") for d in tree.xpath("//details")}) == 4
    assert tree.xpath("//h3[.='order_collaboration.bpmn']") and tree.xpath("//h3[.='no_layout.bpmn']")


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(ReportError, match="no BPMN file"):
        render_definition_report([])
    with pytest.raises(XmlError, match="cannot read file"):
        render_definition_report([str(tmp_path / "nope.bpmn")])
    other = tmp_path / "x.xml"
    other.write_text("<a/>", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not a BPMN"):
        render_definition_report([str(other)])
    with pytest.raises(ReportError, match="as a dict"):
        render_instance_report([ORDER], ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ReportError, match="must be a list"):
        render_instance_report([ORDER], {"path": "Start_Order"})


# --- instance report --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def instance_tree():
    html = render_instance_report([ORDER], SAMPLE_RUN)
    assert_self_contained(html)
    return parse(html)


def test_traversed_elements_and_flows_are_painted(instance_tree):
    for element_id in ("Start_Order", "Task_Review", "Gw_Ok", "Task_Charge", "Sub_Pack", "Pack_Pick",
                       "Flow_1", "Flow_Ok", "Flow_4", "Pack_F1"):
        assert "traversed" in classes(instance_tree, element_id), element_id
    for element_id in ("End_Rejected", "Flow_Rejected", "Task_Notify", "Flow_6", "Boundary_Declined"):
        assert "traversed" not in classes(instance_tree, element_id), element_id


def test_waiting_element_is_painted_and_listed(instance_tree):
    assert "waiting" in classes(instance_tree, "Ship_Book")
    rows = instance_tree.xpath("//table[contains(@class,'waiting')]//tr[@data-element-id='Ship_Book']")
    assert rows and "courier_booked" in rows[0].text_content()


def test_repeated_elements_get_a_count_badge(instance_tree):
    badge = groups(instance_tree, "Pack_Pick")[0].xpath(".//g[@class='badge']")
    assert badge and badge[0].text_content() == "×3"
    assert not groups(instance_tree, "Task_Review")[0].xpath(".//g[@class='badge']")


def test_status_header_timeline_steps_messages_and_data(instance_tree):
    header = instance_tree.xpath("//header")[0].text_content()
    assert "inst-42" in header and "ORD-7" in header and "waiting" in header
    timeline = rows_of(instance_tree, "timeline")
    assert "1.0 min" in timeline["Task_Review"].text_content() or "1 min 0 s" in timeline["Task_Review"].text_content()
    pick = timeline["Pack_Pick"].text_content()
    assert "3.0 s" in pick and "4.0 s" in pick  # mean and longest of two runs
    assert "open" in timeline["Ship_Book"].text_content()
    assert timeline["Task_Review"].xpath(".//div[@class='bar']/@style")
    steps = instance_tree.xpath("//table[contains(@class,'steps')]")[0].text_content()
    assert 'approved = true' in steps and "completed by ann" in steps
    messages = " ".join(t.text_content() for t in instance_tree.xpath("//table[contains(@class,'messages')]"))
    assert "order_confirmed" in messages and "order_placed" in messages and '"sku": "A-1"' in messages
    data = instance_tree.xpath("//pre[contains(@class,'data')]")[0].text_content()
    assert '"approved": true' in data


def test_failed_elements_and_incidents():
    run = dict(SAMPLE_RUN, status="incident", error="HandlerError: payment provider timed out",
               incidents=[{"element_id": "Task_Charge", "error": "HandlerError: timeout after 3 attempts",
                           "at": 1700000010.0}],
               history=SAMPLE_RUN["history"] + [
                   {"element_id": "Pack_End", "event": "entered", "at": 1700000080.0},
                   {"element_id": "Pack_End", "event": "failed", "at": 1700000081.0, "detail": "boom"}])
    tree = parse(render_instance_report([ORDER], run))
    assert "failed" in classes(tree, "Task_Charge")
    assert "failed" in classes(tree, "Pack_End")
    incidents = tree.xpath("//table[contains(@class,'incidents')]")[0].text_content()
    assert "timeout after 3 attempts" in incidents and "boom" in incidents
    assert "payment provider timed out" in tree.xpath("//header")[0].text_content()
    assert tree.xpath("//span[contains(@class,'status') and contains(@class,'incident')]")


def test_run_elements_missing_from_the_diagram_are_named():
    tree = parse(render_instance_report([ORDER], dict(SAMPLE_RUN, path=["Start_Order", "Elsewhere_1"])))
    assert "Elsewhere_1" in " ".join(p.text_content() for p in tree.xpath("//p[contains(@class,'note')]"))


def test_run_result_dataclass_is_accepted():
    result = RunResult(status="waiting", instance_id="i-1", process_id="Process_Order", data={"a": 1},
                       path=["Start_Order", "Task_Review"], flows=["Flow_1"],
                       waiting=[WaitingTask(element_id="Gw_Ok", name="Order ok?", kind="user")],
                       history=[HistoryEvent(element_id="Start_Order", event="completed", at=1.0)])
    tree = parse(render_instance_report([ORDER], result))  # type: ignore[arg-type]
    assert "traversed" in classes(tree, "Task_Review")
    assert "waiting" in classes(tree, "Gw_Ok")


# --- escaping ---------------------------------------------------------------------------------------------

EVIL = '<script>alert("x")</script> "quoted" \'single\' javascript:alert(1) <img src=x onerror=alert(2)>'


def test_user_text_is_escaped_everywhere(tmp_path):
    xml_evil = EVIL.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    source = Path(ORDER).read_text(encoding="utf-8")
    source = source.replace('name="Review order"', f'name="{xml_evil}"')
    source = source.replace("Check that the order is complete and the address is valid.", xml_evil)
    source = source.replace("approved == True", xml_evil)
    source = source.replace('id="Task_Remind"', 'id="Remind&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"')
    source = source.replace('bpmnElement="Task_Remind"',
                            'bpmnElement="Remind&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"')
    path = tmp_path / "evil.bpmn"
    path.write_text(source, encoding="utf-8")
    run = dict(SAMPLE_RUN, data={"note": EVIL, EVIL: [EVIL]}, error=EVIL, business_key=EVIL,
               waiting=[{"element_id": "Ship_Book", "name": EVIL, "kind": "user", "detail": EVIL}],
               incidents=[{"element_id": EVIL, "error": EVIL, "at": 1.0}],
               history=[{"element_id": "Task_Review", "event": "completed", "at": 1.0, "name": EVIL,
                         "data_changes": {EVIL: EVIL}, "detail": EVIL}],
               messages_sent=[{"name": EVIL, "at": 1.0, "payload": {"x": EVIL}}])
    stats = {"process_id": EVIL, "instances_by_status": {EVIL: 1},
             "elements": {EVIL: {"count": 1, "mean_ms": 1.0, "p95_ms": 2.0}}, "flows": {EVIL: 2}}
    pages = [render_definition_report([str(path)]), render_instance_report([str(path)], run),
             render_heatmap_report([str(path)], stats)]
    for html in pages:
        assert_self_contained(html)
        tree = parse(html)
        assert tree.xpath("//script") == [] and tree.xpath("//img") == []
        assert not tree.xpath("//@*[starts-with(name(), 'on')]")
        assert "<script>" not in html and "<img src=x" not in html
        assert not re.search(r'(href|src)\s*=\s*"\s*javascript:', html)
        assert EVIL in tree.text_content() or "alert(" in tree.text_content()  # shown as text
    definition = parse(pages[0])
    assert definition.xpath("//g[@data-element-id='Remind\"><script>x()</script>']")  # id kept, as an attribute
    assert EVIL in definition.xpath("//tr[@data-element-id='Task_Review']")[0].text_content()
    instance = parse(pages[1])
    assert EVIL in instance.xpath("//pre[contains(@class,'data')]")[0].text_content().replace("\\\"", '"')


# --- heatmap ----------------------------------------------------------------------------------------------

def test_heatmap_paints_counts_and_durations():
    stats = {"process_id": "Process_Order", "instances_by_status": {"completed": 90, "failed": 10},
             "elements": {"Start_Order": {"count": 100, "mean_ms": 1.0, "p95_ms": 2.0},
                          "Task_Charge": {"count": 100, "mean_ms": 850.0, "p95_ms": 2400.0},
                          "Task_Remind": {"count": 3, "mean_ms": 20.0, "p95_ms": 30.0},
                          "Not_In_File": {"count": 5, "mean_ms": 1.0, "p95_ms": 1.0}},
             "flows": {"Flow_1": 100, "Flow_Slow": 3}}
    html = render_heatmap_report([ORDER], stats)
    assert_self_contained(html)
    tree = parse(html)
    charge = groups(tree, "Task_Charge")[0]
    remind = groups(tree, "Task_Remind")[0]
    hot, cool = charge.xpath(".//rect[@class='body']/@style")[0], remind.xpath(".//rect[@class='body']/@style")[0]
    assert hot.startswith("fill:#") and cool.startswith("fill:#") and hot != cool
    assert charge.xpath(".//g[@class='badge']")[0].text_content() == "100"
    assert "p95 2.4s" in charge.text_content() and "μ 850ms" in charge.text_content()
    assert not groups(tree, "End_Rejected")[0].xpath(".//@style")
    assert "stroke-width" in groups(tree, "Flow_1")[0].xpath(".//path[@class='edge-line']/@style")[0]
    rows = list(rows_of(tree, "heat-elements"))
    assert rows[:2] == ["Start_Order", "Task_Charge"] and rows[-1] == "Task_Remind"
    missing = tree.xpath("//tr[@data-element-id='Not_In_File']")[0].text_content()
    assert "no" in missing
    assert "100" in tree.xpath("//header")[0].text_content()


# --- size and shape of big runs ---------------------------------------------------------------------------

def chain_bpmn(n: int) -> str:
    """A process of `n` flow nodes in rows of 20, with DI."""
    nodes, flows, shapes, edges = [], [], [], []
    for i in range(n):
        kind = "startEvent" if i == 0 else "endEvent" if i == n - 1 else "serviceTask"
        nodes.append(f'<bpmn:{kind} id="N{i}" name="Step {i}"/>')
        x, y = 50 + (i % 20) * 150, 50 + (i // 20) * 130
        shapes.append(f'<bpmndi:BPMNShape id="N{i}_di" bpmnElement="N{i}"><dc:Bounds x="{x}" y="{y}" width="100" '
                      f'height="80"/></bpmndi:BPMNShape>')
        if i:
            px, py = 50 + ((i - 1) % 20) * 150, 50 + ((i - 1) // 20) * 130
            flows.append(f'<bpmn:sequenceFlow id="F{i}" sourceRef="N{i - 1}" targetRef="N{i}"/>')
            edges.append(f'<bpmndi:BPMNEdge id="F{i}_di" bpmnElement="F{i}"><di:waypoint x="{px + 100}" y="{py + 40}"/>'
                         f'<di:waypoint x="{x}" y="{y + 40}"/></bpmndi:BPMNEdge>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="D" targetNamespace="urn:t">'
            f'<bpmn:process id="Chain" isExecutable="true">{"".join(nodes)}{"".join(flows)}</bpmn:process>'
            '<bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="Chain">'
            f'{"".join(shapes)}{"".join(edges)}'
            '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')


def big_run(n_nodes: int, n_events: int) -> dict:
    history, path = [], []
    at = 1_700_000_000.0
    for k in range(n_events // 2):
        element = f"N{k % n_nodes}"
        history.append({"element_id": element, "event": "entered", "at": at, "data_changes": {}})
        at += 0.01
        history.append({"element_id": element, "event": "completed", "at": at, "data_changes": {"k": k}})
        path.append(element)
    return {"instance_id": "big", "process_id": "Chain", "status": "completed", "data": {"k": n_events},
            "path": path, "flows": [f"F{i}" for i in range(1, n_nodes)] * (n_events // 2 // n_nodes),
            "history": history}


def test_big_history_is_aggregated_not_drawn_event_by_event(tmp_path):
    path = tmp_path / "chain.bpmn"
    path.write_text(chain_bpmn(200), encoding="utf-8")
    html = render_instance_report([str(path)], big_run(200, 10_000))
    tree = parse(html)
    assert len(tree.xpath("//svg//g[@data-element-id]")) == 200 + 199
    assert len(tree.xpath("//table[contains(@class,'timeline')]//tr[@data-element-id]")) == 200
    step_rows = tree.xpath("//table[contains(@class,'steps')]//tr[@data-element-id]")
    assert len(step_rows) == MAX_STEP_ROWS
    assert "events not shown" in tree.xpath("//table[contains(@class,'steps')]//tr[@class='gap']")[0].text_content()
    badge = groups(tree, "N7")[0].xpath(".//g[@class='badge']")[0].text_content()
    assert badge == "×25"
    assert len(html) < 3_000_000


# --- corpus -----------------------------------------------------------------------------------------------

def _is_bpmn(path: Path) -> bool:
    head = path.read_bytes()[:4000]
    return b"http://www.omg.org/spec/BPMN/20100524/MODEL" in head or path.suffix == ".bpmn"


def test_corpus_files_with_di_render_and_draw_every_di_element():
    if not CORPUS.is_dir():
        pytest.skip(f"BPMN corpus not found at {CORPUS} (the shared corpus sits next to the repository)")
    outcome: Counter[str] = Counter()
    problems: list[str] = []
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".xml") and p.is_file())
    for path in files:
        if not _is_bpmn(path):
            continue
        try:
            document = read_document(path, layout_missing=False)
        except (XmlError, DefinitionError):
            outcome["rejected"] += 1  # hostile, malformed or not BPMN: refused with one clear error
            continue
        if not document.has_di:
            outcome["no-di"] += 1
            continue
        try:
            html = render_definition_report([str(path)])
        except Exception as exc:  # noqa: BLE001 - collect every failure, then report them together
            problems.append(f"{path.relative_to(CORPUS)}: {type(exc).__name__}: {exc}")
            continue
        tree = parse(html)
        drawn = Counter(g.get("data-element-id") for g in tree.xpath("//svg//g[@data-element-id]"))
        missing = document.di_element_ids - set(drawn)
        di_count = sum(len(d.shapes) + len(d.edges) for d in document.diagrams)
        if missing or sum(drawn.values()) < di_count:
            problems.append(f"{path.relative_to(CORPUS)}: not drawn {sorted(missing)[:5]}")
            continue
        outcome["rendered"] += 1
    assert not problems, "\n".join(problems)
    assert outcome["rendered"] > 300, outcome


def test_decision_files_next_to_the_diagram_are_named_not_drawn(tmp_path):
    dmn = tmp_path / "prices.dmn"
    dmn.write_text('<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
                   'id="d" name="prices" namespace="urn:x"><decision id="price" name="Price"/></definitions>',
                   encoding="utf-8")
    tree = parse(render_definition_report([ORDER, str(dmn)]))
    assert len(tree.xpath("//details[contains(@class,'diagram')]")) == 2
    assert "decision model (DMN)" in " ".join(p.text_content() for p in tree.xpath("//p[contains(@class,'note')]"))

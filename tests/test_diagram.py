"""Reading BPMN DI into plain shapes and edges: what the report draws is what the modeler saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.diagram import Bounds, read_document
from bpmn_runner.errors import DefinitionError, XmlError

DATA = Path(__file__).parent / "data" / "report"
ORDER = DATA / "order_collaboration.bpmn"

BPMN_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="D" targetNamespace="http://example.com/t">
"""


def write(tmp_path: Path, body: str, name: str = "t.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(BPMN_HEAD + body + "\n</bpmn:definitions>\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def order():
    return read_document(ORDER)


def shapes_by_id(document, diagram_index=0):
    return {s.id: s for s in document.diagrams[diagram_index].shapes}


def edges_by_id(document, diagram_index=0):
    return {e.id: e for e in document.diagrams[diagram_index].edges}


def test_every_plane_is_a_diagram_including_the_collapsed_subprocess_plane(order):
    assert order.has_di
    assert [d.name for d in order.diagrams] == ["Order to delivery", "Pack items (sub-process)"]
    assert order.diagrams[1].plane_element == "Sub_Pack"
    assert order.diagrams[1].plane_kind == "subProcess"
    assert {s.id for s in order.diagrams[1].shapes} == {"Pack_Start", "Pack_Pick", "Pack_End"}


def test_shapes_keep_their_di_bounds_and_labels(order):
    shapes = shapes_by_id(order)
    assert shapes["Task_Review"].bounds == Bounds(250, 100, 100, 80)
    assert shapes["Start_Order"].label == Bounds(160, 165, 56, 27)
    assert shapes["Task_Review"].name == "Review order"


def test_diagram_bounds_cover_negative_coordinates(order):
    bounds = order.diagrams[0].bounds()
    assert bounds.y == -30  # the text annotation sits above the pool
    assert bounds.x == 100
    assert bounds.bottom == 680


def test_pools_lanes_and_black_box_pool(order):
    shapes = shapes_by_id(order)
    assert shapes["Pool_Shop"].kind == "participant"
    assert shapes["Pool_Customer"].kind == "participant"
    assert order.elements["Pool_Customer"].process_ref is None
    assert shapes["Lane_Sales"].kind == "lane"
    assert shapes["Lane_Sales"].is_horizontal


def test_event_markers_catching_throwing_and_interrupting(order):
    shapes = shapes_by_id(order)
    assert shapes["Start_Order"].markers == ["message"]
    assert not shapes["Start_Order"].throwing
    assert shapes["Boundary_Declined"].markers == ["error"]
    assert shapes["Boundary_Declined"].interrupting
    assert shapes["Boundary_Slow"].markers == ["timer"]
    assert not shapes["Boundary_Slow"].interrupting
    assert shapes["End_Failed"].markers == ["terminate"]
    assert shapes["End_Failed"].throwing


def test_activity_and_gateway_markers(order):
    shapes = shapes_by_id(order)
    assert shapes["Gw_Ok"].markers == ["exclusive"]
    assert shapes["Sub_Pack"].markers == ["subprocess"] and not shapes["Sub_Pack"].is_expanded
    assert shapes["Sub_Ship"].is_expanded and shapes["Sub_Ship"].markers == []
    assert shapes["Ship_Book"].markers == ["sequentialMultiInstance"]
    assert shapes["DataRef_Order"].kind == "dataObjectReference"
    assert shapes["Note_Charge"].name == "Card is charged through the payment provider"
    assert shapes["Group_Check"].name == "Check"


def test_edges_default_condition_and_message_flows(order):
    edges = edges_by_id(order)
    assert edges["Flow_Rejected"].is_default
    assert edges["Flow_Ok"].has_condition
    assert not edges["Flow_Ok"].is_conditional  # source is a gateway: no diamond marker
    assert edges["Flow_Slow"].waypoints == [(578, 198), (578, 240), (650, 240)]
    assert edges["MF_Order"].kind == "messageFlow"
    assert edges["MF_Order"].label == Bounds(195, 560, 66, 14)
    assert edges["DOA_Order"].kind == "dataOutputAssociation"
    assert edges["Assoc_Charge"].kind == "association"


def test_semantic_details_for_the_definition_table(order):
    elements = order.elements
    assert elements["Task_Charge"].lane == "Sales"
    assert elements["Ship_Book"].lane == "Warehouse"  # inherited from its sub-process
    assert elements["Task_Charge"].binding.name == "payment.charge"
    assert elements["Task_Charge"].binding.dialect == "camunda7"
    assert elements["Boundary_Slow"].timers == ["timeDuration: P1D"]
    assert elements["Boundary_Declined"].errors == ["Payment declined (code PAYMENT_DECLINED)"]
    assert elements["Start_Order"].messages == ["order_placed"]
    assert elements["Task_Notify"].messages == ["order_shipped"]
    assert elements["Flow_Ok"].conditions == ["approved == True"]
    assert "address is valid" in elements["Task_Review"].documentation
    assert [p.id for p in order.processes] == ["Process_Order"]


def test_conditional_marker_only_when_the_source_is_an_activity(tmp_path):
    path = write(tmp_path, """
  <bpmn:process id="P"><bpmn:task id="A" default="F2"/><bpmn:task id="B"/><bpmn:task id="C"/>
    <bpmn:sequenceFlow id="F1" sourceRef="A" targetRef="B">
      <bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="C"/></bpmn:process>
  <bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="P">
    <bpmndi:BPMNShape id="A_di" bpmnElement="A"><dc:Bounds x="0" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="B_di" bpmnElement="B"><dc:Bounds x="200" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="C_di" bpmnElement="C"><dc:Bounds x="200" y="150" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="F1_di" bpmnElement="F1">
      <di:waypoint x="100" y="40"/><di:waypoint x="200" y="40"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="F2_di" bpmnElement="F2"/>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    edges = edges_by_id(read_document(path))
    assert edges["F1"].is_conditional
    assert edges["F2"].is_default and not edges["F2"].is_conditional
    assert edges["F2"].waypoints == [(50, 40), (250, 190)]  # no waypoints saved: centre to centre


def test_gateway_marker_hidden_when_is_marker_visible_false(tmp_path):
    path = write(tmp_path, """
  <bpmn:process id="P"><bpmn:exclusiveGateway id="G1"/><bpmn:exclusiveGateway id="G2"/>
    <bpmn:eventBasedGateway id="G3"/><bpmn:complexGateway id="G4"/></bpmn:process>
  <bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="P">
    <bpmndi:BPMNShape id="G1_di" bpmnElement="G1" isMarkerVisible="false">
      <dc:Bounds x="0" y="0" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="G2_di" bpmnElement="G2"><dc:Bounds x="100" y="0" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="G3_di" bpmnElement="G3"><dc:Bounds x="200" y="0" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="G4_di" bpmnElement="G4"><dc:Bounds x="300" y="0" width="50" height="50"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    shapes = shapes_by_id(read_document(path))
    assert shapes["G1"].markers == []
    assert shapes["G2"].markers == ["exclusive"]
    assert shapes["G3"].markers == ["eventBased"]
    assert shapes["G4"].markers == ["complex"]


def test_subprocess_without_is_expanded_is_expanded_when_its_children_are_drawn(tmp_path):
    path = write(tmp_path, """
  <bpmn:process id="P"><bpmn:subProcess id="S"><bpmn:task id="T"/></bpmn:subProcess>
    <bpmn:subProcess id="S2" triggeredByEvent="true"><bpmn:startEvent id="E" isInterrupting="false">
      <bpmn:signalEventDefinition/></bpmn:startEvent></bpmn:subProcess></bpmn:process>
  <bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="P">
    <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="0" y="0" width="300" height="200"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="T_di" bpmnElement="T"><dc:Bounds x="50" y="50" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="S2_di" bpmnElement="S2"><dc:Bounds x="400" y="0" width="100" height="80"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    document = read_document(path)
    shapes = shapes_by_id(document)
    assert shapes["S"].is_expanded
    assert not shapes["S2"].is_expanded and shapes["S2"].markers == ["subprocess"]
    assert document.elements["S2"].triggered_by_event
    assert document.elements["E"].interrupting is False


def test_unknown_kinds_and_missing_elements_are_kept_as_unknown_shapes():
    document = read_document(DATA / "unknown_shapes.bpmn")
    shapes = shapes_by_id(document)
    assert shapes["ChoreoTask_1"].kind == "unknown"
    assert shapes["ChoreoTask_1"].element_kind == "choreographyTask"
    assert shapes["Ghost_Task"].kind == "unknown" and not shapes["Ghost_Task"].known
    assert shapes["Ghost_Task"].element_kind is None
    edges = edges_by_id(document)
    assert edges["Ghost_Flow"].kind == "unknown"
    assert edges["Flow_1"].kind == "sequenceFlow"


def test_prefixed_and_bonita_style_references_resolve(tmp_path):
    path = write(tmp_path, """
  <bpmn:process id="Main"><bpmn:task id="Main.Step" name="Step"/><bpmn:task id="T2" name="Two"/></bpmn:process>
  <bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="Main">
    <bpmndi:BPMNShape id="A" bpmnElement="Step"><dc:Bounds x="0" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="B" bpmnElement="bpmn:T2"><dc:Bounds x="200" y="0" width="100" height="80"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    shapes = shapes_by_id(read_document(path))
    assert shapes["Main.Step"].name == "Step"
    assert shapes["T2"].name == "Two"


def test_file_without_di_gets_a_note_and_a_generated_layered_layout():
    document = read_document(DATA / "no_layout.bpmn")
    assert not document.has_di
    assert any("no diagram layout" in note for note in document.notes)
    assert all(d.generated for d in document.diagrams)
    main = document.diagrams[0]
    shapes = {s.id: s for s in main.shapes}
    flow_nodes = {i.id for i in document.elements.values() if i.is_flow_node and i.parent_id == "Process_NoDi"}
    assert flow_nodes <= set(shapes)
    # layered left to right along the sequence flows
    assert shapes["Start"].bounds.x < shapes["Task_Extract"].bounds.x < shapes["Split"].bounds.x
    assert shapes["Split"].bounds.x < shapes["Task_Approve"].bounds.x == shapes["Task_Auto"].bounds.x
    assert shapes["Task_Approve"].bounds.y != shapes["Task_Auto"].bounds.y
    # the boundary event sits on the bottom edge of its task
    assert shapes["Timeout"].bounds.cy == shapes["Task_Extract"].bounds.bottom
    assert {e.id for e in main.edges} >= {"Flow_1", "Flow_Big", "Flow_Small", "Flow_Timeout"}
    # the sub-process gets its own generated diagram
    assert any(d.plane_element == "Sub_Book" for d in document.diagrams)


def test_layout_can_be_turned_off():
    document = read_document(DATA / "no_layout.bpmn", layout_missing=False)
    assert document.diagrams == []
    assert document.notes


def test_not_bpmn_and_hostile_files_are_refused(tmp_path):
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><root xmlns="urn:x"/>', encoding="utf-8")
    with pytest.raises(DefinitionError, match="not a BPMN 2.0 document"):
        read_document(other)
    hostile = tmp_path / "hostile.bpmn"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', encoding="utf-8")
    with pytest.raises(XmlError):
        read_document(hostile)


def test_diagram_module_does_not_use_jinja_or_lxml_directly():
    source = (Path(__file__).resolve().parents[1] / "bpmn_runner" / "diagram.py").read_text(encoding="utf-8")
    assert "jinja2" not in source
    assert "import lxml" not in source and "from lxml" not in source


def test_modeler_colours_are_kept_only_when_they_are_plain_css_colours(tmp_path):
    path = write(tmp_path, """
  <bpmn:process id="P"><bpmn:task id="A"/><bpmn:task id="B"/></bpmn:process>
  <bpmndi:BPMNDiagram id="G"><bpmndi:BPMNPlane id="PL" bpmnElement="P">
    <bpmndi:BPMNShape id="A_di" bpmnElement="A" xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0"
        bioc:fill="#bbdefb" bioc:stroke="#0d4372"><dc:Bounds x="0" y="0" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="B_di" bpmnElement="B" xmlns:color="http://www.omg.org/spec/BPMN/non-normative/color/1.0"
        color:background-color="red;background:url(http://evil/)" color:border-color="rgb(1, 2, 3)">
        <dc:Bounds x="200" y="0" width="100" height="80"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    shapes = shapes_by_id(read_document(path))
    assert (shapes["A"].fill, shapes["A"].stroke) == ("#bbdefb", "#0d4372")
    assert (shapes["B"].fill, shapes["B"].stroke) == (None, "rgb(1, 2, 3)")

"""One document model: a loaded file keeps its bytes, and the loader, reports, coverage and the store read it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bpmn_runner.coverage import model_of, read_model
from bpmn_runner.definitions import load, load_sources
from bpmn_runner.kinds import FLOW_NODE_KINDS
from bpmn_runner.loader.documents import read_document
from bpmn_runner.report import render_definition_report

PROCESSES = Path(__file__).resolve().parents[1] / "processes"

FEEL_CONDITION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="G"/>
    <bpmn:exclusiveGateway id="G" default="f3"/>
    <bpmn:sequenceFlow id="f2" sourceRef="G" targetRef="E">
      <bpmn:conditionExpression
          language="https://www.omg.org/spec/DMN/20191111/FEEL/">amount &gt; 10</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="G" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_definitions_keep_the_exact_bytes_they_validated(tmp_path: Path):
    """What a store deploys is the file as read, not the tree the loader rewrote for the engine."""
    path = tmp_path / "feel.bpmn"
    path.write_text(FEEL_CONDITION, encoding="utf-8")
    definitions = load([path])
    assert definitions.sources() == [(definitions.documents[0].name, path.read_bytes())]
    assert definitions.documents[0].root.find(".//{*}conditionExpression").text == "=amount > 10"  # normalized


def test_stored_sources_load_without_writing_any_file(monkeypatch: pytest.MonkeyPatch):
    sources = [(p.name, p.read_bytes()) for p in sorted(PROCESSES.glob("*.bpmn"))]

    def refuse(*args, **kwargs):
        raise AssertionError("load_sources wrote a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(Path, "write_bytes", refuse)
    definitions = load_sources(sources)
    assert [d.name for d in definitions.documents] == [name for name, _ in sources]
    assert definitions.sources() == sources


def test_a_report_of_loaded_definitions_shows_the_file_as_drawn(tmp_path: Path):
    path = tmp_path / "feel.bpmn"
    path.write_text(FEEL_CONDITION, encoding="utf-8")
    html = render_definition_report(load([path]).documents)
    assert "amount &gt; 10" in html and "=amount" not in html


def test_coverage_counts_the_flow_nodes_of_the_document_semantics():
    path = PROCESSES / "order_fulfillment.bpmn"
    document = read_document(path)
    model = model_of(document)
    flow_nodes = {i for i, info in document.elements.items() if info.kind in FLOW_NODE_KINDS}
    assert set(model.nodes) == flow_nodes and len(flow_nodes) > 10
    assert set(model.flows) == {i for i, info in document.elements.items() if info.kind == "sequenceFlow"}
    assert read_model(path).nodes == model.nodes


def test_a_document_reads_its_semantics_and_drawing_once():
    document = read_document(PROCESSES / "order_fulfillment.bpmn")
    assert document.semantics is document.semantics and document.drawing is document.drawing
    assert document.has_di and document.diagrams and document.content.startswith(b"<?xml")


def test_reports_draw_stored_sources_without_files():
    """`report --instance` draws the diagrams stored with an instance: (name, bytes) as the store keeps them."""
    path = PROCESSES / "order_fulfillment.bpmn"
    from_file = render_definition_report([str(path)])
    from_bytes = render_definition_report([(path.name, path.read_bytes())])
    assert from_bytes == from_file

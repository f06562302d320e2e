"""`bpmn-runner report PATH... -o FILE [--handlers M]`: the definition report from the command line."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from typer.testing import CliRunner

from bpmn_runner.cli import app

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
ORDER = PROCESSES / "order_fulfillment.bpmn"
ORDER_HANDLERS = PROCESSES / "order_handlers.py"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def di_element_ids(path: Path) -> set[str]:
    root = etree.parse(str(path)).getroot()
    return {el.get("bpmnElement") for tag in ("BPMNShape", "BPMNEdge")
            for el in root.iter(f"{{{DI_NS}}}{tag}") if el.get("bpmnElement")}


def binding_marks(html: str) -> dict[str, str]:
    """Element id -> `registered` / `missing` from the elements table."""
    marks = {}
    for row in re.findall(r'<tr data-element-id="([^"]+)"[^>]*>(.*?)</tr>', html, flags=re.S):
        found = re.search(r'<span class="(?:ok|bad)">(registered|missing)</span>', row[1])
        if found:
            marks[row[0]] = found.group(1)
    return marks


def test_report_draws_every_di_element_of_the_order_example(tmp_path: Path) -> None:
    target = tmp_path / "out" / "order.html"
    result = invoke("report", ORDER, "-o", target)
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    html = target.read_text(encoding="utf-8")
    drawn = set(re.findall(r'<g class="[^"]*" data-element-id="([^"]+)"', html))
    expected = di_element_ids(ORDER)
    assert len(expected) > 20 and expected <= drawn, sorted(expected - drawn)
    # a four-line task name is drawn whole (beside its icon), not cut to "declined…"
    declined = re.search(r'<g [^>]*data-element-id="Activity_NotifyDeclined">(.*?)<g [^>]*data-element-id=', html, flags=re.S).group(1)
    assert re.findall(r"<tspan[^>]*>([^<]*)</tspan>", declined) == ["Notify", "customer of", "declined", "payment"]
    # the analyst's table: names, documentation and bindings, without a handler check when none were given
    assert "Check stock in ERP" in html and "<h2>Elements</h2>" in html
    assert "erp.check-stock" in html
    assert not binding_marks(html)
    assert "<script" not in html.lower() and 'http-equiv="Content-Security-Policy"' in html


def test_report_with_handlers_marks_each_binding_registered(tmp_path: Path) -> None:
    target = tmp_path / "order.html"
    result = invoke("report", ORDER, "--output", target, "--handlers", ORDER_HANDLERS)
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    marks = binding_marks(html)
    assert len(marks) >= 8 and set(marks.values()) == {"registered"}, marks
    assert "Every bound task has a registered handler." in html


def test_report_with_some_handlers_marks_the_missing_ones(tmp_path: Path) -> None:
    partial = tmp_path / "some_handlers.py"
    partial.write_text("from bpmn_runner import handler\n\n@handler('erp.check-stock')\n"
                       "def check(call):\n    return {'inStock': True}\n", encoding="utf-8")
    target = tmp_path / "order.html"
    result = invoke("report", ORDER, "-o", target, "-H", partial)
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    marks = binding_marks(html)
    assert list(marks.values()).count("registered") == 1, marks
    assert list(marks.values()).count("missing") >= 7, marks
    assert re.search(r"\d+ tasks? without a registered handler", html)


def test_report_of_a_folder_draws_each_file(tmp_path: Path) -> None:
    target = tmp_path / "all.html"
    result = invoke("report", PROCESSES, "-o", target)
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    for diagram in sorted(PROCESSES.glob("*.bpmn")):
        assert diagram.name in html
        assert di_element_ids(diagram) <= set(re.findall(r'data-element-id="([^"]+)"', html))


def test_malformed_file_exits_3_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.bpmn"
    bad.write_text('<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
                   '  <bpmn:process id="p">\n</bpmn:definitions>\n', encoding="utf-8")
    target = tmp_path / "out.html"
    result = invoke("report", bad, "-o", target)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(r".*broken\.bpmn:4: error: not well-formed XML", lines[0]), lines
    assert "Traceback" not in result.output
    assert not target.exists()


def test_hostile_file_exits_3_without_expanding_entities(tmp_path: Path) -> None:
    evil = tmp_path / "evil.bpmn"
    evil.write_text('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;'
                    '</bpmn:definitions>\n', encoding="utf-8")
    result = invoke("report", evil, "-o", tmp_path / "out.html")
    assert result.exit_code == 3
    assert re.match(r".*evil\.bpmn:2: error: a DOCTYPE is not allowed", result.stderr.strip())
    assert "root:" not in result.output


def test_not_bpmn_exits_3(tmp_path: Path) -> None:
    other = tmp_path / "page.bpmn"
    other.write_text("<html><body/></html>\n", encoding="utf-8")
    result = invoke("report", other, "-o", tmp_path / "out.html")
    assert result.exit_code == 3
    assert "page.bpmn:1: error: not a BPMN or DMN document" in result.stderr


def test_missing_file_exits_3(tmp_path: Path) -> None:
    result = invoke("report", tmp_path / "nope.bpmn", "-o", tmp_path / "out.html")
    assert result.exit_code == 3
    assert "nope.bpmn: no such file or folder" in result.stderr


def test_no_paths_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("report", "-o", tmp_path / "out.html")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: give the diagrams to draw: bpmn-runner report PATH... -o FILE"
    assert not (tmp_path / "out.html").exists()


def test_no_output_is_a_usage_error() -> None:
    result = invoke("report", ORDER)
    assert result.exit_code == 2
    assert "-o report.html" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_output_must_not_overwrite_a_diagram_or_be_a_folder(tmp_path: Path) -> None:
    copy = tmp_path / "order.bpmn"
    copy.write_bytes(ORDER.read_bytes())
    result = invoke("report", copy, "-o", copy)
    assert result.exit_code == 2 and "would overwrite it" in result.stderr
    assert copy.read_bytes() == ORDER.read_bytes()
    result = invoke("report", copy, "-o", tmp_path)
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_unknown_handler_module_is_one_line(tmp_path: Path) -> None:
    result = invoke("report", ORDER, "-o", tmp_path / "out.html", "--handlers", "no_such_module_xyz")
    assert result.exit_code != 0
    assert "no_such_module_xyz" in result.stderr and "Traceback" not in result.output

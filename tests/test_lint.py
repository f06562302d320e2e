"""`validate` as a linter: each rule fires on a small diagram that breaks it and stays quiet on a clean one;
rules can be switched off (flag or pyproject.toml); JSON output; --strict; the README lists every rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.lint import RULES, Finding, lint
from bpmn_runner.registry import HandlerRegistry, handler

from .scenario import definitions_xml

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>')


START = '<bpmn:startEvent id="start" name="Start"/>'
END = '<bpmn:endEvent id="end" name="End"/>'
TASK = '<bpmn:task id="t" name="Do it"/>'
SIMPLE = START + TASK + END + flow("f1", "start", "t") + flow("f2", "t", "end")

# A clean diagram that still uses a bit of everything the rules look at.
CLEAN = (START
         + '<bpmn:serviceTask id="charge" name="Charge card" camunda:type="external" camunda:topic="svc"/>'
         + '<bpmn:exclusiveGateway id="gw" name="Paid?" default="f_no"/>'
         + '<bpmn:scriptTask id="note" name="Note it" scriptFormat="python"><bpmn:script>total = amount + 1'
           '</bpmn:script></bpmn:scriptTask>'
         + '<bpmn:intermediateCatchEvent id="wait" name="Five minutes"><bpmn:timerEventDefinition id="td">'
           '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT5M</bpmn:timeDuration>'
           '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
         + END + '<bpmn:endEvent id="end2" name="Not paid"/>'
         + flow("f1", "start", "charge") + flow("f2", "charge", "gw") + flow("f_yes", "gw", "note", "${paid == true}")
         + flow("f_no", "gw", "end2") + flow("f3", "note", "wait") + flow("f4", "wait", "end"))


COMPENSATED = SIMPLE
COMPENSATION_LINK = ('<bpmn:boundaryEvent id="cb" name="Undo" attachedToRef="t"><bpmn:compensateEventDefinition/>'
                     '</bpmn:boundaryEvent><bpmn:association id="a1" sourceRef="cb" targetRef="u"/>')


def handlers(*names: str) -> HandlerRegistry:
    registry = HandlerRegistry()
    for name in names:
        registry.register(name, lambda call: {}, source="tests")
    return registry


def lint_xml(tmp_path: Path, xml: str, *, name: str = "d.bpmn", registry: HandlerRegistry | None = None,
             **options: object) -> list[Finding]:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    given = registry if registry is not None else handlers("svc")
    return lint([path], handlers=given, handlers_given=True, **options)  # type: ignore[arg-type]


def lint_body(tmp_path: Path, body: str, *, extra: str = "", executable: bool = True,
              **options: object) -> list[Finding]:
    xml = definitions_xml(body, extra=extra)
    if not executable:
        xml = xml.replace('isExecutable="true"', 'isExecutable="false"')
    return lint_xml(tmp_path, xml, **options)


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_the_clean_diagram_has_no_findings(tmp_path: Path) -> None:
    assert lint_body(tmp_path, CLEAN) == []


def test_the_examples_validate_with_their_handlers() -> None:
    for diagram, module in [("order_fulfillment.bpmn", "order_handlers.py"),
                            ("expense_approval_spiff.bpmn", "expense_handlers.py"),
                            ("loan_approval_c8.bpmn", "loan_handlers.py")]:
        registry = HandlerRegistry()
        registry.load(str(ROOT / "processes" / module))
        found = lint([ROOT / "processes" / diagram], handlers=registry, handlers_given=True)
        assert [f for f in found if f.severity != "info"] == [], diagram


SPLIT = (START + '<bpmn:exclusiveGateway id="gw" name="Which?"/>' + '<bpmn:task id="a" name="A"/>'
         + '<bpmn:task id="b" name="B"/>' + END + flow("f1", "start", "gw") + flow("fa", "gw", "a")
         + flow("fb", "gw", "b") + flow("f2", "a", "end") + flow("f3", "b", "end"))
TIMER = ('<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:timerEventDefinition>'
         '<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
MESSAGE = '<bpmn:message id="m" name="paid"/>'

# rule id -> (process body, definitions-level extra)
CASES: dict[str, tuple[str, str]] = {
    "bpmn-schema": (SIMPLE + '<bpmn:bogus id="x"/>', ""),
    "duplicate-id": (SIMPLE + '<bpmn:task id="t" name="Again"/>', ""),
    "dangling-reference": (SIMPLE + flow("f9", "t", "nowhere"), ""),
    "start-event-required": (TASK + END + flow("f2", "t", "end"), ""),
    "nothing-starts": (TASK + '<bpmn:task id="t2" name="Again"/>' + flow("f1", "t", "t2") + flow("f2", "t2", "t"),
                       ""),
    "end-event-required": (START + TASK + flow("f1", "start", "t"), ""),
    "no-disconnected": (SIMPLE + '<bpmn:task id="lone" name="Lone"/>', ""),
    "no-implicit-start": (SIMPLE + '<bpmn:task id="orphan" name="Orphan"/>' + flow("f9", "orphan", "end"), ""),
    "no-implicit-end": (SIMPLE + '<bpmn:task id="dead" name="Dead end"/>' + flow("f9", "start", "dead"), ""),
    "unreachable": (SIMPLE + '<bpmn:task id="a" name="A"/><bpmn:task id="b" name="B"/>'
                    + flow("fa", "a", "b") + flow("fb", "b", "a"), ""),
    "endless-loop": (START + '<bpmn:task id="a" name="A"/><bpmn:task id="b" name="B"/>' + END
                     + flow("f1", "start", "a") + flow("fa", "a", "b") + flow("fb", "b", "a"), ""),
    "no-implicit-split": (START + TASK + END + '<bpmn:endEvent id="end2" name="Also"/>' + flow("f1", "start", "t")
                          + flow("f2", "t", "end") + flow("f3", "t", "end2"), ""),
    "conditional-flows": (SPLIT, ""),
    "fake-join": (START + TASK + END + flow("f1", "start", "t") + flow("f0", "start", "t", "x > 1")
                  + flow("f2", "t", "end"), ""),
    "no-gateway-join-fork": (START + '<bpmn:task id="a" name="A"/><bpmn:task id="b" name="B"/>'
                             '<bpmn:parallelGateway id="g"/><bpmn:parallelGateway id="j"/>' + END
                             + flow("f1", "start", "a") + flow("f2", "start", "b", "x > 1") + flow("f3", "a", "g")
                             + flow("f4", "b", "g") + flow("f5", "g", "j") + flow("f6", "g", "j", "y")
                             + flow("f7", "j", "end"), ""),
    "superfluous-gateway": (START + '<bpmn:exclusiveGateway id="g" name="Nothing"/>' + END
                            + flow("f1", "start", "g") + flow("f2", "g", "end"), ""),
    "no-duplicate-sequence-flows": (SIMPLE + flow("f9", "t", "end"), ""),
    "label-required": (SIMPLE.replace(' name="Do it"', ""), ""),
    "single-blank-start-event": (SIMPLE + '<bpmn:startEvent id="s2" name="Other"/>' + flow("f9", "s2", "t"), ""),
    "single-event-definition": (START + '<bpmn:intermediateCatchEvent id="w" name="Both"><bpmn:timerEventDefinition>'
                                '<bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                '<bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>' + END
                                + flow("f1", "start", "w") + flow("f2", "w", "end"), MESSAGE),
    "sub-process-blank-start-event": (START + '<bpmn:subProcess id="sp" name="Sub"><bpmn:startEvent id="ss" '
                                      'name="Timed"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M'
                                      '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>'
                                      '<bpmn:endEvent id="se" name="Sub done"/>' + flow("sf", "ss", "se")
                                      + '</bpmn:subProcess>' + END + flow("f1", "start", "sp")
                                      + flow("f2", "sp", "end"), ""),
    "event-sub-process-typed-start-event": (SIMPLE + '<bpmn:subProcess id="esp" name="On event" '
                                            'triggeredByEvent="true"><bpmn:startEvent id="es" name="Blank"/>'
                                            '<bpmn:endEvent id="ee" name="Handled"/>' + flow("ef", "es", "ee")
                                            + '</bpmn:subProcess>', ""),
    "no-complex-gateway": (START + '<bpmn:complexGateway id="g" name="Complex"/>' + END + '<bpmn:endEvent '
                           'id="e2" name="E2"/>' + flow("f1", "start", "g") + flow("f2", "g", "end", "a")
                           + flow("f3", "g", "e2", "b"), ""),
    "no-inclusive-gateway": (SPLIT.replace("exclusiveGateway", "inclusiveGateway"), ""),
    "call-activity-target": (START + '<bpmn:callActivity id="c" name="Call" calledElement="../../etc/passwd"/>'
                             + END + flow("f1", "start", "c") + flow("f2", "c", "end"), ""),
    "message-without-catcher": (START + '<bpmn:endEvent id="end" name="Paid"><bpmn:messageEventDefinition '
                                'messageRef="m"/></bpmn:endEvent>' + flow("f1", "start", "end"), MESSAGE),
    "message-without-thrower": (START + '<bpmn:intermediateCatchEvent id="w" name="Wait for payment">'
                                '<bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>' + END
                                + flow("f1", "start", "w") + flow("f2", "w", "end"), MESSAGE),
    "boundary-event-attachment": (START + '<bpmn:exclusiveGateway id="g" name="G"/>' + END
                                  + '<bpmn:boundaryEvent id="b" name="Late" attachedToRef="g">'
                                  '<bpmn:timerEventDefinition>'
                                  '<bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                  '</bpmn:boundaryEvent>' + flow("f1", "start", "g") + flow("f2", "g", "end")
                                  + flow("f3", "b", "end"), ""),
    "form-file-found": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:userTask id="t" name="Fill in">'
                                       '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                                       'name="formJsonSchemaFilename" value="missing-schema.json"/>'
                                       '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>'), ""),
    "link-event": (SIMPLE + '<bpmn:intermediateThrowEvent id="lt" name="Go to A"><bpmn:linkEventDefinition '
                   'name="A"/></bpmn:intermediateThrowEvent>' + flow("f9", "start", "lt"), ""),
    "unbound-service-task": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>',
                                            '<bpmn:serviceTask id="t" name="Charge"/>'), ""),
    "handler-not-registered": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:serviceTask id="t" '
                                              'name="Charge" camunda:type="external" camunda:topic="svx"/>'), ""),
    "expression-syntax": (SPLIT.replace(flow("fa", "gw", "a"), flow("fa", "gw", "a", "amount &gt;"))
                          .replace(flow("fb", "gw", "b"), flow("fb", "gw", "b", "amount &lt; 3")), ""),
    "script-syntax": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:scriptTask id="t" name="Calc">'
                                     '<bpmn:script>x = = 1</bpmn:script></bpmn:scriptTask>'), ""),
    "sandbox": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:scriptTask id="t" name="Calc">'
                               '<bpmn:script>import os</bpmn:script></bpmn:scriptTask>'), ""),
    "timer-iso8601": (START + TIMER.format(kind="timeDuration", text="PT5X") + END + flow("f1", "start", "wait")
                      + flow("f2", "wait", "end"), ""),
    "unsupported-element": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:task id="t" name="Do it">'
                                           '<bpmn:extensionElements><camunda:executionListener class="a.B" '
                                           'event="timeout"/></bpmn:extensionElements></bpmn:task>'), ""),
    "compensation-handler": (COMPENSATED + '<bpmn:boundaryEvent id="cb" name="Undo" attachedToRef="t">'
                             '<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>', ""),
    "compensation-handler-flows": (COMPENSATED + '<bpmn:task id="u" name="Undo it" isForCompensation="true"/>'
                                   + flow("f9", "u", "end") + COMPENSATION_LINK, ""),
    "compensation-activity-ref": (SIMPLE + '<bpmn:intermediateThrowEvent id="ct" name="Undo"><bpmn:'
                                  'compensateEventDefinition activityRef="start"/></bpmn:intermediateThrowEvent>'
                                  + flow("f9", "start", "ct"), ""),
    "engine-load": (SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:task id="t" name="Do it">'
                                   '<bpmn:standardLoopCharacteristics/></bpmn:task>'), ""),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_on_a_diagram_that_breaks_it(tmp_path: Path, rule: str) -> None:
    body, extra = CASES[rule]
    found = [f for f in lint_body(tmp_path, body, extra=extra) if f.rule == rule]
    assert found, f"{rule} did not fire"
    finding = found[0]
    assert finding.severity == RULES[rule].severity or rule == "handler-not-registered"
    assert finding.file.endswith("d.bpmn") and finding.line > 1
    assert str(finding).endswith(f" [{rule}]") and "\n" not in str(finding)


def test_every_rule_has_a_case_here_or_in_the_load_tests() -> None:
    load_rules = {"file-readable", "xml-well-formed", "xml-hostile", "bpmn-namespace", "not-executable",
                  "unused-handler", "handler-input-missing"}
    load_rules |= {"dmn-feel-syntax", "dmn-table-shape", "dmn-unique-overlap", "dmn-reference",
                   "decision-result-mapping"}  # test_dmn_lint.py
    assert set(RULES) == set(CASES) | load_rules


def test_the_finding_points_at_the_line_to_look_at(tmp_path: Path) -> None:
    found = lint_body(tmp_path, START + TASK + END + flow("f1", "start", "t") + flow("f2", "t", "end")
                      + '\n\n<bpmn:task id="lone" name="Lone"/>')
    [finding] = [f for f in found if f.rule == "no-disconnected"]
    text = (tmp_path / "d.bpmn").read_text().splitlines()
    assert 'id="lone"' in text[finding.line - 1]
    assert "task 'Lone' is not connected" in finding.message


@pytest.mark.parametrize(("source", "rule", "message"), [
    ("", "file-readable", "no such file or folder"),
    ("<bpmn:definitions", "xml-well-formed", "not well-formed XML"),
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>', "xml-hostile", "DOCTYPE"),
    ('<definitions xmlns="http://example.com/not-bpmn"/>', "bpmn-namespace", "not a BPMN or DMN document"),
])
def test_files_that_do_not_load_are_findings_too(tmp_path: Path, source: str, rule: str, message: str) -> None:
    path = tmp_path / "broken.bpmn"
    if source:
        path.write_text(source)
    [finding] = lint([path])
    assert (finding.rule, finding.severity) == (rule, "error") and message in finding.message
    assert finding.file.endswith("broken.bpmn") and finding.line >= 1


def test_a_non_executable_export_is_linted_with_warnings_not_refused(tmp_path: Path) -> None:
    found = lint_body(tmp_path, TASK + END + flow("f2", "t", "end"), executable=False)
    assert {"start-event-required", "not-executable"} <= rules(found)
    assert not [f for f in found if f.severity == "error"]
    executable = lint_body(tmp_path, TASK + END + flow("f2", "t", "end"))
    [missing_start] = [f for f in executable if f.rule == "start-event-required"]
    assert missing_start.severity == "warning" and "implicit start" in missing_start.message


def test_implicit_starts_and_ends_are_style_warnings_not_refusals(tmp_path: Path) -> None:
    """BPMN 2.0 10.5.2/10.5.3: without a start event, every element without an incoming flow starts the process;
    an element without outgoing flows ends its path. Both run (issue 14), so validate warns and does not refuse."""
    found = lint_body(tmp_path, TASK + '<bpmn:task id="t2" name="Then"/>' + flow("f1", "t", "t2"))
    assert not [f for f in found if f.severity == "error"], found
    [start] = [f for f in found if f.rule == "no-implicit-start"]
    assert "starts when the process starts" in start.message
    [end] = [f for f in found if f.rule == "no-implicit-end"]
    assert "implicit end" in end.message


def test_did_you_mean_and_unused_handlers(tmp_path: Path) -> None:
    body = SIMPLE.replace('<bpmn:task id="t" name="Do it"/>', '<bpmn:serviceTask id="t" name="Charge" '
                                                                'camunda:type="external" camunda:topic="svx"/>')
    found = lint_body(tmp_path, body, registry=handlers("svc", "never.used"))
    [missing] = [f for f in found if f.rule == "handler-not-registered"]
    assert missing.severity == "error" and "did you mean 'svc'" in missing.message
    unused = [f for f in found if f.rule == "unused-handler"]
    assert {f.severity for f in unused} == {"info"} and any("'never.used'" in f.message for f in unused)


def test_unused_handler_points_at_the_handler_source(tmp_path: Path) -> None:
    module = tmp_path / "h.py"
    module.write_text("from bpmn_runner import handler\n\n\n@handler('idle')\ndef idle(call):\n    return {}\n")
    registry = HandlerRegistry()
    registry.load(str(module))
    [finding] = [f for f in lint_body(tmp_path, CLEAN, registry=registry) if f.rule == "unused-handler"]
    assert finding.file.endswith("h.py") and finding.line == 4


def test_without_handlers_a_named_handler_is_only_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(CLEAN))
    found = lint([path])
    assert [f.severity for f in found if f.rule == "handler-not-registered"] == ["warning"]


def test_a_declared_handler_input_the_task_does_not_map(tmp_path: Path) -> None:
    registry = HandlerRegistry()
    registry.add(handler("svc", inputs={"amount": "number"})(lambda call: {}), source="tests")
    [finding] = [f for f in lint_body(tmp_path, CLEAN, registry=registry) if f.rule == "handler-input-missing"]
    assert finding.severity == "warning" and "'amount'" in finding.message


def test_trusted_scripts_are_not_sandbox_findings(tmp_path: Path) -> None:
    body, _ = CASES["sandbox"]
    assert "sandbox" not in rules(lint_body(tmp_path, body, trust_scripts=True))
    [finding] = [f for f in lint_body(tmp_path, body) if f.rule == "sandbox"]
    assert "script task 'Calc'" in finding.message and "--trust-scripts" in finding.message


@pytest.mark.parametrize(("kind", "text"), [
    ("timeDuration", "PT5M"), ("timeDuration", "P1DT2H"), ("timeDuration", "PT0.5S"), ("timeDuration", "'PT5M'"),
    ("timeDuration", "=delay"), ("timeDuration", "${delay}"), ("timeDate", "2025-01-31T09:00:00Z"),
    ("timeCycle", "R3/PT10M"), ("timeCycle", "R/2025-01-31T09:00:00Z/P1D"), ("timeCycle", "0 0/5 * * * ?"),
    ("timeCycle", "0 0 * * *"),
])
def test_timer_texts_that_parse(tmp_path: Path, kind: str, text: str) -> None:
    body = START + TIMER.format(kind=kind, text=text) + END + flow("f1", "start", "wait") + flow("f2", "wait", "end")
    assert "timer-iso8601" not in rules(lint_body(tmp_path, body))


@pytest.mark.parametrize(("kind", "text"), [
    ("timeDuration", "PT"), ("timeDuration", "P1W2D"), ("timeDuration", "5 minutes"), ("timeDuration", "'PT5X'"),
    ("timeDuration", ""), ("timeDate", "2025-13-01"), ("timeDate", "PT5M"), ("timeCycle", "0 0 99 * * ?"),
    ("timeCycle", "R/PT1H/PT2H"),
])
def test_timer_texts_that_do_not(tmp_path: Path, kind: str, text: str) -> None:
    body = START + TIMER.format(kind=kind, text=text) + END + flow("f1", "start", "wait") + flow("f2", "wait", "end")
    [finding] = [f for f in lint_body(tmp_path, body) if f.rule == "timer-iso8601"]
    assert finding.severity == "error" and kind in finding.message


def test_a_call_activity_finds_its_process_beside_it_but_never_by_path(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "outside").mkdir()
    callee = definitions_xml(SIMPLE, process_id="callee")
    (tmp_path / "inside" / "callee.bpmn").write_text(callee)
    (tmp_path / "outside" / "secret.bpmn").write_text(definitions_xml(SIMPLE, process_id="secret"))
    for called, expected in [("callee", False), ("secret", True), ("../outside/secret.bpmn", True)]:
        body = (START + f'<bpmn:callActivity id="c" name="Call" calledElement="{called}"/>' + END
                + flow("f1", "start", "c") + flow("f2", "c", "end"))
        path = tmp_path / "inside" / "main.bpmn"
        path.write_text(definitions_xml(body))
        assert ("call-activity-target" in rules(lint([path]))) is expected, called


# ----- configuration, output and exit codes, through the command line


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def split_diagram(tmp_path: Path) -> Path:
    path = tmp_path / "split.bpmn"
    path.write_text(definitions_xml(CASES["no-implicit-split"][0]))
    return path


def test_text_lines_have_file_line_severity_message_and_rule(split_diagram: Path) -> None:
    result = invoke("validate", split_diagram)
    assert result.exit_code == 0
    line = next(l for l in result.stdout.splitlines() if "no-implicit-split" in l)
    assert re.match(r"^\S*split\.bpmn:\d+: warning: .+ \[no-implicit-split\]$", line)


def test_strict_makes_warnings_fail(split_diagram: Path) -> None:
    assert invoke("validate", split_diagram, "--strict").exit_code == 3
    assert invoke("validate", split_diagram, "--strict", "--disable", "no-implicit-split").exit_code == 0


def test_errors_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(CASES["conditional-flows"][0]))
    result = invoke("validate", path)
    assert result.exit_code == 3 and ": error: " in result.stdout and "[conditional-flows]" in result.stdout


def test_json_format(split_diagram: Path) -> None:
    result = invoke("validate", split_diagram, "--format", "json")
    payload = json.loads(result.stdout)
    assert payload["errors"] == 0 and payload["warnings"] >= 1
    finding = next(f for f in payload["findings"] if f["rule"] == "no-implicit-split")
    assert set(finding) == {"file", "line", "severity", "message", "rule"} and finding["line"] > 1


def test_pyproject_disables_rules_from_the_nearest_one_upward(split_diagram: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bpmn-runner]\nlint.disable = ["no-implicit-split"]\n')
    work = tmp_path / "sub" / "dir"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    result = invoke("validate", split_diagram, "--strict")
    assert result.exit_code == 0 and "no-implicit-split" not in result.stdout


def test_an_unknown_rule_id_is_a_usage_error(split_diagram: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("validate", split_diagram, "--disable", "no-such-rule")
    assert result.exit_code == 2 and "no-such-rule" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.bpmn-runner]\nlint.disable = ["no-implict-split"]\n')
    monkeypatch.chdir(tmp_path)
    result = invoke("validate", split_diagram)
    assert result.exit_code == 2 and "no-implict-split" in result.output and "Traceback" not in result.output


def test_pyproject_trusts_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(CASES["sandbox"][0]))
    monkeypatch.chdir(tmp_path)
    assert invoke("validate", path).exit_code == 3
    (tmp_path / "pyproject.toml").write_text("[tool.bpmn-runner]\ntrust_scripts = true\n")
    assert invoke("validate", path).exit_code == 0


def test_readme_lists_every_rule_as_the_code_defines_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Validate: the rules", 1)[1].split("\n## ", 1)[0]
    listed = {rule: (severity, text) for rule, severity, text in
              re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \| (.*) \|$", section, flags=re.M)}
    assert listed == {rule.id: (rule.severity, rule.description) for rule in RULES.values()}


def test_a_compensation_boundary_with_its_handler_is_clean(tmp_path: Path) -> None:
    """BPMN 2.0 section 10.7.5: the handler is linked by an association and stands outside the sequence flow."""
    body = (COMPENSATED.replace(flow("f2", "t", "end"), flow("f2", "t", "ct") + flow("f3", "ct", "end"))
            + '<bpmn:task id="u" name="Undo it" isForCompensation="true"/>'
            + '<bpmn:intermediateThrowEvent id="ct" name="Undo all"><bpmn:compensateEventDefinition '
              'activityRef="t"/></bpmn:intermediateThrowEvent>' + COMPENSATION_LINK)
    assert lint_body(tmp_path, body, registry=handlers()) == []

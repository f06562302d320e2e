"""`validate` on DMN files: each DMN rule fires on a small model that breaks it (with the line, and the column for
FEEL), and a clean model (Camunda's dinner decisions) has no findings. The decision table report draws the tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html

from bpmn_runner.lint import lint
from bpmn_runner.report import render_definition_report

DATA = Path(__file__).parent / "data" / "dmn"
NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def model(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "m.dmn"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{NS}" id="d" name="d" '
                    f'namespace="urn:m">\n{body}\n</definitions>\n', encoding="utf-8")
    return path


def table(rules: str, policy: str = "UNIQUE", inputs: int = 1) -> str:
    clauses = "".join(f'<input><inputExpression><text>x{i}</text></inputExpression></input>' for i in range(inputs))
    return (f'<decision id="t" name="T"><decisionTable hitPolicy="{policy}">{clauses}<output name="o"/>\n'
            f'{rules}</decisionTable></decision>')


def rule(*entries: str, out: str = "1", rule_id: str = "") -> str:
    ident = f' id="{rule_id}"' if rule_id else ""
    cells = "".join(f"<inputEntry><text>{e}</text></inputEntry>" for e in entries)
    return f"<rule{ident}>{cells}<outputEntry><text>{out}</text></outputEntry></rule>\n"


def findings(path: Path, rule_id: str) -> list:
    return [f for f in lint([path]) if f.rule == rule_id]


def test_the_dinner_decisions_are_clean() -> None:
    assert [str(f) for f in lint([DATA / "dinnerDecisions.dmn"])] == []


def test_feel_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = model(tmp_path, '<decision id="a" name="A">\n<literalExpression>\n<text>1 + + (</text>'
                           '</literalExpression></decision>')
    [finding] = findings(path, "dmn-feel-syntax")
    assert finding.line == 5 and "column 5" in finding.message and "decision 'A'" in finding.message


def test_bad_unary_test_in_a_rule_is_found(tmp_path: Path) -> None:
    path = model(tmp_path, table(rule("[1..") + rule("&gt; 5")))
    [finding] = findings(path, "dmn-feel-syntax")
    assert "[1.." in finding.message


@pytest.mark.parametrize("entries, overlapping", [
    ((rule('"Fall","Winter"', rule_id="a") + rule('"Winter"', rule_id="b")), True),
    ((rule("[1..5]", rule_id="a") + rule("&gt;= 5", rule_id="b")), True),
    ((rule("[1..5)", rule_id="a") + rule("&gt;= 5", rule_id="b")), False),
    ((rule("-", rule_id="a") + rule('"x"', rule_id="b")), True),
    ((rule('"x"', rule_id="a") + rule('"y"', rule_id="b")), False),
])
def test_unique_tables_with_overlapping_rules_are_found(tmp_path: Path, entries: str, overlapping: bool) -> None:
    found = findings(model(tmp_path, table(entries)), "dmn-unique-overlap")
    assert bool(found) is overlapping
    if found:
        assert "rules a and b" in found[0].message


@pytest.mark.parametrize("entries, reported", [
    ((rule("[1..5]", out='"low"', rule_id="a") + rule("&gt;= 5", out='"high"', rule_id="b")), True),
    ((rule("[1..5]", out='"low"', rule_id="a") + rule("&gt;= 5", out='"low"', rule_id="b")), False),
    ((rule("[1..5)", out='"low"', rule_id="a") + rule("&gt;= 5", out='"high"', rule_id="b")), False),
    ((rule("-", out="1", rule_id="a") + rule('"x"', out="true", rule_id="b")), True),
    ((rule("-", out="x0", rule_id="a") + rule('"x"', out='"y"', rule_id="b")), False),
])
def test_any_tables_with_overlapping_rules_of_different_outputs_are_found(tmp_path: Path, entries: str,
                                                                           reported: bool) -> None:
    """DMN 1.5 section 8.2.10 (hit policy ANY): rules may overlap only if they show equal output entries, as
    docs.camunda.org/manual/latest/reference/dmn/decision-table/hit-policy/ ("Any Hit Policy") also says. An output
    that is not a literal (`x0`) is never judged different."""
    found = findings(model(tmp_path, table(entries, policy="ANY")), "dmn-unique-overlap")
    assert bool(found) is reported
    if found:
        assert "hit policy ANY" in found[0].message and "rules a and b" in found[0].message


def test_overlap_needs_every_column_to_meet(tmp_path: Path) -> None:
    rules = rule('"Spring"', "&lt;= 4", rule_id="a") + rule('"Spring"', "[5..8]", rule_id="b")
    assert findings(model(tmp_path, table(rules, inputs=2)), "dmn-unique-overlap") == []


def test_table_shape_and_hit_policy(tmp_path: Path) -> None:
    path = model(tmp_path, table(rule("1", "2"), policy="PRIORITY"))
    messages = [f.message for f in findings(path, "dmn-table-shape")]
    assert any("2 input" in m for m in messages) and any("output values" in m for m in messages)


def test_reference_to_a_missing_element(tmp_path: Path) -> None:
    path = model(tmp_path, '<decision id="a" name="A"><informationRequirement><requiredDecision href="#nope"/>'
                           '</informationRequirement><literalExpression><text>1</text></literalExpression></decision>')
    [finding] = findings(path, "dmn-reference")
    assert "'nope'" in finding.message


def test_definition_report_draws_decision_tables() -> None:
    page = html.fromstring(render_definition_report([str(DATA / "dinner_c7.bpmn"), str(DATA / "dinnerDecisions.dmn")]))
    tables = page.xpath("//table[contains(@class,'decision-table')]")
    assert len(tables) == 2
    dish = page.xpath("//section[@data-decision-id='dish']//table")[0]
    assert dish.xpath(".//th[contains(@class,'hit-policy')]")[0].text_content() == "U"
    assert [th.text_content().split("season")[0] for th in dish.xpath(".//th[contains(@class,'dmn-input')]")][0] \
        == "Season"
    assert len(dish.xpath(".//tbody/tr")) == 6
    beverages = page.xpath("//section[@data-decision-id='beverages']//table")[0]
    assert beverages.xpath(".//th[contains(@class,'hit-policy')]")[0].text_content() == "C"
    assert "Hey, why not?" in dish.text_content()     # rule descriptions shown as annotations


def test_decision_result_mapping_is_one_camunda_knows(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/decisions/bpmn-cmmn/ (the four mappings)."""
    from .scenario import write
    body = ('<bpmn:startEvent id="start" name="Start"/><bpmn:businessRuleTask id="t" name="Decide" '
            'camunda:decisionRef="dish" camunda:resultVariable="d" camunda:mapDecisionResult="singleValue"/>'
            '<bpmn:businessRuleTask id="u" name="Decide again" camunda:decisionRef="dish" '
            'camunda:mapDecisionResult="singleEntry"/><bpmn:endEvent id="end" name="End"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="t" '
            'targetRef="u"/><bpmn:sequenceFlow id="f3" sourceRef="u" targetRef="end"/>')
    path = write(tmp_path, body)
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text(), encoding="utf-8")
    found = [f for f in lint([path, tmp_path / "dinner.dmn"]) if f.rule == "decision-result-mapping"]
    assert [(f.severity, "singleValue" in f.message) for f in found] == [("error", True), ("warning", False)]


def test_definition_report_shows_contexts_and_literal_expressions(tmp_path: Path) -> None:
    path = model(tmp_path, '<decision id="c" name="C"><context><contextEntry><variable name="rate"/>'
                           '<literalExpression><text>0.5 &lt; 1</text></literalExpression></contextEntry>'
                           '</context></decision><decision id="l" name="L"><literalExpression><text>"&lt;b&gt;"'
                           '</text></literalExpression></decision>')
    page = render_definition_report([str(path)])
    tree = html.fromstring(page)
    assert tree.xpath("//section[@data-decision-id='c']//table[contains(@class,'dmn-context')]//th")[0].text == "rate"
    assert "&lt;b&gt;" in page and "<b>" not in page     # escaped

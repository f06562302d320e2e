"""The DMN engine on small models: every hit policy, output priorities, defaults, boxed expressions, BKMs, decision
services, typeRef conversion, and the errors a modeller can act on. Semantics per the DMN 1.5 specification
(chapter 8 decision tables, 10.2-10.3 boxed expressions) and Camunda's hit-policy page
(docs.camunda.org/manual/latest/reference/dmn/decision-table/hit-policy/)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bpmn_runner import decide, load_decisions
from bpmn_runner.errors import BpmnRunnerError, UnknownProcessError

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(tmp_path: Path, body: str, name: str = "model.dmn", extra_ns: str = "") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{NS}" {extra_ns} id="defs" '
                    f'name="defs" namespace="urn:test">{body}</definitions>', encoding="utf-8")
    return path


def table(hit_policy: str, rules: list[tuple[str, str]], *, aggregation: str = "", output_values: str = "",
          default: str = "", table_id: str = ' id="t"') -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    values = f"<outputValues><text>{output_values}</text></outputValues>" if output_values else ""
    dflt = f"<defaultOutputEntry><text>{default}</text></defaultOutputEntry>" if default else ""
    rows = "".join(f'<rule id="r{i + 1}"><inputEntry><text>{test}</text></inputEntry>'
                   f'<outputEntry><text>{out}</text></outputEntry></rule>' for i, (test, out) in enumerate(rules))
    return (f'<decision id="d" name="D"><decisionTable{table_id} hitPolicy="{hit_policy}"{agg}>'
            f'<input label="X"><inputExpression typeRef="number"><text>x</text></inputExpression></input>'
            f'<output name="out">{values}{dflt}</output>{rows}</decisionTable></decision>')


RULES = [("&lt; 10", '"low"'), ("&lt; 20", '"mid"'), ("&gt;= 5", '"high"')]


@pytest.mark.parametrize("policy, aggregation, x, expected", [
    ("FIRST", "", 3, "low"),
    ("RULE ORDER", "", 7, ["low", "mid", "high"]),
    ("COLLECT", "", 12, ["mid", "high"]),
    ("COLLECT", "COUNT", 7, Decimal(3)),
])
def test_hit_policies_give_the_specified_results(tmp_path: Path, policy: str, aggregation: str, x: int,
                                                 expected: object) -> None:
    path = dmn(tmp_path, table(policy, RULES, aggregation=aggregation))
    assert decide([path], "d", {"x": x}).value == expected


def test_collect_sum_min_max_aggregate_numbers(tmp_path: Path) -> None:
    rules = [("&gt; 0", "10"), ("&gt; 1", "20"), ("&gt; 2", "5")]
    for aggregation, expected in (("SUM", 35), ("MIN", 5), ("MAX", 20)):
        path = dmn(tmp_path, table("COLLECT", rules, aggregation=aggregation))
        assert decide([path], "d", {"x": 3}).value == Decimal(expected)


def test_unique_with_two_matching_rules_is_an_error_that_names_them(tmp_path: Path) -> None:
    result = decide([dmn(tmp_path, table("UNIQUE", RULES))], "d", {"x": 7})
    assert result.value is None
    assert "UNIQUE" in result.errors[0] and "r1" in result.errors[0] and "r3" in result.errors[0]


def test_priority_and_output_order_rank_by_the_output_values(tmp_path: Path) -> None:
    values = '"high","mid","low"'
    priority = dmn(tmp_path, table("PRIORITY", RULES, output_values=values))
    assert decide([priority], "d", {"x": 7}).value == "high"
    ordered = dmn(tmp_path, table("OUTPUT ORDER", RULES, output_values=values))
    assert decide([ordered], "d", {"x": 7}).value == ["high", "mid", "low"]


def test_default_output_value_when_no_rule_matches(tmp_path: Path) -> None:
    path = dmn(tmp_path, table("UNIQUE", [("&gt; 100", '"big"')], default='"none"'))
    assert decide([path], "d", {"x": 1}).value == "none"


def test_a_table_without_ids_evaluates(tmp_path: Path) -> None:
    """Issue 12: a decisionTable without an id raised KeyError('id')."""
    path = dmn(tmp_path, table("FIRST", RULES, table_id=""))
    result = decide([path], "d", {"x": 15})
    assert result.value == "mid" and result.matched_rules == {"d": ["r2"]}


def test_string_lists_ranges_and_booleans_are_feel_not_python(tmp_path: Path) -> None:
    """Issue 12: `"Fall","Winter","Spring"` never matched, `[5..8]` was a syntax error, `true` unknown."""
    body = ('<decision id="d" name="D"><decisionTable hitPolicy="FIRST">'
            '<input><inputExpression><text>season</text></inputExpression></input>'
            '<input><inputExpression><text>guests</text></inputExpression></input>'
            '<input><inputExpression><text>kids</text></inputExpression></input><output name="o"/>'
            '<rule><inputEntry><text>"Fall","Winter","Spring"</text></inputEntry><inputEntry><text>[5..8]</text>'
            '</inputEntry><inputEntry><text>true</text></inputEntry><outputEntry><text>"yes"</text></outputEntry>'
            '</rule></decisionTable></decision>')
    path = dmn(tmp_path, body)
    assert decide([path], "d", {"season": "Winter", "guests": 6, "kids": True}).value == "yes"
    assert decide([path], "d", {"season": "Summer", "guests": 6, "kids": True}).value is None


def test_required_decisions_are_evaluated_first_and_reported(tmp_path: Path) -> None:
    body = ('<inputData id="i" name="Amount"><variable name="Amount" typeRef="number"/></inputData>'
            '<decision id="base" name="Base"><variable name="Base" typeRef="number"/>'
            '<informationRequirement><requiredInput href="#i"/></informationRequirement>'
            '<literalExpression><text>Amount * 2</text></literalExpression></decision>'
            '<decision id="total" name="Total"><informationRequirement><requiredDecision href="#base"/>'
            '</informationRequirement><literalExpression><text>Base + 1</text></literalExpression></decision>')
    result = decide([dmn(tmp_path, body)], None, {"Amount": 20})
    assert result.decision_id == "total" and result.value == Decimal(41)
    assert result.results == {"Base": Decimal(40), "Total": Decimal(41)}


def test_input_text_becomes_a_date_where_the_input_data_is_a_date(tmp_path: Path) -> None:
    body = ('<inputData id="i" name="Birthday"><variable name="Birthday" typeRef="date"/></inputData>'
            '<decision id="d" name="Year"><informationRequirement><requiredInput href="#i"/>'
            '</informationRequirement><literalExpression><text>Birthday.year</text></literalExpression></decision>')
    assert decide([dmn(tmp_path, body)], "d", {"Birthday": "1990-05-17"}).value == Decimal(1990)
    assert decide([dmn(tmp_path, body)], "d", {"Birthday": dt.date(2001, 1, 2)}).value == Decimal(2001)


def test_a_value_that_is_not_of_the_type_becomes_null_with_a_note(tmp_path: Path) -> None:
    body = ('<decision id="d" name="D"><variable name="D" typeRef="number"/>'
            '<literalExpression><text>"text"</text></literalExpression></decision>')
    result = decide([dmn(tmp_path, body)], "d", {})
    assert result.value is None and "not a number" in result.errors[0]


def test_context_bkm_invocation_and_function_definitions(tmp_path: Path) -> None:
    body = ('<businessKnowledgeModel id="bkm" name="Discount"><encapsulatedLogic><formalParameter name="price" '
            'typeRef="number"/><formalParameter name="rate" typeRef="number"/><literalExpression>'
            '<text>price * rate</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>'
            '<decision id="d" name="D"><knowledgeRequirement><requiredKnowledge href="#bkm"/></knowledgeRequirement>'
            '<context><contextEntry><variable name="price"/><literalExpression><text>200</text></literalExpression>'
            '</contextEntry><contextEntry><variable name="cut"/><invocation><literalExpression><text>Discount</text>'
            '</literalExpression><binding><parameter name="price"/><literalExpression><text>price</text>'
            '</literalExpression></binding><binding><parameter name="rate"/><literalExpression><text>0.1</text>'
            '</literalExpression></binding></invocation></contextEntry><contextEntry><variable name="twice"/>'
            '<functionDefinition><formalParameter name="n"/><literalExpression><text>n * 2</text>'
            '</literalExpression></functionDefinition></contextEntry><contextEntry><literalExpression>'
            '<text>twice(cut)</text></literalExpression></contextEntry></context></decision>')
    assert decide([dmn(tmp_path, body)], "d", {}).value == Decimal(40)


def test_decision_service_is_a_function_of_its_inputs(tmp_path: Path) -> None:
    body = ('<inputData id="n" name="N"/>'
            '<decision id="sq" name="Square"><informationRequirement><requiredInput href="#n"/>'
            '</informationRequirement><literalExpression><text>N * N</text></literalExpression></decision>'
            '<decisionService id="svc" name="SquareService"><outputDecision href="#sq"/><inputData href="#n"/>'
            '</decisionService>'
            '<decision id="d" name="D"><knowledgeRequirement><requiredKnowledge href="#svc"/></knowledgeRequirement>'
            '<literalExpression><text>SquareService(3) + SquareService(N: 4)</text></literalExpression></decision>')
    assert decide([dmn(tmp_path, body)], "d", {}).value == Decimal(25)


def test_java_functions_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    body = ('<decision id="d" name="D"><context><contextEntry><variable name="max"/><functionDefinition kind="Java">'
            '<formalParameter name="a"/><context/></functionDefinition></contextEntry><contextEntry>'
            '<literalExpression><text>max(1)</text></literalExpression></contextEntry></context></decision>')
    result = decide([dmn(tmp_path, body)], "d", {})
    assert result.value is None and "Java" in result.errors[0] and "not supported" in result.errors[0]


def test_boxed_conditional_iterator_and_filter(tmp_path: Path) -> None:
    body = ('<decision id="c" name="C"><conditional><if><literalExpression><text>x &gt; 1</text></literalExpression>'
            '</if><then><literalExpression><text>"big"</text></literalExpression></then><else><literalExpression>'
            '<text>"small"</text></literalExpression></else></conditional></decision>'
            '<decision id="f" name="F"><for iteratorVariable="i"><in><literalExpression><text>[1,2,3]</text>'
            '</literalExpression></in><return><literalExpression><text>i * x</text></literalExpression></return>'
            '</for></decision>'
            '<decision id="g" name="G"><filter><in><literalExpression><text>[1,2,3,4]</text></literalExpression>'
            '</in><match><literalExpression><text>item &gt; x</text></literalExpression></match></filter></decision>'
            '<decision id="e" name="E"><every iteratorVariable="i"><in><literalExpression><text>[1,2]</text>'
            '</literalExpression></in><satisfies><literalExpression><text>i &lt; x</text></literalExpression>'
            '</satisfies></every></decision>')
    path = dmn(tmp_path, body)
    assert decide([path], "c", {"x": 2}).value == "big"
    assert decide([path], "f", {"x": 2}).value == [Decimal(2), Decimal(4), Decimal(6)]
    assert decide([path], "g", {"x": 2}).value == [Decimal(3), Decimal(4)]
    assert decide([path], "e", {"x": 3}).value is True


def test_an_unknown_decision_names_the_ones_there_are(tmp_path: Path) -> None:
    with pytest.raises(UnknownProcessError) as err:
        decide([dmn(tmp_path, table("FIRST", RULES))], "nope", {})
    assert "nope" in str(err.value) and "d (D)" in str(err.value)


def test_imports_are_found_beside_the_model_by_namespace(tmp_path: Path) -> None:
    (tmp_path / "rates.dmn").write_text(
        f'<definitions xmlns="{NS}" id="r" name="rates" namespace="urn:rates"><decision id="rate" name="Rate">'
        f'<literalExpression><text>0.5</text></literalExpression></decision></definitions>', encoding="utf-8")
    body = ('<import namespace="urn:rates" name="rates" importType="https://www.omg.org/spec/DMN/20191111/MODEL/"/>'
            '<decision id="d" name="D"><informationRequirement><requiredDecision href="urn:rates#rate"/>'
            '</informationRequirement><literalExpression><text>rates.Rate * 10</text></literalExpression></decision>')
    assert decide([dmn(tmp_path, body)], "d", {}).value == Decimal(5)


def test_a_file_that_is_not_dmn_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "x.dmn"
    path.write_text('<definitions xmlns="urn:other"/>', encoding="utf-8")
    with pytest.raises(BpmnRunnerError) as err:
        load_decisions([path])
    assert "x.dmn" in str(err.value)


def test_camunda7_juel_input_expression(tmp_path: Path) -> None:
    """Camunda 7 allows JUEL input expressions (docs.camunda.org/manual/latest/user-guide/dmn-engine/expressions-and-scripts/)."""
    body = ('<decision id="d" name="D"><decisionTable hitPolicy="FIRST"><input><inputExpression '
            'expressionLanguage="juel"><text>amount * 2</text></inputExpression></input><output name="o"/>'
            '<rule><inputEntry><text>&gt; 10</text></inputEntry><outputEntry><text>"big"</text></outputEntry></rule>'
            '</decisionTable></decision>')
    assert decide([dmn(tmp_path, body)], "d", {"amount": 6}).value == "big"
    assert decide([dmn(tmp_path, body)], "d", {"amount": 5}).value is None


def test_json_text_becomes_dates_inside_structured_inputs(tmp_path: Path) -> None:
    body = ('<itemDefinition name="tPerson"><itemComponent name="born"><typeRef>date</typeRef></itemComponent>'
            '</itemDefinition><itemDefinition name="tPeople" isCollection="true"><typeRef>tPerson</typeRef>'
            '</itemDefinition>'
            '<inputData id="i" name="People"><variable name="People" typeRef="tPeople"/></inputData>'
            '<decision id="d" name="D"><informationRequirement><requiredInput href="#i"/></informationRequirement>'
            '<literalExpression><text>People[1].born.year</text></literalExpression></decision>')
    assert decide([dmn(tmp_path, body)], "d", {"People": [{"born": "1999-03-04"}]}).value == Decimal(1999)


def test_camunda7_juel_input_entry_reads_cell_input(tmp_path: Path) -> None:
    body = ('<decision id="d" name="D"><decisionTable hitPolicy="FIRST"><input><inputExpression><text>amount</text>'
            '</inputExpression></input><output name="o"/><rule><inputEntry expressionLanguage="juel">'
            '<text>${cellInput &gt; 10}</text></inputEntry><outputEntry><text>"big"</text></outputEntry></rule>'
            '</decisionTable></decision>')
    assert decide([dmn(tmp_path, body)], "d", {"amount": 11}).value == "big"
    assert decide([dmn(tmp_path, body)], "d", {"amount": 9}).value is None


def test_a_function_that_calls_itself_without_end_gives_null_not_a_crash(tmp_path: Path) -> None:
    body = ('<businessKnowledgeModel id="f" name="loop"><encapsulatedLogic><formalParameter name="n"/>'
            '<literalExpression><text>loop(n + 1)</text></literalExpression></encapsulatedLogic>'
            '</businessKnowledgeModel><decision id="d" name="D"><knowledgeRequirement><requiredKnowledge href="#f"/>'
            '</knowledgeRequirement><literalExpression><text>loop(1)</text></literalExpression></decision>')
    result = decide([dmn(tmp_path, body)], "d", {})
    assert result.value is None and all("\n" not in e for e in result.errors)


def test_a_date_becomes_a_date_and_time_at_utc_midnight(tmp_path: Path) -> None:
    """DMN 1.5 10.3.2.9.4, conversion from date to date and time."""
    body = ('<decision id="d" name="D"><variable name="D" typeRef="date and time"/>'
            '<literalExpression><text>date("2024-02-29")</text></literalExpression></decision>')
    assert decide([dmn(tmp_path, body)], "d", {}).value == dt.datetime(2024, 2, 29, tzinfo=dt.timezone.utc)


def test_a_list_input_is_matched_by_feel_not_by_the_fast_path(tmp_path: Path) -> None:
    body = ('<decision id="d" name="D"><decisionTable hitPolicy="FIRST"><input><inputExpression><text>tags</text>'
            '</inputExpression></input><output name="o"/><rule><inputEntry><text>[1, 2]</text></inputEntry>'
            '<outputEntry><text>"pair"</text></outputEntry></rule><rule><inputEntry><text>-</text></inputEntry>'
            '<outputEntry><text>"other"</text></outputEntry></rule></decisionTable></decision>')
    assert decide([dmn(tmp_path, body)], "d", {"tags": [1, 2]}).value == "pair"
    assert decide([dmn(tmp_path, body)], "d", {"tags": [3]}).value == "other"

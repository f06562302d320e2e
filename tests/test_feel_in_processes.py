"""FEEL where Camunda 8 diagrams use it: `=` conditions, mappings, script tasks, and `validate`'s syntax checks."""

from __future__ import annotations

from pathlib import Path

from .scenario import Scenario, write
from .test_elements import END, START, chain, flow
from .test_lint import lint_body


def _gateway(condition: str) -> str:
    return (START + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "gw") + flow("f_yes", "gw", "yes", condition)
            + flow("f_no", "gw", "no"))


def test_conditions_with_dates_lists_and_multi_word_builtins(tmp_path: Path) -> None:
    """Camunda 8 docs "Conditions" with FEEL (docs.camunda.io/docs/components/modeler/feel): dates, `some`,
    and multi-word built-ins such as `day of week` and `string join` (which the old subset could not parse)."""
    for condition, data, expected in [
        ('=date(due) &lt; date("2024-06-01")', {"due": "2024-05-31"}, "yes"),
        ("=some line in lines satisfies line.qty &gt; 5", {"lines": [{"qty": 1}, {"qty": 7}]}, "yes"),
        ('=day of week(date(due)) = "Friday"', {"due": "2024-05-31"}, "yes"),
        ('=matches(code, "^[A-Z]{2}-\\d+$")', {"code": "AB-12"}, "yes"),
        ('=season in ("Fall", "Winter")', {"season": "Summer"}, "no"),
    ]:
        s = Scenario(write(tmp_path, _gateway(condition)), data=data)
        assert s.result.path[-1] == expected, (condition, s.result.error)


def test_script_task_results_are_plain_json_values(tmp_path: Path) -> None:
    """A Zeebe FEEL script's result is stored as JSON: numbers as numbers, dates and durations as ISO strings."""
    task = ('<bpmn:scriptTask id="task"><bpmn:extensionElements><zeebe:script expression="={total: sum(for p in '
            'prices return p * 1.1), due: date(start) + duration(&quot;P30D&quot;), wait: duration(&quot;PT90M'
            '&quot;)}" resultVariable="out"/></bpmn:extensionElements></bpmn:scriptTask>')
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")),
                 data={"prices": [10, 20], "start": "2024-01-01"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["out"] == {"total": 33, "due": "2024-01-31", "wait": "PT1H30M"}


def test_validate_names_the_column_of_a_feel_syntax_error(tmp_path: Path) -> None:
    """`validate` checks FEEL conditions with the column of the problem (and the element's line)."""
    findings = lint_body(tmp_path, _gateway('=amount &gt; * 2'))
    messages = [f.message for f in findings if f.rule == "expression-syntax"]
    assert any("column 11" in m and "expected a value" in m for m in messages), messages


def test_validate_reports_unknown_functions(tmp_path: Path) -> None:
    """Camunda 8 fails on an unknown function; `validate` finds it without data."""
    findings = lint_body(tmp_path, _gateway("=totl(amount) &gt; 2"))
    assert any("unknown function 'totl'" in f.message for f in findings)


def test_timer_duration_from_a_feel_expression(tmp_path: Path) -> None:
    """Camunda 8 timers take FEEL (docs.camunda.io "Timer events": `=duration(...)`); the result is ISO 8601."""
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>'
             '=duration("PT" + string(minutes) + "M")</bpmn:timeDuration></bpmn:timerEventDefinition>'
             '</bpmn:intermediateCatchEvent>')
    s = Scenario(write(tmp_path, START + timer + END + chain("start", "wait", "end")), timer_wait=0,
                 data={"minutes": 5})
    assert s.result.status == "waiting", s.result.error
    assert s.fire_timers().status == "completed"

"""Flat cost per step and bounded state (issue 3): the frontier run loop and pruning keep every construct correct.

Each model runs long enough to be pruned many times, and where stock SpiffWorkflow can still run it (small n) the
result is compared with a run on the stock BpmnWorkflow. No timings here: performance lives in bench/.

The state-size test runs 1,000 iterations by default; set BPMN_RUNNER_FULL=1 to run it at 10,000 (the issue's size).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from bpmn_runner.definitions import load
from bpmn_runner.engine import Engine
from bpmn_runner.instance import Instance
from bpmn_runner.models import RunResult
from bpmn_runner.registry import HandlerRegistry
from bpmn_runner._spiff import frontier

from . import generate

FULL = os.environ.get("BPMN_RUNNER_FULL") == "1"
pytestmark = pytest.mark.skipif(not frontier.ENABLED, reason="BPMN_RUNNER_FLAT=0 turns the optimisation off")

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


def diagram(body: str, process_id: str = "p", extra: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="Defs_{process_id}" '
            f'targetNamespace="http://bpmn.io/schema/bpmn">{extra}<bpmn:process id="{process_id}" '
            f'isExecutable="true">{body}</bpmn:process></bpmn:definitions>\n')


def flow(src: str, dst: str, condition: str | None = None) -> str:
    cond = "" if condition is None else f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>"
    return f'<bpmn:sequenceFlow id="f_{src}_{dst}" sourceRef="{src}" targetRef="{dst}">{cond}</bpmn:sequenceFlow>'


def service(tid: str, topic: str, inner: str = "") -> str:
    return f'<bpmn:serviceTask id="{tid}" camunda:type="external" camunda:topic="{topic}">{inner}</bpmn:serviceTask>'


def loop(inner: str, first: str, last: str, pause: bool = False) -> str:
    """start -> merge -> inner (first .. last) -> check: i < n back to merge, else end.

    With `pause`, a user task `pause` sits on the way back when i == pause_at (to save mid-loop)."""
    back = [flow("check", "gate", "${i &lt; n}"), '<bpmn:exclusiveGateway id="gate" default="f_gate_merge"/>',
            '<bpmn:userTask id="pause"/>', flow("gate", "pause", "${i == pause_at}"), flow("gate", "merge"),
            flow("pause", "merge")] if pause else [flow("check", "merge", "${i &lt; n}")]
    return "".join(['<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="merge"/>', inner,
                    '<bpmn:exclusiveGateway id="check" default="f_check_end"/><bpmn:endEvent id="end"/>',
                    flow("start", "merge"), flow("merge", first), flow(last, "check"), flow("check", "end"), *back])


def handlers(**extra: Callable[[Any], Any]) -> HandlerRegistry:
    """`inc` adds one to i; `tick` does nothing."""
    reg = HandlerRegistry()
    reg.register("inc", lambda call: {"i": call.data["i"] + 1})
    reg.register("tick", lambda call: None)
    for name, func in extra.items():
        reg.register(name, func)
    return reg


def start(tmp_path: Path, files: dict[str, str], reg: HandlerRegistry, data: dict[str, Any],
          process_id: str = "p") -> Instance:
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    return Engine(reg).start(load(paths), process_id, data)


def run_both(tmp_path: Path, files: dict[str, str], make_handlers: Callable[[], HandlerRegistry],
             data: dict[str, Any], monkeypatch: pytest.MonkeyPatch, process_id: str = "p") -> RunResult:
    """Run on the flat workflow; at n <= 40 also on the stock one and require the same outcome."""
    instance = start(tmp_path, files, make_handlers(), data, process_id)
    assert isinstance(instance.session.workflow, frontier.FlatWorkflow)
    result = instance.run()
    assert result.status == "completed", result.error
    assert result.path[-1] == "end"
    assert instance.session.workflow.size() < 250, "the task tree was not pruned"
    if data["n"] <= 40:
        with monkeypatch.context() as m:
            m.setattr(frontier, "ENABLED", False)
            stock = start(tmp_path, files, make_handlers(), data, process_id)
            assert not isinstance(stock.session.workflow, frontier.FlatWorkflow)
            expected = stock.run()
        assert (result.status, result.data, result.path) == (expected.status, expected.data, expected.path)
    return result


# ----- long runs reach their real end event ---------------------------------------------------------------------

def test_chain_of_2000_service_tasks_reaches_its_end(tmp_path: Path) -> None:
    reg = HandlerRegistry()
    reg.register("step", lambda call: {"x": call.data["x"] + 1})
    instance = start(tmp_path, {"chain.bpmn": generate.chain(2000, topic="step")}, reg, {"x": 0}, "chain")
    result = instance.run()
    assert result.status == "completed", result.error
    assert result.path[-1] == "end" and len(result.path) == 2002 and result.data["x"] == 2000


def test_loop_of_2000_iterations_reaches_its_end_on_a_small_tree(tmp_path: Path) -> None:
    reg = HandlerRegistry()
    reg.register("count", lambda call: {"i": call.data["i"] + 1})
    instance = start(tmp_path, {"loop.bpmn": generate.loop()}, reg, {"i": 0, "n": 2000}, "loop")
    result = instance.run()
    assert result.status == "completed", result.error
    assert result.path[-1] == "end" and result.path.count("body") == 2000 and result.data == {"i": 2000, "n": 2000}
    assert instance.session.workflow.size() < 200
    assert len(result.history) >= 3 * 2000  # history is kept by the listener, not by the pruned tree


@pytest.mark.parametrize("n", [30, 300])
def test_plain_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    files = {"p.bpmn": diagram(loop(service("inc", "inc"), "inc", "inc"))}
    result = run_both(tmp_path, files, handlers, {"i": 0, "n": n}, monkeypatch)
    assert result.data["i"] == n and result.path.count("inc") == n


# ----- constructs that look beyond the frontier -----------------------------------------------------------------

@pytest.mark.parametrize("n", [30, 300])
def test_loop_with_a_parallel_split_and_join_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    inner = ('<bpmn:parallelGateway id="split"/>' + service("a", "tick") + service("b", "tick")
             + '<bpmn:parallelGateway id="join"/>' + service("inc", "inc")
             + flow("split", "a") + flow("split", "b") + flow("a", "join") + flow("b", "join") + flow("join", "inc"))
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "split", "inc"))}, handlers, {"i": 0, "n": n},
                      monkeypatch)
    assert result.data["i"] == n and result.path.count("join") == n
    assert result.path.count("a") == result.path.count("b") == n


@pytest.mark.parametrize("n", [30, 300])
def test_loop_with_a_boundary_timer_that_never_fires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    inner = (service("inc", "inc") + '<bpmn:boundaryEvent id="late" attachedToRef="inc"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
             '<bpmn:endEvent id="end_late"/>' + flow("late", "end_late"))
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "inc", "inc"))}, handlers, {"i": 0, "n": n},
                      monkeypatch)
    assert result.data["i"] == n and "late" not in result.path and result.waiting == []


@pytest.mark.parametrize("interrupting", [True, False])
def test_boundary_timer_that_fires_on_a_looping_user_task(tmp_path: Path, interrupting: bool) -> None:
    """Each iteration waits at `review`; its boundary timer fires, `inc` counts and the loop goes round."""
    n = 100
    cancel = "" if interrupting else ' cancelActivity="false"'
    inner = ('<bpmn:userTask id="review"/><bpmn:boundaryEvent id="late" attachedToRef="review"' + cancel + '>'
             '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
             '</bpmn:boundaryEvent>' + service("inc", "inc") + '<bpmn:endEvent id="end_review"/>'
             + flow("late", "inc") + flow("review", "end_review"))
    instance = start(tmp_path, {"p.bpmn": diagram(loop(inner, "review", "inc"))}, handlers(), {"i": 0, "n": n})
    result = instance.run()
    for i in range(n):
        assert result.status == "waiting" and result.data["i"] == i
        assert instance.fire_timers("late") == 1
        result = instance.run()
    if not interrupting:  # every review is still open; completing them ends their branches
        while result.status == "waiting":
            instance.complete_user_task(result.waiting[0].task_id, {})
            result = instance.run()
    assert result.status == "completed", result.error
    assert result.path.count("inc") == result.path.count("late") == n and "end" in result.path
    assert result.path.count("end_review") == (0 if interrupting else n)
    if interrupting:  # (non-interrupting leaves n reviews open, and open tasks are never pruned)
        assert instance.session.workflow.size() < 250


@pytest.mark.parametrize("n", [30, 300])
def test_embedded_subprocess_in_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    inner = ('<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/>' + service("s_inc", "inc")
             + '<bpmn:endEvent id="s_end"/>' + flow("s_start", "s_inc") + flow("s_inc", "s_end") + '</bpmn:subProcess>')
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "sub", "sub"))}, handlers, {"i": 0, "n": n},
                      monkeypatch)
    assert result.data["i"] == n and result.path.count("s_inc") == n


@pytest.mark.parametrize("n, k", [(30, 20), (300, 200)])
def test_error_end_in_a_subprocess_caught_by_its_boundary_late_in_a_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, k: int) -> None:
    extra = '<bpmn:error id="Err" errorCode="LATE"/>'
    inner = ('<bpmn:subProcess id="sub"><bpmn:startEvent id="s_start"/>' + service("s_inc", "inc")
             + '<bpmn:exclusiveGateway id="s_gw" default="f_s_gw_s_end"/><bpmn:endEvent id="s_end"/>'
             '<bpmn:endEvent id="s_err"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>'
             + flow("s_start", "s_inc") + flow("s_inc", "s_gw") + flow("s_gw", "s_err", "${i == k}")
             + flow("s_gw", "s_end") + '</bpmn:subProcess><bpmn:boundaryEvent id="caught" attachedToRef="sub">'
             '<bpmn:errorEventDefinition errorRef="Err"/></bpmn:boundaryEvent>' + service("recover", "tick")
             + flow("caught", "recover") + flow("recover", "check"))
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "sub", "sub"), extra=extra)}, handlers,
                      {"i": 0, "n": n, "k": k}, monkeypatch)
    assert result.data["i"] == n and result.path.count("caught") == result.path.count("recover") == 1


@pytest.mark.parametrize("n", [30, 300])
def test_call_activity_in_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    child = diagram('<bpmn:startEvent id="c_start"/>' + service("c_inc", "inc") + '<bpmn:endEvent id="c_end"/>'
                    + flow("c_start", "c_inc") + flow("c_inc", "c_end"), process_id="child")
    parent = diagram(loop('<bpmn:callActivity id="call" calledElement="child"/>', "call", "call"))
    result = run_both(tmp_path, {"p.bpmn": parent, "child.bpmn": child}, handlers, {"i": 0, "n": n}, monkeypatch)
    assert result.data["i"] == n and result.path.count("c_inc") == n


@pytest.mark.parametrize("n", [30, 200])
def test_parallel_multi_instance_in_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    inner = ('<bpmn:serviceTask id="each" camunda:type="external" camunda:topic="double">'
             '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
             '<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef><bpmn:inputDataItem id="item" name="item"/>'
             '<bpmn:outputDataItem id="result" name="result"/></bpmn:multiInstanceLoopCharacteristics>'
             '</bpmn:serviceTask>' + service("inc", "inc") + service("clear", "clear") + flow("clear", "each")
             + flow("each", "inc"))

    def make() -> HandlerRegistry:
        return handlers(double=lambda call: {"result": call.data["item"] * 2}, clear=lambda call: {"results": []})
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "clear", "inc"))}, make,
                      {"i": 0, "n": n, "items": [1, 2, 3]}, monkeypatch)
    assert result.data["i"] == n and result.data["results"] == [2, 4, 6]
    assert result.path.count("each") == 4 * n  # 3 instances and the task itself


@pytest.mark.parametrize("n", [30, 200])
def test_non_interrupting_event_subprocess_triggered_every_iteration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     n: int) -> None:
    extra = '<bpmn:signal id="Sig" name="ping"/>'
    inner = ('<bpmn:intermediateThrowEvent id="shout"><bpmn:signalEventDefinition signalRef="Sig"/>'
             '</bpmn:intermediateThrowEvent>' + service("inc", "inc") + flow("shout", "inc")
             + '<bpmn:subProcess id="on_ping" triggeredByEvent="true"><bpmn:startEvent id="e_start" isInterrupting='
             '"false"><bpmn:signalEventDefinition signalRef="Sig"/></bpmn:startEvent>' + service("heard", "tick")
             + '<bpmn:endEvent id="e_end"/>' + flow("e_start", "heard") + flow("heard", "e_end") + '</bpmn:subProcess>')
    result = run_both(tmp_path, {"p.bpmn": diagram(loop(inner, "shout", "inc"), extra=extra)}, handlers,
                      {"i": 0, "n": n}, monkeypatch)
    assert result.data["i"] == n and result.path.count("heard") == n


# ----- saved state ----------------------------------------------------------------------------------------------

def _paused(tmp_path: Path, n: int, pause_at: int) -> tuple[Instance, dict[str, Any]]:
    files = {"p.bpmn": diagram(loop(service("inc", "inc"), "inc", "inc", pause=True))}
    instance = start(tmp_path, files, handlers(), {"i": 0, "n": n, "pause_at": pause_at})
    result = instance.run()
    assert result.status == "waiting" and [w.element_id for w in result.waiting] == ["pause"]
    assert result.data["i"] == pause_at
    return instance, json.loads(json.dumps(instance.state()))


def test_save_mid_loop_restore_and_run_to_the_end(tmp_path: Path) -> None:
    n = 1000
    instance, state = _paused(tmp_path, n, 500)
    restored = Engine(handlers()).restore(load([str(tmp_path / "p.bpmn")]), "p", state, instance.instance_id)
    assert isinstance(restored.session.workflow, frontier.FlatWorkflow)
    task = restored.waiting()[0]
    restored.complete_user_task(task.task_id, {})
    result = restored.run()
    assert result.status == "completed", result.error
    assert result.path[-1] == "end" and result.data["i"] == n and result.path.count("inc") == n - 500
    assert restored.session.workflow.size() < 250


def test_state_does_not_grow_with_iterations(tmp_path: Path) -> None:
    many = 10_000 if FULL else 1000
    _, small = _paused(tmp_path, many + 1, 10)
    _, large = _paused(tmp_path, many + 1, many)
    small_bytes, large_bytes = len(json.dumps(small)), len(json.dumps(large))
    assert large_bytes <= 2 * small_bytes, (small_bytes, large_bytes)

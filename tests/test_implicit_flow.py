"""BPMN's implicit starts and ends and uncontrolled flow run for real (BPMN 2.0 specification, 10.5.2 "Start
Event": without a start event every flow node without an incoming sequence flow is instantiated when the process
is; 10.5.3 "End Event": without an end event a path ends where an activity has no outgoing flow; 13.2.1: several
incoming flows to an activity without a gateway are uncontrolled, each arriving token runs it)."""

from __future__ import annotations

from pathlib import Path

from .scenario import Scenario, write
from .test_elements import END, START, chain, flow


def script(tid: str, code: str) -> str:
    return f'<bpmn:scriptTask id="{tid}" name="{tid}"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def user(tid: str) -> str:
    return f'<bpmn:userTask id="{tid}" name="{tid}"/>'


def test_a_process_without_start_event_starts_every_element_without_incoming_flow(tmp_path: Path) -> None:
    body = script("a", "a = 1") + script("b", "b = 2") + script("c", "c = 3") + END + chain("a", "c", "end")
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed", s.result.error
    assert sorted(s.result.path) == ["a", "b", "c", "end"]
    assert s.result.data == {"a": 1, "b": 2, "c": 3}


def test_an_activity_without_outgoing_flow_ends_its_path_and_the_instance_ends(tmp_path: Path) -> None:
    body = START + script("work", "done = True") + flow("f1", "start", "work")
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed"
    assert s.result.path == ["start", "work"]
    assert s.result.data == {"done": True}


def test_an_implicit_end_waits_for_the_other_paths_and_survives_a_reload(tmp_path: Path) -> None:
    body = (START + '<bpmn:parallelGateway id="fork"/>' + script("quick", "quick = 1") + user("slow") + END +
            chain("start", "fork") + flow("f_q", "fork", "quick") + flow("f_s", "fork", "slow") +
            flow("f_e", "slow", "end"))
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "waiting" and s.waiting_ids() == ["slow"]
    result = s.complete("slow", {"approved": True})
    assert result.status == "completed"
    assert result.data["quick"] == 1 and result.data["approved"] is True


def test_a_sub_process_without_start_and_end_events_runs_its_content_and_continues(tmp_path: Path) -> None:
    sub = ('<bpmn:subProcess id="sub" name="Sub">' + script("inner1", "x = 1") + script("inner2", "y = x + 1") +
           flow("fi", "inner1", "inner2") + '</bpmn:subProcess>')
    body = START + sub + script("after", "z = y * 10") + END + chain("start", "sub", "after", "end")
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed", s.result.error
    assert s.result.path.index("inner1") < s.result.path.index("inner2") < s.result.path.index("after")
    assert s.result.data["z"] == 20


def test_an_empty_sub_process_completes_at_once(tmp_path: Path) -> None:
    body = START + '<bpmn:subProcess id="sub" name="Collapsed"/>' + END + chain("start", "sub", "end")
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed"
    assert "end" in s.result.path


def test_uncontrolled_flow_runs_the_task_once_per_arriving_token(tmp_path: Path) -> None:
    body = (START + '<bpmn:parallelGateway id="fork"/>' + script("left", "side = 'l'") +
            script("right", "side = 'r'") + script("count", "seen = side") + END +
            chain("start", "fork") + flow("fl", "fork", "left") + flow("fr", "fork", "right") +
            flow("fl2", "left", "count") + flow("fr2", "right", "count") + flow("fe", "count", "end"))
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "completed"
    assert s.result.path.count("count") == 2
    assert s.result.path.count("end") == 2


def test_every_element_in_a_loop_with_no_way_in_is_refused_with_one_line(tmp_path: Path) -> None:
    from bpmn_runner import load
    from bpmn_runner.errors import DefinitionError

    body = script("a", "a = 1") + script("b", "b = 1") + flow("f1", "a", "b") + flow("f2", "b", "a")
    try:
        load([write(tmp_path, body)])
    except DefinitionError as exc:
        assert "nothing starts" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("a process where every element has an incoming flow cannot start")

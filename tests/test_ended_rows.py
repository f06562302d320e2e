"""What a durable step writes for an instance that ends, for the flows it takes and for elements that start and end
in it: an ended instance keeps only who started it and who completed its tasks (never restored again: as in
Camunda 7, an ended instance's runtime state goes and its history stays,
docs.camunda.org/manual/7.21/user-guide/process-engine/history/), the sequence flows one step takes are one
history row, read back as one `taken` event per flow, and an element entered and completed back to back is one
row, read back as both events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from bpmn_runner import Engine, load
from bpmn_runner.durable import Runtime
from bpmn_runner.environment import build_environment
from bpmn_runner.errors import InvalidOperationError
from bpmn_runner.store.rows import taken_flows_row

from .durable import END, START, MovableClock, chain, registry, three_services, write
from .durable import runtime as make_runtime


def _stored(store, sql: str, **params) -> list:
    with store.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def test_an_ended_instance_keeps_its_people_and_shows_as_before(store, tmp_path: Path) -> None:
    """Given an instance started by olivia whose task rahul completes, When it ends, Then its stored state holds
    only the people (no task tree), and `show` still names who started it, who completed the task, and its data."""
    body = START + '<bpmn:userTask id="review" name="Review"/>' + END + chain("start", "review", "end")
    path = write(tmp_path, "review.bpmn", body, process_id="approval")
    rt = Runtime(store, environment=build_environment(user="olivia", clock=MovableClock(), entry_points=False))
    iid = rt.start([path], data={"amount": 5})["instance_id"]
    waiting = json.loads(_stored(store, "SELECT state FROM instances WHERE id = :i", i=iid)[0][0])
    assert waiting["tasks"], "a waiting instance keeps its tasks, to be restored"
    rt.complete_task(rt.list_tasks(iid)[0]["task_id"], {"ok": True}, user="rahul")
    state = json.loads(_stored(store, "SELECT state FROM instances WHERE id = :i", i=iid)[0][0])
    assert state["ended"] is True and "tasks" not in state
    assert state["people"]["initiator"] == "olivia"
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["started_by"] == "olivia"
    with pytest.raises(InvalidOperationError, match="ended instance cannot be restored"):
        rt.restore(store.get_instance(iid))
    assert [(c["element_id"], c["user"]) for c in shown["completed_by"]] == [("review", "rahul")]
    assert shown["data"] == {"amount": 5, "ok": True}


def test_the_flows_of_one_step_are_one_row_read_back_one_event_each(store, tmp_path: Path) -> None:
    """Given start -> a -> b -> c -> end run to its end in one step (wait-state commits), Then the store holds one
    row for its four flows, and the history reads back the four `taken` events in the order they were taken."""
    rt = make_runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}),
                      MovableClock(), commit="wait-states")
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    rows = _stored(store, "SELECT element_id, element_type, detail FROM history WHERE instance_id = :i "
                          "AND event = 'taken'", i=iid)
    assert len(rows) == 1
    flows = ["f_start_a", "f_a_b", "f_b_c", "f_c_end"]
    taken = [h for h in store.history_of(iid) if h["event"] == "taken"]
    assert [h["element_id"] for h in taken] == flows
    assert {h["element_type"] for h in taken} == {"sequenceFlow"}
    assert rt.instance_view(iid)[1]["flows"] == flows  # what the report draws


def test_a_single_flow_is_written_as_before() -> None:
    row = taken_flows_row("i", "p", ["f1"], 1.0)
    assert row == ("i", "p", "f1", "taken", 1.0, "sequenceFlow", "", "{}", "", None)


def test_an_element_entered_and_completed_in_one_step_is_one_row_read_back_as_both(store, tmp_path: Path) -> None:
    """Given start -> sub (an embedded subprocess: inner) -> a -> end run to its end in one step, Then the history
    reads back every `entered` and `completed` event in the order the in-memory run recorded them (the
    subprocess entered before its task and completed after it), from one row for each element entered and
    completed back to back (as Camunda 7's ACT_HI_ACTINST keeps one row per activity instance) and one for each
    other event."""
    sub = ('<bpmn:subProcess id="sub" name="Sub"><bpmn:startEvent id="s_start"/>'
           '<bpmn:serviceTask id="inner" name="Inner"><bpmn:extensionElements><zeebe:taskDefinition type="step.a"/>'
           '</bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="s_end"/>'
           + chain("s_start", "inner", "s_end") + '</bpmn:subProcess>')
    body = (START + sub + '<bpmn:serviceTask id="a" name="A"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="step.b"/></bpmn:extensionElements></bpmn:serviceTask>' + END
            + chain("start", "sub", "a", "end"))
    path = write(tmp_path, "sub.bpmn", body, process_id="subs")
    handlers = registry(step_a=lambda c: {"x": 1}, step_b=lambda c: {})
    memory = Engine(handlers).start(load([path]), "subs").run()
    expected = [(h.element_id, h.event) for h in memory.history]
    rt = make_runtime(store, handlers, MovableClock(), commit="wait-states")
    iid = rt.start([path])["instance_id"]
    read = [(h["element_id"], h["event"]) for h in store.history_of(iid) if h["event"] != "taken"]
    assert read == expected
    assert ("sub", "entered") in read and read.index(("sub", "entered")) < read.index(("inner", "entered"))
    rows = _stored(store, "SELECT count(*) FROM history WHERE instance_id = :i AND event <> 'taken'", i=iid)[0][0]
    back_to_back = sum(1 for (element, event), after in zip(expected, expected[1:])
                       if event == "entered" and after == (element, "completed"))
    assert back_to_back >= 4 and rows == len(expected) - back_to_back  # start, inner, s_end, a, end: one row each
    inner = [h for h in store.history_of(iid) if h["element_id"] == "inner"]
    assert [h["event"] for h in inner] == ["entered", "completed"] and inner[1]["data_changes"] == {"x": 1}

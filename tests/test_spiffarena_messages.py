"""SpiffArena message correlation: each message's own retrieval expressions, and deliveries that fail.

SpiffArena, "Configuring Messages and Correlation Properties" (docs/Building_Diagrams/message_example_event.md):
a correlation property has one retrieval expression per message (the waiter's `order_accept` and the chef's
`order_dispatch` carry the table number in different places of their payloads); a message is correlated by the
expressions written for it, never by those of another message. A delivery the waiting instance cannot take is an
incident of that instance (`instances --status incident`, `retry`), not a message left with no owner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import Engine, load
from bpmn_runner.cli import app
from bpmn_runner.errors import InvalidOperationError, MissingVariableError

from .durable import END, START, MovableClock, chain, runtime, write

MESSAGES = ('<bpmn:message id="order_accept" name="order_accept"/>'
            '<bpmn:message id="order_dispatch" name="order_dispatch"/>'
            '<bpmn:correlationProperty id="table_number" name="Table">'
            '<bpmn:correlationPropertyRetrievalExpression messageRef="order_accept">'
            '<bpmn:formalExpression>order["table"]</bpmn:formalExpression>'
            '</bpmn:correlationPropertyRetrievalExpression>'
            '<bpmn:correlationPropertyRetrievalExpression messageRef="order_dispatch">'
            '<bpmn:formalExpression>dispatch["table"]</bpmn:formalExpression>'
            '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')


def throw(eid: str, ref: str, payload: str, tag: str = "intermediateThrowEvent") -> str:
    return (f'<bpmn:{tag} id="{eid}"><bpmn:messageEventDefinition messageRef="{ref}"><bpmn:extensionElements>'
            f'<spiffworkflow:messagePayload>{payload}</spiffworkflow:messagePayload></bpmn:extensionElements>'
            f'</bpmn:messageEventDefinition></bpmn:{tag}>')


def catch(eid: str, ref: str, var: str, tag: str = "intermediateCatchEvent") -> str:
    return (f'<bpmn:{tag} id="{eid}"><bpmn:messageEventDefinition messageRef="{ref}"><bpmn:extensionElements>'
            f'<spiffworkflow:messageVariable>{var}</spiffworkflow:messageVariable></bpmn:extensionElements>'
            f'</bpmn:messageEventDefinition></bpmn:{tag}>')


def restaurant(tmp_path: Path, *, after_catch: str = "", lay_table: bool = False) -> tuple[Path, Path]:
    """The waiter sends order_accept ({"order": {"table": T}}) and waits for order_dispatch; the chef starts on
    order_accept, cooks (a user task) and answers order_dispatch ({"dispatch": {"table": T}}). With `lay_table`
    the waiter lays the table (a user task) between sending the order and waiting for the meal."""
    tail = ('<bpmn:scriptTask id="serve"><bpmn:script>' + after_catch + '</bpmn:script></bpmn:scriptTask>'
            if after_catch else "")
    path = ["start", "send", *(["lay"] if lay_table else []), "ready", *(["serve"] if after_catch else []), "end"]
    waiter = (START + throw("send", "order_accept", '{"order": {"table": table}}')
              + ('<bpmn:userTask id="lay"/>' if lay_table else "")
              + catch("ready", "order_dispatch", "meal") + tail + END + chain(*path))
    chef = (catch("got", "order_accept", "ticket", tag="startEvent") + '<bpmn:userTask id="cook"/>'
            + throw("done", "order_dispatch", '{"dispatch": {"table": ticket["order"]["table"]}}', tag="endEvent")
            + chain("got", "cook", "done"))
    return (write(tmp_path, "waiter.bpmn", waiter, process_id="waiter", extra=MESSAGES),
            write(tmp_path, "chef.bpmn", chef, process_id="chef", extra=MESSAGES))


def _messages(mid: str, name: str, prop: str, expression: str) -> str:
    return (f'<bpmn:message id="{mid}" name="{name}"/><bpmn:correlationProperty id="{prop}" name="{prop}">'
            f'<bpmn:correlationPropertyRetrievalExpression messageRef="{mid}"><bpmn:formalExpression>{expression}'
            f'</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')


def test_a_message_id_used_by_two_files_evaluates_only_its_own_files_expressions(tmp_path: Path) -> None:
    """Given two files that both call their message `Message_1` (bpmn.io's default id) for different messages,
    When `ping` arrives, Then only ping's retrieval expression is evaluated (shipment["no"] belongs to the other
    file's message and would fail on ping's payload)."""
    body = (START + catch("wait", "Message_1", "got") + END + chain("start", "wait", "end"))
    a = write(tmp_path, "a.bpmn", body, process_id="pa", extra=_messages("Message_1", "ping", "p_a", "order_id"))
    b = write(tmp_path, "b.bpmn", body, process_id="pb",
              extra=_messages("Message_1", "shipped", "p_b", 'shipment["no"]'))
    instance = Engine().start(load([a, b]), "pa", {})
    instance.run()
    assert instance.send_message("ping", {"order_id": 1})
    result = instance.run()
    assert result.status == "completed" and result.data["got"] == {"order_id": 1}


def test_in_memory_a_payload_without_the_property_fails_with_one_line_naming_the_catch(tmp_path: Path) -> None:
    waiter, chef = restaurant(tmp_path)
    instance = Engine().start(load([waiter, chef]), "waiter", {"table": 3})
    instance.run()
    with pytest.raises(MissingVariableError) as caught:
        instance.send_message("order_dispatch", {"other": 1}, {"MainCorrelationKey": {"table_number": 3}})
    text = str(caught.value)
    assert "order_dispatch" in text and "ready" in text and "dispatch" in text and "\n" not in text


def test_a_message_from_outside_is_correlated_by_its_own_expression_on_its_payload(store, tmp_path: Path) -> None:
    """Given two waiters at tables 3 and 5 (their chefs still cooking), When order_dispatch arrives from outside
    with {"dispatch": {"table": 5}} and no --correlation, Then its own expression dispatch["table"] reads 5 and
    the waiter at table 5 gets it; order_accept's expression order["table"] is never evaluated on it."""
    waiter, chef = restaurant(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    three = rt.start([waiter], data={"table": 3})["instance_id"]
    five = rt.start([waiter], data={"table": 5})["instance_id"]
    out = rt.publish_message("order_dispatch", payload={"dispatch": {"table": 5}})
    assert out["outcome"] == "delivered" and out["instance_id"] == five and out["correlation_key"] == "5"
    assert rt.show(five)["status"] == "completed" and rt.show(five)["data"]["meal"] == {"dispatch": {"table": 5}}
    assert rt.show(three)["status"] == "waiting"


def test_a_payload_its_expression_cannot_read_is_refused_and_nothing_is_left_behind(store, tmp_path: Path) -> None:
    waiter, chef = restaurant(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    iid = rt.start([waiter], data={"table": 3})["instance_id"]
    with pytest.raises(InvalidOperationError) as refused:
        rt.publish_message("order_dispatch", payload={"other": 1})
    assert 'dispatch["table"]' in str(refused.value) and "--correlation" in str(refused.value)
    assert store.buffered_messages(["order_dispatch"], 0) == []
    assert rt.show(iid)["status"] == "waiting" and rt.show(iid)["jobs"] == []


def test_a_delivery_the_instance_cannot_take_is_an_incident_of_that_instance_that_retry_runs_again(
        store, tmp_path: Path) -> None:
    """Given a waiter at table 3, When order_dispatch is sent for table 3 but its payload lacks what the catch's
    retrieval expression reads, Then waiter 3 is in an incident naming the message and the catch, listed by
    `instances --status incident`; `retry` delivers it again (and, the payload being what it is, fails again)."""
    waiter, chef = restaurant(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    iid = rt.start([waiter], data={"table": 3})["instance_id"]
    out = rt.publish_message("order_dispatch", correlations={"table_number": 3}, payload={"other": 1})
    assert out["outcome"] == "incident" and out["instance_id"] == iid
    assert [i["instance_id"] for i in rt.list_instances(status="incident")] == [iid]
    shown = rt.show(iid)
    assert shown["status"] == "incident" and len(shown["incidents"]) == 1
    assert "order_dispatch" in shown["incidents"][0]["error"] and "ready" in shown["incidents"][0]["error"]
    retried = rt.retry(iid)  # delivered again at once: the payload being what it is, it fails again
    assert retried["jobs"] == 1 and retried["status"] == "incident"
    assert retried["messages"][0]["message"] == "order_dispatch" and "dispatch" in retried["error"]
    assert rt.show(iid)["status"] == "incident" and len(rt.show(iid)["incidents"]) == 1


def test_a_thrown_message_the_catching_instance_fails_to_apply_is_its_incident(store, tmp_path: Path) -> None:
    """Given a waiter whose script after the catch reads a field the chef never sends, When the chef finishes and
    throws order_dispatch, Then the chef completes, and the waiter (not the chef, not nobody) is in an incident."""
    waiter, chef = restaurant(tmp_path, after_catch='tip = meal["tip"]')
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    iid = rt.start([waiter], data={"table": 3})["instance_id"]
    task = rt.list_tasks()[0]
    rt.complete_task(task["task_id"], {})
    assert rt.show(task["instance_id"])["status"] == "completed"
    incidents = rt.list_instances(status="incident")
    assert [i["instance_id"] for i in incidents] == [iid]
    assert "order_dispatch" in incidents[0]["error"]


def test_the_message_command_reports_the_incident_and_exits_1(tmp_path: Path) -> None:
    waiter, chef = restaurant(tmp_path)
    db = f"sqlite:///{tmp_path / 'm.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["deploy", str(chef), "--db", db]).exit_code == 0
    iid = runner.invoke(app, ["start", str(waiter), "--db", db, "--data", '{"table": 3}']).stdout.strip()
    result = runner.invoke(app, ["message", "order_dispatch", "-c", "table_number=3", "--data", '{"other": 1}',
                                 "--db", db])
    assert result.exit_code == 1 and f"bpmn-runner retry {iid}" in result.stderr
    listed = runner.invoke(app, ["instances", "--status", "incident", "--db", db])
    assert iid in listed.stdout
    again = runner.invoke(app, ["message", "order_dispatch", "-c", "table_number=3", "--data", '{"other": 1}',
                                "--db", db, "--json"])
    assert again.exit_code == 1 and '"outcome": "incident"' in again.stdout
    retried = runner.invoke(app, ["retry", iid, "--db", db])
    assert f"instance {iid}: message 'order_dispatch' still cannot be delivered" in retried.stdout


def test_a_message_that_cannot_start_its_process_is_an_incident_of_the_instance_it_was_starting(
        store, tmp_path: Path) -> None:
    """Given the chef's file reads order_accept's table from `order["table_no"]` while the waiter's file (which
    throws it) writes `order["table"]`, When a waiter sends its order, Then the waiter goes on waiting, and a chef
    instance is stored at its start event in an incident holding the message (no job without an instance); an
    order the chef's file can read still starts its own instance, and `retry` delivers the bad one again."""
    waiter, chef = restaurant(tmp_path)
    chef.write_text(chef.read_text().replace('order["table"]', 'order["table_no"]'))
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    waiting = rt.start([waiter], data={"table": 3})["instance_id"]
    assert rt.show(waiting)["status"] == "waiting"
    incidents = rt.list_instances(status="incident")
    assert [i["process_id"] for i in incidents] == ["chef"]
    stuck = incidents[0]["instance_id"]
    assert rt.show(stuck)["incidents"][0]["kind"] == "message" and "table_no" in incidents[0]["error"]
    good = rt.publish_message("order_accept", payload={"order": {"table_no": 5}})
    assert good["outcome"] == "started" and good["instance_id"] != stuck
    assert rt.show(stuck)["status"] == "incident"
    assert rt.retry(stuck)["status"] == "incident"  # the waiter's payload still lacks table_no
    assert len(rt.list_instances(process_id="chef")) == 2


def test_a_message_from_outside_that_no_catch_could_take_is_refused_with_nothing_stored(store,
                                                                                       tmp_path: Path) -> None:
    """With a key given but no instance waiting under it, a payload the message's expressions cannot read would
    sit in the buffer for nobody (or fail the step of the instance that reaches its catch later): refused."""
    _waiter, chef = restaurant(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    with pytest.raises(InvalidOperationError) as refused:
        rt.publish_message("order_accept", correlations={"table_number": 3}, payload={"other": 1})
    assert 'order["table"]' in str(refused.value)
    assert rt.list_instances() == [] and store.buffered_messages(["order_accept"], 0) == []


def test_a_buffered_message_its_catch_cannot_read_never_fails_the_step_that_reaches_the_catch(
        store, tmp_path: Path) -> None:
    """Given the waiter's file reads order_dispatch's table from `dispatch["table_no"]` (the chef's file writes
    `dispatch["table"]`), When the chef answers while the waiter still lays the table (the answer is buffered)
    and the waiter then finishes laying it, Then completing that task succeeds and the waiter waits for its
    meal: the unreadable answer is left in the buffer, not delivered into a failing catch."""
    waiter, chef = restaurant(tmp_path, lay_table=True)
    waiter.write_text(waiter.read_text().replace('dispatch["table"]', 'dispatch["table_no"]'))
    rt = runtime(store, None, MovableClock())
    rt.deploy([chef])
    iid = rt.start([waiter], data={"table": 3})["instance_id"]
    cook = next(t for t in rt.list_tasks() if t["element_id"] == "cook")
    rt.complete_task(cook["task_id"], {})
    assert len(store.buffered_messages(["order_dispatch"], 0)) == 1
    lay = next(t for t in rt.list_tasks() if t["element_id"] == "lay")
    out = rt.complete_task(lay["task_id"], {})
    assert out["status"] == "waiting" and [w["element_id"] for w in rt.show(iid)["waiting"]] == ["ready"]

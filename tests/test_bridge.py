"""The broker bridge without a broker: its configuration, CloudEvents in and out, the outbox written in the step's
own transaction (and not at all when the step rolls back), the inbox, the schema migration and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from bpmn_runner.bridge import load_bridge_config, parse_bridge_config
from bpmn_runner.bridge.core import ACK, DEAD, BridgeCore
from bpmn_runner.bridge.events import PoisonEvent, outbound_event, parse_event
from bpmn_runner.cli import app
from bpmn_runner.durable import open_runtime
from bpmn_runner.errors import ConcurrentUpdateError, InvalidOperationError
from bpmn_runner.store import JobRecord, MessageRecord, OutboxRecord, SCHEMA_VERSION, open_store
from bpmn_runner.store.database import create_sql_engine
from bpmn_runner.store.migrations import migrate, version_of

from .bridge_helpers import deploy, environment
from .brokers import cloud_event
from .durable import START, END, chain, write

INBOUND = {"source": "orders", "message": "order.placed", "correlation": "orderId", "business_key": "=orderId"}


# ----- configuration ------------------------------------------------------------------------------------------

def test_a_configuration_names_its_subscriptions_and_routes() -> None:
    config = parse_bridge_config({"broker": "amqp://guest:guest@127.0.0.1:5672/", "inbound": [INBOUND],
                                  "outbound": [{"message": "order.shipped", "target": "shop:order.shipped"}]})
    assert config.inbound[0].business_key == "orderId"  # a leading '=' (Camunda 8 style) is accepted
    assert config.outbound[0].type == "order.shipped"   # the CloudEvents type defaults to the message name
    assert config.dead_letter == "bpmn-runner.dead-letter"


@pytest.mark.parametrize("table, message", [
    ({"inbound": [{**INBOUND, "correlation": "orderId +"}]}, "is not a FEEL expression"),
    ({"inbound": [{"source": "orders"}]}, "inbound[0]: message must be a non-empty string"),
    ({"inbound": [{**INBOUND, "topic": "x"}]}, "unknown key 'topic'"),
    ({"inbounds": []}, "unknown key 'inbounds'"),
    ({}, "no [[inbound]] subscription and no [[outbound]] route"),
    ({"outbound": [{"message": "m"}]}, "outbound[0]: target must be a non-empty string"),
])
def test_a_wrong_configuration_is_refused_with_one_line(table: dict, message: str) -> None:
    with pytest.raises(InvalidOperationError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("+", r"\+")):
        parse_bridge_config(table, "bridge.toml")


def test_the_configuration_can_live_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bpmn-runner.bridge]\nbroker = "nats://127.0.0.1:4222"\n'
        '[[tool.bpmn-runner.bridge.inbound]]\nsource = "orders.placed"\nmessage = "order.placed"\n'
        'correlation = "orderId"\n', encoding="utf-8")
    config = load_bridge_config(start=tmp_path)
    assert config.broker == "nats://127.0.0.1:4222" and config.inbound[0].source == "orders.placed"
    assert load_bridge_config(start=tmp_path, broker="amqp://h/").broker == "amqp://h/"
    with pytest.raises(InvalidOperationError, match="use amqp://"):
        load_bridge_config(start=tmp_path, broker="kafka://h:9092")


# ----- CloudEvents --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"specversion": "0.3", "id": "1", "source": "/s", "type": "t"}).encode(), "specversion '0.3'"),
    (json.dumps({"specversion": "1.0", "id": "", "source": "/s", "type": "t"}).encode(), "'id' is missing"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": [1]}).encode(),
     "data is not a JSON object"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data_base64": "AA=="}).encode(),
     "data_base64"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "datacontenttype": "text/xml",
                 "data": {}}).encode(), "not JSON"),
])
def test_an_unusable_event_is_poison_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(PoisonEvent, match=reason):
        parse_event(body)


def test_an_event_reads_and_an_outbound_event_is_a_structured_cloudevent() -> None:
    event = parse_event(cloud_event("com.example.order.placed", {"orderId": "A-1"}, event_id="e1"))
    assert (event.id, event.source, event.data) == ("e1", "/shop", {"orderId": "A-1"})
    assert event.inbox_id == "/shop e1"
    row = OutboxRecord("m1", "order.shipped", "i1", {"payload": {"orderId": "A-1"}, "result_var": None},
                       0.0, business_key="A-1")
    out = json.loads(outbound_event(row, source="/bpmn", type_="com.example.order.shipped"))
    assert out == {"specversion": "1.0", "id": "m1", "source": "/bpmn", "type": "com.example.order.shipped",
                   "time": "1970-01-01T00:00:00Z", "datacontenttype": "application/json", "subject": "A-1",
                   "bpmninstance": "i1", "data": {"orderId": "A-1"}}


# ----- the outbox: in the step's transaction ------------------------------------------------------------------

THROW = ('<bpmn:userTask id="review"/><bpmn:intermediateThrowEvent id="tell">'
         '<bpmn:messageEventDefinition messageRef="Shipped"/></bpmn:intermediateThrowEvent>')


def _thrower(tmp_path: Path) -> Path:
    return write(tmp_path, "thrower.bpmn", START + THROW + END + chain("start", "review", "tell", "end"),
                 process_id="thrower", extra='<bpmn:message id="Shipped" name="order.shipped"/>')


def test_a_thrown_message_is_in_the_outbox_of_the_step_that_threw_it_and_not_of_one_that_rolled_back(
        db_url: str, tmp_path: Path) -> None:
    """The outbox row commits with the step (same transaction): a step whose commit fails leaves no row; the
    step that commits leaves exactly one, whose id is the thrown message's (the CloudEvents id)."""
    with open_runtime(db_url, environment(handlers=False)) as runtime:
        out = runtime.start([_thrower(tmp_path)])
        iid = out["instance_id"]
        task_id = runtime.list_tasks()[0]["task_id"]
        record, jobs = runtime.store.load_for_step(iid)
        instance = runtime.restore(record)
        instance.complete_user_task(task_id, {})
        step = runtime.steps.build_step(instance, record, jobs, expected_version=record.version,
                                        consumed=["no-such-message"])  # fails after the outbox insert
        assert [m.name for m in step.new_messages] == ["order.shipped"]
        with pytest.raises(ConcurrentUpdateError):
            runtime.store.commit_step(step)
        assert runtime.store.outbox_of(iid) == []
        assert runtime.store.get_instance(iid).version == record.version
        runtime.complete_task(task_id, {})
        [row] = runtime.store.outbox_of(iid)
        sent, _ = runtime.store.messages_of(iid)
        assert row.id == sent[0].id and row.name == "order.shipped" and row.published_at is None
        assert runtime.store.pending_outbox(["order.shipped"]) == [row]
        assert runtime.store.pending_outbox(["other"]) == []
        # two bridges: the row is leased to the first that takes it, until it is published or the lease ends
        assert [r.id for r in runtime.store.pending_outbox(["order.shipped"], worker="a", now=100.0)] == [row.id]
        assert runtime.store.pending_outbox(["order.shipped"], worker="b", now=110.0) == []
        assert [r.id for r in runtime.store.pending_outbox(["order.shipped"], worker="a", now=110.0)] == [row.id]
        assert [r.id for r in runtime.store.pending_outbox(["order.shipped"], worker="b", now=141.0)] == [row.id]
        assert runtime.store.mark_published([row.id], 1.0) == 1
        assert runtime.store.pending_outbox(["order.shipped"]) == []


# ----- the inbox ----------------------------------------------------------------------------------------------

def test_an_event_id_correlates_once_and_one_stored_before_a_crash_is_routed_on_redelivery(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    deploy(db)
    with open_runtime(db, environment()) as runtime:
        first = runtime.receive_event("/shop 1", "order.placed", correlation_key="A-1",
                                      payload={"orderId": "A-1"}, business_key="A-1")
        assert first["outcome"] == "started"
        again = runtime.receive_event("/shop 1", "order.placed", correlation_key="A-1",
                                      payload={"orderId": "A-1"}, business_key="A-1")
        assert again["outcome"] == "duplicate" and len(runtime.list_instances()) == 1
        # a crash after the inbox row and the message committed, before they were routed
        now = runtime.now()
        message = MessageRecord("crashed-m", "order.placed", "A-2", {"orderId": "A-2"}, now, now + 60,
                                business_key="A-2")
        job = JobRecord("crashed-j", None, "message", message.id, "order.placed", created_at=now, due_at=now)
        assert runtime.store.receive_event("/shop 2", message, job) is None
        redelivered = runtime.receive_event("/shop 2", "order.placed", correlation_key="A-2",
                                            payload={"orderId": "A-2"}, business_key="A-2")
        assert redelivered["outcome"] == "started" and redelivered["duplicate"] is True
        assert sorted(i["business_key"] for i in runtime.list_instances()) == ["A-1", "A-2"]


def test_the_bridge_core_acks_after_commit_and_dead_letters_what_it_cannot_use(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    deploy(db)
    config = parse_bridge_config({"inbound": [INBOUND], "outbound": [{"message": "order.shipped",
                                                                     "target": "shipped"}]})
    with open_runtime(db, environment()) as runtime:
        core = BridgeCore(runtime, config)
        verdict = core.handle(config.inbound[0], cloud_event("t", {"orderId": 7, "sku": "MUG-7"}))
        assert verdict.action == ACK and verdict.outcome["outcome"] == "started"
        [instance] = runtime.list_instances()
        assert instance["status"] == "completed" and instance["business_key"] == "7"  # ran here (handlers)
        [(row_id, target, body)] = core.pending()
        assert target == "shipped" and json.loads(body)["data"]["trackingNumber"] == "TRK-7"
        core.mark_published([row_id])
        assert core.pending() == []
        bad = core.handle(config.inbound[0], cloud_event("t", {"sku": "MUG-7"}))
        assert bad.action == DEAD and "correlation 'orderId' is null" in bad.reason


# ----- the schema ---------------------------------------------------------------------------------------------

def test_a_version_4_store_gains_the_outbox_and_inbox(db_url: str) -> None:
    engine = create_sql_engine(db_url)
    migrate(engine, target=4)
    assert "outbox" not in inspect(engine).get_table_names()
    engine.dispose()
    store = open_store(db_url)
    assert version_of(store.engine) == SCHEMA_VERSION >= 5
    assert {"outbox", "inbox"} <= set(inspect(store.engine).get_table_names())
    store.close()


# ----- the command line ---------------------------------------------------------------------------------------

def test_bridge_without_routes_or_with_a_wrong_broker_says_so_in_one_line(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = runner.invoke(app, ["bridge", "--db", db, "--broker", "amqp://127.0.0.1:5672/"])
    assert result.exit_code == 2
    assert "no [[inbound]] subscription" in result.output and "Traceback" not in result.output
    config = tmp_path / "bridge.toml"
    config.write_text('[[inbound]]\nsource = "q"\nmessage = "m"\n', encoding="utf-8")
    result = runner.invoke(app, ["bridge", "--db", db, "--config", str(config), "--broker", "mqtt://h"])
    assert result.exit_code == 2 and "use amqp://" in result.output
    result = runner.invoke(app, ["bridge", "--db", db, "--config", str(config)])
    assert result.exit_code == 2 and "no broker" in result.output
    result = runner.invoke(app, ["bridge", "--db", "postgresql://nobody@127.0.0.1:9/none", "--config", str(config),
                                 "--broker", "nats://127.0.0.1:4222"])
    assert result.exit_code != 0 and "cannot open the store" in result.output and "Traceback" not in result.output
    assert "--bridge-config" in runner.invoke(app, ["worker", "--help"]).output


def test_cleanup_removes_the_inbox_and_published_outbox_rows_of_removed_instances(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    deploy(db)
    with open_runtime(db, environment()) as runtime:
        out = runtime.receive_event("/shop 1", "order.placed", correlation_key="A-1",
                                    payload={"orderId": "A-1"}, business_key="A-1")
        runtime.run_to_wait([out["instance_id"]])
        [row] = runtime.store.outbox_of(out["instance_id"])
        runtime.store.mark_published([row.id], runtime.now())
        assert runtime.cleanup("2999-01-01")["instances"] == 1
        assert runtime.store.outbox_of(out["instance_id"]) == []
        # the inbox forgot the event with its message: the same id is a new event now
        again = runtime.receive_event("/shop 1", "order.placed", correlation_key="A-1",
                                      payload={"orderId": "A-1"}, business_key="A-1")
        assert again["outcome"] == "started"

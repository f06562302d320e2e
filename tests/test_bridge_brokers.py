"""The broker bridge against the real RabbitMQ and NATS JetStream on the machine: events in, events out,
duplicates, poison events, buffering, a cut connection, and a SIGKILL between commit and publish.

Each test uses queue, subject and stream names of its own. Skipped with the reason where a broker is not
reachable; .ci/run sets BPMN_RUNNER_REQUIRE_BROKERS=1, which makes that a failure.
CloudEvents 1.0 structured mode: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from bpmn_runner.bridge import parse_bridge_config
from bpmn_runner.durable import open_runtime

from .bridge_helpers import (ORDER_HANDLERS, Names, deploy, environment, order_config, order_table,
                             running_bridge, wait_for)
from .brokers import CuttableProxy, Kit, cloud_event, require_broker


@pytest.fixture(params=["amqp", "nats"])
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    url = require_broker(request.param)
    made = Kit(request.param, url)
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    deploy(url)
    return url


def order(order_id: str) -> dict[str, object]:
    return {"orderId": order_id, "sku": "BOOK-42", "quantity": 2, "customer": "ada@example.com"}


def instances(db: str) -> list[dict[str, object]]:
    with open_runtime(db, environment()) as runtime:
        return runtime.list_instances()


def outbox(db: str, instance_id: str) -> list[object]:
    with open_runtime(db, environment()) as runtime:
        return runtime.store.outbox_of(instance_id)


def test_an_order_placed_event_starts_the_order_and_order_shipped_comes_out(kit: Kit, db: str) -> None:
    """Given the order_events process behind a bridge, when the shop sends order.placed, then an instance starts
    (business key = the order id), runs its service tasks, and order.shipped comes out as a CloudEvent whose id is
    the outbox row's; the inbound event is acknowledged."""
    names = Names(kit)
    with running_bridge(db, order_config(kit, names)) as bridge:
        kit.send(names.placed, cloud_event("com.example.order.placed", order("A-1")))
        got = kit.collect(names.shipped, 1)
        assert wait_for(lambda: kit.unacknowledged(names.placed) == 0)
    assert len(got) == 1
    event = got[0]["event"]
    assert event["specversion"] == "1.0" and event["type"] == "com.example.order.shipped"
    assert event["source"] == "bpmn-runner" and event["datacontenttype"] == "application/json"
    assert event["data"] == {"orderId": "A-1", "carrier": "DHL", "trackingNumber": "TRK-A-1"}
    assert event["subject"] == "A-1" and event["time"].endswith("Z")
    [instance] = instances(db)
    assert instance["status"] == "completed" and instance["business_key"] == "A-1"
    [row] = outbox(db, str(instance["instance_id"]))
    assert row.id == event["id"] and row.published_at is not None
    assert bridge.stats.received == 1 and bridge.stats.published == 1


def test_the_same_event_id_twice_correlates_once(kit: Kit, db: str) -> None:
    """At-least-once delivery from the shop: the same event (same source and id) sent twice starts one order
    and publishes one order.shipped; a different id for the same order is a new event."""
    names = Names(kit)
    with running_bridge(db, order_config(kit, names)) as bridge:
        body = cloud_event("com.example.order.placed", order("A-2"), event_id="evt-dup-1")
        kit.send(names.placed, body)
        kit.send(names.placed, body)
        got = kit.collect(names.shipped, 1, settle=1.5)
        assert wait_for(lambda: bridge.stats.received == 2)
    assert len(got) == 1
    assert bridge.stats.duplicates == 1
    assert len(instances(db)) == 1


def test_a_poison_event_goes_to_the_dead_letter_destination_with_the_reason(kit: Kit, db: str) -> None:
    """An event that cannot be read is never dropped silently: it goes, unchanged, to the dead-letter queue or
    subject with the reason in a header, and is acknowledged; the events after it still flow."""
    names = Names(kit)
    with running_bridge(db, order_config(kit, names)) as bridge:
        kit.send(names.placed, b"{not json")
        kit.send(names.placed, b'{"id": "x", "type": "t"}')
        kit.send(names.placed, cloud_event("com.example.order.placed", {"sku": "BOOK-42"}))  # no orderId
        kit.send(names.placed, cloud_event("com.example.order.placed", order("A-3")))
        dead = kit.collect(names.dead, 3)
        shipped = kit.collect(names.shipped, 1)
        assert wait_for(lambda: kit.unacknowledged(names.placed) == 0)
    assert [d["body"] for d in dead][:2] == [b"{not json", b'{"id": "x", "type": "t"}']
    reasons = [d["headers"]["bpmn-runner-reason"] for d in dead]
    assert "not JSON" in reasons[0]
    assert "not a CloudEvent" in reasons[1] and "specversion" in reasons[1]
    assert "correlation 'orderId'" in reasons[2] and "null" in reasons[2]
    assert all(d["headers"]["bpmn-runner-source"] == names.placed for d in dead)
    assert len(shipped) == 1 and shipped[0]["event"]["data"]["orderId"] == "A-3"
    assert bridge.stats.dead_lettered == 3


PAYMENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:message id="m" name="payment.received"><bpmn:extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="payment" isExecutable="true">
    <bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/><bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_an_event_nothing_waits_for_is_buffered_and_caught_when_an_instance_waits(kit: Kit, db: str,
                                                                                   tmp_path: Path) -> None:
    """Camunda 8 message buffering (https://docs.camunda.io/docs/components/concepts/messages/): a
    payment.received event for an order no instance waits for yet is acknowledged and buffered with the message
    time to live; the instance that later waits with that correlation key takes it at once."""
    names = Names(kit)
    path = tmp_path / "payment.bpmn"
    path.write_text(PAYMENT, encoding="utf-8")
    deploy(db, path)
    config = parse_bridge_config({"broker": kit.url, "dead_letter": names.dead, "name": names.bridge,
                                  "inbound": [{"source": names.placed, "message": "payment.received",
                                               "correlation": "orderId"}]})
    with running_bridge(db, config) as bridge:
        kit.send(names.placed, cloud_event("com.example.payment.received", {"orderId": "P-1", "amount": 10}))
        assert wait_for(lambda: bridge.stats.received == 1)
        assert wait_for(lambda: kit.unacknowledged(names.placed) == 0)
    with open_runtime(db, environment()) as runtime:
        [message] = [m for m in runtime.store.buffered_messages(["payment.received"], runtime.now())]
        assert message.correlation_key == "P-1"
        assert 3000 < message.expires_at - message.created_at  # the runtime's message TTL, not 0
        out = runtime.start([path], data={"orderId": "P-1"})
        assert out["status"] == "completed"
        assert runtime.show(out["instance_id"])["data"]["amount"] == 10


def test_the_bridge_reconnects_after_its_broker_connection_is_cut(kit: Kit, db: str) -> None:
    """A broker restart as the client sees it: every connection of the bridge is cut (through a TCP proxy). The
    client library reconnects and resubscribes; events sent meanwhile and after still go in and out."""
    names = Names(kit)
    proxy = CuttableProxy(kit.url)
    log: list[str] = []
    try:
        with running_bridge(db, order_config(kit, names, broker=proxy.url), log=log):
            kit.send(names.placed, cloud_event("com.example.order.placed", order("R-1")))
            assert len(kit.collect(names.shipped, 1)) == 1
            proxy.cut()
            kit.send(names.placed, cloud_event("com.example.order.placed", order("R-2")))
            time.sleep(0.5)
            proxy.cut()  # and once more while it reconnects
            kit.send(names.placed, cloud_event("com.example.order.placed", order("R-3")))
            got = kit.collect(names.shipped, 2, timeout=60)
            assert wait_for(lambda: kit.unacknowledged(names.placed) == 0, 30)
            assert proxy.cuts == 2
    finally:
        proxy.close()
    assert sorted(g["event"]["data"]["orderId"] for g in got) == ["R-2", "R-3"]
    assert {i["status"] for i in instances(db)} == {"completed"} and len(instances(db)) == 3


def _bridge_process(db: str, config: Path, *, in_worker: bool = False) -> subprocess.Popen[bytes]:
    """`bpmn-runner bridge`, or (in_worker) `bpmn-runner worker` running the bridge beside its jobs."""
    env = {**os.environ, "PYTHONPATH": str(ORDER_HANDLERS.parent)}
    command = (["worker", "--bridge-config", str(config), "--poll", "0.2"] if in_worker
               else ["bridge", "--config", str(config)])
    return subprocess.Popen([sys.executable, "-m", "bpmn_runner", *command, "--db", db,
                             "--handlers", str(ORDER_HANDLERS), "-v"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _wait_ready(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode()
        if "bridge: running" in line or "bridge: connected" in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"the bridge process did not start: {proc.stderr.read().decode()}")


def test_a_sigkill_between_commit_and_publish_loses_no_event(kit: Kit, db: str, tmp_path: Path) -> None:
    """The bridge process (`bpmn-runner bridge`) looks at the outbox when it starts, after its own inbound events
    and every `poll` seconds (an hour here). Steps that throw order.shipped are committed by someone else while it
    runs; it is SIGKILLed before it looked. The events were committed in the outbox with their steps, so the next
    bridge publishes each of them, with the id it had."""
    names = Names(kit)
    table = order_table(kit, names, poll=3600)
    lines = [f'broker = "{table["broker"]}"', f'dead_letter = "{names.dead}"', "poll = 3600",
             f'name = "{names.bridge}"', "[[inbound]]", f'source = "{names.placed}"', 'message = "order.placed"',
             'correlation = "orderId"', "[[outbound]]", 'message = "order.shipped"', f'target = "{names.shipped}"']
    config = tmp_path / "bridge.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _bridge_process(db, config)
    try:
        _wait_ready(proc)
        with open_runtime(db, environment()) as runtime:  # committed outside the bridge: it is not woken
            for n in range(3):
                out = runtime.receive_event(f"/shop K-{n}", "order.placed", correlation_key=f"K-{n}",
                                            payload=order(f"K-{n}"), business_key=f"K-{n}")
                runtime.run_to_wait([out["instance_id"]])
            ids = {r.id for i in runtime.list_instances() for r in runtime.store.outbox_of(i["instance_id"])}
        assert len(ids) == 3
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert kit.collect(names.shipped, 1, timeout=1.0) == []  # nothing was published before the kill
        proc = _bridge_process(db, config)
        _wait_ready(proc)
        got = kit.collect(names.shipped, 3, settle=1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert proc.returncode == 0  # SIGTERM: a clean stop
    assert sorted(g["event"]["id"] for g in got) == sorted(ids)
    assert sorted(g["event"]["data"]["orderId"] for g in got) == ["K-0", "K-1", "K-2"]


def test_a_worker_with_its_bridge_killed_mid_stream_delivers_every_event_with_stable_ids(kit: Kit, db: str,
                                                                                         tmp_path: Path) -> None:
    """`worker --bridge-config` SIGKILLed while events go in and out: after a restart every order was started
    once and every order.shipped arrived, a re-published one with the same id (consumers deduplicate on it). What
    the killed process held (a routing job, a service job) is taken over when its 30 s lease expires."""
    names = Names(kit)
    count = 12
    lines = [f'broker = "{kit.url}"', f'dead_letter = "{names.dead}"', "poll = 0.2", f'name = "{names.bridge}"',
             "[[inbound]]", f'source = "{names.placed}"', 'message = "order.placed"', 'correlation = "orderId"',
             'business_key = "orderId"', "[[outbound]]", 'message = "order.shipped"', f'target = "{names.shipped}"']
    config = tmp_path / "bridge.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _bridge_process(db, config, in_worker=True)
    try:
        _wait_ready(proc)
        for n in range(count):
            kit.send(names.placed, cloud_event("com.example.order.placed", order(f"M-{n}"), event_id=f"m-{n}"))
        first = kit.collect(names.shipped, 3, timeout=30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc = _bridge_process(db, config, in_worker=True)
        _wait_ready(proc)
        rest = kit.collect(names.shipped, count - len(first), timeout=90, settle=1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    got = first + rest
    by_order: dict[str, set[str]] = {}
    for g in got:
        by_order.setdefault(g["event"]["data"]["orderId"], set()).add(g["event"]["id"])
    assert sorted(by_order) == sorted(f"M-{n}" for n in range(count))
    assert all(len(ids) == 1 for ids in by_order.values())  # a repeat carries the same id
    assert len(instances(db)) == count


def _rabbitmq_connections(name: str) -> list[str]:
    """The pids of RabbitMQ's connections whose client called itself `name` (by rabbitmqctl)."""
    out = subprocess.run(["rabbitmqctl", "list_connections", "pid", "client_properties", "--silent"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        pytest.skip(f"rabbitmqctl list_connections failed: {out.stderr.strip()[:200]}")
    return [line.split()[0] for line in out.stdout.splitlines() if f'{{"connection_name","{name}"}}' in line]


def test_the_bridge_reconnects_after_rabbitmq_closes_its_connection(db: str) -> None:
    """RabbitMQ itself closes the bridge's connection (`rabbitmqctl close_connection`, what a broker restart does
    to its clients): aio-pika's robust connection reconnects and restores the consumer; events flow again."""
    import shutil
    url = require_broker("amqp")
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed here (the proxy test above cuts the connection instead)")
    kit = Kit("amqp", url)
    names = Names(kit)
    try:
        with running_bridge(db, order_config(kit, names)):
            kit.send(names.placed, cloud_event("com.example.order.placed", order("Q-1")))
            assert len(kit.collect(names.shipped, 1)) == 1
            pids = wait_for(lambda: _rabbitmq_connections(names.bridge), 30)
            assert pids, "the bridge's connection is not listed by rabbitmqctl"
            for pid in pids:
                subprocess.run(["rabbitmqctl", "close_connection", pid, "test: broker restart"],
                               capture_output=True, timeout=60, check=True)
            assert wait_for(lambda: _rabbitmq_connections(names.bridge) != pids, 30)  # closed, then a new one
            kit.send(names.placed, cloud_event("com.example.order.placed", order("Q-2")))
            got = kit.collect(names.shipped, 1, timeout=60)
            assert wait_for(lambda: kit.unacknowledged(names.placed) == 0, 30)
    finally:
        kit.cleanup()
    assert [g["event"]["data"]["orderId"] for g in got] == ["Q-2"]


def test_rabbitmq_routes_through_an_exchange_with_exchange_colon_routing_key(db: str) -> None:
    """`exchange:routing-key` sources and targets: the bridge declares the (topic) exchange when it is missing and
    reads the source through a durable queue bound to it; the event it publishes reaches a queue the consumer bound
    to the exchange with that routing key."""
    import asyncio

    import aio_pika
    url = require_broker("amqp")
    kit = Kit("amqp", url)
    names = Names(kit)
    exchange = f"bt.{kit.run}.shop"
    table = order_table(kit, names)
    table["inbound"][0] = {**table["inbound"][0], "source": f"{exchange}:order.placed", "queue": names.placed}
    table["outbound"][0] = {**table["outbound"][0], "target": f"{exchange}:order.shipped"}

    async def bind_and_send() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            ex = await channel.get_exchange(exchange)
            queue = await channel.declare_queue(names.shipped, durable=True)
            await queue.bind(ex, routing_key="order.shipped")
            await ex.publish(aio_pika.Message(cloud_event("com.example.order.placed", order("X-1"))),
                             routing_key="order.placed")

    async def drop_exchange() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            await (await connection.channel()).exchange_delete(exchange)

    try:
        with running_bridge(db, parse_bridge_config(table)):
            asyncio.run(bind_and_send())
            got = kit.collect(names.shipped, 1)
    finally:
        kit.cleanup()
        asyncio.run(drop_exchange())
    assert [g["event"]["data"]["orderId"] for g in got] == ["X-1"]


def test_an_event_whose_commit_fails_is_not_acknowledged_and_comes_again(kit: Kit, db: str) -> None:
    """The store refuses the first commit (as a database that is down would): the event is left with the broker
    (negatively acknowledged), delivered again, and then correlated once."""
    from bpmn_runner.bridge import start_bridge
    from bpmn_runner.errors import StoreError

    names = Names(kit)
    failures = {"left": 1}

    def factory():  # type: ignore[no-untyped-def]
        runtime = open_runtime(db, environment())
        real = runtime.receive_event

        def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
            if failures["left"]:
                failures["left"] -= 1
                raise StoreError("store test.db is not reachable or not usable: disk I/O error")
            return real(*args, **kwargs)
        runtime.receive_event = flaky  # type: ignore[method-assign]
        return runtime

    handle = start_bridge(factory, order_config(kit, names))
    try:
        assert handle.wait_ready(30) and handle.error is None
        kit.send(names.placed, cloud_event("com.example.order.placed", order("F-1")))
        got = kit.collect(names.shipped, 1, timeout=30, settle=1.0)
        assert wait_for(lambda: kit.unacknowledged(names.placed) == 0)
    finally:
        handle.stop()
    assert handle.stats.retried == 1 and handle.stats.received == 1
    assert len(got) == 1 and len(instances(db)) == 1

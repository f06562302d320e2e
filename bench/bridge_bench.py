"""The broker bridge: events correlated per second through RabbitMQ and NATS JetStream, and the end-to-end latency
from an inbound event to the outbound event of a one-step process. Run by hand (the brokers must be up):

    .venv/bin/python bench/bridge_bench.py [--events 500] [--latency 100] [--db URL] [--only amqp|nats]

Correlation rate: N order events are queued first, then a bridge starts and each event starts an instance that
waits at a user task (one committed step per event, plus its inbox row); timed from the bridge being subscribed to
the last commit. Latency: a process `message start -> service task -> message end`, one event at a time, timed from
sending the inbound event to receiving the outbound one (the bridge runs the handler in-process and publishes from
the outbox after commit). The store is a fresh SQLite file unless --db is given (a fresh PostgreSQL schema is the
caller's to make).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmn_runner import HandlerRegistry  # noqa: E402
from bpmn_runner.bridge import parse_bridge_config, start_bridge  # noqa: E402
from bpmn_runner.durable import open_runtime  # noqa: E402
from bpmn_runner.environment import build_environment  # noqa: E402
from tests.brokers import AMQP_URL, NATS_URL, Kit, cloud_event  # noqa: E402

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">'
        '<bpmn:message id="In" name="bench.in"/><bpmn:message id="Out" name="bench.out"/>')
WAITER = (HEAD + '<bpmn:message id="Go" name="bench.go"/><bpmn:process id="waiter" isExecutable="true">'
          '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="Go"/></bpmn:startEvent>'
          '<bpmn:userTask id="u"/><bpmn:endEvent id="e"/>'
          '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u"/><bpmn:sequenceFlow id="f2" sourceRef="u" '
          'targetRef="e"/></bpmn:process></bpmn:definitions>')
ONE_STEP = (HEAD + '<bpmn:process id="one_step" isExecutable="true">'
            '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="In"/></bpmn:startEvent>'
            '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="bench.step"/>'
            '<bpmn:endEvent id="e"><bpmn:messageEventDefinition messageRef="Out" '
            'camunda:expression="{\'n\': n, \'done\': done}"/></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="t" '
            'targetRef="e"/></bpmn:process></bpmn:definitions>')


def environment():  # type: ignore[no-untyped-def]
    registry = HandlerRegistry()
    registry.register("bench.step", lambda call: {"done": True})
    return build_environment(handlers=registry, entry_points=False)


def correlation_rate(kit: Kit, db: str, folder: Path, events: int) -> float:
    path = folder / "waiter.bpmn"
    path.write_text(WAITER, encoding="utf-8")
    with open_runtime(db, environment()) as runtime:
        runtime.deploy([path])
    source = kit.name("go")
    config = parse_bridge_config({"broker": kit.url, "name": f"bench-{kit.run}", "dead_letter": kit.name("dead"),
                                  "prefetch": 64, "inbound": [{"source": source, "message": "bench.go",
                                                               "correlation": "n"}]})
    if kit.kind == "nats":  # the stream exists once a bridge subscribed: subscribe once, stop, then queue
        handle = start_bridge(lambda: open_runtime(db, environment()), config)
        handle.wait_ready(30)
        handle.stop()
    asyncio.run(_send_many(kit, source, [cloud_event("bench.go", {"n": i}) for i in range(events)]))
    handle = start_bridge(lambda: open_runtime(db, environment()), config)
    handle.wait_ready(30)
    started = time.perf_counter()
    while handle.stats.received < events:
        time.sleep(0.01)
        if time.perf_counter() - started > 600:
            raise SystemExit(f"only {handle.stats.received} of {events} events correlated in 600 s")
    elapsed = time.perf_counter() - started
    handle.stop()
    return events / elapsed


async def _send_many(kit: Kit, target: str, bodies: list[bytes]) -> None:
    if kit.kind == "amqp":
        import aio_pika
        connection = await aio_pika.connect(kit.url)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(target, durable=True)
            for body in bodies:
                await channel.default_exchange.publish(aio_pika.Message(body), routing_key=target)
        return
    import nats
    nc = await nats.connect(kit.url)
    js = nc.jetstream()
    for body in bodies:
        await js.publish(target, body, timeout=10)
    await nc.close()


def latency(kit: Kit, db: str, folder: Path, count: int) -> list[float]:
    path = folder / "one_step.bpmn"
    path.write_text(ONE_STEP, encoding="utf-8")
    with open_runtime(db, environment()) as runtime:
        runtime.deploy([path])
    source, target = kit.name("in"), kit.name("out")
    config = parse_bridge_config({"broker": kit.url, "name": f"bench-{kit.run}-l", "dead_letter": kit.name("dead"),
                                  "poll": 1.0, "inbound": [{"source": source, "message": "bench.in",
                                                            "correlation": "n"}],
                                  "outbound": [{"message": "bench.out", "target": target}]})
    handle = start_bridge(lambda: open_runtime(db, environment()), config)
    handle.wait_ready(30)
    try:
        return asyncio.run(_round_trips(kit, source, target, count))
    finally:
        handle.stop()


async def _round_trips(kit: Kit, source: str, target: str, count: int) -> list[float]:
    arrived: dict[int, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()

    def on_body(body: bytes) -> None:
        n = json.loads(body)["data"]["n"]
        future = arrived.get(n)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    out: list[float] = []
    if kit.kind == "amqp":
        import aio_pika
        connection = await aio_pika.connect(kit.url)
        channel = await connection.channel()
        queue = await channel.declare_queue(target, durable=True)
        await queue.consume(lambda m: on_body(m.body), no_ack=True)
        await channel.declare_queue(source, durable=True)

        async def send(body: bytes) -> None:
            await channel.default_exchange.publish(aio_pika.Message(body), routing_key=source)
    else:
        import nats
        nc = await nats.connect(kit.url)
        js = nc.jetstream()

        async def on_message(message) -> None:  # type: ignore[no-untyped-def]
            on_body(message.data)
        await nc.subscribe(target, cb=on_message)  # a core subscription sees what the bridge publishes at once

        async def send(body: bytes) -> None:
            await js.publish(source, body, timeout=10)
    for n in range(count):
        arrived[n] = loop.create_future()
        sent = time.perf_counter()
        await send(cloud_event("bench.in", {"n": n}))
        got = await asyncio.wait_for(arrived[n], 30)
        out.append(got - sent)
    if kit.kind == "amqp":
        await connection.close()
    else:
        await nc.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--db", default=None)
    parser.add_argument("--only", choices=["amqp", "nats"], default=None)
    args = parser.parse_args()
    rows = []
    for kind, url in (("amqp", AMQP_URL), ("nats", NATS_URL)):
        if args.only and kind != args.only:
            continue
        kit = Kit(kind, url)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            db = args.db or f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}"
            try:
                rate = correlation_rate(kit, db, folder, args.events)
                times = sorted(latency(kit, db, folder, args.latency))
            finally:
                kit.cleanup()
        p50 = statistics.median(times) * 1000
        p95 = times[int(0.95 * (len(times) - 1))] * 1000
        rows.append((kind, rate, p50, p95, max(times) * 1000))
        print(f"{kind}: {rate:,.0f} events correlated/s ({args.events} events); end-to-end latency "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(times) * 1000:.1f} ms ({args.latency} round trips)",
              flush=True)
    print("\n| broker | events correlated/s | latency p50 | p95 | max |\n|---|---|---|---|---|")
    for kind, rate, p50, p95, top in rows:
        name = "RabbitMQ (aio-pika)" if kind == "amqp" else "NATS JetStream (nats-py)"
        print(f"| {name} | {rate:,.0f} | {p50:.1f} ms | {p95:.1f} ms | {top:.1f} ms |")


if __name__ == "__main__":
    main()

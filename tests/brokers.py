"""Helpers for the broker bridge tests: the real RabbitMQ and NATS JetStream on the machine (skipped with the reason
where they are not reachable, a failure with BPMN_RUNNER_REQUIRE_BROKERS=1), unique names per test, sending and
collecting CloudEvents, and a TCP proxy whose connections a test can cut (a broker restart, as the client sees it)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from typing import Any

import pytest

AMQP_URL = os.environ.get("BPMN_RUNNER_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
NATS_URL = os.environ.get("BPMN_RUNNER_TEST_NATS_URL", "nats://127.0.0.1:4222")
_problems: dict[str, str | None] = {}


def _reachable(url: str) -> str | None:
    host_port = url.split("@")[-1].split("://")[-1].split("/")[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def require_broker(kind: str) -> str:
    url = AMQP_URL if kind == "amqp" else NATS_URL
    if kind not in _problems:
        _problems[kind] = _reachable(url)
    problem = _problems[kind]
    if problem is not None:
        message = f"{'RabbitMQ' if kind == 'amqp' else 'NATS'} not reachable at {url} ({problem})"
        if os.environ.get("BPMN_RUNNER_REQUIRE_BROKERS") == "1":
            pytest.fail(message + "; BPMN_RUNNER_REQUIRE_BROKERS=1 makes this a failure")
        pytest.skip(message + "; set BPMN_RUNNER_TEST_AMQP_URL / BPMN_RUNNER_TEST_NATS_URL to use another")
    return url


def cloud_event(type_: str, data: Any, *, event_id: str | None = None, source: str = "/shop") -> bytes:
    return json.dumps({"specversion": "1.0", "id": event_id or uuid.uuid4().hex, "source": source, "type": type_,
                       "time": "2026-12-04T10:00:00Z", "datacontenttype": "application/json",
                       "data": data}).encode()


class Kit:
    """One broker for one test: unique names, send, collect, clean up."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.run = uuid.uuid4().hex[:10]
        self.names: list[str] = []

    def name(self, what: str) -> str:
        """A queue or subject name unique to this test run."""
        name = f"bt.{self.run}.{what}"
        self.names.append(name)
        return name

    # ----- sending --------------------------------------------------------------------------------------------

    def send(self, target: str, body: bytes) -> None:
        asyncio.run(self._send(target, body))

    async def _send(self, target: str, body: bytes) -> None:
        if self.kind == "amqp":
            import aio_pika
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                await channel.declare_queue(target, durable=True)
                await channel.default_exchange.publish(aio_pika.Message(body), routing_key=target)
            return
        import nats
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            await js.publish(target, body, timeout=5)
        finally:
            await nc.close()

    # ----- collecting -----------------------------------------------------------------------------------------

    def collect(self, target: str, count: int, timeout: float = 20.0, *, settle: float = 0.0) -> list[dict[str, Any]]:
        """Events at `target` (each {"body", "headers", "event"}), waiting until `count` arrived (then `settle`
        seconds more, to see any extra) or `timeout`."""
        return asyncio.run(self._collect(target, count, timeout, settle))

    async def _collect(self, target: str, count: int, timeout: float, settle: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout

        def add(body: bytes, headers: dict[str, Any] | None) -> None:
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            out.append({"body": body, "headers": dict(headers or {}), "event": event})

        if self.kind == "amqp":
            import aio_pika
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                queue = await channel.declare_queue(target, durable=True)
                extra_until = None
                while time.monotonic() < deadline:
                    message = await queue.get(no_ack=True, fail=False)
                    if message is None:
                        if extra_until is not None and time.monotonic() > extra_until:
                            break
                        await asyncio.sleep(0.05)
                        continue
                    add(message.body, message.headers)
                    if len(out) >= count and extra_until is None:
                        extra_until = time.monotonic() + settle
            return out
        import nats
        from nats.errors import TimeoutError as NatsTimeout
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            while True:  # the bridge creates the stream when it first publishes there
                try:
                    stream = await js.find_stream_name_by_subject(target)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        return out
                    await asyncio.sleep(0.1)
            # a durable consumer per target: the next collect goes on where this one stopped
            durable = "kit-" + "".join(c if c.isalnum() else "_" for c in target)
            sub = await js.pull_subscribe(target, durable=durable, stream=stream)
            extra_until = None
            while time.monotonic() < deadline:
                try:
                    messages = await sub.fetch(10, timeout=0.3)
                except (NatsTimeout, asyncio.TimeoutError):
                    messages = []
                for message in messages:
                    add(message.data, message.headers)
                    await message.ack()
                if len(out) >= count and extra_until is None:
                    extra_until = time.monotonic() + settle
                if extra_until is not None and time.monotonic() > extra_until:
                    break
            return out
        finally:
            await nc.close()

    def unacknowledged(self, source: str) -> int:
        """Deliveries at `source` not acknowledged yet (waiting or in flight)."""
        return asyncio.run(self._unacknowledged(source))

    async def _unacknowledged(self, source: str) -> int:
        if self.kind == "amqp":
            import aio_pika
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                queue = await channel.declare_queue(source, durable=True, passive=True)
                return int(queue.declaration_result.message_count or 0)
        import nats
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            stream = await js.find_stream_name_by_subject(source)
            total = 0
            for consumer in await js.consumers_info(stream):
                total += consumer.num_pending + consumer.num_ack_pending
            return total
        finally:
            await nc.close()

    # ----- cleaning up ----------------------------------------------------------------------------------------

    def cleanup(self) -> None:
        try:
            asyncio.run(self._cleanup())
        except Exception:
            pass

    async def _cleanup(self) -> None:
        if self.kind == "amqp":
            import aio_pika
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                for name in self.names + [f"bpmn-runner-bridge.{n}" for n in self.names]:
                    try:
                        await channel.queue_delete(name)
                    except Exception:
                        channel = await connection.channel()
            return
        import nats
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            for stream in await js.streams_info():
                if stream.config.name and self.run in stream.config.name:
                    await js.delete_stream(stream.config.name)
        finally:
            await nc.close()


class CuttableProxy:
    """A TCP proxy to a broker; `cut()` closes every connection through it, as a broker restart does."""

    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("@")[-1].split("://")[-1].split("/")[0]
        host, _, port = host_port.partition(":")
        self.target = (host, int(port))
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()
        scheme = target_url.split("://")[0]
        credentials = target_url.split("://")[1].split("@")[0] + "@" if "@" in target_url else ""
        path = "/" if scheme.startswith("amqp") else ""
        self.url = f"{scheme}://{credentials}127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.cuts += 1

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.server.close()

"""RabbitMQ through aio-pika: a robust connection (it reconnects and restores its queues and consumers after a
broker restart), publisher confirms, persistent messages, manual acknowledgement.

A plain source or target names a durable queue on the default exchange, declared here; `exchange:routing-key`
names a route through an exchange (declared as a durable topic exchange when it does not exist), and a source of
that form is read through a durable queue bound to it (`queue` in its subscription, else `<name>.<source>`)."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage, AbstractRobustConnection

from .broker import REASON_HEADER, Broker, Handler, header_text
from .config import Inbound
from .events import CONTENT_TYPE

RETRY_PAUSE = 1.0


def split_route(route: str) -> tuple[str | None, str]:
    """(exchange, routing key) of `exchange:key`, or (None, queue) of a plain name."""
    exchange, sep, key = route.partition(":")
    return (exchange, key) if sep and exchange else (None, route)


class AmqpBroker(Broker):
    connection: AbstractRobustConnection
    channel: AbstractChannel

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.config.broker, timeout=10, client_properties={"connection_name": self.config.name})
        self.channel = await self.connection.channel(publisher_confirms=True)
        await self.channel.set_qos(prefetch_count=self.config.prefetch)
        self._queues: set[str] = set()
        self._exchanges: dict[str, AbstractExchange] = {}

    async def _queue(self, name: str) -> Any:
        queue = await self.channel.declare_queue(name, durable=True)
        self._queues.add(name)
        return queue

    async def _exchange(self, name: str) -> AbstractExchange:
        if name not in self._exchanges:
            try:  # an existing exchange is used as it is, whatever its type (checked on a channel of its own,
                probe = await self.connection.channel()  # since a failed passive declare closes the channel)
                try:
                    await probe.get_exchange(name, ensure=True)
                finally:
                    if not probe.is_closed:
                        await probe.close()
                self._exchanges[name] = await self.channel.get_exchange(name, ensure=False)
            except aio_pika.exceptions.ChannelClosed:
                self._exchanges[name] = await self.channel.declare_exchange(
                    name, aio_pika.ExchangeType.TOPIC, durable=True)
        return self._exchanges[name]

    async def subscribe(self, route: Inbound, handler: Handler) -> None:
        exchange, key = split_route(route.source)
        if exchange is None:
            queue = await self._queue(key)
        else:
            queue = await self._queue(route.queue or f"{self.config.name}.{route.source}")
            await queue.bind(await self._exchange(exchange), routing_key=key)

        async def on_message(message: AbstractIncomingMessage) -> None:
            ok = await handler(message.body)
            try:
                if ok:
                    await message.ack()
                else:
                    await asyncio.sleep(RETRY_PAUSE)
                    await message.nack(requeue=True)
            except Exception:  # the channel went away meanwhile: the broker redelivers; the inbox dedups
                pass

        await queue.consume(on_message, no_ack=False)

    async def publish(self, target: str, body: bytes, event_id: str) -> None:
        exchange, key = split_route(target)
        message = aio_pika.Message(body, content_type=CONTENT_TYPE, message_id=event_id,
                                   delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        if exchange is None:
            if key not in self._queues:
                await self._queue(key)
            await self.channel.default_exchange.publish(message, routing_key=key, timeout=10)
        else:
            await (await self._exchange(exchange)).publish(message, routing_key=key, mandatory=False, timeout=10)

    async def dead_letter(self, source: str, body: bytes, reason: str) -> None:
        name = self.config.dead_letter
        if name not in self._queues:
            await self._queue(name)
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   headers={REASON_HEADER: header_text(reason), "bpmn-runner-source": source})
        await self.channel.default_exchange.publish(message, routing_key=name, timeout=10)

    async def close(self) -> None:
        connection = getattr(self, "connection", None)
        if connection is not None and not connection.is_closed:
            await connection.close()

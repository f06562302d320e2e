"""NATS JetStream through nats-py: a connection that reconnects for ever, durable pull consumers with manual
acknowledgement, and publishes the stream acknowledges (with `Nats-Msg-Id` = the event id, so the stream itself
drops a re-publish within its duplicate window). A subject no stream captures gets a stream of its own."""

from __future__ import annotations

import asyncio
import re

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from .broker import REASON_HEADER, Broker, Handler, header_text
from .config import Inbound

RETRY_PAUSE = 1.0


def stream_name(subject: str) -> str:
    return "BPMN_" + re.sub(r"[^A-Za-z0-9_-]", "_", subject.replace("*", "star").replace(">", "all"))


class NatsBroker(Broker):
    async def connect(self) -> None:
        self.nc = await nats.connect(self.config.broker, name=self.config.name, max_reconnect_attempts=-1,
                                     reconnect_time_wait=0.5, connect_timeout=5, allow_reconnect=True)
        self.js = self.nc.jetstream()
        self._streams: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def _stream(self, subject: str) -> str:
        """The stream capturing `subject`, created when none does."""
        if subject not in self._streams:
            try:
                self._streams[subject] = await self.js.find_stream_name_by_subject(subject)
            except NotFoundError:
                name = stream_name(subject)
                await self.js.add_stream(name=name, subjects=[subject])
                self._streams[subject] = name
        return self._streams[subject]

    async def subscribe(self, route: Inbound, handler: Handler) -> None:
        stream = await self._stream(route.source)
        durable = route.queue or re.sub(r"[^A-Za-z0-9_-]", "_", f"{self.config.name}-{route.source}")
        subscription = await self.js.pull_subscribe(route.source, durable=durable, stream=stream)

        async def pull() -> None:
            while True:
                try:
                    messages = await subscription.fetch(self.config.prefetch, timeout=1.0)
                except (NatsTimeout, asyncio.TimeoutError):
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception:  # disconnected: the client reconnects; ask again shortly
                    await asyncio.sleep(RETRY_PAUSE / 2)
                    continue
                for message in messages:
                    ok = await handler(message.data)
                    try:
                        if ok:
                            await message.ack()
                        else:
                            await message.nak(delay=RETRY_PAUSE)
                    except Exception:  # disconnected: redelivered after ack_wait; the inbox dedups
                        pass

        self._tasks.append(asyncio.get_running_loop().create_task(pull()))

    async def publish(self, target: str, body: bytes, event_id: str) -> None:
        stream = await self._stream(target)
        await self.js.publish(target, body, timeout=5, stream=stream,
                              headers={"Nats-Msg-Id": event_id, "Content-Type": "application/cloudevents+json"})

    async def dead_letter(self, source: str, body: bytes, reason: str) -> None:
        subject = self.config.dead_letter
        await self.js.publish(subject, body, timeout=5, stream=await self._stream(subject),
                              headers={REASON_HEADER: header_text(reason), "bpmn-runner-source": source})

    async def close(self) -> None:
        for task in getattr(self, "_tasks", []):
            task.cancel()
        for task in getattr(self, "_tasks", []):
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        nc = getattr(self, "nc", None)
        if nc is not None and not nc.is_closed:
            try:
                await nc.drain()
            except Exception:
                await nc.close()

"""What the bridge needs of a broker, whichever it is: subscribe with manual acknowledgement, publish with the
broker's confirmation, dead-letter with a reason. `open_broker` picks the implementation from the URL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Awaitable, Callable

from .config import BridgeConfig, Inbound

#: Handles one delivery's body; True: acknowledge it, False: leave it for redelivery.
Handler = Callable[[bytes], Awaitable[bool]]
REASON_HEADER = "bpmn-runner-reason"


class Broker(ABC):
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config

    @abstractmethod
    async def connect(self) -> None:
        """Connect (the client library then reconnects by itself after a broker restart)."""

    @abstractmethod
    async def subscribe(self, route: Inbound, handler: Handler) -> None:
        """Deliver what arrives at `route.source` to `handler`, acknowledging only when it returns True."""

    @abstractmethod
    async def publish(self, target: str, body: bytes, event_id: str) -> None:
        """Publish a CloudEvent; returns once the broker confirmed it has it, else raises."""

    @abstractmethod
    async def dead_letter(self, source: str, body: bytes, reason: str) -> None:
        """Publish an unusable delivery unchanged to the dead-letter destination, with the reason in a header."""

    @abstractmethod
    async def close(self) -> None:
        ...


def open_broker(config: BridgeConfig) -> Broker:
    if config.broker.startswith(("amqp://", "amqps://")):
        from .amqp import AmqpBroker
        return AmqpBroker(config)
    from .nats import NatsBroker
    return NatsBroker(config)


def header_text(text: str, limit: int = 1000) -> str:
    """A reason as a header value: one line, bounded."""
    return " ".join(text.split())[:limit]

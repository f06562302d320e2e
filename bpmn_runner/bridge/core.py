"""What the bridge does against the store, in its one database thread: turn an inbound event into a correlated
message (once per event id), and read and mark the outbox. No broker code here (see amqp.py and nats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..durable.policy import key_string
from ..durable.worker import default_worker_id
from ..errors import BpmnRunnerError, ExecutionError, InvalidOperationError, StepFailed, StoreError
from ..expressions import feel_bridge
from ..expressions._problems import Problem
from ..store import OutboxRecord
from .config import BridgeConfig, Inbound
from .events import PoisonEvent, outbound_event, parse_event

if TYPE_CHECKING:  # pragma: no cover
    from ..durable import Runtime

ACK, RETRY, DEAD = "ack", "retry", "dead"
LEASE = 30.0  # seconds an outbox row stays this bridge's to publish


@dataclass
class Verdict:
    """What to do with an inbound delivery: ack it, leave it for redelivery, or dead-letter it with `reason`."""

    action: str
    reason: str = ""
    outcome: dict[str, Any] | None = None


class BridgeCore:
    """The store side of a bridge over one Runtime (used from one thread)."""

    def __init__(self, runtime: "Runtime", config: BridgeConfig, *, carry_on: bool = True,
                 log: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None) -> None:
        self.runtime = runtime
        self.config = config
        self.carry_on = carry_on and bool(runtime.handlers.names())
        self.log = log or (lambda _text: None)
        self.warn = warn or self.log
        self.outbound_names = sorted({o.message for o in config.outbound})
        self.owner = f"bridge:{default_worker_id()}"  # leases outbox rows: several bridges publish each row once

    # ----- inbound ------------------------------------------------------------------------------------------

    def handle(self, route: Inbound, body: bytes) -> Verdict:
        """Correlate one delivery; acknowledged only once what it did is committed."""
        try:
            event = parse_event(body)
            key = self._evaluate(route.correlation, "correlation", event.data)
            business_key = self._evaluate(route.business_key, "business_key", event.data)
        except PoisonEvent as exc:
            return Verdict(DEAD, str(exc))
        try:
            outcome = self.runtime.receive_event(event.inbox_id, route.message, correlation_key=key,
                                                 payload=event.data, business_key=business_key)
        except InvalidOperationError as exc:   # e.g. no key and several instances wait: it can never match
            return Verdict(DEAD, f"event {event.id}: {exc}")
        except (StepFailed, ExecutionError) as exc:  # stored; the receiving instance has an incident now
            self.warn(f"bridge: event {event.id} -> {route.message}: {exc}")
            return Verdict(ACK, outcome={"outcome": "incident", "error": str(exc)})
        except StoreError as exc:
            self.warn(f"bridge: event {event.id}: the store is not usable now, left for redelivery: {exc}")
            return Verdict(RETRY, str(exc))
        instance_id = outcome.get("instance_id")
        if self.carry_on and instance_id and outcome.get("outcome") in ("delivered", "started"):
            try:
                self.runtime.run_to_wait([instance_id])
            except BpmnRunnerError as exc:  # committed already; the job stays for a worker
                self.warn(f"bridge: instance {instance_id}: {exc}")
        self.log(f"event {event.id} ({event.type}) -> message {route.message}: {outcome.get('outcome')}"
                 + (f" instance {instance_id}" if instance_id else ""))
        return Verdict(ACK, outcome=outcome)

    def _evaluate(self, expression: str | None, what: str, data: dict[str, Any]) -> str | None:
        if expression is None:
            return None
        try:
            value = feel_bridge.evaluate(expression, data)
        except Problem as exc:
            raise PoisonEvent(f"{what} {expression!r} cannot be evaluated on the event's data: {exc}") from None
        if value is None:
            raise PoisonEvent(f"{what} {expression!r} is null on the event's data")
        return key_string(value)

    # ----- outbound -----------------------------------------------------------------------------------------

    def pending(self, limit: int = 100) -> list[tuple[str, str, bytes]]:
        """(outbox id, target, CloudEvent body) for each route of each thrown message not yet published."""
        rows: list[OutboxRecord] = self.runtime.store.pending_outbox(
            self.outbound_names, limit, worker=self.owner, now=self.runtime.now(), lease=LEASE)
        out = []
        for row in rows:
            for route in self.config.outbound_for(row.name):
                out.append((row.id, route.target, outbound_event(row, source=self.config.event_source,
                                                                 type_=route.type)))
        return out

    def mark_published(self, ids: list[str]) -> int:
        return self.runtime.store.mark_published(ids, self.runtime.now())

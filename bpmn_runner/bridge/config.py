"""The bridge's configuration: a TOML file or `[tool.bpmn-runner.bridge]`, checked once with one clear line per
mistake (inbound subscriptions, outbound routes, the broker URL, the dead-letter destination)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import InvalidOperationError
from ..expressions import feel_bridge
from ..expressions._problems import Problem
from ..settings import load_settings

DEFAULT_DEAD_LETTER = "bpmn-runner.dead-letter"
DEFAULT_EVENT_SOURCE = "bpmn-runner"


@dataclass(frozen=True)
class Inbound:
    """Events at `source` become BPMN message `message`, correlated by the FEEL `correlation` over their data."""

    source: str
    message: str
    correlation: str | None = None
    business_key: str | None = None
    queue: str | None = None        # RabbitMQ `exchange:key` sources: the queue bound to it (default derived)


@dataclass(frozen=True)
class Outbound:
    """Messages `message` thrown by an instance go to `target` as CloudEvents of type `type`."""

    message: str
    target: str
    type: str


@dataclass(frozen=True)
class BridgeConfig:
    broker: str = ""
    inbound: tuple[Inbound, ...] = ()
    outbound: tuple[Outbound, ...] = ()
    dead_letter: str = DEFAULT_DEAD_LETTER
    event_source: str = DEFAULT_EVENT_SOURCE   # the CloudEvents `source` of outbound events
    poll: float = 0.5                          # longest pause between looks at the outbox
    prefetch: int = 32                         # inbound events in flight per subscription
    name: str = "bpmn-runner-bridge"           # connection name / JetStream durable consumer prefix
    origin: str = ""                           # where it was read, for messages

    def with_broker(self, broker: str | None) -> "BridgeConfig":
        return replace(self, broker=broker) if broker else self

    def outbound_for(self, message: str) -> list[Outbound]:
        return [o for o in self.outbound if o.message == message]


def load_bridge_config(path: str | Path | None = None, *, broker: str | None = None,
                       start: Path | None = None) -> BridgeConfig:
    """The configuration in `path` (a TOML file), else `[tool.bpmn-runner.bridge]` of the nearest pyproject.toml;
    `broker` (the --broker option) wins over the file's `broker`."""
    if path is not None:
        where = str(path)
        try:
            table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidOperationError(f"--config {path}: cannot read it: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidOperationError(f"{path}: not valid TOML: {exc}") from exc
        table = table.get("tool", {}).get("bpmn-runner", {}).get("bridge", table) if "tool" in table else table
    else:
        settings = load_settings(start)
        where = f"{settings.source} [tool.bpmn-runner.bridge]" if settings.source else "[tool.bpmn-runner.bridge]"
        table = settings.bridge
    config = parse_bridge_config(table, where)
    config = config.with_broker(broker)
    if not config.broker:
        raise InvalidOperationError(f"{where}: no broker: give --broker amqp://USER:PASS@HOST:5672/ or "
                                    f"nats://HOST:4222 (or broker = \"...\" in the configuration)")
    check_broker_url(config.broker)
    return config


def check_broker_url(url: str) -> None:
    if not url.startswith(("amqp://", "amqps://", "nats://", "tls://")):
        raise InvalidOperationError(f"broker {url!r}: use amqp://USER:PASS@HOST:5672/ (RabbitMQ) or "
                                    f"nats://HOST:4222 (NATS JetStream)")


def parse_bridge_config(table: dict[str, Any], where: str = "bridge configuration") -> BridgeConfig:
    """Check a configuration table (as TOML gives it)."""
    if not isinstance(table, dict):
        raise InvalidOperationError(f"{where}: must be a table")
    known = {"broker", "inbound", "outbound", "dead_letter", "event_source", "poll", "prefetch", "name"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InvalidOperationError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    inbound = tuple(_inbound(item, f"{where} inbound[{i}]") for i, item in enumerate(_list(table, "inbound", where)))
    outbound = tuple(_outbound(item, f"{where} outbound[{i}]")
                     for i, item in enumerate(_list(table, "outbound", where)))
    if not inbound and not outbound:
        raise InvalidOperationError(f"{where}: no [[inbound]] subscription and no [[outbound]] route; the bridge "
                                    f"would do nothing")
    poll = table.get("poll", 0.5)
    prefetch = table.get("prefetch", 32)
    if not isinstance(poll, (int, float)) or poll <= 0:
        raise InvalidOperationError(f"{where}: poll must be a number of seconds above 0")
    if not isinstance(prefetch, int) or prefetch < 1:
        raise InvalidOperationError(f"{where}: prefetch must be a whole number from 1")
    return BridgeConfig(broker=_text(table, "broker", where, required=False) or "", inbound=inbound,
                        outbound=outbound,
                        dead_letter=_text(table, "dead_letter", where, required=False) or DEFAULT_DEAD_LETTER,
                        event_source=_text(table, "event_source", where, required=False) or DEFAULT_EVENT_SOURCE,
                        poll=float(poll), prefetch=prefetch,
                        name=_text(table, "name", where, required=False) or "bpmn-runner-bridge", origin=where)


def _list(table: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = table.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidOperationError(f"{where}: {key} must be a list of tables ([[{key}]])")
    return items


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidOperationError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _feel(table: dict[str, Any], key: str, where: str) -> str | None:
    source = _text(table, key, where, required=False)
    if source is None:
        return None
    source = source[1:].strip() if source.startswith("=") else source
    try:
        feel_bridge.parse(source)
    except Problem as exc:
        raise InvalidOperationError(f"{where}: {key} = {source!r} is not a FEEL expression: {exc}") from None
    return source


def _inbound(item: dict[str, Any], where: str) -> Inbound:
    unknown = sorted(set(item) - {"source", "message", "correlation", "business_key", "queue"})
    if unknown:
        raise InvalidOperationError(f"{where}: unknown key {unknown[0]!r} (known: source, message, correlation, "
                                    f"business_key, queue)")
    return Inbound(source=_text(item, "source", where) or "", message=_text(item, "message", where) or "",
                   correlation=_feel(item, "correlation", where), business_key=_feel(item, "business_key", where),
                   queue=_text(item, "queue", where, required=False))


def _outbound(item: dict[str, Any], where: str) -> Outbound:
    unknown = sorted(set(item) - {"message", "target", "type"})
    if unknown:
        raise InvalidOperationError(f"{where}: unknown key {unknown[0]!r} (known: message, target, type)")
    message = _text(item, "message", where) or ""
    return Outbound(message=message, target=_text(item, "target", where) or "",
                    type=_text(item, "type", where, required=False) or message)

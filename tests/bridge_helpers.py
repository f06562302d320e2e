"""Running a bridge over a store in a test: the order_events example deployed, a configuration with this test's
unique names, and the bridge started in-process (start_bridge) or as a `bpmn-runner bridge` process."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from bpmn_runner.bridge import BridgeHandle, parse_bridge_config, start_bridge
from bpmn_runner.bridge.config import BridgeConfig
from bpmn_runner.durable import Runtime, open_runtime
from bpmn_runner.environment import build_environment

from .brokers import Kit

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
ORDER_EVENTS = PROCESSES / "order_events.bpmn"
ORDER_HANDLERS = PROCESSES / "order_events_handlers.py"


def environment(handlers: bool = True) -> Any:
    return build_environment(handler_specs=[str(ORDER_HANDLERS)] if handlers else [], entry_points=False)


def deploy(db_url: str, *paths: Path) -> None:
    with open_runtime(db_url, environment()) as runtime:
        runtime.deploy(list(paths or [ORDER_EVENTS]))


class Names:
    """The inbound source, outbound target and dead-letter destination of one test."""

    def __init__(self, kit: Kit) -> None:
        self.placed = kit.name("order.placed")
        self.shipped = kit.name("order.shipped")
        self.dead = kit.name("dead")
        self.bridge = f"bt-{kit.run}"


def order_table(kit: Kit, names: Names, broker: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"broker": broker or kit.url, "dead_letter": names.dead, "poll": 0.2, "name": names.bridge,
            "inbound": [{"source": names.placed, "message": "order.placed", "correlation": "orderId",
                         "business_key": "orderId"}],
            "outbound": [{"message": "order.shipped", "target": names.shipped,
                          "type": "com.example.order.shipped"}], **extra}


def order_config(kit: Kit, names: Names, broker: str | None = None, **extra: Any) -> BridgeConfig:
    return parse_bridge_config(order_table(kit, names, broker, **extra))


@contextlib.contextmanager
def running_bridge(db_url: str, config: BridgeConfig, *, handlers: bool = True,
                   log: list[str] | None = None) -> Iterator[BridgeHandle]:
    factory: Callable[[], Runtime] = lambda: open_runtime(db_url, environment(handlers))  # noqa: E731
    handle = start_bridge(factory, config, log=log.append if log is not None else None)
    assert handle.wait_ready(30), "the bridge did not connect"
    assert handle.error is None, handle.error
    try:
        yield handle
    finally:
        handle.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)

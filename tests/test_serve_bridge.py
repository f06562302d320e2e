"""`bpmn-runner serve --bridge-config`: the broker bridge runs inside the server process, against the real
RabbitMQ on the machine; an order.placed CloudEvent starts the order_events process (seen through the API) and
order.shipped comes out. A broker that is down does not keep `serve` from answering.

Skipped with the reason where RabbitMQ is not reachable; .ci/run sets BPMN_RUNNER_REQUIRE_BROKERS=1, which makes
that a failure. Queue names are unique per test run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from .bridge_helpers import ORDER_HANDLERS, Names, deploy
from .brokers import Kit, cloud_event, require_broker
from .serve_helpers import Serve, free_port, request, wait_for


@pytest.fixture
def rabbit() -> Iterator[Kit]:
    made = Kit("amqp", require_broker("amqp"))
    try:
        yield made
    finally:
        made.cleanup()


def _config(path: Path, broker: str, names: Names) -> Path:
    lines = [f'broker = "{broker}"', f'dead_letter = "{names.dead}"', "poll = 0.2", f'name = "{names.bridge}"',
             "[[inbound]]", f'source = "{names.placed}"', 'message = "order.placed"', 'correlation = "orderId"',
             'business_key = "orderId"', "[[outbound]]", 'message = "order.shipped"', f'target = "{names.shipped}"',
             'type = "com.example.order.shipped"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _serve(tmp_path: Path, config: Path) -> Serve:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    deploy(db)
    env = {**os.environ, "PYTHONPATH": str(ORDER_HANDLERS.parent)}
    return Serve(db, tmp_path / "serve.log", "--handlers", str(ORDER_HANDLERS), "--bridge-config", str(config),
                 "-v", env=env)


def test_serve_with_a_bridge_starts_the_order_from_an_event_and_publishes_order_shipped(rabbit: Kit,
                                                                                       tmp_path: Path) -> None:
    """Given `serve --bridge-config` over the order_events process, when the shop sends order.placed to RabbitMQ,
    then the API shows a completed instance with the order id as business key, order.shipped comes out, and
    SIGTERM stops the server and its bridge cleanly."""
    names = Names(rabbit)
    serve = _serve(tmp_path, _config(tmp_path / "bridge.toml", rabbit.url, names))
    try:
        wait_for(lambda: "bridge: connected" in serve.log(), 30, "the bridge in serve did not connect", serve.log)
        rabbit.send(names.placed, cloud_event("com.example.order.placed",
                                              {"orderId": "S-1", "sku": "BOOK-42", "quantity": 2,
                                               "customer": "ada@example.com"}))
        got = rabbit.collect(names.shipped, 1, timeout=30)
        listed = wait_for(lambda: (page := request("GET", serve.base + "/api/instances")[1])["instances"] and page,
                          30, "no instance through the API", serve.log)
    finally:
        serve.stop()
    assert [g["event"]["data"] for g in got] == [{"orderId": "S-1", "carrier": "DHL", "trackingNumber": "TRK-S-1"}]
    assert got[0]["event"]["type"] == "com.example.order.shipped"
    [instance] = listed["instances"]
    assert instance["business_key"] == "S-1" and instance["status"] == "completed"
    assert serve.process.returncode in (0, -15)  # uvicorn ends with the signal it was sent, after its shutdown
    assert "bridge done: 1 event(s) in" in serve.log() and "Traceback" not in serve.log()


def test_serve_answers_while_its_bridge_broker_is_down(tmp_path: Path) -> None:
    """A broker nobody listens on: `serve` still answers its API, and says on stderr that the bridge retries."""
    names = Names(Kit("amqp", "amqp://guest:guest@127.0.0.1:1/"))
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    serve = _serve(tmp_path, _config(tmp_path / "bridge.toml", down, names))
    try:
        assert request("GET", serve.base + "/api/instances")[0] == 200
        wait_for(lambda: "not reachable" in serve.log(), 30, "the bridge did not say it retries", serve.log)
    finally:
        serve.stop()
    assert serve.process.returncode in (0, -15)
    assert "bridge done: 0 event(s) in" in serve.log() and "Traceback" not in serve.log()


def test_a_bridge_that_ends_on_an_error_is_reported_and_the_server_carries_on(tmp_path: Path) -> None:
    """The bridge cannot open its store (a file that is not a database): the server says why, in one line, and
    its shutdown still completes."""
    from bpmn_runner.bridge import parse_bridge_config
    from bpmn_runner.server.context import ServerContext

    from .bridge_helpers import environment

    said: list[str] = []
    (tmp_path / "x.db").write_bytes(b"not a database " * 100)
    config = parse_bridge_config({"broker": "amqp://guest:guest@127.0.0.1:1/", "name": "bt-err",
                                  "inbound": [{"source": "q", "message": "order.placed", "correlation": "orderId"}]})
    ctx = ServerContext(environment=environment(), db_url=f"sqlite:///{tmp_path / 'x.db'}", workers=0,
                        bridge=config, warn=said.append)
    ctx.start_bridge()
    wait_for(lambda: said, 30, "the bridge's error was not reported")
    ctx.close()
    [line] = said
    assert line.startswith("bridge: stopped: ") and "the server carries on without it" in line

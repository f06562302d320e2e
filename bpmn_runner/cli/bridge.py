"""`bpmn-runner bridge`: CloudEvents from RabbitMQ or NATS JetStream in as messages, thrown messages out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import typer

from .common import DbOpt, HandlersOpt, app, environment, guard

BrokerOpt = typer.Option(None, "--broker", show_default=False,
                         help="amqp://USER:PASS@HOST:5672/ (RabbitMQ) or nats://HOST:4222 (NATS JetStream); "
                              "default: `broker` in the configuration.")
ConfigOpt = typer.Option(None, "--config", "-c", show_default=False,
                         help="The bridge's TOML file (default: [tool.bpmn-runner.bridge] in pyproject.toml).")


def runtime_factory(db: Optional[str], handlers: Optional[list[str]], worker_id: str) -> Callable[[], Any]:
    """Opens the Runtime a bridge uses (in its own store thread)."""
    from ..durable import open_runtime

    def make() -> Any:
        return open_runtime(db, environment(handlers, entry_points=bool(handlers)), worker_id=worker_id)
    return make


def run_until_signalled(handle: Any) -> None:
    """Wait for SIGTERM or Ctrl-C (or the bridge ending on an error), then stop the bridge."""
    import signal as signals
    import threading

    stop = threading.Event()
    previous = None
    try:
        previous = signals.signal(signals.SIGTERM, lambda *_: stop.set())
    except ValueError:  # not the main thread (tests)
        pass
    try:
        while not stop.is_set() and handle.is_running():
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
        if previous is not None:
            signals.signal(signals.SIGTERM, previous)


@app.command("bridge")
def bridge_command(broker: Optional[str] = BrokerOpt, config: Optional[Path] = ConfigOpt,
                   handlers: Optional[list[str]] = HandlersOpt,
                   verbose: bool = typer.Option(False, "--verbose", "-v", help="Say what happens on stderr."),
                   db: Optional[str] = DbOpt) -> None:
    """Bridge a message broker and the store until SIGTERM or Ctrl-C.

    Each [[inbound]] subscription turns CloudEvents arriving at its source into a BPMN message, correlated by a FEEL
    expression over the event's data: it starts an instance at a message start event or moves a waiting one. An
    event is acknowledged only after that is committed; the same event id twice correlates once; an event that
    cannot be read goes to the dead-letter queue or subject with the reason. Each [[outbound]] route publishes
    the messages instances throw (written to the outbox with the step that threw them) as CloudEvents. With
    --handlers, the service tasks an event reaches run here, to the next wait.
    """
    from ..bridge import load_bridge_config, start_bridge
    from ..durable import default_worker_id

    def go() -> Any:
        settings = load_bridge_config(config, broker=broker)
        say = (lambda text: typer.echo(text, err=True))  # noqa: E731
        handle = start_bridge(runtime_factory(db, handlers, default_worker_id()), settings,
                              log=say if verbose else None, warn=say)
        handle.wait_ready()
        if handle.error is not None:
            raise handle.error
        typer.echo(f"bridge: running ({len(settings.inbound)} inbound, {len(settings.outbound)} outbound); "
                   f"stop with Ctrl-C or SIGTERM", err=True)
        run_until_signalled(handle)
        if handle.error is not None:
            raise handle.error
        return handle.stats

    stats = guard(go)
    typer.echo(f"bridge done: {stats.summary()}", err=True)

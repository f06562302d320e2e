"""`bpmn-runner worker`: run the store's jobs with the handlers of --handlers and the entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import (EXIT_FAILED, BridgeBrokerOpt, BridgeConfigOpt, CommitOpt, DbOpt, HandlersOpt, app, environment,
                     guard)


@app.command("worker")
def worker_command(handlers: Optional[list[str]] = HandlersOpt,
                   until_idle: bool = typer.Option(False, "--until-idle",
                                                   help="Exit once no job is due and none is held by another "
                                                        "worker (timers due later do not keep it running)."),
                   concurrency: int = typer.Option(1, "--concurrency", "-n", min=1, help="Jobs run at once."),
                   lease: float = typer.Option(30.0, "--lease", min=0.1,
                                               help="Seconds a claimed job stays this worker's; renewed while its "
                                                    "handler runs."),
                   poll: float = typer.Option(0.5, "--poll", min=0.01, help="Longest pause between looks for work."),
                   worker_id: Optional[str] = typer.Option(None, "--id", help="Worker name (default host:pid)."),
                   verbose: bool = typer.Option(False, "--verbose", "-v", help="Say what happens on stderr."),
                   commit: Optional[str] = CommitOpt,
                   bridge_broker: Optional[str] = BridgeBrokerOpt,
                   bridge_config: Optional[Path] = BridgeConfigOpt,
                   db: Optional[str] = DbOpt) -> None:
    """Run jobs from the store: service tasks with their handlers, due timers and message deliveries.

    Several workers (processes, on one host with SQLite, on any hosts with PostgreSQL) share the work; each job
    is leased, and a job whose worker died is taken over when its lease expires. SIGTERM finishes the jobs in hand.
    With --until-idle, due service jobs no handler here can run are named, and the exit code is 1.
    With --bridge-broker or --bridge-config the broker bridge runs beside the worker, in the same process.
    """
    import signal as signals

    from ..durable import Worker, default_worker_id, open_runtime

    def go() -> Any:
        env = environment(handlers, commit=commit)
        log = (lambda text: typer.echo(text, err=True)) if verbose else None
        bridge = None
        if bridge_broker or bridge_config:
            from ..bridge import load_bridge_config, start_bridge
            from .bridge import runtime_factory
            settings = load_bridge_config(bridge_config, broker=bridge_broker)
            bridge = start_bridge(runtime_factory(db, handlers, worker_id or default_worker_id()), settings, log=log,
                                  warn=lambda text: typer.echo(text, err=True))
            bridge.wait_ready(10)  # a broker that is down does not hold the worker up: the bridge keeps retrying
            if bridge.error is not None:
                raise bridge.error
        try:
            return work(env, log)
        finally:
            if bridge is not None:
                bridge.stop()
                typer.echo(f"bridge done: {bridge.stats.summary()}", err=True)

    def work(env: Any, log: Any) -> Any:
        with open_runtime(db, env, worker_id=worker_id or default_worker_id()) as runtime:
            worker = Worker(runtime, worker_id=runtime.worker_id, concurrency=concurrency, lease=lease, poll=poll,
                            log=log)
            previous = None
            try:
                previous = signals.signal(signals.SIGTERM, lambda *_: worker.stop())
            except ValueError:  # not the main thread (tests)
                pass
            try:
                return worker.run(until_idle=until_idle)
            finally:
                if previous is not None:
                    signals.signal(signals.SIGTERM, previous)

    stats = guard(go)
    typer.echo(f"worker done: {stats.summary()}", err=True)
    if until_idle and stats.unhandled:  # idle, yet work is left that no handler here can do
        for text in stats.unhandled:
            typer.echo(f"error: {text}", err=True)
        raise typer.Exit(EXIT_FAILED)

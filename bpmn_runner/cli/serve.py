"""`bpmn-runner serve`: the REST API, the Camunda 7 REST subset and the pages over the store, with in-process
workers for the handlers given and timers firing while it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import InvalidOperationError
from .common import BridgeBrokerOpt, BridgeConfigOpt, DbOpt, HandlersOpt, app, environment, guard

TOKEN_ENV = "BPMN_RUNNER_TOKEN"


@app.command("serve")
def serve_command(db: Optional[str] = DbOpt,
                  host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback "
                                                                       "needs --token."),
                  port: int = typer.Option(8080, "--port", min=0, max=65535, help="TCP port."),
                  handlers: Optional[list[str]] = HandlersOpt,
                  workers: int = typer.Option(1, "--workers", min=0,
                                              help="In-process worker threads for the handlers' jobs, timers and "
                                                   "messages (0: leave them to `worker` processes)."),
                  token: Optional[str] = typer.Option(None, "--token", envvar=TOKEN_ENV, show_envvar=True,
                                                      help="Bearer token API clients must send (and the pages' "
                                                           "login asks for)."),
                  verbose: bool = typer.Option(False, "--verbose", "-v", help="Log requests and workers on stderr."),
                  bridge_broker: Optional[str] = BridgeBrokerOpt,
                  bridge_config: Optional[Path] = BridgeConfigOpt) -> None:
    """Serve the API (/api/, OpenAPI at /api/openapi.json), the Camunda 7 REST subset (/engine-rest/) and the
    tasklist and cockpit pages (/) over the store. Stop it with Ctrl-C or SIGTERM.

    With --bridge-broker or --bridge-config the broker bridge runs beside the server, in the same process; a
    broker that is down does not hold the server up (the bridge keeps retrying and says so on stderr)."""
    from ..server.context import ServerContext
    from ..server.run import check_address, is_loopback, serve

    def go() -> Any:
        if not token and not is_loopback(host):
            raise InvalidOperationError(f"--host {host} is reachable from other machines: give --token TOKEN (or "
                                        f"set {TOKEN_ENV}) so that only clients with the token get in")
        check_address(host, port)
        bridge = None
        if bridge_broker or bridge_config:
            from ..bridge import load_bridge_config
            bridge = load_bridge_config(bridge_config, broker=bridge_broker)
        env = environment(handlers)
        log = (lambda text: typer.echo(text, err=True)) if verbose else None
        ctx = ServerContext(environment=env, db_url=db, host=host, port=port, token=token or None,
                            workers=workers, log=log, bridge=bridge, warn=lambda text: typer.echo(text, err=True))
        typer.echo(f"serving on http://{host}:{port}/ (API /api/, Camunda 7 REST /engine-rest/); Ctrl-C stops",
                   err=True)
        serve(ctx, log_level="info" if verbose else "warning")

    guard(go)

"""Running `serve`: the application under uvicorn, stopped cleanly on Ctrl-C or SIGTERM (uvicorn's own
handling), the in-process workers with it."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import uvicorn

from ..errors import InvalidOperationError
from .app import create_app
from .context import ServerContext


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: the only bindings allowed without a token."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except (OSError, ValueError):
            return False


def check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address this process cannot listen on (uvicorn would only log it and exit)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InvalidOperationError(f"--host {host}: {exc.strerror or exc}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise InvalidOperationError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another "
                                        f"server using it? choose another --port)") from None


def serve(ctx: ServerContext, *, log_level: str = "warning") -> None:
    """Serve until stopped. uvicorn runs one event loop in this process: request handlers that touch the store
    run in its thread pool, long polls wait on the loop without a thread."""
    config = uvicorn.Config(create_app(ctx), host=ctx.host, port=ctx.port, log_level=log_level,
                            timeout_graceful_shutdown=5, limit_concurrency=2000, backlog=2048)
    _Server(config, ctx).run()


class _Server(uvicorn.Server):
    """uvicorn's server; on Ctrl-C or SIGTERM the long polls answer at once, so the shutdown need not cut them."""

    def __init__(self, config: uvicorn.Config, ctx: ServerContext) -> None:
        super().__init__(config)
        self._ctx = ctx

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._ctx.stop_polls()
        super().handle_exit(sig, frame)

"""What every route of `serve` shares: the Environment, the store URL, the token, and how to open a Runtime."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ..durable.runtime import Runtime, open_runtime
from ..environment import Environment

DEFAULT_UPLOAD_LIMIT = 5 * 1024 * 1024


@dataclass(frozen=True)
class ServerContext:
    """The settings of one `serve` process. `token` None means no authentication (loopback binding only)."""

    environment: Environment
    db_url: str | None
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    worker_id: str = "serve"

    @contextmanager
    def runtime(self) -> Iterator[Runtime]:
        """A Runtime over the store for one request (opened and closed around it)."""
        with open_runtime(self.db_url, self.environment, worker_id=self.worker_id) as runtime:
            yield runtime

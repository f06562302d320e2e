"""PostgreSQL connections kept in autocommit mode beside the pool, for the work that is one statement (a step, a
claim): no pool checkout, no reset when it is given back and no switching the mode there and back, which together
cost a W1 start about 0.05 ms of this process's CPU (bench/README.md)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

#: At most this many per store; one-statement work beyond them borrows a connection from the pool instead.
AUTOCOMMIT_CONNECTIONS = 4
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no statement running, no transaction open


class AutocommitConnections:
    """Idle driver connections in autocommit mode, each used by one thread at a time."""

    def __init__(self, engine: Engine, limit: int = AUTOCOMMIT_CONNECTIONS) -> None:
        self._engine = engine
        self._limit = limit
        self._idle: list[Any] = []
        self._open = 0
        self._closed = False
        self._lock = threading.Lock()

    def take(self) -> Any | None:
        """An idle connection, a new one while fewer than the limit are open, else None (use the pool)."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._closed or self._open >= self._limit:
                return None
            self._open += 1
        try:
            pooled = self._engine.raw_connection()  # the pool's connect arguments and events, then out of the pool
            raw = pooled.driver_connection
            pooled.detach()  # ours to close from now on
            raw.autocommit = True
        except BaseException:
            with self._lock:
                self._open -= 1
            raise
        return raw

    def give_back(self, raw: Any, failed: bool = False) -> None:
        """Keep it for the next statement, unless its statement `failed` and it broke (a server restart: the next
        take opens a new one)."""
        if failed and (raw.closed or raw.broken or raw.info.transaction_status != _IDLE):
            self._drop(raw)  # broken, or interrupted in the middle of its statement
            return
        with self._lock:
            if not self._closed:
                self._idle.append(raw)
                return
        self._drop(raw)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for raw in idle:
            self._drop(raw)

    def _drop(self, raw: Any) -> None:
        with self._lock:
            self._open -= 1
        try:
            raw.close()
        except Exception:  # closing a broken connection: nothing left to release
            pass

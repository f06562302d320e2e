"""What every route of `serve` shares: the Environment, the store URL, the token, one Runtime over the store for
the whole process, the in-process workers, the broker bridge, and the long-poll hub of fetchAndLock."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..bridge import BridgeConfig, BridgeHandle, start_bridge
from ..durable.runtime import Runtime, open_runtime
from ..durable.worker import Worker
from ..environment import Environment
from .long_poll import LongPollHub

DEFAULT_UPLOAD_LIMIT = 5 * 1024 * 1024


class _Shared:
    """The mutable part of a context: opened once, used by every request thread, closed at shutdown."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runtime: Runtime | None = None
        self.worker: Worker | None = None
        self.thread: threading.Thread | None = None
        self.hub: LongPollHub | None = None
        self.bridge: BridgeHandle | None = None
        self.stopping = False


@dataclass(frozen=True)
class ServerContext:
    """The settings of one `serve` process. `token` None means no authentication (loopback binding only).
    `workers` threads run the jobs of the Environment's handlers, and every due timer and message job, while
    the application runs (0: none, e.g. when `worker` processes do it). With `bridge`, the broker bridge runs
    beside them (its own Runtime and threads); `warn` hears what goes wrong with it (default: `log`)."""

    environment: Environment
    db_url: str | None
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    worker_id: str = "serve"
    workers: int = 1
    log: Callable[[str], None] | None = None
    bridge: BridgeConfig | None = None
    warn: Callable[[str], None] | None = None
    _shared: _Shared = field(default_factory=_Shared, compare=False, repr=False)

    @contextmanager
    def runtime(self) -> Iterator[Runtime]:
        """The Runtime over the store (one per process, opened on first use; a Runtime serves many threads)."""
        yield self.shared_runtime()

    def shared_runtime(self) -> Runtime:
        shared = self._shared
        with shared.lock:
            if shared.runtime is None:
                shared.runtime = open_runtime(self.db_url, self.environment,
                                              worker_id=f"{self.worker_id}:{os.getpid()}")
            return shared.runtime

    @property
    def hub(self) -> LongPollHub:
        """The long polls of fetchAndLock wait here for due jobs of their topics."""
        shared = self._shared
        with shared.lock:
            if shared.hub is None:
                shared.hub = LongPollHub(lambda topics: self.shared_runtime().store.due_topics(
                    topics, self.shared_runtime().now()))
            return shared.hub

    @property
    def stopping(self) -> bool:
        """True once the server was asked to stop: long polls answer at once instead of holding the shutdown."""
        return self._shared.stopping

    def stop_polls(self) -> None:
        self._shared.stopping = True

    def in_process_topics(self) -> frozenset[str]:
        """Topics the in-process handlers serve: fetchAndLock never hands their jobs out."""
        return frozenset(self.environment.handlers.names())

    def start_workers(self) -> None:
        """Start the in-process worker threads (handlers' jobs, timers, messages), if `workers` > 0."""
        shared = self._shared
        if self.workers <= 0 or shared.thread is not None:
            return
        runtime = self.shared_runtime()
        worker = Worker(runtime, worker_id=f"{self.worker_id}:{os.getpid()}:worker", concurrency=self.workers,
                        poll=0.25, log=self.log)
        shared.worker = worker
        shared.thread = threading.Thread(target=worker.run, name="bpmn-runner-serve-worker", daemon=True)
        shared.thread.start()

    def start_bridge(self) -> None:
        """Start the broker bridge, if configured, without waiting for the broker: one that is down does not hold
        the server up, the bridge keeps retrying (and says so through `warn`)."""
        shared = self._shared
        if self.bridge is None or shared.bridge is not None:
            return
        worker_id = f"{self.worker_id}:{os.getpid()}:bridge"
        handle = start_bridge(lambda: open_runtime(self.db_url, self.environment, worker_id=worker_id), self.bridge,
                              log=self.log, warn=self.warn or self.log)
        shared.bridge = handle
        threading.Thread(target=self._watch_bridge, args=(handle,), name="bpmn-runner-serve-bridge-watch",
                         daemon=True).start()

    def _watch_bridge(self, handle: BridgeHandle) -> None:
        """Say, once, why a bridge ended before the server asked it to (the API carries on without it)."""
        handle.join()
        if handle.error is not None and self._shared.bridge is handle:
            say = self.warn or self.log
            if say is not None:
                say(f"bridge: stopped: {type(handle.error).__name__}: {handle.error} (the server carries on "
                    f"without it; restart `serve` once this is fixed)")

    def close(self) -> None:
        """Stop the bridge and the workers (they finish the jobs in hand) and close the store."""
        shared = self._shared
        bridge, shared.bridge = shared.bridge, None
        if bridge is not None:
            bridge.stop()
            if self.log is not None:
                self.log(f"bridge done: {bridge.stats.summary()}")
        if shared.worker is not None:
            shared.worker.stop()
        if shared.thread is not None:
            shared.thread.join(10.0)
        shared.worker = shared.thread = None
        with shared.lock:
            if shared.runtime is not None:
                shared.runtime.close()
                shared.runtime = None

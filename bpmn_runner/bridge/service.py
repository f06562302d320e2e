"""The running bridge: one asyncio loop (in a thread of its own) for the broker, one thread for the store, and
`start_bridge`, which `bridge`, `worker` and `serve` use to run it beside their own work.

Inbound: a delivery is handed to the store thread (BridgeCore.handle) and acknowledged only after that commit.
Outbound: the outbox is read after each inbound event, and at least every `poll` seconds; each row is published
with the broker's confirmation and only then marked published (at least once, with the same id each time).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from .broker import Broker, open_broker
from .config import BridgeConfig, Inbound
from .core import ACK, DEAD, BridgeCore

if TYPE_CHECKING:  # pragma: no cover
    from ..durable import Runtime

BATCH = 100
CONNECT_RETRY = 1.0


@dataclass
class BridgeStats:
    received: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retried: int = 0
    published: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.received} event(s) in ({self.duplicates} duplicate(s), {self.dead_lettered} dead-lettered, "
                f"{self.retried} left for redelivery), {self.published} event(s) out")


class Bridge:
    def __init__(self, runtime_factory: Callable[[], "Runtime"], config: BridgeConfig, *,
                 log: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None,
                 carry_on: bool = True) -> None:
        self.runtime_factory = runtime_factory
        self.config = config
        self.log = log or (lambda _text: None)
        self.warn = warn or self.log  # connection problems, dead letters, errors: said even when `log` is quiet
        self.carry_on = carry_on
        self.stats = BridgeStats()
        self.ready = threading.Event()
        self._db = ThreadPoolExecutor(1, thread_name_prefix="bridge-store")
        self._stop: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def _in_store(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, partial(fn, *args))

    def request_stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            try:
                self.loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop is closed: the bridge has ended already (on an error)
                pass

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop, self._wake = asyncio.Event(), asyncio.Event()
        broker: Broker | None = None
        runtime = None
        try:
            runtime = await self._in_store(self.runtime_factory)
            core = BridgeCore(runtime, self.config, carry_on=self.carry_on, log=self.log, warn=self.warn)
            broker = await self._connect()
            if broker is None:
                return
            for route in self.config.inbound:
                await broker.subscribe(route, partial(self._on_event, core, broker, route))
            self.log(f"bridge: connected to {_safe(self.config.broker)}; {len(self.config.inbound)} inbound "
                     f"subscription(s), {len(self.config.outbound)} outbound route(s)")
            self.ready.set()
            outbox = asyncio.create_task(self._outbox(core, broker))
            await self._stop.wait()
            outbox.cancel()
            try:
                await outbox
            except asyncio.CancelledError:
                pass
        finally:
            if broker is not None:
                try:
                    await broker.close()
                except Exception as exc:  # closing a connection that is gone already
                    self.log(f"bridge: closing the broker connection: {exc}")
            if runtime is not None:
                await self._in_store(runtime.close)
            self._db.shutdown(wait=True)

    async def _connect(self) -> Broker | None:
        """Connect, retrying while the broker is down (None when stopped first)."""
        assert self._stop is not None
        while not self._stop.is_set():
            broker = open_broker(self.config)
            try:
                await broker.connect()
                return broker
            except Exception as exc:
                self.warn(f"bridge: broker {_safe(self.config.broker)} not reachable ({type(exc).__name__}: "
                         f"{exc}); retrying")
                try:
                    await broker.close()
                except Exception:
                    pass
                try:
                    await asyncio.wait_for(self._stop.wait(), CONNECT_RETRY)
                except asyncio.TimeoutError:
                    pass
        return None

    async def _on_event(self, core: BridgeCore, broker: Broker, route: Inbound, body: bytes) -> bool:
        try:
            verdict = await self._in_store(core.handle, route, body)
        except Exception as exc:  # a bug rather than a bad event: keep the event, say why
            self.stats.errors.append(f"{type(exc).__name__}: {exc}")
            self.warn(f"bridge: event at {route.source} left for redelivery: {type(exc).__name__}: {exc}")
            self.stats.retried += 1
            return False
        if verdict.action == DEAD:
            try:
                await broker.dead_letter(route.source, body, verdict.reason)
            except Exception as exc:
                self.warn(f"bridge: cannot dead-letter an event from {route.source} now ({exc}); "
                          f"left for redelivery")
                self.stats.retried += 1
                return False
            self.stats.dead_lettered += 1
            self.warn(f"bridge: event from {route.source} dead-lettered to {self.config.dead_letter}: "
                      f"{verdict.reason}")
            return True
        if verdict.action == ACK:
            self.stats.received += 1
            if verdict.outcome and verdict.outcome.get("outcome") == "duplicate":
                self.stats.duplicates += 1
            assert self._wake is not None
            self._wake.set()
            return True
        self.stats.retried += 1
        return False

    async def _outbox(self, core: BridgeCore, broker: Broker) -> None:
        assert self._wake is not None
        while True:
            full = False
            try:
                batch = await self._in_store(core.pending, BATCH)
                full = len(batch) >= BATCH
                if batch:
                    results = await asyncio.gather(*(broker.publish(target, body, row_id)
                                                     for row_id, target, body in batch), return_exceptions=True)
                    failed = {row_id for (row_id, _, _), r in zip(batch, results) if isinstance(r, BaseException)}
                    done = list(dict.fromkeys(row_id for row_id, _, _ in batch if row_id not in failed))
                    if done:
                        await self._in_store(core.mark_published, done)
                        self.stats.published += len(done)
                    if failed:
                        first = next(r for r in results if isinstance(r, BaseException))
                        self.warn(f"bridge: {len(failed)} event(s) not published yet ({type(first).__name__}: "
                                 f"{first}); retrying")
                        full = False
                        await asyncio.sleep(CONNECT_RETRY)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.warn(f"bridge: outbox: {type(exc).__name__}: {exc}; retrying")
                await asyncio.sleep(CONNECT_RETRY)
                continue
            if full:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.poll)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()


class BridgeHandle:
    """A bridge running in a thread of its own; `stop()` ends it."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bpmn-runner-bridge", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self.bridge.run())
        except BaseException as exc:  # reported by wait() and stop()
            self.error = exc
        finally:
            self.bridge.ready.set()

    @property
    def stats(self) -> BridgeStats:
        return self.bridge.stats

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once subscribed (or ended: check `error`)."""
        return self.bridge.ready.wait(timeout)

    def is_running(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        self.bridge.request_stop()
        self.thread.join(timeout)


def start_bridge(runtime_factory: Callable[[], "Runtime"], config: BridgeConfig, *,
                 log: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None,
                 carry_on: bool = True) -> BridgeHandle:
    """Run a bridge beside the caller's own work; `runtime_factory()` opens the Runtime it uses (in its store
    thread, closed when it stops). With `carry_on`, instances an event moved run their service tasks whose
    handlers the Runtime has, to the next wait, as `message --handlers` does. `log` hears what happens, `warn`
    (default: `log`) what goes wrong."""
    handle = BridgeHandle(Bridge(runtime_factory, config, log=log, warn=warn, carry_on=carry_on))
    handle.thread.start()
    return handle


def _safe(url: str) -> str:
    """A broker URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":")[0]
    return f"{scheme}://{user}@{tail}"

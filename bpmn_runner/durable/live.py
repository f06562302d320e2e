"""Live instances kept in memory between their steps, shared by the threads of one Runtime."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..instance import Instance
from ..store import InstanceRecord, JobRecord

LIVE_INSTANCES = 1024  # live instances a Runtime keeps between steps, the least recently committed dropped first


@dataclass
class Live:
    """A live instance as it was last committed."""

    version: int
    instance: Instance
    record: InstanceRecord
    jobs: list[JobRecord]


class LiveInstances:
    """Committed instances by id. A thread takes one out to step it, so no two threads run the same live instance;
    an instance started in one thread (a request of `serve`, a command) goes on from memory in another (a worker
    thread). A stale one (changed meanwhile by another process) fails its commit on the version, and the step is
    redone from the store."""

    def __init__(self, size: int = LIVE_INSTANCES) -> None:
        self._size = size
        self._items: OrderedDict[str, Live] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str) -> Live | None:
        with self._lock:
            return self._items.pop(instance_id, None)

    def put(self, live: Live) -> None:
        """Keep `live`; the least recently committed beyond the size, and one it replaces, are disposed (nobody
        holds them: a thread stepping an instance has taken it out)."""
        dropped: list[Live] = []
        with self._lock:
            old = self._items.pop(live.instance.instance_id, None)
            if old is not None and old.instance is not live.instance:
                dropped.append(old)
            self._items[live.instance.instance_id] = live
            while len(self._items) > self._size:
                dropped.append(self._items.popitem(last=False)[1])
        for gone in dropped:
            gone.instance.dispose()

    def clear(self) -> None:
        """Forget them all: their next steps restore from the store."""
        with self._lock:
            dropped, self._items = list(self._items.values()), OrderedDict()
        for gone in dropped:
            gone.instance.dispose()

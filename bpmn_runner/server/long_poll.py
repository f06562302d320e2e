"""Long polling for fetchAndLock without a thread per request: waiting requests park on asyncio events, and one
task per event loop asks the store a few times a second which of their topics have due jobs (or at once when a
request of this process may have made some) and wakes as many waiters as there are jobs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from starlette.concurrency import run_in_threadpool

from ..errors import BpmnRunnerError

POLL_SECONDS = 0.2


@dataclass(eq=False)
class _Waiter:
    topics: frozenset[str]
    event: asyncio.Event = field(default_factory=asyncio.Event)


class LongPollHub:
    """`await hub.wait(topics, timeout)` returns when a job of one of the topics may be due, or at the timeout."""

    def __init__(self, due_topics: Callable[[list[str]], dict[str, int]], interval: float = POLL_SECONDS) -> None:
        self._due_topics = due_topics
        self.interval = interval
        self._waiters: list[_Waiter] = []
        self._task: asyncio.Task[None] | None = None
        self._poke: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def wait(self, topics: list[str], timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when woken because jobs of these topics may be due."""
        waiter = _Waiter(frozenset(topics))
        self._waiters.append(waiter)
        self._ensure_task()
        try:
            await asyncio.wait_for(waiter.event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def poke(self) -> None:
        """Look at the store now (call from the event loop after a request that may have created jobs)."""
        if self._poke is not None and self._loop is asyncio.get_running_loop():
            self._poke.set()

    def _ensure_task(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._poke = asyncio.Event()
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        poke = self._poke
        assert poke is not None
        while self._waiters:
            topics = sorted(set().union(*(w.topics for w in self._waiters)))
            try:
                due = await run_in_threadpool(self._due_topics, topics)
            except BpmnRunnerError:
                due = {}  # a store hiccup: the waiters time out or the next round finds the jobs
            for topic, count in due.items():
                for waiter in list(self._waiters):
                    if count <= 0:
                        break
                    if topic in waiter.topics and not waiter.event.is_set():
                        waiter.event.set()
                        count -= 1
            try:
                await asyncio.wait_for(poke.wait(), self.interval)
            except asyncio.TimeoutError:
                pass
            poke.clear()

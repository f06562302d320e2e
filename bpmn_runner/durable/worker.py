"""The job worker: claim due jobs with a lease, run them, commit, and retry with backoff when they fail.

Like Zeebe's job workers, it only claims service jobs whose handler it has, so workers with different handler
modules can share one store. Timer and message jobs any worker can run. A handler runs between the claim commit
and the step commit, so it runs at least once (a worker killed in between loses its lease, and another worker
runs the job again with the same `ServiceCall.idempotency_key`); the step is committed at most once, because the
commit re-checks the lease and the instance version in the same transaction. A heartbeat thread renews the leases
of jobs that are still running, so a long handler keeps its job.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..errors import BpmnError, BpmnRunnerError, ExecutionError, HandlerError, UnhandledBpmnError
from ..store import JobRecord, LeaseLostError

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime

EXPIRE_EVERY = 10.0
FOLLOW_LIMIT = 100


@dataclass
class WorkerStats:
    """What a worker did, for its summary line and for tests."""

    service: int = 0
    timers: int = 0
    messages: int = 0
    continuations: int = 0     # jobs past a commit point (asyncBefore/asyncAfter)
    retries: int = 0
    incidents: int = 0
    dropped: int = 0           # results of jobs that were no longer this worker's, or whose task had moved on
    errors: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return self.service + self.timers + self.messages + self.continuations

    unhandled: list[str] = field(default_factory=list)  # due service jobs no handler of this worker can run

    def summary(self) -> str:
        more = f", {self.continuations} continuation" if self.continuations else ""
        return (f"{self.jobs} job(s): {self.service} service, {self.timers} timer, {self.messages} message{more}; "
                f"{self.retries} retried, {self.incidents} incident(s), {self.dropped} dropped")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**4):04x}"


class Worker:
    """Runs jobs from a store with `concurrency` threads until stopped (or, with `until_idle`, until idle)."""

    def __init__(self, runtime: "Runtime", *, worker_id: str | None = None, concurrency: int = 1,
                 lease: float = 30.0, poll: float = 0.5, log: Callable[[str], None] | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = max(1, concurrency)
        self.lease = lease
        self.poll = poll
        self.log = log
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._last_expiry = 0.0

    @property
    def handler_names(self) -> list[str]:
        return self.runtime.handlers.names()

    def stop(self) -> None:
        """Finish the jobs in hand, then return from `run` (SIGTERM does this)."""
        self._stop.set()

    # ----- loops --------------------------------------------------------------------------------------------

    def run(self, *, until_idle: bool = False, max_jobs: int | None = None) -> WorkerStats:
        heartbeat = threading.Thread(target=self._heartbeat, name="bpmn-runner-heartbeat", daemon=True)
        heartbeat.start()
        try:
            if self.concurrency == 1:
                self._loop(until_idle, max_jobs)
            else:
                threads = [threading.Thread(target=self._loop, args=(until_idle, max_jobs), daemon=True,
                                            name=f"bpmn-runner-worker-{i}") for i in range(self.concurrency)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    while thread.is_alive():
                        thread.join(0.2)
        finally:
            self._stop.set()
            heartbeat.join(2.0)
        return self.stats

    def run_jobs(self, job_ids: list[str]) -> WorkerStats:
        """Run these jobs now (those due whose handler this worker has; the rest stay for a worker), each with the
        service jobs its step creates that this worker can run: how a command carries its instance on."""
        self._stop.clear()  # a command may call this again for what a run left (see Runtime.run_to_wait)
        heartbeat = threading.Thread(target=self._heartbeat, name="bpmn-runner-heartbeat", daemon=True)
        heartbeat.start()
        try:
            claimed, _ = self.store.claim_jobs(self.worker_id, self.handler_names, now=self.runtime.now(),
                                               lease=self.lease, limit=len(job_ids), ids=job_ids)
            with self._lock:
                self._held.update(j.id for j in claimed)
            for job in claimed:
                self._process(job)
        finally:
            self._stop.set()
            heartbeat.join(2.0)
        return self.stats

    def run_once(self, limit: int = 100) -> int:
        """Claim and run every job due now, one by one, in this thread (tests drive time with this)."""
        done = 0
        while done < limit:
            jobs = self._claim()
            if not jobs:
                break
            for job in jobs:
                done += self._process(job)
        return done

    def _loop(self, until_idle: bool, max_jobs: int | None) -> None:
        idle_sleep = min(0.05, self.poll)
        while not self._stop.is_set():
            if max_jobs is not None and self.stats.jobs >= max_jobs:
                self._stop.set()
                break
            try:
                jobs = self._claim()
            except BpmnRunnerError as exc:  # a store hiccup: say so, wait, try again
                self._say(f"claim failed: {exc}")
                self._stop.wait(min(self.poll * 4, 2.0))
                continue
            if jobs:
                idle_sleep = min(0.05, self.poll)
                for job in jobs:
                    self._process(job)
                continue
            now = self.runtime.now()
            if now - self._last_expiry > EXPIRE_EVERY:
                self._last_expiry = now
                try:
                    self.store.expire_messages(now)
                    if not until_idle:
                        self._note_unhandled(now)
                except BpmnRunnerError:
                    pass
            count, next_due = self.store.pending_work(self.handler_names, now)
            if until_idle and count == 0:
                with self._lock:
                    busy = bool(self._held)
                if not busy:
                    self._note_unhandled(now)
                    self._stop.set()
                    break
            wait = idle_sleep if next_due is None else min(max(next_due - now, 0.005), idle_sleep)
            self._stop.wait(wait)
            idle_sleep = min(idle_sleep * 2, self.poll)

    def _heartbeat(self) -> None:
        interval = max(self.lease / 3.0, 0.05)
        while not self._stop.wait(interval):
            with self._lock:
                held = list(self._held)
            if not held:
                continue
            try:
                still = self.store.extend_leases(self.worker_id, held, self.runtime.now() + self.lease)
            except BpmnRunnerError:
                continue
            for job_id in set(held) - still:
                self._say(f"lost the lease of job {job_id}; its result will be dropped")

    # ----- one job ------------------------------------------------------------------------------------------

    def _count(self, counter: str, amount: int = 1) -> None:
        """Worker threads share the stats: every change goes through the lock."""
        with self._lock:
            setattr(self.stats, counter, getattr(self.stats, counter) + amount)

    def _claim(self) -> list[JobRecord]:
        """Claim the next due job; jobs whose last lease expired become incidents on the way (a loop, not a
        recursion: there may be any number of them)."""
        while True:
            claimed, exhausted = self.store.claim_jobs(self.worker_id, self.handler_names, now=self.runtime.now(),
                                                       lease=self.lease, limit=1)
            for job in exhausted:
                error = job.last_error or "the job's leases expired"
                message = (f"{job.element_id}: gave up after {job.attempts} attempt(s) whose leases expired (the "
                           f"worker stopped, or its handler ran longer than the lease): {error}")
                if self.runtime.fail_job(job, None, message, final=True) == "incident":
                    self._count("incidents")
            if claimed or not exhausted:
                break
        with self._lock:
            self._held.update(j.id for j in claimed)
        return claimed

    def _note_unhandled(self, now: float) -> None:
        """Say which due service jobs no handler of this worker can run, instead of ending idle in silence."""
        found = self.store.due_jobs_without_handler(self.handler_names, now)
        texts = [f"no handler for job type {job.handler!r}: instance {job.instance_id}, task {job.element_id} "
                 f"waits for it (register one with @handler({job.handler!r}) and pass --handlers)" for job in found]
        with self._lock:
            new = [text for text in texts if text not in self.stats.unhandled]
            self.stats.unhandled = texts
        for text in new:  # a long-running worker says each once, not every ten seconds
            self._say(text)

    def _process(self, job: JobRecord) -> int:
        """Run a job; then the service jobs its step created that this worker can run, at once (like Zeebe's job
        streaming): an instance goes on while its state is still in memory, up to FOLLOW_LIMIT jobs in a row.
        With wait-state commits the step has run those handlers in-process already; the jobs it made are commit
        points the diagram asked for, which any worker may take, so they are not followed."""
        queue = [job]
        followed = 0
        done = 0
        follows = not self.runtime.wait_states
        while queue:
            done += 1
            lease = follows and followed < FOLLOW_LIMIT and not self._stop.is_set()
            outcome = self._process_one(queue.pop(0), lease_next=lease) or {}
            self._count("service", outcome.get("handlers_run", 0))
            failed, incidents = len(outcome.get("handler_errors", [])), outcome.get("incidents", 0)
            self._count("incidents", incidents)
            self._count("retries", failed - incidents)
            with self._lock:
                self.stats.errors.extend(outcome.get("handler_errors", [])[:max(0, 100 - len(self.stats.errors))])
            leased = outcome.get("leased_jobs", [])  # committed with the step, already this worker's
            with self._lock:
                self._held.update(j.id for j in leased)
            queue.extend(leased)
            followed += len(leased)
            follow = [job_id for job_id, handler in outcome.get("new_service_jobs", [])
                      if handler in self.runtime.handlers]
            if follow and follows and followed < FOLLOW_LIMIT and not self._stop.is_set():
                claimed, _ = self.store.claim_jobs(self.worker_id, self.handler_names, now=self.runtime.now(),
                                                   lease=self.lease, limit=len(follow), ids=follow)
                with self._lock:
                    self._held.update(j.id for j in claimed)
                queue.extend(claimed)
                followed += len(claimed)
        return done

    def _process_one(self, job: JobRecord, *, lease_next: bool = False) -> Any:
        try:
            if job.kind == "service":
                return self._service(job, lease_next)
            if job.kind == "timer":
                self._count("timers")
                return self._other(job, lambda: self.runtime.fire_timer_job(job, self.worker_id))
            if job.kind == "message":
                self._count("messages")
                return self._other(job, lambda: self.runtime.run_message_job(job, self.worker_id))
            if job.kind == "async":
                self._count("continuations")
                return self._other(job, lambda: self.runtime.continue_job(job, self.worker_id))
            return None
        finally:
            with self._lock:
                self._held.discard(job.id)

    def _service(self, job: JobRecord, lease_next: bool = False) -> Any:
        runtime = self.runtime
        error: BpmnError | None = None
        result: Any = None
        try:
            result = runtime.call_handler(job)
        except BpmnError as raised:
            error = raised
        except Exception as exc:  # HandlerError (the handler's own failure) or anything unexpected
            self._failed(job, str(exc) if isinstance(exc, BpmnRunnerError) else f"{type(exc).__name__}: {exc}",
                         traceback=exc.traceback or None if isinstance(exc, HandlerError) else None)
            self._count("service")
            return None
        self._count("service")
        follow = (self.worker_id, runtime.now() + self.lease, self.handler_names) if lease_next else None
        return self._other(job, lambda: runtime.complete_service_job(job, self.worker_id, result, error,
                                                                     lease_next=follow))

    def _other(self, job: JobRecord, commit: Callable[[], Any]) -> Any:
        try:
            outcome = commit()
            if outcome is None:
                self._count("dropped")
            return outcome
        except LeaseLostError:
            self._count("dropped")
            self._say(f"job {job.id} ({job.element_id}) was taken over by another worker; result dropped")
        except UnhandledBpmnError as exc:
            self._failed(job, str(exc), final=True)
        except ExecutionError as exc:
            self._failed(job, str(exc))
        except BpmnRunnerError as exc:
            self._failed(job, str(exc))

    def _failed(self, job: JobRecord, error: str, *, final: bool = False, traceback: str | None = None) -> None:
        try:
            outcome = self.runtime.fail_job(job, self.worker_id, error, final=final, traceback=traceback)
        except BpmnRunnerError as exc:
            self._say(f"could not record the failure of job {job.id}: {exc}")
            return
        if outcome == "incident":
            self._count("incidents")
            self._say(f"incident: instance {job.instance_id}, {job.element_id}: {error}")
        else:
            self._count("retries")
        with self._lock:
            if len(self.stats.errors) < 100:
                self.stats.errors.append(error)

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(f"worker {self.worker_id}: {text}")

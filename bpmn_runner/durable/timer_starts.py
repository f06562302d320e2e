"""Timer start events in the store: deploying a process schedules a job per timer start event; a worker firing
it starts a new instance and, in the same transaction, schedules the next repetition (R<n> counted, cron without
end). A new version of the process replaces the previous version's timers, as in Camunda 7."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from .. import cron, expressions
from .._spiff.timers import start_schedule
from ..definitions import Definitions
from ..engine import Engine
from ..environment import Environment
from ..errors import DefinitionError, ExpressionError
from ..store import InstanceRecord, JobRecord, Store
from .deployments import Deployments
from .policy import DEFAULT_ATTEMPTS
from .steps import Steps, outcome_of

PREFIX = "start:"


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _process_prefix(process_id: str) -> str:
    """The task id of a start timer job names its process and version (hashed: the column holds 64 characters)."""
    return f"{PREFIX}{_short(process_id)}:"


def _task_id(process_id: str, digest: str, element_id: str) -> str:
    return f"{_process_prefix(process_id)}{_version(digest)}{_short(element_id)}"


def _version(digest: str) -> str:
    return f"{digest[:16]}:"


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


class TimerStarts:
    """Schedules and fires the timer start events of deployed processes."""

    def __init__(self, *, store: Store, environment: Environment, engine: Engine, deployments: Deployments,
                 steps: Steps) -> None:
        self.store = store
        self.environment = environment
        self.engine = engine
        self.deployments = deployments
        self.steps = steps
        self._scheduled: set[str] = set()  # digests this runtime has scheduled: many starts check the store once

    def scheduled(self, process_id: str | None = None) -> list[dict[str, Any]]:
        """The scheduled timer start events: process, element, timer text, next due time (UTC), repetitions left
        (-1: no end)."""
        prefix = PREFIX if process_id is None else _process_prefix(process_id)
        return [{"process_id": j.payload["start"]["process_id"], "element_id": j.element_id,
                 "timer": j.payload["text"], "due_at": _utc(j.due_at).isoformat(),
                 "remaining": j.payload["start"]["remaining"], "status": j.status}
                for j in self.store.start_timer_jobs(prefix) if "start" in (j.payload or {})]

    def schedule(self, digest: str, definitions: Definitions) -> None:
        """Schedule the timer start events of the deployment's executable processes (a job each, kept when this
        version is deployed again)."""
        if digest in self._scheduled:
            return
        starts = self.deployments.catalog_for(digest).get("starts", {})
        for process_id in definitions.executable_processes():
            timers = starts.get(process_id, {}).get("timers") or []
            existing = self.store.start_timer_jobs(_process_prefix(process_id))
            mine = {j.task_id: j for j in existing
                    if j.task_id.startswith(_process_prefix(process_id) + _version(digest))}
            stale = [j.id for j in existing if j.task_id not in mine]
            new_jobs = []
            for timer in timers:
                task_id = _task_id(process_id, digest, timer["element_id"])
                job = mine.get(task_id) or self._first_job(digest, process_id, timer)
                if job is None:
                    continue
                if job.task_id not in mine:
                    new_jobs.append(job)
            if stale or new_jobs:
                self.store.replace_start_timers(stale, new_jobs)
        self._scheduled.add(digest)

    def _first_job(self, digest: str, process_id: str, timer: dict[str, Any]) -> JobRecord | None:
        text = self._text(timer, process_id)
        now = self.environment.clock()
        try:
            cycles, due, step = start_schedule(timer["kind"], text, now)
        except ExpressionError as exc:
            raise DefinitionError(f"process {process_id!r}, timer start event {timer['element_id']!r}: "
                                  f"{exc.message}") from None
        if due is None:
            return None
        payload = {"start": {"digest": digest, "process_id": process_id, "element_id": timer["element_id"],
                             "kind": timer["kind"], "remaining": cycles, "step": step}, "text": text}
        return JobRecord(self.environment.id_factory(), None, "timer", _task_id(process_id, digest,
                                                                               timer["element_id"]),
                         timer["element_id"], None, payload, due.timestamp(), 0, DEFAULT_ATTEMPTS, None,
                         created_at=self.environment.now())

    @staticmethod
    def _text(timer: dict[str, Any], process_id: str) -> str:
        """The timer's text, its expression evaluated (a start event has no variables yet)."""
        text = timer["text"]
        if expressions.dialect_of(text) not in ("juel", "feel"):
            return text
        try:
            value = expressions.evaluate_mapping(text, {})
        except ExpressionError as exc:
            raise DefinitionError(f"process {process_id!r}, timer start event {timer['element_id']!r}: "
                                  f"{text!r} cannot be evaluated before an instance exists: {exc.message}") from None
        return value.isoformat() if hasattr(value, "isoformat") else str(value).strip()

    # ----- firing -------------------------------------------------------------------------------------------

    def fire(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        """Start the instance of this repetition and schedule the next, in one transaction (the job's lease is
        checked in it: a worker that lost the job starts nothing)."""
        start = job.payload["start"]
        definitions = self.deployments.definitions_for(start["digest"])
        now = self.environment.now()
        instance = self.engine.start(definitions, start["process_id"], {}, instance_id=self.environment.id_factory())
        instance.fire_start_timers = start["element_id"]
        record = InstanceRecord(instance.instance_id, start["digest"], instance.process_id, None, "running", None,
                                0, {}, [], None, now, now)
        step = self.steps.build_step(instance, record, [], expected_version=None, allow_failed=True, consumed=[],
                                     done_job=(job.id, worker))
        following = self._next_job(job)
        if following is not None:
            step.new_jobs.append(following)
        status = self.store.commit_step(step)
        self.steps.remember(instance, step, status, [])
        self.steps.after_commit(step)
        return outcome_of(step, status)

    def _next_job(self, job: JobRecord) -> JobRecord | None:
        start = dict(job.payload["start"])
        remaining = start["remaining"]
        if remaining == 1 or remaining == 0 or start["kind"] != "timeCycle":
            return None
        if remaining > 0:
            start["remaining"] = remaining - 1
        text = job.payload["text"]
        if cron.is_cron(text):  # a worker that was down does not start the missed ones in a burst
            due = cron.next_fire(text, max(_utc(job.due_at), self.environment.clock())).timestamp()
        else:
            due = job.due_at + start["step"]
        return JobRecord(self.environment.id_factory(), None, "timer", job.task_id, job.element_id, None,
                         {**job.payload, "start": start}, due, 0, DEFAULT_ATTEMPTS, None,
                         created_at=self.environment.now())


def is_start_timer(job: JobRecord) -> bool:
    return job.kind == "timer" and job.instance_id is None and "start" in (job.payload or {})

"""Steps and commits: restore an instance, apply one thing, run it to its next wait, and commit what changed.

A step commits in one transaction the new state (version + 1), the jobs created and finished, the history rows,
the waits and the messages thrown (`Store.commit_step`). A step that meets a concurrent change is redone from a
fresh read; a step whose job lease was lost is dropped. Each thread keeps the instances it last committed live in
memory, so its next step on one of them goes on without reading the store first.

With wait-state commits (the Environment's `commit`), the run a step makes calls the handlers it can in-process,
one after another, so one commit covers every service task up to the next wait, end or commit point; a handler
that fails there is committed as a job whose first attempt failed (then retried or an incident, as a worker's).
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Collection

from ..engine import Engine
from ..instance import Instance, PendingJob
from ..environment import Environment
from ..errors import BpmnError, BpmnRunnerError, ConcurrentUpdateError, HandlerError, InvalidOperationError, \
    UnhandledBpmnError
from ..jsondata import dataclass_json, json_safe
from ..models import RunResult
from ..store import ENDED_STATUSES, InstanceRecord, JobRecord, LeaseLostError, MessageRecord, StepRecord, Store, \
    WaitRecord
from ..store.rows import history_tuple, taken_flows_row
from .deployments import Deployments
from .live import Live, LiveInstances
from .keys import StepFailed, buffered_match, thrown_key, wait_key
from .policy import DEFAULT_ATTEMPTS, retry_policy

MAX_STEP_TRIES = 20
MAX_BUFFERED_DELIVERIES = 100
INLINE_LEASE = 60.0           # how long a job whose in-process handler failed stays leased until it is failed

Action = Callable[[Instance], Any]
FailJob = Callable[..., str]  # Jobs.fail_job: (job, worker, error, final=, traceback=) -> "retry" | "incident"
DoneJob = tuple[str, str]     # (job id, worker id): the job a step finishes, if the worker still holds it
LeaseNext = tuple[str, float, Collection[str]]  # (worker, lease until, its handlers): lease the new jobs it can run


class Steps:
    """Runs and commits steps of stored instances. `after_commit(step)` routes what a step threw."""

    def __init__(self, *, store: Store, environment: Environment, engine: Engine, deployments: Deployments,
                 message_ttl: float, after_commit: Callable[[StepRecord], None],
                 fail_job: FailJob | None = None) -> None:
        self.store = store
        self.environment = environment
        self.engine = engine
        self.deployments = deployments
        self.message_ttl = message_ttl
        self.after_commit = after_commit
        self.fail_job = fail_job
        self.holder = f"in-process:{environment.id_factory()}"  # holds the jobs of handlers that failed in-process
        self.live = LiveInstances()

    def now(self) -> float:
        return self.environment.now()

    def new_id(self) -> str:
        return self.environment.id_factory()

    def restore(self, record: InstanceRecord) -> Instance:
        if record.status in ENDED_STATUSES:  # its engine state was not kept: nothing can run it again
            raise InvalidOperationError(f"instance {record.id} is {record.status}; an ended instance cannot be "
                                        f"restored (see `bpmn-runner show {record.id}` for its data and history)",
                                        instance_id=record.id)
        definitions = self.deployments.definitions_for(record.definition_hash)
        return self.engine.restore(definitions, record.process_id, record.state or {}, record.id)

    # ----- new instances ------------------------------------------------------------------------------------

    def commit_new(self, instance: Instance, digest: str, business_key: str | None, *,
                   action: Action | None = None, consumed: list[str] | None = None,
                   done_job: DoneJob | None = None, result: RunResult | None = None) -> dict[str, Any]:
        """Commit an instance the store does not have yet: run it to its first wait (or take `result`, a run that
        already happened); `action` then triggers its message or signal start event."""
        now = self.now()
        record = InstanceRecord(instance.instance_id, digest, instance.process_id, business_key, "running", None,
                                0, {}, [], None, now, now)
        if result is None and action is not None:
            first = instance.run()  # to the start event that waits for the message or signal
            if first.status == "failed":
                result = first
            else:
                action(instance)
        step = self.build_step(instance, record, [], expected_version=None, allow_failed=True,
                               consumed=consumed or [], done_job=done_job, result=result)
        status = self.store.commit_step(step)
        out = self._outcome(instance, step, status)
        if instance.engine is self.engine:
            self.remember(instance, step, status, [])  # the last use here: another thread may take it now
        self.after_commit(step)
        return out

    # ----- the step -----------------------------------------------------------------------------------------

    def step(self, instance_id: str, action: Action, *, done_job: DoneJob | None = None,
             consumed: list[str] | None = None, lease_next: LeaseNext | None = None) -> dict[str, Any]:
        """Restore, apply `action`, run to the next wait, commit; redone from a fresh read on a concurrent change.

        Raises InvalidOperationError when the instance has ended (or `action` finds nothing to act on),
        StepFailed when the engine fails, LeaseLostError when `done_job` is no longer held. With `lease_next`
        (worker, lease until, handlers) the new service jobs it can run come back leased to it (`leased_jobs`).
        """
        for attempt in range(MAX_STEP_TRIES):
            cached = self.live.take(instance_id)
            if cached is not None and attempt == 0:
                record, jobs, instance = cached.record, cached.jobs, cached.instance
            else:
                record, jobs = self.store.load_for_step(instance_id)
                instance = None
            if record.status in ENDED_STATUSES:
                raise InvalidOperationError(f"instance {instance_id} is {record.status}", instance_id=instance_id)
            from_memory = instance is not None
            if instance is None:
                instance = self.restore(record)
            try:
                action(instance)
            except InvalidOperationError:
                if from_memory:  # another thread may have moved the instance on since: redo from the store
                    continue
                raise
            step = self.build_step(instance, record, jobs, expected_version=record.version,
                                   consumed=list(consumed or []), done_job=done_job)
            leased = step.lease_new_jobs(*lease_next) if lease_next is not None else []
            try:
                status = self.store.commit_step(step)
            except LeaseLostError:
                raise
            except ConcurrentUpdateError:
                if attempt:
                    time.sleep(random.uniform(0, 0.005 * attempt))  # real contention: real time
                continue
            out = self._outcome(instance, step, status)
            self.remember(instance, step, status, jobs)  # the last use here: another thread may take it now
            self.after_commit(step)
            return {**out, **({"leased_jobs": leased} if leased else {})}
        raise ConcurrentUpdateError(f"instance {instance_id} kept changing under this step; gave up after "
                                    f"{MAX_STEP_TRIES} tries", instance_id=instance_id)

    def build_step(self, instance: Instance, record: InstanceRecord, jobs: list[JobRecord], *,
                   expected_version: int | None, allow_failed: bool = False, consumed: list[str],
                   done_job: DoneJob | None = None, result: RunResult | None = None) -> StepRecord:
        """Run the instance to its next wait (unless `result` is given) and describe the commit."""
        digest = record.definition_hash
        catalog = self.deployments.catalog_for(digest)
        business_key = record.business_key
        given = result is not None  # a run the caller made: its data is converted again, as it may have changed
        if result is None:
            result = self._run(instance)
        # Messages buffered before this instance waited for them are delivered now, in the same step.
        for _ in range(MAX_BUFFERED_DELIVERIES):
            if result.status != "waiting":
                break
            match = buffered_match(self.store, instance, business_key, catalog, consumed, self.now())
            if match is None:
                break
            message, correlations = match
            instance.send_message(message.name, message.payload, correlations or None)
            consumed.append(message.id)
            result = self._run(instance)
        now = self.now()
        status = result.status
        if status == "failed" and not allow_failed:
            raise StepFailed(result.error or "the instance failed", instance_id=instance.instance_id)
        # what happened in this step: all the instance's records (a live one forgot them at its last commit)
        events, taken, sent = instance.records()
        history = history_rows(instance, events)
        if taken:
            history.append(taken_flows_row(instance.instance_id, instance.process_id, taken, now))  # one row for all
        new_jobs: list[JobRecord] = []
        delete: list[str] = []
        timer_updates: dict[str, float] = {}
        waits: list[WaitRecord] = []
        timers: dict[str, tuple[str, float]] = {}
        inline_failures: list[tuple[JobRecord, str, bool, str | None]] = []
        release = False
        if status == "failed":
            delete = [j.id for j in jobs if done_job is None or j.id != done_job[0]]
        else:
            service_tasks = {w.task_id for w in result.waiting if w.kind == "service"}
            timers = {task_id: (element_id, due.timestamp()) for task_id, element_id, due in
                      instance.timer_waits()}
            existing = {j.task_id: j for j in jobs if j.kind == "timer"}
            for job in jobs:
                if job.kind == "service" and job.task_id not in service_tasks:
                    delete.append(job.id)
                elif job.kind == "timer" and job.task_id not in timers:
                    delete.append(job.id)
            for task_id, (element_id, due) in timers.items():
                job = existing.get(task_id)
                if job is None:
                    new_jobs.append(JobRecord(self.new_id(), instance.instance_id, "timer", task_id, element_id,
                                              None, {}, due, 0, DEFAULT_ATTEMPTS, None, created_at=now))
                elif done_job is not None and job.id == done_job[0]:
                    release = True
                    timer_updates[job.id] = due
                elif abs(job.due_at - due) > 1e-6:
                    timer_updates[job.id] = due
            # a task held at a commit point (asyncBefore/asyncAfter) gets a continuation job any worker may take;
            # one held again (before, then after) gets a new one, as its job is the one this step finishes
            held = {w.task_id: w.element_id for w in result.waiting if w.kind == "async"}
            continuing = {j.task_id for j in jobs if j.kind == "async" and (done_job is None or j.id != done_job[0])}
            for job in jobs:
                if job.kind == "async" and job.task_id not in held:
                    delete.append(job.id)
            for task_id, element_id in held.items():
                if task_id not in continuing:
                    new_jobs.append(JobRecord(self.new_id(), instance.instance_id, "async", task_id, element_id,
                                              None, {}, now, 0, DEFAULT_ATTEMPTS, None, created_at=now))
            have = {j.task_id for j in jobs if j.kind == "service"}
            for pending in instance.take_new_jobs():
                if pending.task_id not in have:
                    new_jobs.append(self._service_job(pending, instance, now))
                    if pending.failure is not None:
                        inline_failures.append(self._failed_inline(new_jobs[-1], pending.failure, now))
            waits = self._waits(instance, result, business_key, catalog, now)
        if done_job is not None and done_job[0] in delete:
            delete.remove(done_job[0])
        messages: list[MessageRecord] = []
        for message in sent:
            msg = MessageRecord(self.new_id(), message["name"], thrown_key(message, result.data, business_key, catalog),
                                message.get("payload") if isinstance(message.get("payload"), dict) else {},
                                now, now + self.message_ttl, status="pending",
                                source_instance_id=instance.instance_id)
            messages.append(msg)
            new_jobs.append(JobRecord(self.new_id(), None, "message", msg.id, msg.name, None, {}, now, 0,
                                      DEFAULT_ATTEMPTS, None, created_at=now))
        if status == "waiting":
            finished = set(delete) | ({done_job[0]} if done_job is not None and not release else set())
            busy = any(j.kind in ("service", "async") for j in new_jobs) or any(
                j.kind in ("service", "async") and j.id not in finished for j in jobs)
            due_now = any(due <= now for _, due in timers.values())
            status = "running" if busy or due_now else "waiting"
        record_out = InstanceRecord(
            id=instance.instance_id, definition_hash=digest, process_id=instance.process_id,
            business_key=business_key, status=status, version=(expected_version or 0) + 1,
            state=instance.state_json(ended=status in ENDED_STATUSES),  # an ended instance is never restored
            data=json_safe(result.data) if given else result.data,  # Instance.result gives plain JSON
            waiting=[{"task_id": w.task_id, "element_id": w.element_id, "name": w.name, "kind": w.kind,
                      "detail": w.detail, **({"instructions": w.instructions} if w.instructions else {}),
                      **({"assignment": json_safe(w.assignment)} if w.assignment else {})}
                     for w in result.waiting],
            error=result.error if status == "failed" else None, created_at=record.created_at, updated_at=now)
        had_waits = expected_version is not None and any(
            w.get("kind") not in ("service", "timer") for w in record.waiting)
        return StepRecord(instance=record_out, expected_version=expected_version, now=now, new_jobs=new_jobs,
                          delete_job_ids=delete, timer_updates=timer_updates, history=history, waits=waits,
                          new_messages=messages, consumed_messages=consumed, done_job=done_job,
                          release_done_job=release, had_waits=had_waits, inline_failures=inline_failures)

    def _run(self, instance: Instance) -> RunResult:
        """Run to the next wait. A BPMN error a handler raised in-process is thrown here, between runs, as a worker
        would throw it: caught by a boundary event the run goes on; caught by nothing, its task stays a job that
        becomes an incident once what came before is committed."""
        result = instance.run()
        while result.status == "waiting":
            thrown = [p for p in instance.new_jobs if isinstance(p.failure, BpmnError)]
            if not thrown:
                break
            for pending in thrown:
                try:
                    instance.raise_in_service_task(pending.task_id, pending.failure)  # type: ignore[arg-type]
                except UnhandledBpmnError as exc:
                    pending.failure = exc
                    continue
                instance.new_jobs.remove(pending)
            result = instance.run()
        return result

    def _failed_inline(self, job: JobRecord, failure: BaseException, now: float
                       ) -> tuple[JobRecord, str, bool, str | None]:
        """A job for a handler that failed in-process: its first attempt is that run, and it is written leased, to
        be failed (retry or incident) right after the commit."""
        job.locked_by, job.locked_until, job.attempts = self.holder, now + INLINE_LEASE, 1
        final = isinstance(failure, UnhandledBpmnError)
        traceback = (failure.traceback or None) if isinstance(failure, HandlerError) else None
        return job, str(failure), final, traceback

    def _outcome(self, instance: Instance, step: StepRecord, status: str) -> dict[str, Any]:
        """What the caller hears; handlers that failed in-process are failed now (their jobs are committed)."""
        out = outcome_of(step, status)
        ran = instance.take_inline_calls()
        if ran:
            out["handlers_run"] = ran
        errors = []
        for job, error, final, traceback in step.inline_failures:
            if self.fail_job is None:
                continue
            try:
                outcome = self.fail_job(job, self.holder, error, final=final, traceback=traceback)
            except BpmnRunnerError:
                continue  # the job stays leased; once the lease expires a worker runs it again
            errors.append(error)
            if outcome == "incident":
                out["incidents"] = out.get("incidents", 0) + 1
                if out["status"] not in ENDED_STATUSES:
                    out["status"] = "incident"
        if errors:
            out["handler_errors"] = errors
        return out

    def _service_job(self, pending: PendingJob, instance: Instance, now: float) -> JobRecord:
        attempts, backoff = retry_policy(pending.binding)
        payload = {"call": dataclass_json(pending.call), "binding": dataclass_json(pending.binding)}
        point = instance.definitions.commit_points.get(pending.call.element_id)
        if point is not None:  # a job because the diagram asks for a commit point here
            payload["commit_point"] = point
        return JobRecord(self.new_id(), instance.instance_id, "service", pending.task_id, pending.call.element_id,
                         pending.binding.name, payload, now, 0, attempts, backoff, created_at=now)

    def _waits(self, instance: Instance, result: RunResult, business_key: str | None,
               catalog: dict[str, Any], now: float) -> list[WaitRecord]:
        out = []
        for w in result.waiting:
            if w.kind in ("user", "manual"):
                form = [{"id": f.id, "label": f.label, "type": f.type, "default": f.default, "required": f.required,
                         "options": list(f.options)} for f in w.fields]
                out.append(WaitRecord(instance.instance_id, w.task_id, w.kind, "", w.element_id, w.name, None,
                                      json_safe(form), now))
        for ev in instance.event_waits():
            key = wait_key(ev, business_key, catalog, instance.instance_id)
            out.append(WaitRecord(instance.instance_id, ev["task_id"], ev["kind"], ev["event_name"],
                                  ev["element_id"], ev["name"], key, [], now))
        return out

    # ----- live instances -----------------------------------------------------------------------------------

    def remember(self, instance: Instance, step: StepRecord, status: str, previous_jobs: list[JobRecord]) -> None:
        """Keep the live instance just committed, with its row and jobs as committed. Its next step (in any thread
        of this Runtime) goes on from memory and commits against that version without reading the store first; if
        anyone changed the instance meanwhile, that commit fails on the version and the step is redone from the store.
        (Job changes that bump no version, leases and retry times, do not matter to a step.)"""
        if status in ENDED_STATUSES:
            instance.dispose()  # never restored again: freed now rather than by the garbage collector
            return
        instance.forget_records()  # committed now: a long-running instance stays small
        record = step.instance
        record.status = status
        finished = set(step.delete_job_ids)
        if step.done_job is not None and not step.release_done_job:
            finished.add(step.done_job[0])
        jobs = [j for j in jobs_after(step, previous_jobs) if j.id not in finished]
        self.live.put(Live(record.version, instance, record, jobs))


def history_rows(instance: Instance, events: list[Any]) -> list[tuple[Any, ...]]:
    """The history rows of these events in the store's column order. An element's `entered` event followed at once
    by its `completed` event is one row, the completion with `started_at` (store/rows.history_dicts reads the two
    back, in order): a step of straight-through tasks writes one row per task, not two."""
    instance_id, default_process = instance.instance_id, instance.process_id
    rows: list[tuple[Any, ...]] = []
    entered: Any = None  # an `entered` event held back for the completion that may follow it
    for h in events:
        started_at = None
        if entered is not None:
            if h.event == "completed" and h.element_id == entered.element_id and h.process_id == entered.process_id:
                started_at = float(entered.at)
            else:
                rows.append(_history_row(instance_id, default_process, entered, None))
            entered = None
        if h.event == "entered" and not h.data_changes and not h.detail:
            entered = h
            continue
        rows.append(_history_row(instance_id, default_process, h, started_at))
    if entered is not None:
        rows.append(_history_row(instance_id, default_process, entered, None))
    return rows


def _history_row(instance_id: str, default_process: str, h: Any, started_at: float | None) -> tuple[Any, ...]:
    return history_tuple(instance_id, h.process_id or default_process, h.element_id, h.event, h.at,
                         h.element_type or "", h.name or "", json_safe(h.data_changes) if h.data_changes else None,
                         h.detail or "", started_at)


def jobs_after(step: StepRecord, previous: list[JobRecord]) -> list[JobRecord]:
    """The instance's jobs after the step, as far as a step cares (ids, kinds, tasks, due times)."""
    out = []
    for job in list(previous) + [j for j in step.new_jobs if j.instance_id == step.instance.id]:
        if job.id in step.timer_updates:
            job = JobRecord(**{**job.__dict__, "due_at": step.timer_updates[job.id]})
        out.append(job)
    return out


def outcome_of(step: StepRecord, status: str) -> dict[str, Any]:
    """What a committed step tells its caller: status, where it waits, and the service jobs it created."""
    rec = step.instance
    out = {"instance_id": rec.id, "process_id": rec.process_id, "status": status,
           "business_key": rec.business_key, "waiting": rec.waiting}
    if rec.error:
        out["error"] = rec.error
    follow = [(j.id, j.handler) for j in step.new_jobs
              if j.kind == "service" and status != "incident" and j.locked_by is None]
    if follow:
        out["new_service_jobs"] = follow
    return out

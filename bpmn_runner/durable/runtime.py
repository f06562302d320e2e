"""The facade of durable instances, and their Python API: open a store, deploy, start, complete, correlate, work
until idle, query. Each job lives in its own module: deployments, steps, correlation, jobs, queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..clock import Clock
from ..definitions import Definitions
from ..engine import Engine
from ..instance import Instance
from ..environment import Environment, build_environment
from ..errors import BpmnError, BpmnRunnerError, InvalidOperationError, NotFoundError
from ..models import Binding, RunResult, ServiceCall
from ..registry import HandlerRegistry
from ..settings import check_commit_mode
from ..store import InstanceRecord, JobRecord, MessageRecord, StepRecord, Store, WaitRecord, open_store
from ..store.retention import parse_before
from .correlation import Correlation
from .deployments import Deployments, Source
from .external_tasks import ExternalTasks
from .jobs import Jobs
from .policy import DEFAULT_TTL
from .queries import Queries
from .steps import DoneJob, LeaseNext, Steps
from .timer_starts import TimerStarts, is_start_timer
from .worker import Worker, WorkerStats


class Runtime:
    """Store-backed instances in an Environment; one Runtime may serve several threads. Use it as a context
    manager (`with open_runtime(url, environment) as runtime: ...`) to close its store. `commit` overrides the
    Environment's commit mode (`wait-states` or `each-task`)."""

    def __init__(self, store: Store, handlers: HandlerRegistry | None = None, *,
                 environment: Environment | None = None, clock: Clock | None = None,
                 id_factory: Callable[[], str] | None = None, trust_scripts: bool = False,
                 message_ttl: float = DEFAULT_TTL, worker_id: str = "cli", check_bindings: bool = False,
                 commit: str | None = None) -> None:
        if environment is None:
            environment = build_environment(handlers=handlers if handlers is not None else HandlerRegistry(),
                                            clock=clock, id_factory=id_factory, trust_scripts=trust_scripts,
                                            commit=commit)
        else:
            if handlers is not None:
                environment = environment.changed(handlers=handlers)
            if commit is not None:
                environment = environment.changed(commit=check_commit_mode(commit))
        # Stored instances never wait in-process for a timer: a timer is a job a worker runs when it is due.
        self.environment = environment.changed(timer_wait=0)
        self.store = store
        self.worker_id = worker_id
        self.engine = Engine(environment=self.environment, jobs=True, verify_bindings=check_bindings,
                             inline=self.wait_states)
        self.deployments = Deployments(store, now=self.now)
        self.steps = Steps(store=store, environment=self.environment, engine=self.engine,
                           deployments=self.deployments, message_ttl=message_ttl, after_commit=self._route_thrown,
                           fail_job=lambda *args, **kwargs: self.fail_job(*args, **kwargs))
        self.correlation = Correlation(store=store, environment=self.environment, engine=self.engine,
                                       deployments=self.deployments, steps=self.steps, message_ttl=message_ttl,
                                       worker_id=worker_id, fail_job=self.fail_job)
        self.jobs = Jobs(store=store, environment=self.environment, engine=self.engine, steps=self.steps,
                         route_message=self.correlation.route_message, worker_id=worker_id)
        self.queries = Queries(store=store, environment=self.environment, deployments=self.deployments)
        self.timer_starts = TimerStarts(store=store, environment=self.environment, engine=self.engine,
                                        deployments=self.deployments, steps=self.steps)
        self.external = ExternalTasks(self)  # Camunda 7 external tasks: fetch-and-lock by topic, their answers

    # ----- lifetime -----------------------------------------------------------------------------------------

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    @property
    def handlers(self) -> HandlerRegistry:
        return self.environment.handlers

    @property
    def wait_states(self) -> bool:
        """Commits at wait states and commit points (the default), not after every service task."""
        return self.environment.commit == "wait-states"

    @property
    def clock(self) -> Clock:
        return self.environment.clock

    def now(self) -> float:
        return self.environment.now()

    # ----- definitions and new instances --------------------------------------------------------------------

    def deploy(self, paths: list[str | Path]) -> tuple[str, Definitions]:
        """Load diagram files (with the called processes beside them) and store them once per content hash; the
        processes' timer start events are scheduled (see `timer_start_jobs`)."""
        digest, definitions = self.deployments.deploy(paths)
        self.timer_starts.schedule(digest, definitions)
        return digest, definitions

    def timer_start_jobs(self, process_id: str | None = None) -> list[dict[str, Any]]:
        """The timer start events scheduled in the store: process, element, timer text, next due time (UTC)."""
        return self.timer_starts.scheduled(process_id)

    def deploy_definitions(self, definitions: Definitions) -> str:
        return self.deployments.deploy_definitions(definitions)

    def start(self, paths: list[str | Path] | None = None, process_id: str | None = None,
              data: dict[str, Any] | None = None, *, business_key: str | None = None,
              definitions: Definitions | None = None) -> dict[str, Any]:
        """Store the definition, create an instance, run it to its first wait and commit. A start that fails
        before its first wait is stored as `failed` with the error."""
        if definitions is None:
            digest, definitions = self.deploy(list(paths or []))
        else:
            digest = self.deploy_definitions(definitions)
            self.timer_starts.schedule(digest, definitions)
        process_id = definitions.choose_process(process_id)
        starts = self.deployments.catalog_for(digest).get("starts", {}).get(process_id, {})
        if starts.get("timers") and not starts.get("none"):
            # Started by its timer: each repetition is a new instance a worker starts (Camunda's timer start job)
            return {"instance_id": None, "process_id": process_id, "status": "scheduled", "waiting": [],
                    "business_key": business_key,
                    "timer_starts": self.timer_starts.scheduled(process_id)}
        instance = self.engine.start(definitions, process_id, dict(data or {}),
                                     instance_id=self.environment.id_factory(), business_key=business_key)
        return self.steps.commit_new(instance, digest, business_key)

    def record_run(self, definitions: Definitions, instance: Instance, result: RunResult) -> dict[str, Any]:
        """Record an in-process `run` (completed, waiting or failed) with its history; a waiting one can then be
        completed, messaged or worked on like any stored instance."""
        digest = self.deploy_definitions(definitions)
        return self.steps.commit_new(instance, digest, instance.business_key, result=result)

    def restore(self, record: InstanceRecord) -> Instance:
        return self.steps.restore(record)

    def step(self, instance_id: str, action: Callable[[Instance], Any], *, done_job: DoneJob | None = None,
             consumed: list[str] | None = None, lease_next: LeaseNext | None = None) -> dict[str, Any]:
        return self.steps.step(instance_id, action, done_job=done_job, consumed=consumed, lease_next=lease_next)

    # ----- people, messages, signals, retries, cancellation -------------------------------------------------

    def complete_task(self, task_id: str, data: dict[str, Any] | None = None, *,
                      user: str | None = None) -> dict[str, Any]:
        """Complete an open user task as `user` (else the environment's user), recorded on its history."""
        wait = self._user_wait(task_id)
        return self.steps.step(wait.instance_id,
                               lambda instance: instance.complete_user_task(wait.task_id, data or {}, user=user))

    def claim_task(self, task_id: str, user: str | None) -> dict[str, Any]:
        """Set (or with None clear) the assignee of an open user task, as Tasklist's claim and unclaim."""
        wait = self._user_wait(task_id)
        return self.steps.step(wait.instance_id, lambda instance: instance.claim(wait.task_id, user)
                               if user is not None else instance.unclaim(wait.task_id))

    def _user_wait(self, task_id: str) -> WaitRecord:
        waits = self.store.find_waits(("user", "manual"), task_id=task_id)
        exact = [w for w in waits if w.task_id == task_id]
        waits = exact or waits
        if not waits:
            raise NotFoundError(f"no open user task {task_id!r} (see `bpmn-runner tasks`)")
        if len({w.task_id for w in waits}) > 1:
            raise InvalidOperationError(f"task id prefix {task_id!r} is ambiguous; give more of it")
        return waits[0]

    def publish_message(self, name: str, *, correlations: dict[str, Any] | None = None,
                        payload: dict[str, Any] | None = None, business_key: str | None = None,
                        message_id: str | None = None, ttl: float | None = None) -> dict[str, Any]:
        return self.correlation.publish_message(name, correlations=correlations, payload=payload,
                                                business_key=business_key, message_id=message_id, ttl=ttl)

    def receive_event(self, event_id: str, name: str, *, correlation_key: str | None,
                      payload: dict[str, Any] | None = None, business_key: str | None = None) -> dict[str, Any]:
        """A broker event as a message, once per `event_id` (the bridge's inbox); see Correlation.receive_event."""
        return self.correlation.receive_event(event_id, name, correlation_key=correlation_key, payload=payload,
                                              business_key=business_key)

    def route_message(self, message: MessageRecord, *, job: DoneJob | None = None,
                      job_record: JobRecord | None = None) -> dict[str, Any]:
        return self.correlation.route_message(message, job=job, job_record=job_record)

    def send_signal(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.correlation.send_signal(name, payload)

    def retry(self, ident: str) -> dict[str, Any]:
        """Give an incident's jobs fresh attempts, due now; a message whose delivery failed is delivered again here
        (any worker could, but the person retrying wants to know at once whether it went through)."""
        instance_id = self.store.resolve_instance_id(ident)
        count = self.store.retry_instance(instance_id, self.now())
        out: dict[str, Any] = {"instance_id": instance_id, "status": "running", "jobs": count}
        for job in [j for j in self.store.jobs_of(instance_id) if j.kind == "message" and j.status == "ready"]:
            try:
                routed = self.process_job_now(job.id)
            except BpmnRunnerError as exc:
                routed = {"outcome": "incident", "error": str(exc)}
            if routed is not None:
                out.setdefault("messages", []).append({"message": job.element_id, **routed})
                if routed.get("outcome") == "incident":
                    out.update(status="incident", error=routed.get("error"))
                elif routed.get("instance_id") == instance_id and routed.get("status"):
                    out["status"] = routed["status"]
        return out

    def cleanup(self, finished_before: str, *, keep_history: bool = False) -> dict[str, int]:
        """Remove instances that ended before a date (`2026-01-31` or an ISO time, UTC), in batches."""
        return self.store.cleanup(parse_before(finished_before), keep_history=keep_history)

    def cancel(self, ident: str) -> dict[str, Any]:
        instance_id = self.store.resolve_instance_id(ident)
        record = self.store.get_instance(instance_id)
        now = self.now()
        rows = [{"instance_id": instance_id, "process_id": record.process_id, "element_id": w.get("element_id", ""),
                 "event": "cancelled", "at": now, "element_type": "", "name": w.get("name", ""),
                 "data_changes": {}, "detail": "cancelled"} for w in record.waiting]
        self.store.cancel_instance(instance_id, now, rows)
        return {"instance_id": instance_id, "status": "cancelled"}

    # ----- jobs, as a worker runs them ----------------------------------------------------------------------

    def work_until_idle(self, *, concurrency: int = 1, lease: float = 30.0) -> WorkerStats:
        """Run every job this Runtime's handlers can run until none is due; returns the worker's stats."""
        return Worker(self, worker_id=self.worker_id, concurrency=concurrency, lease=lease).run(until_idle=True)

    def run_to_wait(self, instance_ids: list[str], *, lease: float = 30.0) -> WorkerStats:
        """Carry these instances on in-process, as a worker would: run their due service jobs whose handlers this
        Runtime has, and their async continuations, until they wait, end, or need a handler it lacks (that job
        stays for a worker). Each-task commits: one committed step each. Wait-state commits: a commit point
        (asyncBefore/asyncAfter, an external task) is committed, then carried on here like any job, so a command
        given the handlers never leaves an instance `running` at its next service task."""
        worker = Worker(self, worker_id=self.worker_id, lease=lease)
        if not self.handlers.names():
            return worker.stats
        while True:  # a worker follows at most FOLLOW_LIMIT jobs in a row: go on until none is left here
            now = self.now()
            job_ids = []
            for instance_id in dict.fromkeys(instance_ids):
                _record, jobs = self.store.load_for_step(instance_id)
                job_ids += [j.id for j in jobs
                            if (j.kind == "async" or (j.kind == "service" and j.handler in self.handlers))
                            and j.due_at <= now and (j.locked_until or 0) <= now]
            if not job_ids:
                return worker.stats
            before = worker.stats.jobs
            worker.run_jobs(job_ids)
            if worker.stats.jobs == before:
                return worker.stats  # nothing could be claimed (another worker holds them)

    def service_call(self, job: JobRecord) -> tuple[Binding, ServiceCall]:
        return self.jobs.service_call(job)

    def call_handler(self, job: JobRecord) -> Any:
        return self.jobs.call_handler(job)

    def complete_service_job(self, job: JobRecord, worker: str, result: Any = None, error: BpmnError | None = None,
                             *, lease_next: LeaseNext | None = None) -> dict[str, Any] | None:
        return self.jobs.complete_service_job(job, worker, result, error, lease_next=lease_next)

    def fire_timer_job(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        if is_start_timer(job):
            return self.timer_starts.fire(job, worker)
        return self.jobs.fire_timer_job(job, worker)

    def continue_job(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        return self.jobs.continue_job(job, worker)

    def run_message_job(self, job: JobRecord, worker: str) -> dict[str, Any]:
        return self.jobs.run_message_job(job, worker)

    def process_job_now(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.process_job_now(job_id)

    def fail_job(self, job: JobRecord, worker: str | None, error: str, *, final: bool = False,
                 traceback: str | None = None) -> str:
        return self.jobs.fail_job(job, worker, error, final=final, traceback=traceback)

    def _route_thrown(self, step: StepRecord) -> None:
        """Route the messages a step threw right away (a worker would otherwise pick their jobs up)."""
        for job_id in [j.id for j in step.new_jobs if j.kind == "message"]:
            try:
                self.process_job_now(job_id)
            except BpmnRunnerError:
                continue  # the job stays; a worker retries it

    # ----- reading ------------------------------------------------------------------------------------------

    def list_instances(self, *, status: str | None = None, process_id: str | None = None,
                       business_key: str | None = None, limit: int | None = None,
                       after: str | None = None) -> list[dict[str, Any]]:
        """Instances, oldest first, `limit` at a time after instance `after`; `running` includes those waiting at
        a timer that is due now."""
        return self.queries.list_instances(status=status, process_id=process_id, business_key=business_key,
                                           limit=limit, after=after)

    def list_tasks(self, instance: str | None = None, *, assignee: str | None = None,
                   group: str | None = None, limit: int | None = None,
                   after: str | None = None) -> list[dict[str, Any]]:
        """Open user tasks oldest first, filtered by assignee or candidate group as Tasklist's filters; at most
        `limit`, after the place `after` in the list (`store.page_reads.task_mark`)."""
        return self.queries.list_tasks(instance, assignee=assignee, group=group, limit=limit, after=after)

    def instance_by_business_key(self, business_key: str) -> str:
        return self.queries.instance_by_business_key(business_key)

    def show(self, ident: str) -> dict[str, Any]:
        return self.queries.show(ident)

    def instance_view(self, ident: str) -> tuple[list[Source], dict[str, Any]]:
        return self.queries.instance_view(ident)

    def heatmap_stats(self, process_id: str) -> tuple[list[Source], dict[str, Any]]:
        return self.queries.heatmap_stats(process_id)


def open_runtime(url: str | None, environment: Environment, *, worker_id: str = "cli",
                 message_ttl: float = DEFAULT_TTL, check_bindings: bool = False) -> Runtime:
    """Open the store at `url` (None: $BPMN_RUNNER_DB, else a local SQLite file) as a Runtime; use it with `with`."""
    return Runtime(open_store(url), environment=environment, worker_id=worker_id, message_ttl=message_ttl,
                   check_bindings=check_bindings)

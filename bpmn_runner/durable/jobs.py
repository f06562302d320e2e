"""The job interface workers use: what a service job calls, and applying a handler's result, a due timer or a
message job to its instance; failed attempts back off, and the last one becomes an incident."""

from __future__ import annotations

from typing import Any, Callable

from ..engine import Engine
from ..instance import Instance
from ..environment import Environment
from ..errors import BpmnError, ExecutionError, InvalidOperationError, NotFoundError
from ..models import Binding, ServiceCall
from ..store import JobRecord, LeaseLostError, MessageRecord, Store
from .keys import StepFailed
from .policy import backoff_after
from .steps import DoneJob, LeaseNext, Steps

RouteMessage = Callable[..., dict[str, Any]]


class Jobs:
    """Runs one claimed job against its instance. Every method returns None when the result was dropped (the
    job is no longer this worker's, or its task moved on)."""

    def __init__(self, *, store: Store, environment: Environment, engine: Engine, steps: Steps,
                 route_message: RouteMessage, worker_id: str) -> None:
        self.store = store
        self.environment = environment
        self.engine = engine
        self.steps = steps
        self.route_message = route_message
        self.worker_id = worker_id

    def now(self) -> float:
        return self.environment.now()

    # ----- service jobs -------------------------------------------------------------------------------------

    @staticmethod
    def service_call(job: JobRecord) -> tuple[Binding, ServiceCall]:
        """The binding and the call a service job's handler is given (the attempt counts this claim)."""
        raw_call = dict(job.payload.get("call") or {})
        raw_binding = dict(job.payload.get("binding") or {})
        raw_call["attempt"] = job.attempts
        call = ServiceCall(**{k: v for k, v in raw_call.items() if k in ServiceCall.__dataclass_fields__})
        binding = Binding(**{k: v for k, v in raw_binding.items() if k in Binding.__dataclass_fields__})
        return binding, call

    def call_handler(self, job: JobRecord) -> Any:
        """Call the job's handler (HandlerError for its own failure, BpmnError as raised)."""
        binding, call = self.service_call(job)
        return self.engine.call_handler(binding, call, job.task_id)

    def complete_service_job(self, job: JobRecord, worker: str, result: Any = None, error: BpmnError | None = None,
                             *, lease_next: LeaseNext | None = None) -> dict[str, Any] | None:
        """A handler returned (or raised a BpmnError): apply it to the instance and commit, if the job is still
        this worker's and its task still waits; with `lease_next`, the new jobs it can run come back leased."""
        def act(instance: Instance) -> None:
            if error is not None:
                instance.raise_in_service_task(job.task_id, error)
            else:
                instance.complete_service_task(job.task_id, result)
        return self._finish(job, worker, act, lease_next=lease_next)

    # ----- timer and message jobs ---------------------------------------------------------------------------

    def continue_job(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        """A continuation job: go on past the commit point (asyncBefore/asyncAfter) its task is held at."""
        return self._finish(job, worker, lambda instance: instance.continue_async(job.task_id))

    def fire_timer_job(self, job: JobRecord, worker: str) -> dict[str, Any] | None:
        return self._finish(job, worker, lambda instance: instance.fire_due_timers())

    def run_message_job(self, job: JobRecord, worker: str) -> dict[str, Any]:
        message: MessageRecord | None = self.store.get_message(job.task_id)
        if message is None or message.status not in ("pending", "buffered"):
            self.store.drop_job(job.id, worker)
            return {"outcome": "gone"}
        return self.route_message(message, job=(job.id, worker), job_record=job)

    def process_job_now(self, job_id: str) -> dict[str, Any] | None:
        """Claim one message job and route its message now, if no one else holds it."""
        claimed, _ = self.store.claim_jobs(self.worker_id, [], now=self.now(), lease=30.0, ids=[job_id])
        if not claimed:
            return None
        job = claimed[0]
        try:
            return self.run_message_job(job, self.worker_id)
        except (StepFailed, ExecutionError) as exc:
            self.fail_job(job, self.worker_id, str(exc))
            raise

    def _finish(self, job: JobRecord, worker: str, action: Callable[[Instance], Any], *,
                lease_next: LeaseNext | None = None) -> dict[str, Any] | None:
        done: DoneJob = (job.id, worker)
        try:
            return self.steps.step(job.instance_id or "", action, done_job=done, lease_next=lease_next)
        except LeaseLostError:
            return None  # another worker has the job now: its result counts, not this one
        except (InvalidOperationError, NotFoundError):
            self.store.drop_job(job.id, worker)  # the task no longer waits (cancelled, or done by another worker)
            return None

    # ----- failures -----------------------------------------------------------------------------------------

    def fail_job(self, job: JobRecord, worker: str | None, error: str, *, final: bool = False,
                 traceback: str | None = None) -> str:
        """A failed attempt: back off and retry, or after the last attempt (or when `final`) an incident; the
        handler's `traceback` stays with the job."""
        now = self.now()
        if not final and job.attempts < job.max_attempts:
            self.store.fail_job(job, worker, error, now=now, retry_at=now + backoff_after(job, job.attempts),
                                traceback=traceback)
            return "retry"
        row = None
        if job.instance_id:
            row = {"instance_id": job.instance_id, "process_id": "", "element_id": job.element_id,
                   "event": "failed", "at": now, "element_type": job.kind, "name": "", "data_changes": {},
                   "detail": error}
            try:
                row["process_id"] = self.store.get_instance(job.instance_id).process_id
            except NotFoundError:
                row = None
        self.store.fail_job(job, worker, error, now=now, retry_at=None, history_row=row, traceback=traceback)
        return "incident"

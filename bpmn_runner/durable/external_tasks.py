"""External tasks as Camunda 7 workers see them: service jobs fetched and locked by topic with the worker's
leases, completed, failed with the retries left (an incident at 0), a BPMN error, lock extension and unlock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import BpmnError, BpmnRunnerError, ExternalTaskError, NotFoundError
from ..store import JobRecord, LeaseLostError

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime

RELOCK_SECONDS = 30.0  # the lease an answer on an expired (but not taken over) lock holds while it commits


@dataclass
class TopicRequest:
    """One topic of a fetch: its name, how long the fetched jobs stay locked, and which variables to return
    (None: all)."""

    name: str
    lock_seconds: float
    variables: list[str] | None = None
    business_key: str | None = None
    process_ids: list[str] | None = None              # processDefinitionKey / processDefinitionKeyIn
    process_variables: dict[str, Any] | None = None   # the instance's variables must equal these

    @property
    def filtered(self) -> bool:
        return bool(self.business_key is not None or self.process_ids or self.process_variables)


@dataclass
class LockedTask:
    """A fetched and locked external task, engine-neutral (the REST layer formats it)."""

    job: JobRecord
    topic: str
    worker_id: str
    process_id: str
    definition: str
    business_key: str | None
    element_name: str
    variables: dict[str, Any] = field(default_factory=dict)
    retries: int | None = None


class ExternalTasks:
    """Fetch-and-lock and the answers of external workers, over one Runtime's store."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.store = runtime.store

    def fetch_and_lock(self, worker_id: str, topics: list[TopicRequest], max_tasks: int,
                       exclude: set[str] | frozenset[str] = frozenset()) -> list[LockedTask]:
        """Lock up to `max_tasks` due service jobs of these topics for `worker_id` (topics in `exclude` are served
        by in-process handlers and never handed out). A job whose last attempt's lease expired becomes an
        incident on the way, as with `worker`."""
        out: list[LockedTask] = []
        by_lock: dict[float, list[TopicRequest]] = {}
        for topic in topics:
            if topic.name not in exclude and not topic.filtered:
                by_lock.setdefault(topic.lock_seconds, []).append(topic)
        for lock, group in by_lock.items():
            names = {t.name: t for t in group}
            while len(out) < max_tasks:
                claimed, exhausted = self.store.claim_jobs(worker_id, list(names), now=self.runtime.now(),
                                                           lease=lock, limit=max_tasks - len(out))
                self._take(claimed, exhausted, worker_id, names, out)
                if not exhausted:
                    break
        for topic in topics:
            if topic.name in exclude or not topic.filtered or len(out) >= max_tasks:
                continue
            ids = self._matching_ids(topic)
            if ids:
                claimed, exhausted = self.store.claim_jobs(worker_id, [topic.name], now=self.runtime.now(),
                                                           lease=topic.lock_seconds, limit=max_tasks - len(out),
                                                           ids=ids)
                self._take(claimed, exhausted, worker_id, {topic.name: topic}, out)
        return out

    def _take(self, claimed: list[JobRecord], exhausted: list[JobRecord], worker_id: str,
              names: dict[str, TopicRequest], out: list[LockedTask]) -> None:
        for job in exhausted:
            self.runtime.fail_job(job, None, f"{job.element_id}: gave up after {job.attempts} attempt(s) whose "
                                  f"locks expired: {job.last_error or 'no answer'}", final=True)
        for job in claimed:
            task = self._locked(job, worker_id, names[job.handler or ""])
            if task is not None:
                out.append(task)

    def _matching_ids(self, topic: TopicRequest, scan: int = 100) -> list[str]:
        """Due jobs of a filtered topic: by business key and process in the query, by variables here."""
        rows = self.store.due_job_ids(topic.name, self.runtime.now(), business_key=topic.business_key,
                                      process_ids=topic.process_ids, limit=scan)
        if not topic.process_variables:
            return [job_id for job_id, _ in rows]
        wanted = topic.process_variables
        ids = []
        for job_id, instance_id in rows:
            data = self.store.get_instance(instance_id).data
            if all(name in data and data[name] == value for name, value in wanted.items()):
                ids.append(job_id)
        return ids

    def _locked(self, job: JobRecord, worker_id: str, topic: TopicRequest) -> LockedTask | None:
        try:
            record = self.store.get_instance(job.instance_id or "")
        except NotFoundError:
            return None
        _binding, call = self.runtime.service_call(job)
        variables = {**record.data, **call.params}
        if topic.variables is not None:
            variables = {k: v for k, v in variables.items() if k in topic.variables}
        # Camunda reports retries as null until a failure set them; a claim counts an attempt here
        retries = job.max_attempts - job.attempts + 1 if job.last_error else None
        if job.last_error and job.last_traceback is None:  # a claim reads the hot columns only
            job.last_traceback = self.store.get_job(job.id).last_traceback
        return LockedTask(job=job, topic=job.handler or "", worker_id=worker_id, process_id=record.process_id,
                          definition=record.definition_hash, business_key=record.business_key,
                          element_name=call.element_name, variables=variables, retries=retries)

    # ----- answers ------------------------------------------------------------------------------------------

    def locked_job(self, job_id: str, worker_id: str, action: str, *, expired_ok: bool = True) -> JobRecord:
        """The job, if `worker_id` holds its lock; else a NotFoundError or an ExternalTaskError saying why."""
        job = self.store.get_job(job_id)
        if job.kind != "service":
            raise NotFoundError(f"External task with id {job_id} does not exist")
        if job.locked_by != worker_id:
            holder = f"it is locked by worker {job.locked_by!r}" if job.locked_by else "it is not locked"
            raise ExternalTaskError(f"External Task {job_id} cannot be {action} by worker {worker_id!r}: {holder}")
        now = self.runtime.now()
        if (job.locked_until or 0) <= now and not expired_ok:
            raise ExternalTaskError(f"External Task {job_id}: cannot extend a lock that expired (fetch it again)")
        if (job.locked_until or 0) <= now:
            # as in Camunda 7, an expired lock that no other worker took still lets its worker answer: take the
            # lease again for the commit (which checks it)
            if job.id not in self.store.extend_leases(worker_id, [job.id], now + RELOCK_SECONDS):
                raise ExternalTaskError(f"External Task {job_id} cannot be {action} by worker {worker_id!r}: its "
                                        f"lock was taken over")
            job.locked_until = now + RELOCK_SECONDS
        return job

    def complete(self, job_id: str, worker_id: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        job = self.locked_job(job_id, worker_id, "completed")
        return self._commit(job, worker_id, "completed", result=dict(variables or {}))

    def bpmn_error(self, job_id: str, worker_id: str, code: str, message: str = "",
                   variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Throw a BPMN error at the task (its variables are set first, as Camunda does); an error that no
        boundary event or event subprocess catches becomes an incident."""
        job = self.locked_job(job_id, worker_id, "failed with a BPMN error")
        return self._commit(job, worker_id, "failed with a BPMN error",
                            error=BpmnError(code, message, dict(variables or {})))

    def _commit(self, job: JobRecord, worker_id: str, action: str, *, result: Any = None,
                error: BpmnError | None = None) -> dict[str, Any]:
        try:
            outcome = self.runtime.complete_service_job(job, worker_id, result, error)
        except LeaseLostError as exc:
            raise ExternalTaskError(f"External Task {job.id} cannot be {action}: {exc}") from None
        except BpmnRunnerError as exc:  # an uncaught BPMN error, a failing output mapping: an incident
            self.runtime.fail_job(job, worker_id, str(exc), final=True)
            return {"outcome": "incident", "error": str(exc)}
        if outcome is None:
            raise ExternalTaskError(f"External Task {job.id} cannot be {action}: its task no longer waits")
        return outcome

    def failure(self, job_id: str, worker_id: str, message: str, *, details: str | None = None,
                retries: int = 0, retry_timeout: float = 0.0) -> str:
        """A failed attempt: with `retries` > 0 the task can be fetched again after `retry_timeout` seconds; at 0
        it becomes an incident of its instance. Returns "retry" or "incident"."""
        job = self.locked_job(job_id, worker_id, "failed")
        text = message or "the external worker reported a failure"
        if retries > 0:
            if not self.store.set_job_retries(job, worker_id, retries=retries,
                                              due_at=self.runtime.now() + max(retry_timeout, 0.0), error=text,
                                              traceback=details):
                raise ExternalTaskError(f"External Task {job_id} cannot be failed: its lock was lost")
            return "retry"
        self.runtime.fail_job(job, worker_id, text, final=True, traceback=details)
        return "incident"

    def extend_lock(self, job_id: str, worker_id: str, seconds: float) -> None:
        job = self.locked_job(job_id, worker_id, "locked longer", expired_ok=False)
        if job.id not in self.store.extend_leases(worker_id, [job.id], self.runtime.now() + seconds):
            raise ExternalTaskError(f"External Task {job_id}: the lock of worker {worker_id!r} was lost")

    def unlock(self, job_id: str) -> None:
        job = self.store.get_job(job_id)
        if job.kind != "service":
            raise NotFoundError(f"External task with id {job_id} does not exist")
        self.store.unlock_job(job_id)

    def lock(self, job_id: str, worker_id: str, seconds: float) -> None:
        """Lock one task that no worker holds for `worker_id` (Camunda's `lock`)."""
        job = self.store.get_job(job_id)
        if job.kind != "service":
            raise NotFoundError(f"External task with id {job_id} does not exist")
        claimed, _ = self.store.claim_jobs(worker_id, [job.handler or ""], now=self.runtime.now(), lease=seconds,
                                           ids=[job_id])
        if not claimed:
            raise ExternalTaskError(f"External Task {job_id} is already locked by worker {job.locked_by!r}"
                                    if job.locked_by else f"External Task {job_id} cannot be locked now (it is "
                                    f"in an incident, or not due yet)")

    def set_retries(self, job_id: str, retries: int) -> None:
        """An operator sets the retries of a task: above 0 it can be fetched again (an incident is resolved);
        0 makes it an incident."""
        job = self.store.get_job(job_id)
        if job.kind != "service":
            raise NotFoundError(f"External task with id {job_id} does not exist")
        if retries > 0:
            self.store.reset_job_retries(job_id, retries, self.runtime.now())
        elif job.status != "incident":
            if job.locked_by and (job.locked_until or 0) > self.runtime.now():
                raise ExternalTaskError(f"External Task {job_id} is locked by worker {job.locked_by!r}; set its "
                                        f"retries once the worker answered")
            self.runtime.fail_job(job, None, job.last_error or "retries set to 0", final=True)

"""The store's part for external tasks and the REST API: one job by id, a failure that sets the retries left,
unlocking, incidents, due topics for long polls, and the versions of stored processes. Mixed into `Store`."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select, update

from ..errors import NotFoundError
from .records import JobRecord
from .rows import job_record
from .schema import ENDED_STATUSES, instances, jobs, processes


class ExternalOperations:
    """Jobs as Camunda 7 external tasks (see `Store`)."""

    def get_job(self, job_id: str) -> JobRecord:
        with self.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job {job_id!r} in {self.label}")
        return job_record(row)

    def set_job_retries(self, job: JobRecord, worker: str, *, retries: int, due_at: float, error: str | None,
                        traceback: str | None) -> bool:
        """A failed external attempt with `retries` (> 0) left: release the lease and make the job due at
        `due_at`; the attempts counted so far plus `retries` become its last allowed attempt."""
        with self.write() as conn:
            done = conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.status == "ready",
                                                   jobs.c.locked_by == worker)
                                .values(locked_by=None, locked_until=None, due_at=due_at, last_error=error,
                                        last_traceback=traceback, max_attempts=jobs.c.attempts + retries))
            return done.rowcount == 1

    def reset_job_retries(self, job_id: str, retries: int, now: float) -> bool:
        """An operator gives a job `retries` (> 0) more attempts: a job in an incident is due again now, and its
        instance leaves the incident when no other job of it is in one."""
        with self.write() as conn:
            row = conn.execute(select(jobs.c.instance_id, jobs.c.status).where(jobs.c.id == job_id)).first()
            if row is None:
                raise NotFoundError(f"no job {job_id!r} in {self.label}")
            if row.instance_id:  # the instance row first, as every transaction that changes an instance
                conn.execute(update(instances).where(instances.c.id == row.instance_id).values(updated_at=now))
            if row.status == "incident":
                conn.execute(update(jobs).where(jobs.c.id == job_id).values(
                    status="ready", attempts=0, max_attempts=retries, due_at=now, locked_by=None, locked_until=None))
            else:
                conn.execute(update(jobs).where(jobs.c.id == job_id).values(max_attempts=jobs.c.attempts + retries))
            if row.instance_id and row.status == "incident":
                left = conn.execute(select(func.count()).select_from(jobs).where(
                    jobs.c.instance_id == row.instance_id, jobs.c.status == "incident")).scalar()
                if not left:
                    conn.execute(update(instances).where(instances.c.id == row.instance_id,
                                                         instances.c.status == "incident")
                                 .values(status="running", error=None, version=instances.c.version + 1))
            return row.status == "incident"

    def unlock_job(self, job_id: str) -> bool:
        """Release a job's lease at once (Camunda's unlock): it can be fetched again; the claim is not counted."""
        with self.write() as conn:
            done = conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "ready",
                                                   jobs.c.locked_by.is_not(None))
                                .values(locked_by=None, locked_until=None,
                                        attempts=func.max(jobs.c.attempts - 1, 0)
                                        if self.dialect == "sqlite" else func.greatest(jobs.c.attempts - 1, 0)))
            return done.rowcount == 1

    def incident_jobs(self, *, instance_id: str | None = None, limit: int | None = None) -> list[JobRecord]:
        query = select(jobs).where(jobs.c.status == "incident").order_by(jobs.c.created_at, jobs.c.id)
        if instance_id is not None:
            query = query.where(jobs.c.instance_id == instance_id)
        if limit:
            query = query.limit(limit)
        with self.read() as conn:
            return [job_record(r) for r in conn.execute(query).all()]

    def due_topics(self, topics: Sequence[str], now: float) -> dict[str, int]:
        """How many service jobs of each topic (handler) could be fetched now: what a long poll waits for."""
        if not topics:
            return {}
        query = (select(jobs.c.handler, func.count()).where(
            jobs.c.kind == "service", jobs.c.status == "ready", jobs.c.due_at <= now,
            jobs.c.handler.in_(list(topics)), or_(jobs.c.locked_until.is_(None), jobs.c.locked_until <= now))
            .group_by(jobs.c.handler))
        with self.read() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(query).all()}

    def due_job_ids(self, topic: str, now: float, *, business_key: str | None = None,
                    process_ids: Sequence[str] | None = None, limit: int = 100) -> list[tuple[str, str]]:
        """(job id, instance id) of due, unlocked jobs of a topic whose instance has this business key and is of
        one of these processes: the candidates of a filtered fetch-and-lock."""
        query = (select(jobs.c.id, jobs.c.instance_id).join(instances, instances.c.id == jobs.c.instance_id)
                 .where(jobs.c.kind == "service", jobs.c.status == "ready", jobs.c.handler == topic,
                        jobs.c.due_at <= now, or_(jobs.c.locked_until.is_(None), jobs.c.locked_until <= now),
                        instances.c.status.notin_(ENDED_STATUSES))
                 .order_by(jobs.c.due_at).limit(limit))
        if business_key is not None:
            query = query.where(instances.c.business_key == business_key)
        if process_ids:
            query = query.where(instances.c.process_id.in_(list(process_ids)))
        with self.read() as conn:
            return [(r[0], r[1]) for r in conn.execute(query).all()]

    def process_versions(self, process_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored version of every process (or of one), with its number of open and all instances."""
        query = select(processes).order_by(processes.c.process_id, processes.c.version)
        if process_id is not None:
            query = query.where(processes.c.process_id == process_id)
        with self.read() as conn:
            rows = conn.execute(query).all()
            counts = conn.execute(select(instances.c.process_id, instances.c.definition_hash, func.count())
                                  .group_by(instances.c.process_id, instances.c.definition_hash)).all()
        by_key = {(c[0], c[1]): int(c[2]) for c in counts}
        return [{"process_id": r.process_id, "version": int(r.version), "definition": r.definition_hash,
                 "created_at": r.created_at, "instances": by_key.get((r.process_id, r.definition_hash), 0)}
                for r in rows]

    def external_jobs(self, *, topics: Sequence[str] | None = None, instance_id: str | None = None,
                      limit: int = 100) -> list[JobRecord]:
        """Open service jobs (ready or incident), oldest first: Camunda's external task list."""
        query = select(jobs).where(jobs.c.kind == "service").order_by(jobs.c.created_at, jobs.c.id).limit(limit)
        if topics:
            query = query.where(jobs.c.handler.in_(list(topics)))
        if instance_id is not None:
            query = query.where(and_(jobs.c.instance_id == instance_id))
        with self.read() as conn:
            return [job_record(r) for r in conn.execute(query).all()]

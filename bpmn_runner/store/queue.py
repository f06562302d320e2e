"""The store's queue half: claiming, leasing, failing and retrying jobs, and the waits and messages that
correlation reads. Mixed into `Store`, whose transactions (`read`, `write`) it uses."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidOperationError, NotFoundError
from .columns import LEASE_EXPIRED
from .pg_step import claim_at_once
from .records import JobRecord, MessageRecord, WaitRecord
from .rows import (history_values, job_from_tuple, job_record, job_values, message_record, message_values,
                   starts_with, wait_with_instance)
from .schema import ENDED_STATUSES, history, instances, jobs, messages, waits


class QueueOperations:
    """Jobs, waits and messages (see `Store`)."""

    # ----- jobs ---------------------------------------------------------------------------------------------

    def _lease_only(self, conn: Connection) -> None:
        """A transaction that only takes or renews leases need not wait for the disk on PostgreSQL: a lease lost
        in a server crash means the job runs again, which at-least-once allows; steps always commit durably."""
        if self.dialect == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit TO OFF"))

    def claim_jobs(self, worker: str, handlers: Sequence[str], *, now: float, lease: float, limit: int = 1,
                   ids: Sequence[str] | None = None) -> tuple[list[JobRecord], list[JobRecord]]:
        """Lease up to `limit` due jobs; returns (claimed, exhausted). Claiming counts an attempt, so a lease that
        expires counts as one; a job whose last attempt's lease expired is returned as exhausted instead."""
        if ids is not None and not ids:
            return [], []
        if self.dialect == "postgresql":
            select = self._hot.claim_query(len(handlers), len(ids) if ids is not None else None, limit)
            rows = self._on_autocommit(
                lambda raw: claim_at_once(raw, select, [now, now, *handlers, *(ids or [])], worker, now + lease))
            return self._lease_rows(None, rows, worker, now, lease)
        with self._driver_write() as raw:  # SQLite: BEGIN IMMEDIATE and COMMIT on the driver, two statements between
            rows = self._hot.select_due(raw, list(handlers), ids, now, limit)
            return self._lease_rows(raw, rows, worker, now, lease)

    def _lease_rows(self, raw: Any, rows: list[tuple[Any, ...]], worker: str, now: float,
                    lease: float) -> tuple[list[JobRecord], list[JobRecord]]:
        claimed: list[JobRecord] = []
        exhausted: list[JobRecord] = []
        for row in rows:
            job = job_from_tuple(row)
            if job.attempts >= job.max_attempts:
                exhausted.append(job)
                continue
            note = job.last_error if job.locked_by is None else LEASE_EXPIRED.format(job.locked_by)
            job.locked_by, job.locked_until, job.attempts, job.last_error = worker, now + lease, \
                job.attempts + 1, note
            claimed.append(job)
        if raw is not None:  # PostgreSQL's claim took them already (`pg_step.claim_at_once`)
            self._hot.take(raw, claimed)
        return claimed, exhausted

    def extend_leases(self, worker: str, job_ids: Sequence[str], until: float) -> set[str]:
        """Renew the leases this worker still holds; returns the ids it still holds."""
        if not job_ids:
            return set()
        with self.write() as conn:
            self._lease_only(conn)
            conn.execute(update(jobs).where(jobs.c.id.in_(list(job_ids)), jobs.c.locked_by == worker)
                         .values(locked_until=until))
            held = conn.execute(select(jobs.c.id).where(jobs.c.id.in_(list(job_ids)),
                                                        jobs.c.locked_by == worker)).scalars().all()
        return set(held)

    def fail_job(self, job: JobRecord, worker: str | None, error: str, *, now: float, retry_at: float | None,
                 history_row: dict[str, Any] | None = None, traceback: str | None = None) -> bool:
        """A failed attempt: back off until `retry_at`, or (None) become an incident of its instance. Only the
        worker holding the job may do this (`worker` None: whoever holds it, for exhausted jobs). A message job
        whose delivery failed becomes an incident of the instance it was delivered to (`job.instance_id`).
        `traceback` is the failing handler's, kept with the job for `show --json`."""
        with self.write() as conn:
            if job.instance_id:
                conn.execute(update(instances).where(instances.c.id == job.instance_id).values(updated_at=now))
            if job.instance_id and job.kind == "message":
                conn.execute(update(jobs).where(jobs.c.id == job.id).values(instance_id=job.instance_id))
            held = jobs.c.locked_by == worker if worker is not None else or_(
                jobs.c.locked_until.is_(None), jobs.c.locked_until <= now)
            where = and_(jobs.c.id == job.id, jobs.c.status == "ready", held)
            if retry_at is not None:
                done = conn.execute(update(jobs).where(where).values(locked_by=None, locked_until=None,
                                                                     due_at=retry_at, last_error=error,
                                                                     last_traceback=traceback))
                return done.rowcount == 1
            done = conn.execute(update(jobs).where(where).values(status="incident", locked_by=None,
                                                                 locked_until=None, last_error=error,
                                                                 last_traceback=traceback))
            if done.rowcount != 1:
                return False
            if job.instance_id:
                conn.execute(update(instances).where(instances.c.id == job.instance_id,
                                                     instances.c.status.notin_(ENDED_STATUSES))
                             .values(status="incident", error=error, updated_at=now))
                if history_row is not None:
                    conn.execute(insert(history), [history_values(history_row)])
            return True

    def start_timer_jobs(self, prefix: str) -> list[JobRecord]:
        """Timer jobs that start instances (no instance of their own) whose task id starts with `prefix`."""
        with self.read() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.kind == "timer", jobs.c.instance_id.is_(None),
                                                   starts_with(jobs.c.task_id, prefix))
                                .order_by(jobs.c.due_at)).all()
        return [job_record(r) for r in rows]

    def replace_start_timers(self, delete_ids: Sequence[str], new_jobs: Sequence[JobRecord]) -> None:
        """Drop the start timers of a process's previous version and schedule this version's, in one transaction."""
        with self.write() as conn:
            if delete_ids:
                conn.execute(delete(jobs).where(jobs.c.id.in_(list(delete_ids))))
            if new_jobs:
                conn.execute(insert(jobs), [job_values(j) for j in new_jobs])

    def drop_job(self, job_id: str, worker: str) -> bool:
        """Forget a job whose task no longer waits (e.g. a boundary event cancelled it), if this worker holds it."""
        with self.write() as conn:
            done = conn.execute(delete(jobs).where(jobs.c.id == job_id, jobs.c.locked_by == worker))
            return done.rowcount == 1

    def pending_work(self, handlers: Sequence[str], now: float) -> tuple[int, float | None]:
        """(jobs that keep a `--until-idle` worker running, when the next job this worker could take is due).

        Work that keeps it running: a due timer, any message or continuation job, any service job it can run
        (also one backing off between retries), and any job another worker holds. Timers due later do not.
        """
        mine = or_(jobs.c.kind != "service", jobs.c.handler.in_(list(handlers))) if handlers else \
            jobs.c.kind != "service"
        busy = and_(jobs.c.status == "ready", or_(
            jobs.c.locked_until > now,
            and_(jobs.c.kind == "timer", jobs.c.due_at <= now),
            jobs.c.kind.in_(("message", "async")),
            and_(jobs.c.kind == "service", mine)))
        with self.read() as conn:
            count = conn.execute(select(func.count()).select_from(jobs).where(busy)).scalar() or 0
            due = conn.execute(select(func.min(jobs.c.due_at), func.min(jobs.c.locked_until)).where(
                jobs.c.status == "ready", mine)).first()
            held = conn.execute(select(func.min(jobs.c.locked_until)).where(
                jobs.c.status == "ready", mine, jobs.c.locked_until > now)).scalar()
        next_due = due[0] if due is not None else None
        if held is not None:
            next_due = held if next_due is None else min(next_due, held)
        return int(count), next_due

    def due_jobs_without_handler(self, handlers: Sequence[str], now: float, limit: int = 20) -> list[JobRecord]:
        """Due service jobs whose handler is not among `handlers` (what a worker without them leaves behind)."""
        query = select(jobs).where(jobs.c.kind == "service", jobs.c.status == "ready", jobs.c.due_at <= now)
        if handlers:
            query = query.where(jobs.c.handler.not_in(list(handlers)))
        with self.read() as conn:
            rows = conn.execute(query.order_by(jobs.c.due_at).limit(limit)).all()
        return [job_record(r) for r in rows]

    def retry_instance(self, instance_id: str, now: float) -> int:
        """Make an incident's jobs due now with fresh attempts; returns how many."""
        with self.write() as conn:
            row = conn.execute(update(instances).where(instances.c.id == instance_id)
                               .values(updated_at=now).returning(instances.c.status)).first()
            if row is None:
                raise NotFoundError(f"no instance {instance_id!r} in {self.label}")
            if row.status != "incident":
                hint = (" (only an incident can be retried; a failed instance stopped before its first commit "
                        "point: start a new one)" if row.status == "failed" else "")
                raise InvalidOperationError(f"instance {instance_id} is {row.status}, not in an incident{hint}")
            done = conn.execute(update(jobs).where(jobs.c.instance_id == instance_id, jobs.c.status == "incident")
                                .values(status="ready", attempts=0, due_at=now, locked_by=None,
                                        locked_until=None))
            conn.execute(update(instances).where(instances.c.id == instance_id).values(
                status="running", error=None, version=instances.c.version + 1))
            return int(done.rowcount)

    def cancel_instance(self, instance_id: str, now: float, history_rows: list[dict[str, Any]]) -> None:
        with self.write() as conn:
            row = conn.execute(update(instances).where(instances.c.id == instance_id)
                               .values(updated_at=now).returning(instances.c.status)).first()
            if row is None:
                raise NotFoundError(f"no instance {instance_id!r} in {self.label}")
            if row.status in ENDED_STATUSES:
                raise InvalidOperationError(f"instance {instance_id} is already {row.status}")
            conn.execute(delete(jobs).where(jobs.c.instance_id == instance_id))
            conn.execute(delete(waits).where(waits.c.instance_id == instance_id))
            conn.execute(update(instances).where(instances.c.id == instance_id).values(
                status="cancelled", waiting="[]", ended_at=now, version=instances.c.version + 1))
            if history_rows:
                conn.execute(insert(history), [history_values(h) for h in history_rows])

    # ----- waits and messages -------------------------------------------------------------------------------

    def find_waits(self, kind: str | Sequence[str], event_name: str | None = None, *,
                   task_id: str | None = None, instance_id: str | None = None,
                   limit: int | None = None) -> list[WaitRecord]:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        query = (select(waits, instances.c.business_key, instances.c.process_id,
                        instances.c.waiting.label("instance_waiting"))
                 .join(instances, instances.c.id == waits.c.instance_id)
                 .where(instances.c.status.notin_(ENDED_STATUSES))
                 .order_by(waits.c.created_at, waits.c.instance_id))
        if event_name is not None:
            query = query.where(waits.c.event_name == event_name)
        if task_id is not None:
            query = query.where(or_(waits.c.task_id == task_id, starts_with(waits.c.task_id, task_id))
                                if len(task_id) >= 4 else waits.c.task_id == task_id)
        if instance_id is not None:
            query = query.where(waits.c.instance_id == instance_id)
        if limit:
            query = query.limit(limit)
        with self.read() as conn:
            # one index range per kind, merged here: `kind IN (..)` would not keep the (kind, created_at) order
            rows = [r for k in kinds for r in conn.execute(query.where(waits.c.kind == k)).all()]
        if len(kinds) > 1:
            rows.sort(key=lambda r: (r.created_at, r.instance_id))
            rows = rows[:limit] if limit else rows
        return [wait_with_instance(r) for r in rows]

    def buffered_messages(self, names: Sequence[str], now: float) -> list[MessageRecord]:
        if not names:
            return []
        with self.read() as conn:
            rows = conn.execute(select(messages).where(messages.c.status == "buffered",
                                                       messages.c.name.in_(list(names)),
                                                       messages.c.expires_at > now)
                                .order_by(messages.c.created_at)).all()
        return [message_record(r) for r in rows]

    def get_message(self, message_id: str) -> MessageRecord | None:
        with self.read() as conn:
            row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        return message_record(row) if row is not None else None

    def insert_message(self, message: MessageRecord, job: JobRecord | None = None) -> None:
        """A published message, with the job that routes it, in one transaction."""
        with self.write() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(messages).values(**message_values(message)))
                    if job is not None:
                        conn.execute(insert(jobs).values(**job_values(job)))
            except IntegrityError as exc:
                raise InvalidOperationError(f"a message with id {message.message_id!r} was already published; "
                                            f"it is not delivered twice") from exc

    def settle_message(self, message_id: str, status: str, *, job: tuple[str, str] | None = None,
                       expires_at: float | None = None) -> bool:
        """Mark a routed message buffered (nothing waits yet) or expired, and finish its job if one carried it."""
        with self.write() as conn:
            values: dict[str, Any] = {"status": status}
            if expires_at is not None:
                values["expires_at"] = expires_at
            done = conn.execute(update(messages).where(messages.c.id == message_id,
                                                       messages.c.status.in_(("pending", "buffered")))
                                .values(**values))
            if job is not None:
                conn.execute(delete(jobs).where(jobs.c.id == job[0], jobs.c.locked_by == job[1]))
            return done.rowcount == 1

    def expire_messages(self, now: float) -> int:
        """Buffered messages past their time to live are dropped (their publisher id can be used again)."""
        with self.write() as conn:
            done = conn.execute(update(messages).where(messages.c.status == "buffered", messages.c.expires_at <= now)
                                .values(status="expired", message_id=None))
            return int(done.rowcount)

    def count_messages(self) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(select(messages.c.status, func.count()).group_by(messages.c.status)).all()
        return {r[0]: int(r[1]) for r in rows}

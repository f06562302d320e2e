"""Store operations over SQLAlchemy Core: each public method is one transaction and speaks plain records.

Locking order, the same in every transaction that changes an instance: the instance row first (an UPDATE),
then its job rows. Claims never wait (`SKIP LOCKED`) and touch job rows only, so there is no deadlock cycle.
On SQLite every write transaction is `BEGIN IMMEDIATE`, which serialises writers outright.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from sqlalchemy import and_, delete, exists, func, insert, or_, select, text, tuple_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from ..errors import BpmnRunnerError, ConcurrentUpdateError, InvalidOperationError, NotFoundError, StoreError
from .hot_path import JOB_COLUMNS, HotPath, history_row, job_row
from .records import (DefinitionRecord, InstanceRecord, JobRecord, LeaseLostError, MessageRecord, StepRecord,
                      WaitRecord)
from .schema import ENDED_STATUSES, definitions, history, instances, jobs, messages, processes, waits

_RETRYABLE_PG = {"40001", "40P01"}  # serialization failure, deadlock detected


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _loads(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


class Store:
    """A database holding definitions, instances, jobs, history, waits and messages."""

    def __init__(self, engine: Engine, label: str = "") -> None:
        self.engine = engine
        self.label = label or str(engine.url)
        self._hot = HotPath(engine.dialect.name)
        self._driver_error: type[BaseException] = getattr(engine.dialect.dbapi, "Error", DBAPIError)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ----- transactions -------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite); database errors become StoreErrors."""
        with self._database_errors():
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._database_errors():
            with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
                with conn.begin():
                    yield conn

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except BpmnRunnerError:
            raise
        except DBAPIError as exc:
            raise self._translate(exc) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.label}: {_first_line(exc)}") from exc
        except Exception as exc:
            if isinstance(exc, self._driver_error):  # from the hot path, which runs on the driver's cursor
                raise self._translate(exc) from exc
            raise

    def _translate(self, exc: BaseException) -> StoreError:
        orig = getattr(exc, "orig", None) or exc
        code = getattr(orig, "sqlstate", None)
        text = _first_line(exc)
        if code in _RETRYABLE_PG or "database is locked" in text:
            return ConcurrentUpdateError(f"store {self.label}: {text}")
        if isinstance(exc, OperationalError) or type(orig).__name__ == "OperationalError":
            return StoreError(f"store {self.label} is not reachable or not usable: {text}")
        return StoreError(f"store {self.label}: {text}")

    # ----- definitions --------------------------------------------------------------------------------------

    def save_definition(self, record: DefinitionRecord) -> dict[str, int]:
        """Store a file set once per content hash; returns {process id: version} for its processes."""
        for _ in range(5):
            try:
                with self.write() as conn:
                    exists = conn.execute(select(definitions.c.hash).where(definitions.c.hash == record.hash)).first()
                    if exists is None:
                        conn.execute(insert(definitions).values(
                            hash=record.hash, family=record.family, process_ids=_dumps(record.process_ids),
                            sources=_dumps(record.sources), catalog=_dumps(record.catalog),
                            created_at=record.created_at))
                    versions: dict[str, int] = {}
                    for process_id in record.process_ids:
                        row = conn.execute(select(processes.c.version).where(
                            processes.c.process_id == process_id,
                            processes.c.definition_hash == record.hash)).first()
                        if row is None:
                            top = conn.execute(select(func.max(processes.c.version)).where(
                                processes.c.process_id == process_id)).scalar()
                            version = int(top or 0) + 1
                            conn.execute(insert(processes).values(process_id=process_id, version=version,
                                                                  definition_hash=record.hash,
                                                                  created_at=record.created_at))
                            versions[process_id] = version
                        else:
                            versions[process_id] = int(row.version)
                    return versions
            except IntegrityError:
                continue  # another process stored the same version at the same moment: read it again
            except ConcurrentUpdateError:
                continue
        raise ConcurrentUpdateError("could not store the definition: too many concurrent writers")

    def get_definition(self, hash_: str) -> DefinitionRecord:
        with self.read() as conn:
            row = conn.execute(select(definitions).where(definitions.c.hash == hash_)).first()
        if row is None:
            raise NotFoundError(f"no stored definition {hash_[:12]}")
        return DefinitionRecord(row.hash, row.family, _loads(row.process_ids, []), _loads(row.sources, []),
                                _loads(row.catalog, {}), row.created_at)

    def latest_processes(self) -> list[tuple[str, int, str]]:
        """(process id, newest version, definition hash) for every stored process."""
        with self.read() as conn:
            newest = (select(processes.c.process_id, func.max(processes.c.version).label("v"))
                      .group_by(processes.c.process_id).subquery())
            rows = conn.execute(select(processes.c.process_id, processes.c.version, processes.c.definition_hash)
                                .join(newest, and_(newest.c.process_id == processes.c.process_id,
                                                   newest.c.v == processes.c.version))).all()
        return [(r.process_id, int(r.version), r.definition_hash) for r in rows]

    def catalogs(self) -> dict[str, dict[str, Any]]:
        """The message and start-event catalog of every stored definition, by hash."""
        with self.read() as conn:
            rows = conn.execute(select(definitions.c.hash, definitions.c.catalog)).all()
        return {r.hash: _loads(r.catalog, {}) for r in rows}

    def process_version(self, process_id: str, hash_: str) -> int | None:
        with self.read() as conn:
            return conn.execute(select(processes.c.version).where(
                processes.c.process_id == process_id, processes.c.definition_hash == hash_)).scalar()

    # ----- instances ----------------------------------------------------------------------------------------

    def resolve_instance_id(self, ident: str) -> str:
        """An instance id from the id or a unique prefix of it (at least 4 characters)."""
        with self.read() as conn:
            if conn.execute(select(instances.c.id).where(instances.c.id == ident)).first():
                return ident
            if len(ident) >= 4:
                found = conn.execute(select(instances.c.id).where(_starts_with(instances.c.id, ident))
                                     .limit(2)).scalars().all()
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    raise InvalidOperationError(f"instance id prefix {ident!r} is ambiguous; give more of it")
        raise NotFoundError(f"no instance {ident!r} in {self.label}")

    def get_instance(self, instance_id: str) -> InstanceRecord:
        with self.read() as conn:
            row = conn.execute(select(instances).where(instances.c.id == instance_id)).first()
        if row is None:
            raise NotFoundError(f"no instance {instance_id!r} in {self.label}")
        return _instance(row)

    def load_for_step(self, instance_id: str) -> tuple[InstanceRecord, list[JobRecord]]:
        """The instance with its state, and its jobs, read together."""
        with self.read() as conn:
            row = conn.execute(select(instances).where(instances.c.id == instance_id)).first()
            if row is None:
                raise NotFoundError(f"no instance {instance_id!r} in {self.label}")
            job_rows = conn.execute(select(jobs).where(jobs.c.instance_id == instance_id)).all()
        return _instance(row), [_job(j) for j in job_rows]

    def list_instances(self, *, status: str | None = None, process_id: str | None = None,
                       business_key: str | None = None, limit: int | None = None, after: str | None = None,
                       timers_due_at: float | None = None) -> list[InstanceRecord]:
        """Instances without their state, oldest first (created_at, then id), `limit` at a time after the
        instance `after` (keyset paging: every page is an index range, however deep).

        With `timers_due_at`, `status` is the status a user sees: `running` includes instances waiting at a timer
        that is due by then, and `waiting` leaves them out."""
        columns = [c for c in instances.c if c.name != "state"]
        query = select(*columns).order_by(instances.c.created_at, instances.c.id)
        if process_id:
            query = query.where(instances.c.process_id == process_id)
        if business_key is not None:
            query = query.where(instances.c.business_key == business_key)
        if limit:
            query = query.limit(limit)
        with self.read() as conn:
            if after is not None:
                mark = conn.execute(select(instances.c.created_at, instances.c.id)
                                    .where(instances.c.id == after)).first()
                if mark is None:
                    raise NotFoundError(f"--after {after!r}: no instance with that id in {self.label}")
                query = query.where(tuple_(instances.c.created_at, instances.c.id) > tuple_(mark[0], mark[1]))
            due = exists().where(jobs.c.instance_id == instances.c.id, jobs.c.kind == "timer",
                                 jobs.c.status == "ready", jobs.c.due_at <= (timers_due_at or 0.0))
            if timers_due_at is not None and status == "running":
                # two index ranges merged here: an OR of both would not keep the listing's index order
                rows = conn.execute(query.where(instances.c.status == "running")).all()
                rows += conn.execute(query.where(instances.c.status == "waiting", due)).all()
                rows.sort(key=lambda r: (r.created_at, r.id))
                rows = rows[:limit] if limit else rows
            elif timers_due_at is not None and status == "waiting":
                rows = conn.execute(query.where(instances.c.status == "waiting", ~due)).all()
            else:
                rows = conn.execute(query.where(instances.c.status == status) if status else query).all()
        return [_instance(r) for r in rows]

    def cleanup(self, finished_before: float, *, keep_history: bool = False) -> dict[str, int]:
        """Remove instances that ended before `finished_before`, in batches (see retention.py)."""
        from .retention import cleanup
        return cleanup(self, finished_before, keep_history=keep_history)

    def count_instances(self) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(select(instances.c.status, func.count()).group_by(instances.c.status)).all()
        return {r[0]: int(r[1]) for r in rows}

    def due_timer_instances(self, now: float) -> set[str]:
        """Instances with a timer job that is due: work a worker can do now."""
        with self.read() as conn:
            rows = conn.execute(select(jobs.c.instance_id).where(
                jobs.c.kind == "timer", jobs.c.status == "ready", jobs.c.due_at <= now).distinct()).scalars()
            return {r for r in rows if r}

    def jobs_of(self, instance_id: str) -> list[JobRecord]:
        with self.read() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.instance_id == instance_id)
                                .order_by(jobs.c.due_at)).all()
        return [_job(r) for r in rows]

    def history_of(self, instance_id: str) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(select(history).where(history.c.instance_id == instance_id)
                                .order_by(history.c.id)).all()
        return [_history(r) for r in rows]

    def history_of_process(self, process_id: str) -> list[dict[str, Any]]:
        """Every history row of every instance of a process, in order (for heatmaps)."""
        with self.read() as conn:
            ids = select(instances.c.id).where(instances.c.process_id == process_id)
            rows = conn.execute(select(history).where(history.c.instance_id.in_(ids))
                                .order_by(history.c.instance_id, history.c.id)).all()
        return [_history(r) for r in rows]

    def count_history(self, *, event: str | None = None) -> list[tuple[str, str, int]]:
        """(instance id, element id, number of rows) per pair, optionally for one event kind (tests, reports)."""
        query = select(history.c.instance_id, history.c.element_id, func.count()).group_by(
            history.c.instance_id, history.c.element_id)
        if event:
            query = query.where(history.c.event == event)
        with self.read() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(query).all()]

    def waits_of(self, instance_id: str) -> list[WaitRecord]:
        with self.read() as conn:
            rows = conn.execute(select(waits).where(waits.c.instance_id == instance_id)).all()
        return [_wait(r) for r in rows]

    def messages_of(self, instance_id: str) -> tuple[list[MessageRecord], list[MessageRecord]]:
        """(messages it sent, messages it received)."""
        with self.read() as conn:
            sent = conn.execute(select(messages).where(messages.c.source_instance_id == instance_id)
                                .order_by(messages.c.created_at)).all()
            got = conn.execute(select(messages).where(messages.c.target_instance_id == instance_id)
                               .order_by(messages.c.consumed_at)).all()
        return [_message(r) for r in sent], [_message(r) for r in got]

    # ----- one step -----------------------------------------------------------------------------------------

    def commit_step(self, step: StepRecord) -> str:
        """Commit a step in one transaction; returns the instance's final status.

        Raises ConcurrentUpdateError when the instance changed since it was read (redo the step from a fresh
        read), LeaseLostError when `done_job` is no longer held by that worker (drop the result), and
        InvalidOperationError when a new instance's business key is taken by an open instance.
        """
        rec = step.instance
        with self.write() as conn:
            state = rec.state if isinstance(rec.state, str) else _dumps(rec.state)
            values = dict(definition_hash=rec.definition_hash, process_id=rec.process_id, status=rec.status,
                          state=state, data=_dumps(rec.data), waiting=_dumps(rec.waiting), error=rec.error,
                          updated_at=step.now, ended_at=step.now if rec.status in ENDED_STATUSES else None)
            if step.expected_version is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(instances).values(id=rec.id, business_key=rec.business_key, version=1,
                                                              created_at=rec.created_at or step.now, **values))
                except IntegrityError as exc:
                    raise self._insert_conflict(conn, rec) from exc
            updated, held, incident = self._hot.write_step(
                conn.connection.driver_connection, step, state, values["data"], values["waiting"],
                [job_row(_job_values(j)) for j in step.new_jobs],
                [history_row(_history_values(h)) for h in step.history])
            if not updated:
                raise ConcurrentUpdateError(f"instance {rec.id} was changed by someone else; try again",
                                            instance_id=rec.id)
            if not held:
                raise LeaseLostError(f"worker {step.done_job[1]} no longer holds job {step.done_job[0]}",
                                     instance_id=rec.id)
            if step.waits or step.had_waits:
                self._replace_waits(conn, rec.id, step.waits, step.now)
            if step.new_messages:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(messages), [_message_values(m) for m in step.new_messages])
                except IntegrityError as exc:
                    taken = [m.message_id for m in step.new_messages if m.message_id]
                    raise InvalidOperationError(f"a message with id {', '.join(map(str, taken))} was already "
                                                f"published; it is not delivered twice") from exc
            for message_id in step.consumed_messages:
                done = conn.execute(update(messages).where(
                    messages.c.id == message_id, messages.c.status.in_(("pending", "buffered")))
                    .values(status="consumed", target_instance_id=rec.id, consumed_at=step.now))
                if done.rowcount != 1:
                    raise ConcurrentUpdateError(f"message {message_id} was taken by another instance")
            if step.consumed_messages:
                conn.execute(delete(jobs).where(jobs.c.kind == "message",
                                                jobs.c.task_id.in_(step.consumed_messages)))
            status = rec.status
            if incident and status not in ENDED_STATUSES and status != "incident":
                status = "incident"
                conn.execute(update(instances).where(instances.c.id == rec.id).values(status=status))
            return status

    def _insert_conflict(self, conn: Connection, rec: InstanceRecord) -> BpmnRunnerError:
        if rec.business_key is not None:
            other = conn.execute(select(instances.c.id, instances.c.status).where(
                instances.c.business_key == rec.business_key,
                instances.c.status.notin_(ENDED_STATUSES))).first()
            if other is not None:
                return InvalidOperationError(f"business key {rec.business_key!r} is already used by open instance "
                                             f"{other.id} ({other.status}); a business key is unique among open "
                                             f"instances")
        return ConcurrentUpdateError(f"instance {rec.id} already exists", instance_id=rec.id)

    def _replace_waits(self, conn: Connection, instance_id: str, new: list[WaitRecord], now: float) -> None:
        before = {(r.task_id, r.kind, r.event_name): r.created_at for r in conn.execute(
            select(waits.c.task_id, waits.c.kind, waits.c.event_name, waits.c.created_at)
            .where(waits.c.instance_id == instance_id)).all()}
        if before:
            conn.execute(delete(waits).where(waits.c.instance_id == instance_id))
        rows, seen = [], set()
        for w in new:
            key = (w.task_id, w.kind, w.event_name)
            if key in seen:
                continue
            seen.add(key)
            rows.append(dict(instance_id=instance_id, task_id=w.task_id, kind=w.kind, event_name=w.event_name,
                             element_id=w.element_id, name=w.name, correlation_key=w.correlation_key,
                             form=_dumps(w.form), created_at=before.get(key, w.created_at or now)))
        if rows:
            conn.execute(insert(waits), rows)

    # ----- jobs ---------------------------------------------------------------------------------------------

    def _lease_only(self, conn: Connection, raw: Any = None) -> None:
        """A transaction that only takes or renews leases need not wait for the disk on PostgreSQL: a lease lost
        in a server crash means the job runs again, which at-least-once allows; steps always commit durably."""
        if self.dialect == "postgresql":
            if raw is not None:
                raw.execute("SET LOCAL synchronous_commit TO OFF")
            else:
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))

    def claim_jobs(self, worker: str, handlers: Sequence[str], *, now: float, lease: float, limit: int = 1,
                   ids: Sequence[str] | None = None) -> tuple[list[JobRecord], list[JobRecord]]:
        """Lease up to `limit` due jobs; returns (claimed, exhausted). Claiming counts an attempt, so a lease that
        expires counts as one; a job whose last attempt's lease expired is returned as exhausted instead."""
        if ids is not None and not ids:
            return [], []
        claimed: list[JobRecord] = []
        exhausted: list[JobRecord] = []
        with self.write() as conn:
            raw = conn.connection.driver_connection
            if self.dialect == "postgresql":
                with raw.pipeline():  # the SET and the SELECT in one round trip
                    self._lease_only(conn, raw)
                    rows = self._hot.select_due(raw, list(handlers), ids, now, limit)
            else:
                rows = self._hot.select_due(raw, list(handlers), ids, now, limit)
            for row in rows:
                job = _job_from_tuple(row)
                if job.attempts >= job.max_attempts:
                    exhausted.append(job)
                    continue
                note = job.last_error
                if job.locked_by is not None:
                    note = (f"the lease of worker {job.locked_by} expired (the worker stopped, or its handler ran "
                            f"longer than the lease without renewing it)")
                job.locked_by, job.locked_until, job.attempts, job.last_error = worker, now + lease, \
                    job.attempts + 1, note
                claimed.append(job)
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
                 history_row: dict[str, Any] | None = None) -> bool:
        """A failed attempt: back off until `retry_at`, or (None) become an incident of its instance. Only the
        worker holding the job may do this (`worker` None: whoever holds it, for exhausted jobs). A message job
        whose delivery failed becomes an incident of the instance it was delivered to (`job.instance_id`)."""
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
                                                                     due_at=retry_at, last_error=error))
                return done.rowcount == 1
            done = conn.execute(update(jobs).where(where).values(status="incident", locked_by=None,
                                                                 locked_until=None, last_error=error))
            if done.rowcount != 1:
                return False
            if job.instance_id:
                conn.execute(update(instances).where(instances.c.id == job.instance_id,
                                                     instances.c.status.notin_(ENDED_STATUSES))
                             .values(status="incident", error=error, updated_at=now))
                if history_row is not None:
                    conn.execute(insert(history), [_history_values(history_row)])
            return True

    def drop_job(self, job_id: str, worker: str) -> bool:
        """Forget a job whose task no longer waits (e.g. a boundary event cancelled it), if this worker holds it."""
        with self.write() as conn:
            done = conn.execute(delete(jobs).where(jobs.c.id == job_id, jobs.c.locked_by == worker))
            return done.rowcount == 1

    def pending_work(self, handlers: Sequence[str], now: float) -> tuple[int, float | None]:
        """(jobs that keep a `--until-idle` worker running, when the next job this worker could take is due).

        Work that keeps it running: a due timer, any message or service job it can run (also one backing off
        between retries), and any job another worker holds. Timers due later do not.
        """
        mine = or_(jobs.c.kind != "service", jobs.c.handler.in_(list(handlers))) if handlers else \
            jobs.c.kind != "service"
        busy = and_(jobs.c.status == "ready", or_(
            jobs.c.locked_until > now,
            and_(jobs.c.kind == "timer", jobs.c.due_at <= now),
            jobs.c.kind == "message",
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
                conn.execute(insert(history), [_history_values(h) for h in history_rows])

    # ----- waits and messages -------------------------------------------------------------------------------

    def find_waits(self, kind: str | Sequence[str], event_name: str | None = None, *,
                   task_id: str | None = None, instance_id: str | None = None,
                   limit: int | None = None) -> list[WaitRecord]:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        query = (select(waits, instances.c.business_key, instances.c.process_id)
                 .join(instances, instances.c.id == waits.c.instance_id)
                 .where(instances.c.status.notin_(ENDED_STATUSES))
                 .order_by(waits.c.created_at, waits.c.instance_id))
        if event_name is not None:
            query = query.where(waits.c.event_name == event_name)
        if task_id is not None:
            query = query.where(or_(waits.c.task_id == task_id, _starts_with(waits.c.task_id, task_id))
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
        out = []
        for r in rows:
            w = _wait(r)
            w.business_key, w.process_id = r.business_key, r.process_id
            out.append(w)
        return out

    def buffered_messages(self, names: Sequence[str], now: float) -> list[MessageRecord]:
        if not names:
            return []
        with self.read() as conn:
            rows = conn.execute(select(messages).where(messages.c.status == "buffered",
                                                       messages.c.name.in_(list(names)),
                                                       messages.c.expires_at > now)
                                .order_by(messages.c.created_at)).all()
        return [_message(r) for r in rows]

    def get_message(self, message_id: str) -> MessageRecord | None:
        with self.read() as conn:
            row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        return _message(row) if row is not None else None

    def find_published(self, publisher_id: str) -> MessageRecord | None:
        with self.read() as conn:
            row = conn.execute(select(messages).where(messages.c.message_id == publisher_id)).first()
        return _message(row) if row is not None else None

    def insert_message(self, message: MessageRecord, job: JobRecord | None = None) -> None:
        """A published message, with the job that routes it, in one transaction."""
        with self.write() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(messages).values(**_message_values(message)))
                    if job is not None:
                        conn.execute(insert(jobs).values(**_job_values(job)))
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

    def count_jobs(self) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(select(jobs.c.kind, jobs.c.status, func.count())
                                .group_by(jobs.c.kind, jobs.c.status)).all()
        return {f"{r[0]}:{r[1]}": int(r[2]) for r in rows}


# ----- row <-> record ---------------------------------------------------------------------------------------

def _prefix(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "") + "%"


def _starts_with(column: Any, prefix: str) -> Any:
    """`column LIKE 'prefix%'` that an ordinary index serves: a LIKE alone is a full scan on PostgreSQL (outside
    the C collation) and on SQLite (case-insensitive LIKE); the range narrows it to the prefix's rows first."""
    cleaned = _prefix(prefix)[:-1]
    if not cleaned:
        return column.like(_prefix(prefix))
    upper = cleaned[:-1] + chr(ord(cleaned[-1]) + 1)
    return and_(column >= cleaned, column < upper, column.like(_prefix(prefix)))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _instance(row: Any) -> InstanceRecord:
    mapping = row._mapping
    state = mapping.get("state")
    return InstanceRecord(
        id=row.id, definition_hash=row.definition_hash, process_id=row.process_id, business_key=row.business_key,
        status=row.status, state=_loads(state) if state is not None else None, version=int(row.version),
        data=_loads(row.data, {}), waiting=_loads(row.waiting, []), error=row.error, created_at=row.created_at,
        updated_at=row.updated_at, ended_at=mapping.get("ended_at"))


def _job(row: Any) -> JobRecord:
    return JobRecord(id=row.id, instance_id=row.instance_id, kind=row.kind, task_id=row.task_id,
                     element_id=row.element_id, handler=row.handler, payload=_loads(row.payload, {}),
                     due_at=row.due_at, attempts=int(row.attempts), max_attempts=int(row.max_attempts),
                     backoff=_loads(row.backoff), status=row.status, locked_by=row.locked_by,
                     locked_until=row.locked_until, last_error=row.last_error, created_at=row.created_at)


def _job_from_tuple(row: tuple[Any, ...]) -> JobRecord:
    """A job from a hot-path row (columns in hot_path.JOB_COLUMNS order)."""
    values = dict(zip(JOB_COLUMNS, row))
    values["payload"] = _loads(values["payload"], {})
    values["backoff"] = _loads(values["backoff"])
    return JobRecord(**values)


def _job_values(job: JobRecord) -> dict[str, Any]:
    return dict(id=job.id, instance_id=job.instance_id, kind=job.kind, task_id=job.task_id,
                element_id=job.element_id, handler=job.handler, payload=_dumps(job.payload), status=job.status,
                due_at=job.due_at, attempts=job.attempts, max_attempts=job.max_attempts,
                backoff=_dumps(job.backoff) if job.backoff is not None else None, locked_by=job.locked_by,
                locked_until=job.locked_until, last_error=job.last_error, created_at=job.created_at)


def _history(row: Any) -> dict[str, Any]:
    return {"instance_id": row.instance_id, "process_id": row.process_id, "element_id": row.element_id,
            "event": row.event, "at": row.at, "element_type": row.element_type, "name": row.name,
            "data_changes": _loads(row.data_changes, {}), "detail": row.detail}


def _history_values(h: dict[str, Any]) -> dict[str, Any]:
    return dict(instance_id=h["instance_id"], process_id=h.get("process_id") or "", element_id=h["element_id"],
                event=h["event"], at=float(h["at"]), element_type=h.get("element_type") or "",
                name=h.get("name") or "", data_changes=_dumps(h.get("data_changes") or {}),
                detail=h.get("detail") or "")


def _wait(row: Any) -> WaitRecord:
    return WaitRecord(instance_id=row.instance_id, task_id=row.task_id, kind=row.kind, event_name=row.event_name,
                      element_id=row.element_id, name=row.name, correlation_key=row.correlation_key,
                      form=_loads(row.form, []), created_at=row.created_at)


def _message(row: Any) -> MessageRecord:
    return MessageRecord(id=row.id, name=row.name, correlation_key=row.correlation_key,
                         payload=_loads(row.payload, {}), created_at=row.created_at, expires_at=row.expires_at,
                         status=row.status, business_key=row.business_key, message_id=row.message_id,
                         source_instance_id=row.source_instance_id, target_instance_id=row.target_instance_id,
                         consumed_at=row.consumed_at)


def _message_values(m: MessageRecord) -> dict[str, Any]:
    return dict(id=m.id, name=m.name, correlation_key=m.correlation_key, business_key=m.business_key,
                payload=_dumps(m.payload), message_id=m.message_id, status=m.status,
                source_instance_id=m.source_instance_id, target_instance_id=m.target_instance_id,
                created_at=m.created_at, expires_at=m.expires_at, consumed_at=m.consumed_at)

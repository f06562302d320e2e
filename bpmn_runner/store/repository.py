"""Store operations over SQLAlchemy Core: each public method is one transaction and speaks plain records.

Locking order, the same in every transaction that changes an instance: the instance row first (an UPDATE),
then its job rows. Claims never wait (`SKIP LOCKED`) and touch job rows only, so there is no deadlock cycle.
On SQLite every write transaction is `BEGIN IMMEDIATE`, which serialises writers outright.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import and_, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from ..errors import BpmnRunnerError, ConcurrentUpdateError, InvalidOperationError, NotFoundError, StoreError
from .bridge_tables import BridgeOperations, write_outbox
from .external import ExternalOperations
from .autocommit import AutocommitConnections
from .driver_steps import DriverSteps, check_step, insert_conflict
from .hot_path import HotPath, history_row, job_row
from .page_reads import PageReads
from .pg_step import one_statement_fits
from .queue import QueueOperations
from .records import (DefinitionRecord, InstanceRecord, JobRecord, MessageRecord, StepRecord,
                      WaitRecord)
from .rows import (dumps, first_line, history_dicts, instance_record, job_record, job_values, loads,
                   message_record, message_values, starts_with, wait_record)
from .schema import ENDED_STATUSES, definitions, history, instances, jobs, messages, processes, waits

_RETRYABLE_PG = {"40001", "40P01"}  # serialization failure, deadlock detected


class Store(DriverSteps, QueueOperations, BridgeOperations, ExternalOperations, PageReads):
    """A database holding definitions, instances, jobs, history, waits and messages."""

    def __init__(self, engine: Engine, label: str = "") -> None:
        self.engine = engine
        self.label = label or str(engine.url)
        self._hot = HotPath(engine.dialect.name)
        self._sqlite = engine.dialect.name == "sqlite"
        self._driver_error: type[BaseException] = getattr(engine.dialect.dbapi, "Error", DBAPIError)
        self._integrity_error: type[BaseException] = getattr(engine.dialect.dbapi, "IntegrityError", IntegrityError)
        self._own_autocommit = AutocommitConnections(engine) if engine.dialect.name == "postgresql" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        if self._own_autocommit is not None:
            self._own_autocommit.close()
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
            raise StoreError(f"store {self.label}: {first_line(exc)}") from exc
        except Exception as exc:
            if isinstance(exc, self._driver_error):  # from the hot path, which runs on the driver's cursor
                raise self._translate(exc) from exc
            raise

    def _translate(self, exc: BaseException) -> StoreError:
        orig = getattr(exc, "orig", None) or exc
        code = getattr(orig, "sqlstate", None)
        text = first_line(exc)
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
                            hash=record.hash, family=record.family, process_ids=dumps(record.process_ids),
                            sources=dumps(record.sources), catalog=dumps(record.catalog),
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
        return DefinitionRecord(row.hash, row.family, loads(row.process_ids, []), loads(row.sources, []),
                                loads(row.catalog, {}), row.created_at)

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
        return {r.hash: loads(r.catalog, {}) for r in rows}

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
                found = conn.execute(select(instances.c.id).where(starts_with(instances.c.id, ident))
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
        return instance_record(row)

    def load_for_step(self, instance_id: str) -> tuple[InstanceRecord, list[JobRecord]]:
        """The instance with its state, and its jobs, read together."""
        with self.read() as conn:
            row = conn.execute(select(instances).where(instances.c.id == instance_id)).first()
            if row is None:
                raise NotFoundError(f"no instance {instance_id!r} in {self.label}")
            job_rows = conn.execute(select(jobs).where(jobs.c.instance_id == instance_id)).all()
        return instance_record(row), [job_record(j) for j in job_rows]

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
        return [instance_record(r) for r in rows]

    def cleanup(self, finished_before: float, *, keep_history: bool = False) -> dict[str, int]:
        """Remove instances that ended before `finished_before`, in batches (see retention.py)."""
        from .retention import cleanup
        return cleanup(self, finished_before, keep_history=keep_history)

    def count_instances(self, process_id: str | None = None) -> dict[str, int]:
        """Instances by status (of one process, all versions, with `process_id`), counted by the database."""
        query = select(instances.c.status, func.count()).group_by(instances.c.status)
        if process_id:
            query = query.where(instances.c.process_id == process_id)
        with self.read() as conn:
            rows = conn.execute(query).all()
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
        return [job_record(r) for r in rows]

    def history_of(self, instance_id: str) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(select(history).where(history.c.instance_id == instance_id)
                                .order_by(history.c.id)).all()
        return history_dicts(rows)

    def history_of_process(self, process_id: str) -> list[dict[str, Any]]:
        """Every history row of every instance of a process, in order (for heatmaps)."""
        with self.read() as conn:
            ids = select(instances.c.id).where(instances.c.process_id == process_id)
            rows = conn.execute(select(history).where(history.c.instance_id.in_(ids))
                                .order_by(history.c.instance_id, history.c.id)).all()
        return history_dicts(rows)

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
        return [wait_record(r) for r in rows]

    def messages_of(self, instance_id: str) -> tuple[list[MessageRecord], list[MessageRecord]]:
        """(messages it sent, messages it received)."""
        with self.read() as conn:
            sent = conn.execute(select(messages).where(messages.c.source_instance_id == instance_id)
                                .order_by(messages.c.created_at)).all()
            got = conn.execute(select(messages).where(messages.c.target_instance_id == instance_id)
                               .order_by(messages.c.consumed_at)).all()
        return [message_record(r) for r in sent], [message_record(r) for r in got]

    # ----- one step -----------------------------------------------------------------------------------------

    def commit_step(self, step: StepRecord) -> str:
        """Commit a step in one transaction; returns the instance's final status.

        Raises ConcurrentUpdateError when the instance changed since it was read (redo the step from a fresh
        read) or a new instance's id exists, and LeaseLostError when `done_job` is no longer held by that worker
        (drop the result). Business keys need not be unique.
        """
        rec = step.instance
        state = rec.state if isinstance(rec.state, str) else dumps(rec.state)
        data, waiting = dumps(rec.data), dumps(rec.waiting)
        job_rows = [job_row(job_values(j)) for j in step.new_jobs]
        history_rows = [history_row(h) for h in step.history]  # built before the write lock is taken
        if not (step.new_messages or step.consumed_messages):
            if not self._sqlite and one_statement_fits(step):
                return self._commit_alone(step, state, data, waiting, job_rows, history_rows)
            if self._sqlite and not (step.waits or step.had_waits):
                return self._commit_hot_step(step, state, data, waiting, job_rows, history_rows)
        with self.write() as conn:
            try:
                updated, held, incident = self._hot.write_step(conn.connection.driver_connection, step, state, data,
                                                               waiting, job_rows, history_rows)
            except self._integrity_error as exc:
                if step.expected_version is None:
                    raise insert_conflict(rec) from exc
                raise
            check_step(step, updated, held)
            if step.waits or step.had_waits:
                self._replace_waits(conn, rec.id, step.waits, step.now)
            if step.new_messages:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(messages), [message_values(m) for m in step.new_messages])
                except IntegrityError as exc:
                    taken = [m.message_id for m in step.new_messages if m.message_id]
                    raise InvalidOperationError(f"a message with id {', '.join(map(str, taken))} was already "
                                                f"published; it is not delivered twice") from exc
                write_outbox(conn, step)  # the broker bridge's outbox, in this same transaction
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
                             form=dumps(w.form), created_at=before.get(key, w.created_at or now)))
        if rows:
            conn.execute(insert(waits), rows)

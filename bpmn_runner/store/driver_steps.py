"""Steps committed on the database driver, past SQLAlchemy: SQLite's BEGIN IMMEDIATE/COMMIT sent directly (steps
without waits or messages), and PostgreSQL's one-statement step in autocommit mode (steps without messages).
Mixed into `Store`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, ContextManager, Iterator, TypeVar

from sqlalchemy.engine import Engine

from ..errors import BpmnRunnerError, ConcurrentUpdateError, StoreError
from .autocommit import AutocommitConnections
from .columns import ENDED
from .hot_path import HotPath
from .pg_step import LEASE_LOST, VERSION_CONFLICT, wait_rows, write_step_alone
from .records import InstanceRecord, LeaseLostError, StepRecord
from .rows import dumps

_UNIQUE_VIOLATION = "23505"
T = TypeVar("T")


class DriverSteps:
    """The driver-level step commits of `Store` (which provides the attributes below)."""

    engine: Engine
    _hot: HotPath
    _integrity_error: type[BaseException]
    _driver_error: type[BaseException]
    _own_autocommit: AutocommitConnections | None
    _database_errors: Callable[[], ContextManager[None]]
    _translate: Callable[[BaseException], StoreError]

    @contextmanager
    def _driver_write(self) -> Iterator[Any]:
        """A SQLite write transaction on the driver's connection, BEGIN IMMEDIATE and COMMIT issued directly: for
        steps that need nothing but the hot path's statements. SQLAlchemy's Connection and transaction objects cost
        about 25 us of a 30 us empty transaction (bench/step_breakdown.py); locking and rollback are the same."""
        with self._database_errors():
            pooled = self.engine.raw_connection()
            try:
                raw = pooled.driver_connection
                self._hot.begin(raw)
                try:
                    yield raw
                    self._hot.commit(raw)
                except BaseException:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                    raise
            finally:
                pooled.close()

    def _commit_hot_step(self, step: StepRecord, state: str, data: str, waiting: str,
                         job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]]) -> str:
        """`commit_step` for a SQLite step whose writes are all the hot path's (no waits, no messages)."""
        rec = step.instance
        with self._driver_write() as raw:
            try:
                updated, held, incident = self._hot.write_step(raw, step, state, data, waiting, job_rows,
                                                               history_rows)
            except self._integrity_error as exc:
                if step.expected_version is None:
                    raise insert_conflict(rec) from exc
                raise
            check_step(step, updated, held)
            status = rec.status
            if incident and status not in ENDED and status != "incident":
                status = "incident"
                raw.execute(self._hot.mark_incident, (rec.id,))
            return status

    @contextmanager
    def _autocommit(self) -> Iterator[Any]:
        """A PostgreSQL driver connection in autocommit mode, for work that is one statement, its own transaction
        (a step, a claim); database errors become StoreErrors."""
        with self._database_errors():
            pooled = self.engine.raw_connection()
            try:
                raw = pooled.driver_connection
                raw.autocommit = True
                try:
                    yield raw
                except BpmnRunnerError:
                    raise
                except Exception as exc:
                    if raw.closed or raw.broken:
                        pooled.invalidate(exc)  # a lost connection is not given out again
                    raise
                finally:
                    if not raw.closed:
                        raw.autocommit = False
            finally:
                pooled.close()

    def _on_autocommit(self, work: Callable[[Any], T]) -> T:
        """`work(raw)` on a PostgreSQL driver connection in autocommit mode, one of the store's own
        (`AutocommitConnections`) or, when all of those are busy, one from the pool; database errors become
        StoreErrors."""
        own = self._own_autocommit
        if own is not None:
            try:
                raw = own.take()
            except Exception:
                with self._database_errors():  # a new connection failed: say so as a StoreError
                    raise
            if raw is not None:
                try:
                    out = work(raw)
                except BaseException as exc:
                    own.give_back(raw, failed=True)
                    if isinstance(exc, self._driver_error) and not isinstance(exc, BpmnRunnerError):
                        raise self._translate(exc) from exc
                    raise
                own.give_back(raw)
                return out
        with self._autocommit() as raw:
            return work(raw)

    def _commit_alone(self, step: StepRecord, state: str, data: str, waiting: str,
                      job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]]) -> str:
        """`commit_step` for a PostgreSQL step without messages whose writes fit one statement, its waits
        included: sent in autocommit mode, it is its own transaction, one round trip with its COMMIT
        (`pg_step.write_step_alone`)."""
        waits = wait_rows(step, dumps) if step.waits or step.had_waits else None

        def write(raw: Any) -> str:
            try:
                return write_step_alone(raw, step, state, data, waiting, job_rows, history_rows, waits)
            except Exception as exc:
                code = getattr(exc, "sqlstate", None)
                if code == VERSION_CONFLICT:
                    check_step(step, False, True)
                if code == LEASE_LOST:
                    check_step(step, True, False)
                if code == _UNIQUE_VIOLATION and step.expected_version is None:
                    raise insert_conflict(step.instance) from exc
                raise
        return self._on_autocommit(write)


def check_step(step: StepRecord, updated: bool, held: bool) -> None:
    """Raise what a step that found its instance changed (`updated` False) or its job's lease gone means."""
    rec = step.instance
    if not updated:
        raise ConcurrentUpdateError(f"instance {rec.id} was changed by someone else; try again", instance_id=rec.id)
    if not held:
        assert step.done_job is not None
        raise LeaseLostError(f"worker {step.done_job[1]} no longer holds job {step.done_job[0]}", instance_id=rec.id)


def insert_conflict(rec: InstanceRecord) -> BpmnRunnerError:
    return ConcurrentUpdateError(f"instance {rec.id} already exists", instance_id=rec.id)

"""The statements every step and every claim runs, sent to the database driver directly.

SQLAlchemy Core builds, caches and reads back a statement in about 100-300 µs of Python; a SQLite round trip
takes 10-20 µs. A step runs six statements and a claim two, so the store's own code was the largest part of a
committed step (bench/step_breakdown.py). Here those statements are fixed SQL text per dialect, run on the
driver's cursor; locking, rollback and error translation stay the repository's. On SQLite a claim, and a step
with no waits or messages, run in a transaction the repository opens on the driver itself (BEGIN IMMEDIATE and
COMMIT sent directly: `Store._driver_write`), past SQLAlchemy's Connection and transaction objects; other steps
run in the transaction SQLAlchemy opened. History rows go in multi-row INSERTs there. On PostgreSQL a step is one
statement (`pg_step.py`); a step with no waits or messages is sent in autocommit mode, its own transaction: one
round trip, COMMIT included, its checks raised by the server. A claim is one round trip too. Everything else keeps
to SQLAlchemy Core.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Sequence

from .columns import HISTORY_COLUMNS, INSTANCE_COLUMNS, JOB_COLUMNS
from .pg_step import one_statement_fits, write_step_at_once
from .records import JobRecord, StepRecord
from .rows import history_tuple

#: History rows per SQLite INSERT: 10 values each stays under the 999 bound parameters of older SQLite builds.
HISTORY_ROWS_PER_INSERT = 90


class HotPath:
    """Fixed SQL for one dialect; `?` placeholders become `%s` for psycopg."""

    def __init__(self, dialect: str) -> None:
        self.postgresql = dialect == "postgresql"
        p = self._sql
        self.insert_instance = p(f"INSERT INTO instances ({', '.join(INSTANCE_COLUMNS)}) "
                                 f"VALUES ({', '.join('?' for _ in INSTANCE_COLUMNS)})")
        self.update_instance = p(
            "UPDATE instances SET version = version + 1, definition_hash = ?, process_id = ?, status = ?, "
            "state = ?, data = ?, waiting = ?, error = ?, updated_at = ?, ended_at = ? WHERE id = ? AND version = ?")
        self.delete_done_job = p("DELETE FROM jobs WHERE id = ? AND locked_by = ? AND locked_until > ?")
        self.release_done_job = p("UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, "
                                  "last_error = NULL WHERE id = ? AND locked_by = ? AND locked_until > ?")
        self.delete_job = p("DELETE FROM jobs WHERE id = ?")
        self.move_timer = p("UPDATE jobs SET due_at = ? WHERE id = ?")
        self.insert_job = p(f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) "
                            f"VALUES ({', '.join('?' for _ in JOB_COLUMNS)})")
        self.insert_history = p(f"INSERT INTO history ({', '.join(HISTORY_COLUMNS)}) "
                                f"VALUES ({', '.join('?' for _ in HISTORY_COLUMNS)})")
        self.insert_history_values = f"INSERT INTO history ({', '.join(HISTORY_COLUMNS)}) VALUES "
        self._history_marks = f"({', '.join('?' for _ in HISTORY_COLUMNS)})"
        self._history_inserts: dict[int, str] = {}  # SQLite: a multi-row INSERT per row count
        self.find_incident = p("SELECT 1 FROM jobs WHERE instance_id = ? AND status = 'incident' LIMIT 1")
        self.mark_incident = p("UPDATE instances SET status = 'incident' WHERE id = ?")
        self.take_job = p("UPDATE jobs SET locked_by = ?, locked_until = ?, attempts = ?, last_error = ? "
                          "WHERE id = ?")

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.postgresql else text

    def claim_query(self, handler_count: int, id_count: int | None, limit: int) -> str:
        """Due jobs a worker may take: not service jobs, or service jobs of its handlers (and of `ids`)."""
        kinds = "kind <> 'service'"
        if handler_count:
            kinds = f"(kind <> 'service' OR handler IN ({', '.join('?' for _ in range(handler_count))}))"
        ids = f" AND id IN ({', '.join('?' for _ in range(id_count))})" if id_count else ""
        text = (f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs WHERE status = 'ready' AND due_at <= ? "
                f"AND (locked_until IS NULL OR locked_until <= ?) AND {kinds}{ids} ORDER BY due_at LIMIT {int(limit)}")
        if self.postgresql:
            text += " FOR UPDATE SKIP LOCKED"
        return self._sql(text)

    # ----- SQLite transactions on the driver (Store._driver_write) -------------------------------------------

    def begin(self, raw: Any) -> None:
        raw.execute("BEGIN IMMEDIATE")

    def commit(self, raw: Any) -> None:
        raw.execute("COMMIT")

    # ----- a step ---------------------------------------------------------------------------------------------

    def write_step(self, raw: Any, step: StepRecord, state: str, data: str, waiting: str,
                   job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]]) -> tuple[bool, bool, bool]:
        """The instance's row (inserted at version 1 for a new one), the done job, job and history rows: the
        statements of `Store.commit_step`, the one transaction a step commits in.

        Returns (the instance was at the expected version, the done job was still held, it has an incident job);
        the caller raises (and so rolls back) when either of the first two is False."""
        if self.postgresql and one_statement_fits(step):
            return write_step_at_once(raw, step, state, data, waiting, job_rows, history_rows)
        rec = step.instance
        ended = step.now if rec.status in ("completed", "failed", "cancelled") else None
        with (raw.pipeline() if self.postgresql else nullcontext()):
            cur = None
            if step.expected_version is None:  # a duplicate id raises the driver's IntegrityError
                raw.cursor().execute(self.insert_instance, (
                    rec.id, rec.business_key, 1, rec.created_at or step.now, rec.definition_hash, rec.process_id,
                    rec.status, state, data, waiting, rec.error, step.now, ended))
            else:
                cur = raw.cursor()
                cur.execute(self.update_instance, (rec.definition_hash, rec.process_id, rec.status, state, data,
                                                   waiting, rec.error, step.now, ended, rec.id, step.expected_version))
            done_cur = None
            if step.done_job is not None:
                done_cur = raw.cursor()
                sql = self.release_done_job if step.release_done_job else self.delete_done_job
                done_cur.execute(sql, (step.done_job[0], step.done_job[1], step.now))
            if step.delete_job_ids:
                raw.cursor().executemany(self.delete_job, [(j,) for j in step.delete_job_ids])
            if step.timer_updates:
                raw.cursor().executemany(self.move_timer, [(due, j) for j, due in step.timer_updates.items()])
            if job_rows:
                raw.cursor().executemany(self.insert_job, job_rows)
            if history_rows:
                self._insert_history(raw, history_rows)
            incident_cur = None
            if rec.status not in ("completed", "failed", "cancelled"):
                incident_cur = raw.cursor()
                incident_cur.execute(self.find_incident, (rec.id,))
        updated = cur is None or cur.rowcount == 1
        held = done_cur is None or done_cur.rowcount == 1
        incident = incident_cur is not None and incident_cur.fetchone() is not None
        return updated, held, incident

    def _insert_history(self, raw: Any, rows: list[tuple[Any, ...]]) -> None:
        """History rows in multi-row INSERTs on SQLite (a third cheaper than one bound statement per row); in
        the pipeline on PostgreSQL, where executemany already sends them in one round trip."""
        if self.postgresql:
            raw.cursor().executemany(self.insert_history, rows)
            return
        cur = raw.cursor()
        for start in range(0, len(rows), HISTORY_ROWS_PER_INSERT):
            chunk = rows[start:start + HISTORY_ROWS_PER_INSERT]
            sql = self._history_inserts.get(len(chunk))
            if sql is None:
                sql = self._history_inserts[len(chunk)] = self.insert_history_values + ", ".join(
                    [self._history_marks] * len(chunk))
            cur.execute(sql, [value for row in chunk for value in row])

    # ----- claims ---------------------------------------------------------------------------------------------

    def select_due(self, raw: Any, handlers: Sequence[str], ids: Sequence[str] | None, now: float,
                   limit: int) -> list[tuple[Any, ...]]:
        cur = raw.cursor()
        params: list[Any] = [now, now, *handlers, *(ids or [])]
        cur.execute(self.claim_query(len(handlers), len(ids) if ids is not None else None, limit), params)
        return list(cur.fetchall())

    def take(self, raw: Any, taken: list[JobRecord]) -> None:
        if taken:
            raw.cursor().executemany(self.take_job, [(j.locked_by, j.locked_until, j.attempts, j.last_error, j.id)
                                                     for j in taken])


def job_row(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[c] for c in JOB_COLUMNS)


def history_row(h: dict[str, Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    """A history row's values in HISTORY_COLUMNS order (`rows.history_tuple`); a tuple, as steps build them, is
    that already."""
    if isinstance(h, tuple):
        return h
    return history_tuple(h["instance_id"], h.get("process_id") or "", h["element_id"], h["event"], h["at"],
                         h.get("element_type") or "", h.get("name") or "", h.get("data_changes"),
                         h.get("detail") or "", h.get("started_at"))


def _marks(count: int) -> str:
    return ", ".join("%s" for _ in range(count))

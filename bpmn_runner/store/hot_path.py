"""The statements every step and every claim runs, sent to the database driver directly.

SQLAlchemy Core builds, caches and reads back a statement in about 100-300 µs of Python; a SQLite round trip
takes 10-20 µs. A step runs six statements and a claim two, so the store's own code was the largest part of a
committed step (bench/step_breakdown.py). Here those statements are fixed SQL text per dialect, run on the
driver's cursor; locking, rollback and error translation stay the repository's. On SQLite a claim, and a step
with no waits or messages, run in a transaction the repository opens on the driver itself (BEGIN IMMEDIATE and
COMMIT sent directly: `Store._driver_write`), past SQLAlchemy's Connection and transaction objects; other steps
run in the transaction SQLAlchemy opened. History rows go in multi-row INSERTs there. On PostgreSQL a step is one
statement (data-modifying WITH clauses; new job and history rows sent as one JSON parameter, so that the driver
keeps the statement parsed and the server plans it once); a step with no waits or messages is sent in autocommit
mode, its own transaction: one round trip, COMMIT included, its checks raised by the server (`bpmn_runner_check`).
A claim is one round trip too (`claim_at_once`). Everything else keeps to SQLAlchemy Core.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any, Sequence

from .records import JobRecord, StepRecord

JOB_COLUMNS = ("id", "instance_id", "kind", "task_id", "element_id", "handler", "payload", "status", "due_at",
               "attempts", "max_attempts", "backoff", "locked_by", "locked_until", "last_error", "created_at")
HISTORY_COLUMNS = ("instance_id", "process_id", "element_id", "event", "at", "element_type", "name",
                   "data_changes", "detail")
INSTANCE_COLUMNS = ("id", "business_key", "version", "created_at", "definition_hash", "process_id", "status", "state",
                    "data", "waiting", "error", "updated_at", "ended_at")
ENDED = ("completed", "failed", "cancelled")
_JOB_INSTANCE, _JOB_STATUS = JOB_COLUMNS.index("instance_id"), JOB_COLUMNS.index("status")
#: SQLSTATEs `bpmn_runner_check` raises (schema version 7, PostgreSQL): the step's instance changed since it was
#: read; the worker no longer holds the job the step finishes.
VERSION_CONFLICT, LEASE_LOST = "BR409", "BR410"
#: What a claim writes into `last_error` when it takes a job whose earlier lease expired (`lease_expired`).
LEASE_EXPIRED = ("the lease of worker {} expired (the worker stopped, or its handler ran longer than the lease "
                 "without renewing it)")
LEASE_EXPIRED_SQL = "'" + LEASE_EXPIRED.replace("'", "''").replace("{}", "' || sel.locked_by || '") + "'"
#: History rows per SQLite INSERT: 9 values each stays under the 999 bound parameters of older SQLite builds.
HISTORY_ROWS_PER_INSERT = 100


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
            return self._write_step_at_once(raw, step, state, data, waiting, job_rows, history_rows)
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

    def _write_step_at_once(self, raw: Any, step: StepRecord, state: str, data: str, waiting: str,
                            job_rows: list[tuple[Any, ...]],
                            history_rows: list[tuple[Any, ...]]) -> tuple[bool, bool, bool]:
        """The same writes as one statement on PostgreSQL, inside the caller's transaction (which goes on with
        waits and messages): returns (updated, held, incident) as `write_step` does."""
        sql, params = self.step_statement(step, state, data, waiting, job_rows, history_rows, checked=False)
        cur = raw.cursor()
        cur.execute(sql, params)
        updated, done, status = cur.fetchone()
        return updated == 1, step.done_job is None or done == 1, status == "incident" != step.instance.status

    def write_step_alone(self, raw: Any, step: StepRecord, state: str, data: str, waiting: str,
                         job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]]) -> str:
        """A whole step as one statement on a PostgreSQL connection in autocommit mode: the statement is its own
        transaction, so the step costs one round trip, COMMIT and its WAL flush included. A stale version or a
        lost lease raises on the server (`bpmn_runner_check`, codes VERSION_CONFLICT and LEASE_LOST), which
        rolls the whole statement back. Returns the instance's status as written."""
        sql, params = self.step_statement(step, state, data, waiting, job_rows, history_rows, checked=True)
        cur = raw.cursor()
        cur.execute(sql, params)
        return cur.fetchone()[2]

    def step_statement(self, step: StepRecord, state: str, data: str, waiting: str,
                       job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]], *,
                       checked: bool) -> tuple[str, list[Any]]:
        """A step's writes as one PostgreSQL statement (data-modifying WITH clauses): the server plans and runs one
        statement instead of five to eight, and the driver sends one. Every clause sees the rows as they were
        before the statement, so the incident check leaves out the jobs the step deletes (and new jobs count in
        Python); `one_statement_fits` keeps out steps that would change one row in two clauses. The statement
        returns (instance rows written, done job still held, the status written): an instance with an incident
        job that has not ended is written as `incident`. With `checked`, the first two are checked on the
        server instead (an error rolls the statement back)."""
        rec = step.instance
        ended = step.now if rec.status in ENDED else None
        gone = list(step.delete_job_ids)
        if step.done_job is not None and not step.release_done_job:
            gone.append(step.done_job[0])
        new_incident = any(row[_JOB_INSTANCE] == rec.id and row[_JOB_STATUS] == "incident" for row in job_rows)
        if rec.status in ENDED or rec.status == "incident" or new_incident:
            status_sql, status_params = "%s", ["incident" if new_incident and rec.status not in ENDED else rec.status]
        else:
            status_sql = ("CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE instance_id = %s AND status = 'incident'" +
                          (f" AND id NOT IN ({_marks(len(gone))})" if gone else "") + ") THEN 'incident' ELSE %s END")
            status_params = [rec.id, *gone, rec.status]
        if step.expected_version is None:
            columns = [c for c in INSTANCE_COLUMNS if c != "status"]
            clauses = [f"upd AS (INSERT INTO instances ({', '.join(columns)}, status) "
                       f"VALUES ({_marks(len(columns))}, {status_sql}) RETURNING status)"]
            params: list[Any] = [rec.id, rec.business_key, 1, rec.created_at or step.now, rec.definition_hash,
                                 rec.process_id, state, data, waiting, rec.error, step.now, ended, *status_params]
        else:
            clauses = ["upd AS (UPDATE instances SET version = version + 1, definition_hash = %s, process_id = %s, "
                       f"status = {status_sql}, state = %s, data = %s, waiting = %s, error = %s, updated_at = %s, "
                       "ended_at = %s WHERE id = %s AND version = %s RETURNING status)"]
            params = [rec.definition_hash, rec.process_id, *status_params, state, data, waiting, rec.error,
                      step.now, ended, rec.id, step.expected_version]
        held = "1"
        if step.done_job is not None:
            clauses.append("done AS (" + ("UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, "
                                          "last_error = NULL" if step.release_done_job else "DELETE FROM jobs") +
                           " WHERE id = %s AND locked_by = %s AND locked_until > %s RETURNING 1)")
            params += [step.done_job[0], step.done_job[1], step.now]
            held = "(SELECT count(*) FROM done)"
        if step.delete_job_ids:
            clauses.append(f"gone AS (DELETE FROM jobs WHERE id IN ({_marks(len(step.delete_job_ids))}))")
            params += step.delete_job_ids
        for index, (job_id, due) in enumerate(step.timer_updates.items()):
            clauses.append(f"moved{index} AS (UPDATE jobs SET due_at = %s WHERE id = %s)")
            params += [due, job_id]
        for name, insert, rows in (("new_jobs", _INSERT_JOBS, job_rows), ("new_history", _INSERT_HISTORY,
                                                                         history_rows)):
            if rows:
                clauses.append(f"{name} AS ({insert})")
                params.append(json.dumps(rows, separators=(",", ":"), ensure_ascii=False))
        written = "(SELECT count(*) FROM upd)"
        if checked:
            written = f"bpmn_runner_check({written} = 1, '{VERSION_CONFLICT}')"
            if step.done_job is not None:
                held = f"bpmn_runner_check({held} = 1, '{LEASE_LOST}')"
        return f"WITH {', '.join(clauses)} SELECT {written}, {held}, (SELECT status FROM upd)", params

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

    def claim_at_once(self, raw: Any, handlers: Sequence[str], ids: Sequence[str] | None, worker: str, now: float,
                      lease: float, limit: int) -> list[tuple[Any, ...]]:
        """PostgreSQL: select and lease due jobs in one round trip, on a connection in autocommit mode: BEGIN, the
        lease written without waiting for the disk (`SET LOCAL synchronous_commit`: a lease lost in a server crash
        only means the job runs again), one statement that takes the jobs with attempts left as
        `QueueOperations._lease_rows` does in Python, and COMMIT, sent as one pipeline. Returns the rows as they
        were before the claim; the caller builds the same records from them."""
        select = self.claim_query(len(handlers), len(ids) if ids is not None else None, limit)
        sql = (f"WITH sel AS ({select}), took AS (UPDATE jobs SET locked_by = %s, locked_until = %s, "
               f"attempts = sel.attempts + 1, last_error = CASE WHEN sel.locked_by IS NULL THEN sel.last_error "
               f"ELSE {LEASE_EXPIRED_SQL} END FROM sel WHERE jobs.id = sel.id "
               f"AND sel.attempts < sel.max_attempts) SELECT * FROM sel")
        with raw.pipeline():
            raw.execute("BEGIN")
            raw.execute("SET LOCAL synchronous_commit TO OFF")
            cur = raw.cursor()
            cur.execute(sql, [now, now, *handlers, *(ids or []), worker, now + lease])
            raw.execute("COMMIT")
        return list(cur.fetchall())

    def take(self, raw: Any, taken: list[JobRecord]) -> None:
        if taken:
            raw.cursor().executemany(self.take_job, [(j.locked_by, j.locked_until, j.attempts, j.last_error, j.id)
                                                     for j in taken])


def job_row(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[c] for c in JOB_COLUMNS)


def history_row(h: dict[str, Any]) -> tuple[Any, ...]:
    """A history row's values in HISTORY_COLUMNS order (as rows.history_values, without a dict in between)."""
    changes = h.get("data_changes")
    return (h["instance_id"], h.get("process_id") or "", h["element_id"], h["event"], float(h["at"]),
            h.get("element_type") or "", h.get("name") or "",
            json.dumps(changes, separators=(",", ":"), ensure_ascii=False, default=str) if changes else "{}",
            h.get("detail") or "")


def _insert_from_json(table: str, columns: Sequence[str], types: Sequence[str]) -> str:
    """An INSERT of rows sent as one JSON array of arrays (`%s`): one parameter however many rows, so psycopg keeps
    the statement's parsed form cached (it parses a statement of more than 50 parameters again at every call,
    about 1 ms for a step's 350) and the server plans it once."""
    values = ", ".join(f"(r->>{i})::{kind}" for i, kind in enumerate(types))
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM json_array_elements(%s::json) AS r"


_INSERT_JOBS = _insert_from_json("jobs", JOB_COLUMNS, (
    "text", "text", "text", "text", "text", "text", "text", "text", "float8", "integer", "integer", "text", "text",
    "float8", "text", "float8"))
_INSERT_HISTORY = _insert_from_json("history", HISTORY_COLUMNS, (
    "text", "text", "text", "text", "float8", "text", "text", "text", "text"))


def _marks(count: int) -> str:
    return ", ".join("%s" for _ in range(count))


def one_statement_fits(step: StepRecord) -> bool:
    """Whether no job row is changed by two parts of the step (two clauses of one statement may not both change
    a row: PostgreSQL applies only one of them)."""
    touched = list(step.delete_job_ids) + list(step.timer_updates)
    if step.done_job is not None:
        touched.append(step.done_job[0])
    return len(set(touched)) == len(touched)

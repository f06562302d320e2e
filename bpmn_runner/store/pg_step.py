"""PostgreSQL's one-statement step and one-round-trip claim, with native `$n` placeholders.

A step's writes are one statement of data-modifying WITH clauses: the server plans and runs one statement instead
of five to eight, and the driver sends one. It is sent on psycopg's `RawCursor`, which takes `$n` placeholders as
the server does: the default cursor rewrites `%s` with a regular expression, and caches the result only for
statements of 50 parameters or fewer, so W1's start (an instance and 38 history rows, 355 parameters) cost about
1 ms of Python a step; rows sent as JSON instead cost the server twice as long to insert.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from .columns import ENDED, HISTORY_COLUMNS, INSTANCE_COLUMNS, JOB_COLUMNS, LEASE_EXPIRED
from .records import StepRecord

#: SQLSTATEs `bpmn_runner_check` raises (schema version 7): the step's instance changed since it was read; the
#: worker no longer holds the job the step finishes.
VERSION_CONFLICT, LEASE_LOST = "BR409", "BR410"
_JOB_INSTANCE, _JOB_STATUS = JOB_COLUMNS.index("instance_id"), JOB_COLUMNS.index("status")
_LEASE_EXPIRED_SQL = "'" + LEASE_EXPIRED.replace("'", "''").replace("{}", "' || sel.locked_by || '") + "'"
_NEW_COLUMNS = [c for c in INSTANCE_COLUMNS if c != "status"]


class _Binds:
    """Parameters of one statement, each named by its `$n` as it is added."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def many(self, values: Sequence[Any]) -> str:
        start = len(self.values)
        self.values.extend(values)
        return _placeholders(start, 1, len(values))[1:-1]

    def rows(self, rows: Sequence[Sequence[Any]], width: int) -> str:
        """`(...), (...)` for rows of `width` values each."""
        start = len(self.values)
        for row in rows:
            self.values.extend(row)
        return _placeholders(start, len(rows), width)


@lru_cache(maxsize=512)
def _placeholders(start: int, count: int, width: int) -> str:
    """`($s+1, ..., $s+width), ...` for `count` rows (cached: a step's row counts repeat)."""
    return ", ".join("(" + ", ".join(f"${start + row * width + i + 1}" for i in range(width)) + ")"
                     for row in range(count))


def _raw_cursor(raw: Any) -> Any:
    from psycopg import RawCursor  # the store's PostgreSQL driver
    return RawCursor(raw)


def write_step_at_once(raw: Any, step: StepRecord, state: str, data: str, waiting: str,
                       job_rows: list[tuple[Any, ...]],
                       history_rows: list[tuple[Any, ...]]) -> tuple[bool, bool, bool]:
    """A step's writes inside the caller's transaction (a step that publishes or consumes messages, which the
    caller writes next in the same transaction): returns (updated, held, incident) as `HotPath.write_step` does."""
    sql, params = step_statement(step, state, data, waiting, job_rows, history_rows, checked=False)
    cur = _raw_cursor(raw)
    cur.execute(sql, params, prepare=True)
    updated, done, status = cur.fetchone()
    return updated == 1, step.done_job is None or done == 1, status == "incident" != step.instance.status


def write_step_alone(raw: Any, step: StepRecord, state: str, data: str, waiting: str,
                     job_rows: list[tuple[Any, ...]], history_rows: list[tuple[Any, ...]],
                     wait_rows: list[tuple[Any, ...]] | None = None) -> str:
    """A whole step as one statement on a connection in autocommit mode: the statement is its own transaction, so
    the step costs one round trip, COMMIT and its WAL flush included. A stale version or a lost lease raises on
    the server (`bpmn_runner_check`: VERSION_CONFLICT, LEASE_LOST), which rolls the whole statement back.
    `wait_rows` (`wait_rows`), when given, replace the instance's waits. Returns the instance's status as
    written."""
    sql, params = step_statement(step, state, data, waiting, job_rows, history_rows, checked=True,
                                 wait_rows=wait_rows)
    cur = _raw_cursor(raw)
    cur.execute(sql, params, prepare=True)
    return cur.fetchone()[2]


def step_statement(step: StepRecord, state: str, data: str, waiting: str, job_rows: list[tuple[Any, ...]],
                   history_rows: list[tuple[Any, ...]], *, checked: bool,
                   wait_rows: list[tuple[Any, ...]] | None = None) -> tuple[str, list[Any]]:
    """The statement and its parameters. Every clause sees the rows as they were before the statement, so the
    incident check leaves out the jobs the step deletes (and new jobs count in Python); `one_statement_fits` keeps
    out steps that would change one row in two clauses. It returns (instance rows written, done job still held,
    the status written): an instance that has not ended and has an incident job is written as `incident`. With
    `checked`, the first two are checked on the server instead (an error rolls the statement back)."""
    rec = step.instance
    ended = step.now if rec.status in ENDED else None
    gone = list(step.delete_job_ids)
    if step.done_job is not None and not step.release_done_job:
        gone.append(step.done_job[0])
    new_incident = any(row[_JOB_INSTANCE] == rec.id and row[_JOB_STATUS] == "incident" for row in job_rows)
    p = _Binds()

    def status() -> str:
        if rec.status in ENDED or rec.status == "incident" or new_incident:
            return p("incident" if new_incident and rec.status not in ENDED else rec.status)
        left = f" AND id NOT IN ({p.many(gone)})" if gone else ""
        return (f"CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE instance_id = {p(rec.id)} AND status = 'incident'"
                f"{left}) THEN 'incident' ELSE {p(rec.status)} END")
    if step.expected_version is None:
        values = p.many([rec.id, rec.business_key, 1, rec.created_at or step.now, rec.definition_hash,
                         rec.process_id, state, data, waiting, rec.error, step.now, ended])
        clauses = [f"upd AS (INSERT INTO instances ({', '.join(_NEW_COLUMNS)}, status) VALUES ({values}, "
                   f"{status()}) RETURNING status)"]
    else:
        clauses = [f"upd AS (UPDATE instances SET version = version + 1, definition_hash = {p(rec.definition_hash)}, "
                   f"process_id = {p(rec.process_id)}, status = {status()}, state = {p(state)}, data = {p(data)}, "
                   f"waiting = {p(waiting)}, error = {p(rec.error)}, updated_at = {p(step.now)}, ended_at = {p(ended)} "
                   f"WHERE id = {p(rec.id)} AND version = {p(step.expected_version)} RETURNING status)"]
    held = "1"
    if step.done_job is not None:
        change = ("UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, last_error = NULL"
                  if step.release_done_job else "DELETE FROM jobs")
        clauses.append(f"done AS ({change} WHERE id = {p(step.done_job[0])} AND locked_by = {p(step.done_job[1])} "
                       f"AND locked_until > {p(step.now)} RETURNING 1)")
        held = "(SELECT count(*) FROM done)"
    if step.delete_job_ids:
        clauses.append(f"gone AS (DELETE FROM jobs WHERE id IN ({p.many(step.delete_job_ids)}))")
    for index, (job_id, due) in enumerate(step.timer_updates.items()):
        clauses.append(f"moved{index} AS (UPDATE jobs SET due_at = {p(due)} WHERE id = {p(job_id)})")
    for name, table, columns, rows in (("new_jobs", "jobs", JOB_COLUMNS, job_rows),
                                       ("new_history", "history", HISTORY_COLUMNS, history_rows)):
        if rows:
            values = p.rows(rows, len(columns))
            clauses.append(f"{name} AS (INSERT INTO {table} ({', '.join(columns)}) VALUES {values})")
    if wait_rows is not None:
        clauses += _replace_waits(p, rec.id, wait_rows)
    written = "(SELECT count(*) FROM upd)"
    if checked:
        written = f"bpmn_runner_check({written} = 1, '{VERSION_CONFLICT}')"
        if step.done_job is not None:
            held = f"bpmn_runner_check({held} = 1, '{LEASE_LOST}')"
    return f"WITH {', '.join(clauses)} SELECT {written}, {held}, (SELECT status FROM upd)", p.values


WAIT_COLUMNS = ("instance_id", "task_id", "kind", "event_name", "element_id", "name", "correlation_key", "form",
                "created_at")
_WAIT_KEY = "(task_id, kind, event_name)"


def wait_rows(step: StepRecord, form_json: Any) -> list[tuple[Any, ...]]:
    """The instance's waits after the step, one row per (task, kind, event name), in WAIT_COLUMNS order."""
    rows: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for w in step.waits:
        key = (w.task_id, w.kind, w.event_name)
        if key not in rows:
            rows[key] = (step.instance.id, w.task_id, w.kind, w.event_name, w.element_id, w.name, w.correlation_key,
                         form_json(w.form), w.created_at or step.now)
    return list(rows.values())


def _replace_waits(p: _Binds, instance_id: str, rows: list[tuple[Any, ...]]) -> list[str]:
    """Clauses that make the instance's waits `rows`: the others deleted, these inserted or (already there)
    updated, keeping when they began. The two touch different rows, as one statement must."""
    keep = f" AND {_WAIT_KEY} NOT IN ({p.rows([r[1:4] for r in rows], 3)})" if rows else ""
    clauses = [f"stale_waits AS (DELETE FROM waits WHERE instance_id = {p(instance_id)}{keep})"]
    if rows:
        clauses.append(f"new_waits AS (INSERT INTO waits ({', '.join(WAIT_COLUMNS)}) VALUES "
                       f"{p.rows(rows, len(WAIT_COLUMNS))} ON CONFLICT (instance_id, task_id, kind, event_name) "
                       f"DO UPDATE SET element_id = EXCLUDED.element_id, name = EXCLUDED.name, "
                       f"correlation_key = EXCLUDED.correlation_key, form = EXCLUDED.form)")
    return clauses


def one_statement_fits(step: StepRecord) -> bool:
    """Whether no job row is changed by two parts of the step (two clauses of one statement may not both change
    a row: PostgreSQL applies only one of them)."""
    touched = list(step.delete_job_ids) + list(step.timer_updates)
    if step.done_job is not None:
        touched.append(step.done_job[0])
    return len(set(touched)) == len(touched)


def claim_at_once(raw: Any, select: str, params: list[Any], worker: str, until: float) -> list[tuple[Any, ...]]:
    """Select and lease due jobs in one statement on a connection in autocommit mode: it takes the jobs with
    attempts left as `QueueOperations._lease_rows` does in Python, and returns the rows as they were before the
    claim (the caller builds the same records from them). The lease is committed without waiting for the disk
    (`set_config('synchronous_commit', 'off', true)`, for this statement's transaction only): a lease lost in a
    server crash only means the job runs again. `select` is `HotPath.claim_query` (`%s` placeholders)."""
    sql = (f"WITH sel AS ({select}), took AS (UPDATE jobs SET locked_by = %s, locked_until = %s, "
           f"attempts = sel.attempts + 1, last_error = CASE WHEN sel.locked_by IS NULL THEN sel.last_error "
           f"ELSE {_LEASE_EXPIRED_SQL} END FROM sel WHERE jobs.id = sel.id "
           f"AND sel.attempts < sel.max_attempts) "
           f"SELECT sel.*, set_config('synchronous_commit', 'off', true) FROM sel")
    cur = raw.cursor()
    cur.execute(sql, [*params, worker, until], prepare=True)
    return [row[:-1] for row in cur.fetchall()]

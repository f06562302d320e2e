"""Versioned schema migrations, applied in order when a store is opened.

Each migration is a function of a connection inside one transaction, written against the tables as they were at
its version (never against `schema.py`, which describes the newest version only). A `schema_version` table holds
the version a database is at; opening a database from a newer bpmn-runner is refused rather than guessed at.
Concurrent openers are serialised: a PostgreSQL advisory lock, SQLite's `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (BigInteger, Column, Connection, Engine, Float, Index, Integer, MetaData,
                        PrimaryKeyConstraint, String, Table, Text, UniqueConstraint, inspect, text)

from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from .schema import SCHEMA_VERSION

_ADVISORY_LOCK = 0x62706D6E  # "bpmn"
_OPEN_ONLY = text("status NOT IN ('completed', 'cancelled', 'failed')")


def _v1_tables(md: MetaData) -> None:
    """The first schema, frozen as it shipped."""
    Table("definitions", md,
          Column("hash", String(64), primary_key=True), Column("family", String(16), nullable=False),
          Column("process_ids", Text, nullable=False), Column("sources", Text, nullable=False),
          Column("catalog", Text, nullable=False), Column("created_at", Float, nullable=False))
    Table("processes", md,
          Column("process_id", String(255), nullable=False), Column("version", Integer, nullable=False),
          Column("definition_hash", String(64), nullable=False), Column("created_at", Float, nullable=False),
          PrimaryKeyConstraint("process_id", "version", name="pk_processes"),
          UniqueConstraint("process_id", "definition_hash", name="uq_processes_hash"))
    Table("instances", md,
          Column("id", String(64), primary_key=True), Column("definition_hash", String(64), nullable=False),
          Column("process_id", String(255), nullable=False), Column("business_key", String(255)),
          Column("status", String(16), nullable=False), Column("state", Text, nullable=False),
          Column("version", Integer, nullable=False), Column("data", Text, nullable=False),
          Column("waiting", Text, nullable=False), Column("error", Text),
          Column("created_at", Float, nullable=False), Column("updated_at", Float, nullable=False),
          Index("ix_instances_status", "status"), Index("ix_instances_process", "process_id"),
          Index("ux_instances_open_business_key", "business_key", unique=True,
                sqlite_where=_OPEN_ONLY, postgresql_where=_OPEN_ONLY))
    Table("jobs", md,
          Column("id", String(64), primary_key=True), Column("instance_id", String(64)),
          Column("kind", String(16), nullable=False), Column("task_id", String(64), nullable=False),
          Column("element_id", String(255), nullable=False), Column("handler", String(255)),
          Column("payload", Text, nullable=False), Column("status", String(16), nullable=False),
          Column("due_at", Float, nullable=False), Column("attempts", Integer, nullable=False),
          Column("max_attempts", Integer, nullable=False), Column("backoff", Text),
          Column("locked_by", String(128)), Column("locked_until", Float), Column("last_error", Text),
          Column("created_at", Float, nullable=False),
          Index("ix_jobs_due", "status", "due_at"), Index("ix_jobs_instance", "instance_id"))
    Table("history", md,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("instance_id", String(64), nullable=False), Column("process_id", String(255), nullable=False),
          Column("element_id", String(255), nullable=False), Column("event", String(16), nullable=False),
          Column("at", Float, nullable=False), Column("element_type", String(64), nullable=False),
          Column("name", Text, nullable=False), Column("data_changes", Text, nullable=False),
          Column("detail", Text, nullable=False),
          Index("ix_history_instance", "instance_id", "id"))
    Table("waits", md,
          Column("instance_id", String(64), nullable=False), Column("task_id", String(64), nullable=False),
          Column("kind", String(16), nullable=False), Column("event_name", String(255), nullable=False),
          Column("element_id", String(255), nullable=False), Column("name", Text, nullable=False),
          Column("correlation_key", String(255)), Column("form", Text, nullable=False),
          Column("created_at", Float, nullable=False),
          PrimaryKeyConstraint("instance_id", "task_id", "kind", "event_name", name="pk_waits"),
          Index("ix_waits_event", "kind", "event_name", "correlation_key"), Index("ix_waits_task", "task_id"))
    Table("messages", md,
          Column("id", String(64), primary_key=True), Column("name", String(255), nullable=False),
          Column("correlation_key", String(255)), Column("business_key", String(255)),
          Column("payload", Text, nullable=False), Column("message_id", String(255), unique=True),
          Column("status", String(16), nullable=False), Column("source_instance_id", String(64)),
          Column("target_instance_id", String(64)), Column("created_at", Float, nullable=False),
          Column("expires_at", Float, nullable=False), Column("consumed_at", Float),
          Index("ix_messages_name", "status", "name"), Index("ix_messages_target", "target_instance_id"),
          Index("ix_messages_source", "source_instance_id"))


def _to_v1(conn: Connection) -> None:
    md = MetaData()
    _v1_tables(md)
    md.create_all(conn)


def _to_v2(conn: Connection) -> None:
    """Instances record when they ended; history is indexed by element for heatmaps."""
    conn.execute(text("ALTER TABLE instances ADD COLUMN ended_at FLOAT"))
    conn.execute(text("UPDATE instances SET ended_at = updated_at "
                      "WHERE status IN ('completed', 'cancelled', 'failed')"))
    conn.execute(text("CREATE INDEX ix_history_element ON history (element_id)"))


def _to_v3(conn: Connection) -> None:
    """An index for every query the CLI and the workers make, so that listing, showing, claiming and cleaning up
    stay fast with millions of instances: listings are oldest first and paged on (created_at, id)."""
    for statement in (
            "DROP INDEX ix_instances_status",
            "DROP INDEX ix_instances_process",
            "CREATE INDEX ix_instances_created ON instances (created_at, id)",
            "CREATE INDEX ix_instances_status_created ON instances (status, created_at, id)",
            "CREATE INDEX ix_instances_process_created ON instances (process_id, created_at, id)",
            "CREATE INDEX ix_instances_business_key ON instances (business_key)",
            "CREATE INDEX ix_instances_ended ON instances (ended_at)",
            "CREATE INDEX ix_jobs_kind_due ON jobs (kind, status, due_at)",
            "CREATE INDEX ix_waits_kind_created ON waits (kind, created_at, instance_id)"):
        conn.execute(text(statement))


def _to_v4(conn: Connection) -> None:
    """Business keys are no longer unique among open instances (Camunda 7 allows two instances one key); a job
    keeps the traceback of the handler whose failure made it an incident."""
    conn.execute(text("DROP INDEX ux_instances_open_business_key"))
    conn.execute(text("ALTER TABLE jobs ADD COLUMN last_traceback TEXT"))


def _to_v5(conn: Connection) -> None:
    """The broker bridge's outbox (messages thrown, written with their step) and inbox (event ids seen)."""
    md = MetaData()
    Table("outbox", md,
          Column("id", String(64), primary_key=True), Column("name", String(255), nullable=False),
          Column("instance_id", String(64), nullable=False), Column("business_key", String(255)),
          Column("correlation_key", String(255)), Column("payload", Text, nullable=False),
          Column("created_at", Float, nullable=False), Column("published_at", Float),
          Column("locked_by", String(128)), Column("locked_until", Float),
          Index("ix_outbox_pending", "published_at", "name", "created_at"),
          Index("ix_outbox_instance", "instance_id"))
    Table("inbox", md,
          Column("event_id", String(255), primary_key=True), Column("message_id", String(64), nullable=False),
          Column("received_at", Float, nullable=False))
    md.create_all(conn)


def _to_v6(conn: Connection) -> None:
    """History is no longer indexed by element: no query filters on it (heatmaps read by instance), and keeping it
    cost every committed step about 11 of its 26 written SQLite pages, 0.1 ms (bench/step_breakdown.py)."""
    conn.execute(text("DROP INDEX IF EXISTS ix_history_element"))


def _to_v7(conn: Connection) -> None:
    """PostgreSQL: `bpmn_runner_check(ok, code)`, which raises SQLSTATE `code` unless `ok`. A step is then one
    statement in autocommit mode (one round trip, COMMIT included) that still rolls back on the server when its
    instance changed or its worker lost the job's lease (store/hot_path.py). Nothing to do on SQLite."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(
        "CREATE OR REPLACE FUNCTION bpmn_runner_check(ok boolean, code text) RETURNS integer "
        "LANGUAGE plpgsql VOLATILE AS $$ BEGIN IF ok THEN RETURN 1; END IF; "
        "RAISE EXCEPTION 'bpmn-runner check % failed', code USING ERRCODE = code; END $$"))


def _to_v8(conn: Connection) -> None:
    """`history.started_at`: an element entered and completed in the same step is one row, not two (a W1 start
    writes 14 history rows instead of 27; rows written before keep their two rows and read the same)."""
    conn.execute(text("ALTER TABLE history ADD COLUMN started_at FLOAT"))


#: (version reached, migration) in order; the last version is schema.SCHEMA_VERSION.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [(1, _to_v1), (2, _to_v2), (3, _to_v3), (4, _to_v4),
                                                         (5, _to_v5), (6, _to_v6), (7, _to_v7), (8, _to_v8)]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    return int(value or 0)


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to `target` (the newest by default); returns the version it was at."""
    if target == SCHEMA_VERSION:
        found = _version_if_current(engine)
        if found is not None:
            return found
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        found = current_version(conn)
        if found > SCHEMA_VERSION:
            raise StoreError(f"the database is at schema version {found}, newer than this bpmn-runner "
                             f"understands ({SCHEMA_VERSION}); upgrade bpmn-runner")
        if found >= target:
            return found
        if found == 0:
            conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        for version, step in MIGRATIONS:
            if found < version <= target:
                step(conn)
                conn.execute(text("DELETE FROM schema_version"))
                conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": version})
        return found


def _version_if_current(engine: Engine) -> int | None:
    """The version, read in one query without a lock, when it is the newest (every open of a store asks)."""
    try:
        with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            found = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
            conn.rollback()
    except SQLAlchemyError:
        return None  # no schema_version table yet: the locked path creates it
    return int(found) if found == SCHEMA_VERSION else None


def version_of(engine: Engine) -> int:
    with engine.connect() as conn:
        return current_version(conn)


__all__ = ["MIGRATIONS", "current_version", "migrate", "version_of"]

"""Opening a store: resolve the URL, create the engine with the right transaction behaviour, migrate.

- No URL given: `BPMN_RUNNER_DB`, else the SQLite file `./.bpmn-runner/bpmn-runner.db` (the folder is created).
- SQLite: WAL journal, a busy timeout, and `BEGIN IMMEDIATE` for every write transaction, so that two writers
  queue instead of failing halfway; reads begin deferred. Several processes on one host can share the file.
- PostgreSQL: `postgresql://` and `postgres://` URLs use psycopg 3 (`postgresql+psycopg://`). Several hosts can
  share one database; jobs are claimed with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import StoreError
from .migrations import migrate
from .repository import Store

ENV_VAR = "BPMN_RUNNER_DB"
DEFAULT_FOLDER = ".bpmn-runner"
DEFAULT_FILE = "bpmn-runner.db"
SQLITE_CHECKPOINT_PAGES = 10_000
SQLITE_BUSY_MS = 30_000


def resolve_url(url: str | None = None) -> str:
    """The store URL to use: the one given, else $BPMN_RUNNER_DB, else the SQLite file under ./.bpmn-runner/."""
    if url:
        return url
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return f"sqlite:///{Path(DEFAULT_FOLDER) / DEFAULT_FILE}"


def _normalise(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(_normalise(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_sql_engine(url: str) -> Engine:
    url = _normalise(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"--db {url!r} is not a database URL (try sqlite:///path/to/file.db or "
                         f"postgresql://user@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise StoreError("an in-memory SQLite store cannot be shared by workers; give a file: "
                             "sqlite:///path/to/file.db")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False},
                               pool_size=8, max_overflow=8)
        _sqlite_transactions(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # no pool_pre_ping: it costs a round trip per transaction; a connection lost in a server restart fails one
        # transaction (a StoreError the worker retries) and SQLAlchemy then replaces the pool
        return create_engine(parsed, pool_size=8, max_overflow=8)
    raise StoreError(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://...")


def _sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint the WAL into the database every ~40 MB instead of every 4 MB: a checkpoint waits for the disk,
        # and spread over ten times more commits it costs a committed step about 0.2 ms less (bench/store_bench.py).
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.connection.driver_connection.execute(f"BEGIN {mode}")  # on the driver: a step's hot path


def open_store(url: str | None = None, *, migrate_schema: bool = True) -> Store:
    """Open (and create or migrate) the store at `url`, resolved as `resolve_url` does."""
    resolved = resolve_url(url)
    engine = create_sql_engine(resolved)
    try:
        if migrate_schema:
            migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store {describe(resolved)} (is the server up and the URL right?): "
                         f"{_first_line(exc)}") from exc
    return Store(engine, describe(resolved))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

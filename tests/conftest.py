"""Shared fixtures: a fresh store per test on SQLite and (parametrized) on PostgreSQL.

PostgreSQL is 127.0.0.1:5432, database `test` (or `BPMN_RUNNER_TEST_PG_URL`); each test gets its own schema
(through `search_path`), dropped afterwards. Where no PostgreSQL is reachable those tests skip with the reason,
unless `BPMN_RUNNER_REQUIRE_PG=1` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
_pg_state: dict[str, object] = {}


def pg_base_url() -> str:
    return os.environ.get("BPMN_RUNNER_TEST_PG_URL", "").strip() or DEFAULT_PG_URL


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); checked once per run."""
    if "problem" not in _pg_state:
        try:
            import psycopg
            with psycopg.connect(pg_base_url().replace("postgresql+psycopg://", "postgresql://"),
                                 connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["problem"] = None
        except Exception as exc:  # any reason: no server, no database, no driver
            _pg_state["problem"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return _pg_state["problem"]  # type: ignore[return-value]


def require_pg() -> None:
    problem = pg_problem()
    if problem is None:
        return
    message = f"PostgreSQL not reachable at {pg_base_url()} ({problem})"
    if os.environ.get("BPMN_RUNNER_REQUIRE_PG") == "1":
        pytest.fail(message + "; BPMN_RUNNER_REQUIRE_PG=1 makes this a failure")
    pytest.skip(message + "; set BPMN_RUNNER_TEST_PG_URL to use another server")


class PgSchema:
    """A throw-away schema on the test server, and a store URL whose search_path points at it."""

    def __init__(self) -> None:
        import psycopg
        self.name = f"bpmn_test_{uuid.uuid4().hex[:12]}"
        self.base = pg_base_url()
        self._psycopg = psycopg
        with psycopg.connect(self._plain(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')
        separator = "&" if "?" in self.base else "?"
        self.url = f"{self.base}{separator}options={quote(f'-csearch_path={self.name}')}"

    def _plain(self) -> str:
        return self.base.replace("postgresql+psycopg://", "postgresql://")

    def drop(self) -> None:
        with self._psycopg.connect(self._plain(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL on PostgreSQL with a fresh schema (skips, or fails in CI, without a server)."""
    require_pg()
    schema = PgSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store URL: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    from bpmn_runner.store import open_store
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()

"""The PostgreSQL store's own autocommit connections, which one-statement steps and claims use instead of the pool:
a connection the server drops fails one step (a StoreError, as with the pool) and the next step opens a new one;
beyond the limit the work borrows from the pool; closing the store closes them."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bpmn_runner.errors import StoreError
from bpmn_runner.store import open_store
from bpmn_runner.store.autocommit import AUTOCOMMIT_CONNECTIONS, AutocommitConnections

from .durable import MovableClock, registry, three_services
from .durable import runtime as make_runtime

pytestmark = pytest.mark.postgres


def _backend_pids(store) -> set[int]:
    own = store._own_autocommit
    return {raw.info.backend_pid for raw in own._idle}


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_connection_the_server_drops_fails_one_step_and_the_next_runs(pg_url: str, tmp_path: Path) -> None:
    """Given a store whose own connection the server terminated (a restart, an administrator), When an instance is
    started, Then that start fails with a StoreError and stores nothing, and the next start runs to its end."""
    store = open_store(pg_url)
    try:
        rt = make_runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}),
                          MovableClock(), commit="wait-states")
        path = three_services(tmp_path)
        assert rt.start([path])["status"] == "completed"
        pids = _backend_pids(store)
        assert len(pids) == 1
        with psycopg.connect(_plain(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [next(iter(pids))])
        with pytest.raises(StoreError):
            rt.start([path])
        assert rt.start([path])["status"] == "completed"
        assert _backend_pids(store).isdisjoint(pids)
        assert [i["status"] for i in rt.list_instances()] == ["completed", "completed"]
    finally:
        store.close()


def test_beyond_the_limit_the_work_borrows_from_the_pool_and_close_closes_them(pg_url: str, tmp_path: Path) -> None:
    """Given every one of the store's own connections busy, When an instance is started, Then its step runs on a
    connection from the pool; a set of them hands out at most its limit and opens nothing once closed."""
    store = open_store(pg_url)
    try:
        rt = make_runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}),
                          MovableClock(), commit="wait-states")
        busy = [store._own_autocommit.take() for _ in range(AUTOCOMMIT_CONNECTIONS)]
        assert None not in busy and store._own_autocommit.take() is None
        assert rt.start([three_services(tmp_path)])["status"] == "completed"
        assert store._own_autocommit._idle == []  # the step did not use one of them
        for raw in busy:
            store._own_autocommit.give_back(raw)
        own = AutocommitConnections(store.engine, limit=1)
        first = own.take()
        assert first is not None and first.autocommit
        assert own.take() is None  # the limit: the caller uses the pool
        own.give_back(first)
        assert own.take() is first
        own.give_back(first)
        own.close()
        assert first.closed
        assert own.take() is None  # closed: nothing new is opened
    finally:
        store.close()


def test_closing_the_store_closes_its_own_connections(pg_url: str, tmp_path: Path) -> None:
    store = open_store(pg_url)
    rt = make_runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}),
                      MovableClock(), commit="wait-states")
    rt.start([three_services(tmp_path)])
    idle = list(store._own_autocommit._idle)
    assert idle
    store.close()
    assert all(raw.closed for raw in idle)

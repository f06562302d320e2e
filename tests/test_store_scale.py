"""A store that stays fast (issue 15, item 3): listings paged on an index, retention with `cleanup`, and the
schema version 3 migration that adds the indexes. The timings at a million instances live in bench/store_queries.py;
here: what a user sees, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, insert
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.errors import NotFoundError
from bpmn_runner.store import SCHEMA_VERSION, open_store, schema
from bpmn_runner.store.database import create_sql_engine
from bpmn_runner.store.migrations import migrate, version_of

from .durable import MovableClock, registry, runtime, three_services, user_task_process, worker

STATES = Path(__file__).parent / "data" / "states"
runner = CliRunner()


def _ids(rows: list[dict]) -> list[str]:
    return [r["instance_id"] for r in rows]


def test_instances_come_in_pages_oldest_first(db_url: str, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(db_url, registry(), clock)
    path = three_services(tmp_path)
    started = []
    for n in range(7):
        started.append(rt.start([path], business_key=f"K-{n}")["instance_id"])
        clock.advance(seconds=1)
    first = rt.list_instances(limit=3)
    second = rt.list_instances(limit=3, after=first[-1]["instance_id"])
    last = rt.list_instances(limit=3, after=second[-1]["instance_id"])
    assert _ids(first) + _ids(second) + _ids(last) == started and len(last) == 1
    assert _ids(rt.list_instances(status="running", limit=2, after=started[3])) == started[4:6]
    assert _ids(rt.list_instances(business_key="K-5")) == [started[5]]
    with pytest.raises(NotFoundError):
        rt.list_instances(limit=2, after="no-such-instance")
    rt.store.close()


def test_a_waiting_instance_whose_timer_is_due_pages_as_running(db_url: str, tmp_path: Path) -> None:
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    from .durable import END, START, chain, write
    path = write(tmp_path, "timer.bpmn", START + timer + END + chain("start", "wait", "end"))
    clock = MovableClock()
    rt = runtime(db_url, registry(), clock)
    early = rt.start([path])["instance_id"]
    clock.advance(minutes=30)
    late = rt.start([path])["instance_id"]
    assert _ids(rt.list_instances(status="waiting")) == [early, late]
    clock.advance(minutes=45)  # the first timer is due, the second not yet
    assert _ids(rt.list_instances(status="running", limit=5)) == [early]
    assert _ids(rt.list_instances(status="waiting", limit=5)) == [late]
    rt.store.close()


def test_cleanup_removes_only_instances_that_ended_before_the_date(db_url: str, tmp_path: Path) -> None:
    clock = MovableClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    rt = runtime(db_url, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {},
                                  record=lambda c: {}), clock)
    old = rt.start([three_services(tmp_path)])["instance_id"]
    worker(rt).run_once()
    waiting = rt.start([user_task_process(tmp_path)])["instance_id"]  # open: never removed
    clock.advance(days=10)
    recent = rt.start([three_services(tmp_path)])["instance_id"]
    worker(rt).run_once()
    assert {i["instance_id"]: i["status"] for i in rt.list_instances()} == {
        old: "completed", waiting: "waiting", recent: "completed"}
    before = datetime(2030, 1, 5, tzinfo=timezone.utc).timestamp()
    counts = rt.store.cleanup(before)
    assert counts["instances"] == 1 and counts["history"] > 0
    assert set(_ids(rt.list_instances())) == {waiting, recent}
    assert rt.store.history_of(old) == [] and rt.store.history_of(recent) != []
    rt.store.close()


def test_cleanup_can_keep_the_history(db_url: str, tmp_path: Path) -> None:
    rt = runtime(db_url, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}), MovableClock())
    done = rt.start([three_services(tmp_path)])["instance_id"]
    worker(rt).run_once()
    counts = rt.store.cleanup(datetime(2031, 1, 1, tzinfo=timezone.utc).timestamp(), keep_history=True)
    assert counts == {"instances": 1, "history": 0, "jobs": 0, "waits": 0, "messages": 0}
    assert rt.list_instances() == [] and len(rt.store.history_of(done)) > 5  # the heatmap still counts it
    rt.store.close()


def test_cleanup_and_paging_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    path = three_services(tmp_path)
    ids = [runner.invoke(app, ["start", str(path), "--db", db]).stdout.strip() for _ in range(3)]
    page = runner.invoke(app, ["instances", "--db", db, "--limit", "2", "--json"])
    assert page.exit_code == 0, page.stderr
    out = json.loads(page.stdout)
    assert _ids(out["instances"]) == ids[:2] and out["next_after"] == ids[1]
    rest = runner.invoke(app, ["instances", "--db", db, "-n", "2", "--after", ids[1]])
    assert rest.exit_code == 0 and ids[2] in rest.stdout and ids[0] not in rest.stdout and "--after" not in rest.stdout
    text = runner.invoke(app, ["instances", "--db", db, "-n", "2"])
    assert f"(more: --after {ids[1]})" in text.stdout
    cleaned = runner.invoke(app, ["cleanup", "--db", db, "--finished-before", "2100-01-01"])
    assert cleaned.exit_code == 0 and "removed 0 instance(s)" in cleaned.stdout  # all three are still running
    bad = runner.invoke(app, ["cleanup", "--db", db, "--finished-before", "last tuesday"])
    assert bad.exit_code == 2 and "is not a date" in bad.stderr and "Traceback" not in bad.stderr


def test_a_version_5_store_loses_the_history_element_index_and_keeps_its_history(db_url: str) -> None:
    # version 6: no query filters history by element, and the index cost every committed step pages to write
    fixture = json.loads((STATES / "store-v1.json").read_text())
    engine = create_sql_engine(db_url)
    migrate(engine, target=5)
    assert "ix_history_element" in {i["name"] for i in inspect(engine).get_indexes("history")}
    with engine.begin() as conn:
        for name, rows in fixture["tables"].items():
            if rows:
                conn.execute(insert(schema.metadata.tables[name]), rows)
    engine.dispose()
    store = open_store(db_url)
    assert version_of(store.engine) == SCHEMA_VERSION
    assert {i["name"] for i in inspect(store.engine).get_indexes("history")} == {"ix_history_instance"}
    some = fixture["tables"]["history"][0]["instance_id"]
    assert len(store.history_of(some)) == sum(r["instance_id"] == some for r in fixture["tables"]["history"]) > 0
    store.close()


def test_a_version_2_store_is_migrated_with_the_version_3_indexes(db_url: str) -> None:
    fixture = json.loads((STATES / "store-v1.json").read_text())
    engine = create_sql_engine(db_url)
    migrate(engine, target=2)
    with engine.begin() as conn:
        for name, rows in fixture["tables"].items():
            if rows:
                conn.execute(insert(schema.metadata.tables[name]), rows)
    engine.dispose()
    store = open_store(db_url)
    assert version_of(store.engine) == SCHEMA_VERSION
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("instances")}
    assert {"ix_instances_status_created", "ix_instances_process_created", "ix_instances_ended"} <= indexes
    assert "ix_instances_status" not in indexes
    listed = store.list_instances(status="completed", limit=5)
    assert [r.status for r in listed] == ["completed"]
    store.close()

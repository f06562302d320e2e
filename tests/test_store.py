"""The store: schema and migrations, saved states from earlier versions, optimistic concurrency, business keys,
definitions by content hash, URL resolution. Runs on SQLite and on PostgreSQL where reachable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, insert, text

from bpmn_runner import Engine, load
from bpmn_runner.errors import ConcurrentUpdateError, InvalidOperationError, NotFoundError, StoreError
from bpmn_runner.durable import content_hash, key_string, parse_duration
from bpmn_runner.store import SCHEMA_VERSION, open_store, resolve_url
from bpmn_runner.store import schema
from bpmn_runner.store.database import create_sql_engine
from bpmn_runner.store.migrations import migrate, version_of

from .durable import MovableClock, registry, runtime, three_services, user_task_process, worker

STATES = Path(__file__).parent / "data" / "states"


# ----- schema and migrations --------------------------------------------------------------------------------

def test_a_new_store_has_the_current_schema_version_and_exactly_the_declared_tables(store) -> None:
    assert version_of(store.engine) == SCHEMA_VERSION
    found = inspect(store.engine)
    declared = {t.name: t for t in schema.metadata.sorted_tables}
    assert set(found.get_table_names()) == set(declared)
    for name, table in declared.items():
        assert {c["name"] for c in found.get_columns(name)} == {c.name for c in table.columns}, name
        assert {i["name"] for i in found.get_indexes(name)} >= {i.name for i in table.indexes if i.name}, name


def test_a_version_1_store_is_migrated_and_its_instances_resume(db_url: str) -> None:
    fixture = json.loads((STATES / "store-v1.json").read_text())
    engine = create_sql_engine(db_url)
    assert migrate(engine, target=1) == 0
    assert version_of(engine) == 1
    with engine.begin() as conn:
        assert "ended_at" not in {c["name"] for c in inspect(conn).get_columns("instances")}
        for name, rows in fixture["tables"].items():
            if rows:
                conn.execute(insert(schema.metadata.tables[name]), rows)
    engine.dispose()

    store = open_store(db_url)  # migrates to the current version on open
    assert version_of(store.engine) == SCHEMA_VERSION
    by_status = {i.status: i for i in store.list_instances()}
    assert by_status["completed"].ended_at == by_status["completed"].updated_at  # backfilled
    assert by_status["waiting"].ended_at is None
    rt = runtime(store, registry(record=lambda c: {"recorded": True}), MovableClock())
    rt.complete_task(rt.list_tasks()[0]["task_id"], {"approved": True})
    worker(rt).run_once()
    shown = rt.show(by_status["waiting"].id)
    assert shown["status"] == "completed" and shown["data"]["recorded"] is True
    store.close()


def test_a_version_3_store_upgrades_to_non_unique_business_keys_and_job_tracebacks(db_url: str,
                                                                                   tmp_path: Path) -> None:
    """Version 4 drops the unique index on open business keys (Camunda 7 allows two instances one key) and gives
    jobs a `last_traceback` column; a version-3 store's instances keep working after the upgrade."""
    fixture = json.loads((STATES / "store-v1.json").read_text())
    engine = create_sql_engine(db_url)
    migrate(engine, target=3)
    with engine.begin() as conn:
        assert "ux_instances_open_business_key" in {i["name"] for i in inspect(conn).get_indexes("instances")}
        assert "last_traceback" not in {c["name"] for c in inspect(conn).get_columns("jobs")}
        for name, rows in fixture["tables"].items():
            if rows:
                conn.execute(insert(schema.metadata.tables[name]), rows)
    engine.dispose()

    store = open_store(db_url)
    assert version_of(store.engine) == SCHEMA_VERSION
    found = inspect(store.engine)
    assert "ux_instances_open_business_key" not in {i["name"] for i in found.get_indexes("instances")}
    assert "last_traceback" in {c["name"] for c in found.get_columns("jobs")}
    rt = runtime(store, registry(record=lambda c: {"recorded": True}), MovableClock())
    path = user_task_process(tmp_path)
    assert rt.start([path], business_key="K")["status"] == "waiting"
    assert rt.start([path], business_key="K")["status"] == "waiting"  # refused at version 3
    waiting = [i for i in store.list_instances() if i.status == "waiting" and i.business_key != "K"]
    task = next(t for t in rt.list_tasks() if t["instance_id"] == waiting[0].id)
    rt.complete_task(task["task_id"], {"approved": True})
    worker(rt).run_once()
    assert rt.show(waiting[0].id)["status"] == "completed"
    store.close()


def test_a_store_from_a_newer_bpmn_runner_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    open_store(url).close()
    engine = create_sql_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this bpmn-runner"):
        open_store(url)


def test_opening_twice_does_not_migrate_twice(db_url: str) -> None:
    open_store(db_url).close()
    again = open_store(db_url)
    assert version_of(again.engine) == SCHEMA_VERSION
    again.close()


# ----- saved states from earlier versions -------------------------------------------------------------------

STATE_FIXTURES = sorted(p.name for p in STATES.glob("*@*.json"))


def test_there_are_state_fixtures_from_earlier_versions() -> None:
    assert len(STATE_FIXTURES) >= 8
    assert {n.split("@")[1] for n in STATE_FIXTURES} >= {"616b499.json", "466b2d1.json"}


@pytest.mark.parametrize("name", STATE_FIXTURES)
def test_a_state_saved_by_an_earlier_version_loads_and_finishes(name: str) -> None:
    fixture = json.loads((STATES / name).read_text())
    clock = MovableClock()
    handlers = registry(record=lambda c: {}, after=lambda c: {}, step_a=lambda c: {}, step_b=lambda c: {},
                        step_c=lambda c: {})
    engine = Engine(handlers, jobs=True, timer_wait=0, clock=clock)
    definitions = load([STATES / f for f in fixture["files"]])
    instance = engine.restore(definitions, fixture["process_id"], fixture["state"], fixture["instance_id"])
    assert [w.element_id for w in instance.waiting()] == fixture["waiting"]
    for step in fixture["resume"]:
        if "complete_user_task" in step:
            task = next(w for w in instance.waiting() if w.element_id == step["complete_user_task"])
            instance.complete_user_task(task.task_id, step["data"])
        elif "service" in step:
            task = next(w for w in instance.waiting() if w.element_id == step["service"])
            instance.complete_service_task(task.task_id, step["result"])
        elif "fire_timers_after_hours" in step:
            clock.advance(hours=step["fire_timers_after_hours"])
            instance.fire_due_timers()
        elif "message" in step:
            assert instance.send_message(step["message"], step["payload"])
        instance.run()
        instance.take_new_jobs()
    assert instance.status() == fixture["expect"]["status"]
    data = instance.result().data
    assert {k: data.get(k) for k in fixture["expect"]["data"]} == fixture["expect"]["data"]


# ----- concurrency and uniqueness ---------------------------------------------------------------------------

def test_two_steps_from_the_same_version_cannot_both_commit(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    iid = rt.start([user_task_process(tmp_path)])["instance_id"]
    record, jobs = store.load_for_step(iid)
    first = rt.steps.build_step(rt.restore(record), record, jobs, expected_version=record.version, consumed=[])
    second = rt.steps.build_step(rt.restore(record), record, jobs, expected_version=record.version, consumed=[])
    store.commit_step(first)
    with pytest.raises(ConcurrentUpdateError):
        store.commit_step(second)
    assert store.get_instance(iid).version == record.version + 1


def test_a_step_marks_an_incident_only_while_an_incident_job_is_left_and_a_lost_lease_commits_nothing(
        store, tmp_path: Path) -> None:
    """What a step writes in one transaction (on PostgreSQL one statement): an incident job left after the step
    makes the instance an incident; one the step deletes does not; a step whose done job another worker holds
    raises and leaves the instance as it was."""
    from bpmn_runner.errors import LeaseLostError
    from bpmn_runner.store import JobRecord, StepRecord

    rt = runtime(store, None, MovableClock())
    iid = rt.start([user_task_process(tmp_path)])["instance_id"]

    def step(**changes: object) -> StepRecord:
        record = store.get_instance(iid)
        record.state = json.dumps(record.state)
        record.status = "waiting"
        return StepRecord(instance=record, expected_version=record.version, now=1.0, **changes)

    failed = JobRecord("job-incident", iid, "service", "task-1", "approve", "h", status="incident")
    assert store.commit_step(step(new_jobs=[failed])) == "incident"
    assert store.commit_step(step(history=[])) == "incident"  # still there
    assert store.commit_step(step(delete_job_ids=["job-incident"])) == "waiting"
    held = JobRecord("job-held", iid, "service", "task-2", "approve", "h", locked_by="other", locked_until=9e9)
    store.commit_step(step(new_jobs=[held]))
    version = store.get_instance(iid).version
    with pytest.raises(LeaseLostError):
        store.commit_step(step(done_job=("job-held", "me"), history=[
            {"instance_id": iid, "process_id": "p", "element_id": "approve", "event": "completed", "at": 1.0,
             "element_type": "UserTask", "name": "", "data_changes": {}, "detail": ""}]))
    assert store.get_instance(iid).version == version
    assert [j.id for j in store.jobs_of(iid)] == ["job-held"]


def test_a_step_without_waits_is_checked_and_rolled_back_whole(store, tmp_path: Path) -> None:
    """A step of service tasks only (on PostgreSQL one statement in autocommit mode, its checks raised by the
    server): a stale version, a lost lease and an id that exists each raise and write nothing, not even history."""
    from bpmn_runner.errors import LeaseLostError
    from bpmn_runner.store import JobRecord, StepRecord

    rt = runtime(store, None, MovableClock())
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    start = store.get_instance(iid)
    history = len(store.history_of(iid))
    row = {"instance_id": iid, "process_id": "p", "element_id": "a", "event": "completed", "at": 1.0,
           "element_type": "ServiceTask", "name": "", "data_changes": {}, "detail": ""}

    def step(version: int, **changes: object) -> StepRecord:
        record = store.get_instance(iid)
        record.state = json.dumps(record.state)
        return StepRecord(instance=record, expected_version=version, now=1.0, had_waits=False, history=[row],
                          **changes)

    with pytest.raises(ConcurrentUpdateError):
        store.commit_step(step(start.version - 1, new_jobs=[JobRecord("job-x", iid, "service", "t", "a", "h")]))
    held = JobRecord("job-held", iid, "service", "task-2", "b", "h", locked_by="other", locked_until=9e9)
    assert store.commit_step(step(start.version, new_jobs=[held])) == start.status
    with pytest.raises(LeaseLostError):
        store.commit_step(step(start.version + 1, done_job=("job-held", "me"), delete_job_ids=[
            j.id for j in store.jobs_of(iid) if j.id != "job-held"]))
    assert store.get_instance(iid).version == start.version + 1
    assert "job-x" not in {j.id for j in store.jobs_of(iid)} and "job-held" in {j.id for j in store.jobs_of(iid)}
    assert len(store.history_of(iid)) == history + 1  # only the step that committed
    again = store.get_instance(iid)
    again.state = json.dumps(again.state)
    with pytest.raises(ConcurrentUpdateError, match="already exists"):
        store.commit_step(StepRecord(instance=again, expected_version=None, now=1.0, had_waits=False, history=[row]))
    assert len(store.history_of(iid)) == history + 1


def test_two_open_instances_may_share_a_business_key(store, tmp_path: Path) -> None:
    """Camunda 7 user guide, "Process Instances" / business key: the business key is not unique; several
    instances, open at once, may carry the same one."""
    rt = runtime(store, None, MovableClock())
    path = user_task_process(tmp_path)
    first = rt.start([path], business_key="ORDER-1")["instance_id"]
    second = rt.start([path], business_key="ORDER-1")["instance_id"]
    assert first != second
    assert {r["instance_id"] for r in rt.list_instances(business_key="ORDER-1")} == {first, second}
    assert {r["status"] for r in rt.list_instances(business_key="ORDER-1")} == {"waiting"}


def test_definitions_are_stored_once_per_content_and_versioned_per_process(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    path = three_services(tmp_path)
    digest, _ = rt.deploy([path])
    again, _ = rt.deploy([path])
    assert digest == again and len(store.catalogs()) == 1
    path.write_text(path.read_text().replace('name="a task"', 'name="first task"'))
    changed, _ = rt.deploy([path])
    assert changed != digest
    assert sorted(store.latest_processes()) == [("three", 2, changed)]
    assert store.process_version("three", digest) == 1
    record = store.get_definition(changed)
    assert record.process_ids == ["three"] and "first task" in record.sources[0]["text"]
    with pytest.raises(NotFoundError):
        store.get_definition("0" * 64)


def test_content_hash_ignores_order_and_names() -> None:
    assert content_hash([b"a", b"bc"]) == content_hash([b"bc", b"a"])
    assert content_hash([b"ab", b"c"]) != content_hash([b"a", b"bc"])


def test_keys_and_durations_read_as_the_modelers_write_them() -> None:
    assert [key_string(v) for v in (42, 42.0, "42", True, None)] == ["42", "42", "42", "true", None]
    assert parse_duration("PT1H30M") == 5400 and parse_duration("P1DT1S") == 86401
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_state_is_stored_without_the_spec(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    iid = rt.start([user_task_process(tmp_path)])["instance_id"]
    state = store.get_instance(iid).state
    assert "spec" not in state and "subprocess_specs" not in state and state["serializer_version"]


def test_job_claims_skip_jobs_others_hold(store, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(store, None, clock)
    path = three_services(tmp_path)
    for _ in range(3):
        rt.start([path])
    one, _ = store.claim_jobs("w1", ["step.a"], now=rt.now(), lease=30, limit=2)
    two, _ = store.claim_jobs("w2", ["step.a"], now=rt.now(), lease=30, limit=5)
    assert len(one) == 2 and len(two) == 1 and not {j.id for j in one} & {j.id for j in two}
    assert store.claim_jobs("w3", ["other.type"], now=rt.now(), lease=30)[0] == []
    assert store.extend_leases("w1", [j.id for j in one + two], rt.now() + 60) == {j.id for j in one}


# ----- opening --------------------------------------------------------------------------------------------

def test_the_store_url_comes_from_db_then_the_environment_then_a_local_file(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BPMN_RUNNER_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_url(None) == "sqlite:///.bpmn-runner/bpmn-runner.db"
    store = open_store()
    assert (tmp_path / ".bpmn-runner" / "bpmn-runner.db").exists()
    store.close()
    monkeypatch.setenv("BPMN_RUNNER_DB", "sqlite:///from-env.db")
    assert resolve_url(None) == "sqlite:///from-env.db"
    assert resolve_url("sqlite:///given.db") == "sqlite:///given.db"


def test_sqlite_store_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


@pytest.mark.parametrize("url, message", [
    ("sqlite://", "in-memory"),
    ("mysql://x@y/z", "unsupported database"),
    ("not a url", "not a database URL"),
])
def test_bad_store_urls_say_what_to_give(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_an_unreachable_postgresql_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the store .*Connection refused"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_the_message_buffer_expires_by_time_to_live(store, tmp_path: Path) -> None:
    from bpmn_runner.store import MessageRecord
    clock = MovableClock()
    now = clock().timestamp()
    store.insert_message(MessageRecord("m1", "late", None, {}, now, now + 10, status="buffered", message_id="x"))
    assert [m.id for m in store.buffered_messages(["late"], now)] == ["m1"]
    clock.advance(seconds=11)
    assert store.buffered_messages(["late"], clock().timestamp()) == []
    assert store.expire_messages(clock().timestamp()) == 1
    store.insert_message(MessageRecord("m2", "late", None, {}, now, now + 10, message_id="x"))  # id free again


def test_a_deployment_stores_the_bytes_the_loader_validated_not_the_file_as_it_is_later(store,
                                                                                           tmp_path: Path) -> None:
    """A file edited between load and deploy must not reach the store unvalidated: the store keeps
    `Definitions.sources()`, exactly what was read and checked."""
    path = user_task_process(tmp_path)
    read = path.read_bytes()
    definitions = load([path])
    path.write_bytes(read.replace(b'name="Review"', b'name="Edited later"'))
    rt = runtime(store, registry(record=lambda c: {}), MovableClock())
    digest = rt.deploy_definitions(definitions)
    assert rt.deployments.sources_for(digest) == [(definitions.documents[0].name, read)]

"""Commit points of durable instances, as Camunda 7 has them (issue 15, item 1).

Camunda 7, "Transactions in Processes" (https://docs.camunda.org/manual/current/user-guide/process-engine/
transactions-in-processes/): on an external trigger the engine advances until it reaches wait states on every
path and commits there; `camunda:asyncBefore` adds a commit point before an activity runs and `asyncAfter` one after
it completes, each continued by a job the job executor takes; an external task is a wait state for an external
worker. With `commit = "wait-states"` (the default) a worker or a command carries an instance through the service
tasks whose handlers it has, in memory, and commits once there; `each-task` commits after every service task.

Commits are counted at `Store.commit_step`, and an instance's version counts the commits it has had.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bpmn_runner import BpmnError
from bpmn_runner.environment import build_environment
from bpmn_runner.errors import BpmnRunnerError, UnsupportedElementError
from bpmn_runner.namespaces import RUNNER_NS
from bpmn_runner.settings import Settings, load_settings

from . import generate
from .durable import (END, START, MovableClock, camunda_service, chain, completed_counts, registry, runtime, worker,
                      write, zeebe_service)


def counting(rt: Any) -> list[int]:
    """Count the commits of a Runtime's store from now on."""
    count = [0]
    commit = rt.store.commit_step

    def counted(step: Any) -> str:
        count[0] += 1
        return commit(step)
    rt.store.commit_step = counted
    return count


def noop_handlers(calls: list[str] | None = None, **extra: Any) -> Any:
    def noop(call: Any) -> dict[str, Any]:
        if calls is not None:
            calls.append(call.idempotency_key)
        return {"last": call.element_id}
    return registry(**{"noop": noop, "step_a": noop, "step_b": noop, "step_c": noop, "record": noop, **extra})


def ten_tasks(folder: Path) -> Path:
    path = folder / "straight.bpmn"
    path.write_text(generate.straight_through(dialect="zeebe"))
    return path


def with_attr(element: str, attrs: str) -> str:
    """Add attributes to the first tag of an element's XML."""
    head, _, rest = element.partition(" ")
    return f"{head} {attrs} {rest}"


# ----- straight through ---------------------------------------------------------------------------------------

def test_a_straight_through_process_commits_once_from_start_to_end(db_url: str, tmp_path: Path) -> None:
    calls: list[str] = []
    rt = runtime(db_url, noop_handlers(calls), commit="wait-states")
    commits = counting(rt)
    out = rt.start([ten_tasks(tmp_path)], data={"x": 1})
    record = rt.store.get_instance(out["instance_id"])
    assert (out["status"], record.version, commits[0], len(calls)) == ("completed", 1, 1, 10)
    history = completed_counts(rt.store)
    assert all(history[(record.id, f"t{i}")] == 1 for i in range(10)) and history[(record.id, "end_b")] == 1
    rt.store.close()


def test_a_long_run_committed_once_keeps_every_history_row_in_order(db_url: str, tmp_path: Path) -> None:
    # 60 tasks make a few hundred history rows in one commit (185): more than one multi-row INSERT on SQLite
    path = tmp_path / "chain.bpmn"
    path.write_text(generate.chain(60, dialect="zeebe"))
    rt = runtime(db_url, noop_handlers(), commit="wait-states")
    commits = counting(rt)
    out = rt.start([path])
    rows = rt.store.history_of(out["instance_id"])
    done = [r["element_id"] for r in rows if r["event"] == "completed"]
    assert (out["status"], commits[0]) == ("completed", 1) and len(rows) > 150
    assert done == ["start", *(f"t{i}" for i in range(60)), "end"]
    rt.store.close()


def test_each_task_commits_after_every_service_task(db_url: str, tmp_path: Path) -> None:
    rt = runtime(db_url, noop_handlers(), commit="each-task")
    commits = counting(rt)
    iid = rt.start([ten_tasks(tmp_path)], data={"x": 1})["instance_id"]
    worker(rt).run_once()
    record = rt.store.get_instance(iid)
    assert (record.status, record.version, commits[0]) == ("completed", 11, 11)
    rt.store.close()


def test_a_worker_carries_an_instance_through_its_handlers_in_one_commit(db_url: str, tmp_path: Path) -> None:
    """Started where no handler is (a job at the first task), then a worker with the handlers: one more commit."""
    starter = runtime(db_url, commit="wait-states")
    iid = starter.start([ten_tasks(tmp_path)], data={"x": 1})["instance_id"]
    rt = runtime(db_url, noop_handlers(), commit="wait-states")
    commits = counting(rt)
    stats = worker(rt).run(until_idle=True)
    record = rt.store.get_instance(iid)
    assert (record.status, record.version, commits[0], stats.service) == ("completed", 2, 1, 10)
    starter.store.close()
    rt.store.close()


def test_a_user_task_in_the_middle_makes_two_commits(db_url: str, tmp_path: Path) -> None:
    review = '<bpmn:userTask id="review" name="Review"/>'
    body = (START + zeebe_service("a", "step.a") + review + zeebe_service("b", "step.b") + END
            + chain("start", "a", "review", "b", "end"))
    rt = runtime(db_url, noop_handlers(), commit="wait-states")
    commits = counting(rt)
    iid = rt.start([write(tmp_path, "review.bpmn", body)])["instance_id"]
    assert rt.show(iid)["status"] == "waiting" and commits[0] == 1
    task = rt.list_tasks(iid)[0]
    out = rt.complete_task(task["task_id"], {})
    assert out["status"] == "completed" and commits[0] == 2 and rt.store.get_instance(iid).version == 2
    rt.store.close()


# ----- async boundaries ---------------------------------------------------------------------------------------

def async_process(folder: Path) -> Path:
    """a -> script s (asyncBefore) -> b (asyncAfter) -> c: commit points before s and after b."""
    script = ('<bpmn:scriptTask id="s" scriptFormat="python" camunda:asyncBefore="true">'
              '<bpmn:script>y = 2</bpmn:script></bpmn:scriptTask>')
    body = (START + zeebe_service("a", "step.a") + script
            + with_attr(zeebe_service("b", "step.b"), 'camunda:asyncAfter="true"') + zeebe_service("c", "step.c")
            + END + chain("start", "a", "s", "b", "c", "end"))
    return write(folder, "async.bpmn", body)


def test_async_before_and_after_add_commit_points_with_jobs_another_worker_takes(db_url: str,
                                                                                tmp_path: Path) -> None:
    calls: list[str] = []
    rt = runtime(db_url, noop_handlers(calls), commit="wait-states")
    out = rt.start([async_process(tmp_path)])
    iid = out["instance_id"]
    # committed before s runs: a ran, s waits for a continuation job nobody holds
    assert out["status"] == "running" and [w["element_id"] for w in out["waiting"]] == ["s"]
    _, jobs = rt.store.load_for_step(iid)
    assert [(j.kind, j.element_id, j.locked_by) for j in jobs] == [("async", "s", None)]
    assert len(calls) == 1 and rt.store.get_instance(iid).version == 1
    other = runtime(db_url, noop_handlers(calls), commit="wait-states")
    taker = worker(other, "other")
    assert taker.run_once(limit=1) == 1  # s, then b in memory, held after b: the second commit
    _, jobs = rt.store.load_for_step(iid)
    assert [(j.kind, j.element_id) for j in jobs] == [("async", "b")] and len(calls) == 2
    assert rt.store.get_instance(iid).version == 2
    taker.run_once()
    record = rt.store.get_instance(iid)
    assert (record.status, record.version, len(calls), record.data["y"]) == ("completed", 3, 3, 2)
    assert taker.stats.continuations == 2
    rt.store.close()
    other.store.close()


def test_async_before_on_a_service_task_makes_it_a_job_even_where_its_handler_is(db_url: str,
                                                                                   tmp_path: Path) -> None:
    body = (START + zeebe_service("a", "step.a") + with_attr(zeebe_service("b", "step.b"), 'camunda:asyncBefore="true"')
            + END + chain("start", "a", "b", "end"))
    calls: list[str] = []
    rt = runtime(db_url, noop_handlers(calls), commit="wait-states")
    out = rt.start([write(tmp_path, "before.bpmn", body)])
    assert out["status"] == "running" and len(calls) == 1
    assert rt.store.get_instance(out["instance_id"]).version == 1  # committed before b
    commits = counting(rt)
    # a command given the handlers carries it on past the commit point (issue 15 item 4), committing at b
    assert rt.run_to_wait([out["instance_id"]]).service == 1
    assert rt.show(out["instance_id"])["status"] == "completed" and len(calls) == 2 and commits[0] == 1
    rt.store.close()


def test_external_tasks_stay_jobs(db_url: str, tmp_path: Path) -> None:
    body = (START + zeebe_service("a", "step.a") + camunda_service("record", "record") + zeebe_service("c", "step.c")
            + END + chain("start", "a", "record", "c", "end"))
    calls: list[str] = []
    rt = runtime(db_url, noop_handlers(calls), commit="wait-states")
    out = rt.start([write(tmp_path, "external.bpmn", body)])
    _, jobs = rt.store.load_for_step(out["instance_id"])
    assert [(j.kind, j.element_id, j.payload.get("commit_point")) for j in jobs] == [("service", "record", "external")]
    assert len(calls) == 1
    commits = counting(rt)
    worker(rt).run_once()
    assert rt.show(out["instance_id"])["status"] == "completed" and len(calls) == 3 and commits[0] == 1
    rt.store.close()


def test_the_runner_namespace_marks_commit_points_in_other_dialects(db_url: str, tmp_path: Path) -> None:
    marked = with_attr(zeebe_service("b", "step.b"), f'xmlns:runner="{RUNNER_NS}" runner:async="after"')
    body = START + zeebe_service("a", "step.a") + marked + END + chain("start", "a", "b", "end")
    rt = runtime(db_url, noop_handlers(), commit="wait-states")
    out = rt.start([write(tmp_path, "runner.bpmn", body)])
    assert [(w["element_id"], w["kind"], w["detail"]) for w in out["waiting"]] == [("b", "async", "after")]
    worker(rt).run_once()
    record = rt.store.get_instance(out["instance_id"])
    assert (record.status, record.version) == ("completed", 2)
    rt.store.close()


def test_async_after_on_a_sub_process_is_refused_in_one_line(tmp_path: Path) -> None:
    sub = ('<bpmn:subProcess id="sub" camunda:asyncAfter="true"><bpmn:startEvent id="s1"/><bpmn:endEvent id="e1"/>'
           '<bpmn:sequenceFlow id="fs" sourceRef="s1" targetRef="e1"/></bpmn:subProcess>')
    rt = runtime(f"sqlite:///{tmp_path / 's.db'}", noop_handlers(), commit="wait-states")
    with pytest.raises(UnsupportedElementError, match="sub: asyncAfter on a subProcess is not supported"):
        rt.start([write(tmp_path, "sub.bpmn", START + sub + END + chain("start", "sub", "end"))])
    rt.store.close()


def test_each_task_ignores_async_attributes_as_before(db_url: str, tmp_path: Path) -> None:
    rt = runtime(db_url, noop_handlers(), commit="each-task")
    iid = rt.start([async_process(tmp_path)])["instance_id"]
    worker(rt).run_once()
    record = rt.store.get_instance(iid)
    assert (record.status, record.version) == ("completed", 4)  # the start and one commit per service task
    rt.store.close()


# ----- failures and crashes -----------------------------------------------------------------------------------

def test_a_handler_failing_in_process_commits_what_came_before_and_is_retried_as_a_job(db_url: str,
                                                                                        tmp_path: Path) -> None:
    clock = MovableClock()
    tries: list[int] = []

    def flaky(call: Any) -> dict[str, Any]:
        tries.append(call.attempt)
        if len(tries) == 1:
            raise RuntimeError("the ERP is down")
        return {}
    body = (START + zeebe_service("a", "step.a") + zeebe_service("b", "step.b", retries=3) + END
            + chain("start", "a", "b", "end"))
    rt = runtime(db_url, noop_handlers(step_b=flaky), clock, commit="wait-states")
    out = rt.start([write(tmp_path, "flaky.bpmn", body)])
    assert out["status"] == "running" and "the ERP is down" in out["handler_errors"][0]
    _, jobs = rt.store.load_for_step(out["instance_id"])
    assert [(j.element_id, j.attempts, j.locked_by) for j in jobs] == [("b", 1, None)]
    assert jobs[0].due_at > rt.now()  # backing off, as after a worker's failed attempt
    clock.advance(minutes=10)
    worker(rt).run_once()
    assert rt.show(out["instance_id"])["status"] == "completed" and len(tries) == 2
    rt.store.close()


def test_a_bpmn_error_raised_in_process_takes_the_boundary_or_becomes_an_incident(db_url: str,
                                                                                    tmp_path: Path) -> None:
    def declined(call: Any) -> None:
        raise BpmnError("DECLINED", "card declined")
    boundary = ('<bpmn:boundaryEvent id="err" attachedToRef="b"><bpmn:errorEventDefinition errorRef="E"/>'
                '</bpmn:boundaryEvent><bpmn:endEvent id="end_err"/>')
    caught = (START + zeebe_service("a", "step.a") + zeebe_service("b", "step.b") + boundary + END
              + chain("start", "a", "b", "end") + chain("err", "end_err"))
    rt = runtime(db_url, noop_handlers(step_b=declined), commit="wait-states")
    error = '<bpmn:error id="E" errorCode="DECLINED"/>'
    out = rt.start([write(tmp_path, "caught.bpmn", caught, extra=error)])
    assert out["status"] == "completed" and rt.store.get_instance(out["instance_id"]).version == 1
    loose = START + zeebe_service("a", "step.a") + zeebe_service("b", "step.b") + END + chain("start", "a", "b", "end")
    out = rt.start([write(tmp_path, "loose.bpmn", loose)])
    assert out["status"] == "incident" and "DECLINED" in out["handler_errors"][0]
    assert rt.show(out["instance_id"])["status"] == "incident"
    rt.store.close()


class Crash(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, nothing is committed."""


def test_a_crash_reruns_the_handlers_since_the_last_commit_with_the_same_keys(db_url: str, tmp_path: Path) -> None:
    clock = MovableClock()
    first: list[str] = []

    def crash_at_c(call: Any) -> dict[str, Any]:
        first.append(call.idempotency_key)
        raise Crash()
    starter = runtime(db_url, clock=clock, commit="wait-states")
    path = generate.chain(5, dialect="zeebe")
    iid = starter.start([write_file(tmp_path, path)])["instance_id"]
    calls: list[str] = []
    dying = runtime(db_url, registry(noop=lambda c: calls.append(c.idempotency_key) or (
        crash_at_c(c) if len(calls) == 3 else {})), clock, commit="wait-states")
    with pytest.raises(Crash):
        worker(dying, "dying", lease=5).run_once()
    assert starter.store.get_instance(iid).version == 1  # nothing of the run was committed
    clock.advance(seconds=10)  # the dead worker's lease expires
    again: list[str] = []
    rt = runtime(db_url, registry(noop=lambda c: again.append(c.idempotency_key) or {}), clock, commit="wait-states")
    worker(rt, "w2").run_once()
    assert rt.show(iid)["status"] == "completed" and rt.store.get_instance(iid).version == 2
    assert again[:3] == calls[:3] and len(again) == 5  # the three since the last commit again, same keys
    assert len(set(completed_counts(rt.store).values())) == 1  # every step recorded once
    for opened in (starter, dying, rt):
        opened.store.close()


def write_file(folder: Path, text: str) -> Path:
    path = folder / "chain.bpmn"
    path.write_text(text)
    return path


# ----- where the setting comes from -------------------------------------------------------------------------

def test_the_setting_comes_from_pyproject_and_an_option_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bpmn-runner]\ncommit = "each-task"\n')
    settings = load_settings(tmp_path)
    assert settings.commit == "each-task"
    assert build_environment(settings=settings).commit == "each-task"
    assert build_environment(settings=settings, commit="wait-states").commit == "wait-states"
    assert build_environment(settings=Settings()).commit == "wait-states"
    (tmp_path / "pyproject.toml").write_text('[tool.bpmn-runner]\ncommit = "sometimes"\n')
    with pytest.raises(BpmnRunnerError, match="commit must be one of 'wait-states', 'each-task'"):
        load_settings(tmp_path)


def test_the_cli_commits_as_commit_says(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from bpmn_runner.cli import app
    from bpmn_runner.store import open_store
    handlers = tmp_path / "noop_handlers.py"
    handlers.write_text("from bpmn_runner import handler\n\n@handler('noop')\ndef noop(call):\n    return {}\n")
    diagram = write_file(tmp_path, generate.chain(4, dialect="zeebe"))
    seen = {}
    for mode in ("wait-states", "each-task"):
        db = f"sqlite:///{tmp_path / (mode + '.db')}"
        result = CliRunner().invoke(app, ["start", str(diagram), "--db", db, "--handlers", str(handlers),
                                          "--commit", mode, "--json"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        store = open_store(db)
        record = store.get_instance(out["instance_id"])
        seen[mode] = (out["status"], out["jobs_run"], record.version)
        store.close()
    assert seen == {"wait-states": ("completed", 4, 1), "each-task": ("completed", 4, 5)}
    bad = CliRunner().invoke(app, ["start", str(diagram), "--db", f"sqlite:///{tmp_path / 'x.db'}", "--commit",
                                   "never"])
    assert bad.exit_code != 0 and "--commit must be one of" in bad.output


def test_a_command_carries_an_instance_on_past_a_workers_follow_limit(tmp_path: Path) -> None:
    """Each-task: a worker follows at most FOLLOW_LIMIT jobs in a row; a command carrying an instance on to its
    next wait goes on after that (a 120-task chain used to stop at task 101, `running`)."""
    from bpmn_runner.durable.worker import FOLLOW_LIMIT
    rt = runtime(f"sqlite:///{tmp_path / 's.db'}", noop_handlers(), commit="each-task")
    iid = rt.start([write_file(tmp_path, generate.chain(FOLLOW_LIMIT + 20, dialect="zeebe"))])["instance_id"]
    stats = rt.run_to_wait([iid])
    assert rt.show(iid)["status"] == "completed" and stats.service == FOLLOW_LIMIT + 20
    rt.store.close()


def test_async_after_holds_a_task_completed_by_a_workers_job(db_url: str, tmp_path: Path) -> None:
    """a has asyncAfter and runs as a job (started where its handler is not): its result is committed before the
    flow goes on to b, which a continuation job then runs."""
    body = (START + with_attr(zeebe_service("a", "step.a"), 'camunda:asyncAfter="true"')
            + zeebe_service("b", "step.b") + END + chain("start", "a", "b", "end"))
    starter = runtime(db_url, commit="wait-states")
    iid = starter.start([write(tmp_path, "after.bpmn", body)])["instance_id"]
    rt = runtime(db_url, registry(step_a=lambda c: {"a": 1}, step_b=lambda c: {"b": 2}), commit="wait-states")
    w = worker(rt)
    assert w.run_once(limit=1) == 1
    shown = rt.show(iid)
    assert [(x["element_id"], x["kind"]) for x in shown["waiting"]] == [("a", "async")] and shown["data"]["a"] == 1
    assert completed_counts(rt.store).get((iid, "b"), 0) == 0
    w.run_once()
    record = rt.store.get_instance(iid)
    assert (record.status, record.version, record.data) == ("completed", 3, {"a": 1, "b": 2})
    starter.store.close()
    rt.store.close()

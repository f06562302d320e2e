"""Timer start events in the store: a new instance per repetition, started by a worker, as Camunda's job executor
does (docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events, "Timer Start Event")."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner.cli import app

from .durable import END, MovableClock, chain, registry, runtime, worker, write, zeebe_service

C7_TIMERS = "docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events"


def timer_start(text: str, tag: str = "timeCycle") -> str:
    return (f'<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:{tag}>{text}</bpmn:{tag}>'
            f'</bpmn:timerEventDefinition></bpmn:startEvent>')


def ticking(tmp_path: Path, text: str, tag: str = "timeCycle", topic: str = "tick", name: str = "tick.bpmn") -> Path:
    body = timer_start(text, tag) + zeebe_service("job", topic) + END + chain("tick", "job", "end")
    return write(tmp_path, name, body, process_id="ticker")


def test_a_cron_start_starts_one_instance_per_repetition_without_end_and_survives_a_restart(db_url: str,
                                                                                            tmp_path: Path) -> None:
    """timer-events page ("Timer Start Event": a start timer is scheduled as soon as the process is deployed; a
    cron cycle repeats without end): every five minutes a worker starts a new instance."""
    clock = MovableClock()
    seen: list[str] = []
    handlers = registry(tick=lambda call: seen.append(call.instance_id) or {"ticked": True})
    rt = runtime(db_url, handlers, clock)
    rt.deploy([ticking(tmp_path, "0 0/5 * * * ?")])
    [scheduled] = rt.timer_start_jobs()
    assert scheduled["due_at"].startswith("2030-01-01T00:05:00") and scheduled["remaining"] == -1
    assert worker(rt).run_once() == 0 and rt.list_instances() == []  # not due yet: nothing starts
    clock.advance(minutes=5)
    worker(rt).run_once()
    rt.store.close()

    again = runtime(db_url, handlers, clock)  # a restart: the schedule is in the store
    for _ in range(2):
        clock.advance(minutes=5)
        worker(again, "w2").run_once()
    instances = again.list_instances()
    assert [i["status"] for i in instances] == ["completed"] * 3 and len(set(seen)) == 3
    assert again.timer_start_jobs()[0]["due_at"].startswith("2030-01-01T00:20:00")
    again.store.close()


def test_r_n_cycles_start_n_instances_then_stop(store, tmp_path: Path) -> None:
    """timer-events page ("Time Cycle": R3/PT10H fires three times, ten hours apart)."""
    clock = MovableClock()
    rt = runtime(store, registry(tick=lambda call: {}), clock)
    out = rt.start([ticking(tmp_path, "R2/PT10H")])
    assert out["status"] == "scheduled" and out["instance_id"] is None
    for _ in range(4):
        clock.advance(hours=10)
        worker(rt).run_once()
    assert len(rt.list_instances()) == 2 and rt.timer_start_jobs() == []


def test_a_date_start_starts_one_instance(store, tmp_path: Path) -> None:
    """timer-events page ("Time Date": the process starts once, at that date)."""
    clock = MovableClock()
    rt = runtime(store, registry(tick=lambda call: {}), clock)
    rt.deploy([ticking(tmp_path, "2030-01-02T09:00:00Z", tag="timeDate")])
    clock.advance(days=1, hours=9)
    worker(rt).run_once()
    clock.advance(days=5)
    worker(rt).run_once()
    assert [i["status"] for i in rt.list_instances()] == ["completed"]


def test_a_new_version_replaces_the_previous_versions_timer(store, tmp_path: Path) -> None:
    """timer-events page ("Timer Start Event": when a new version of a process with a start timer is deployed,
    the job of the previous timer is removed); deploying the same version again keeps its schedule."""
    clock = MovableClock()
    rt = runtime(store, registry(tick=lambda call: {}, tock=lambda call: {}), clock)
    rt.deploy([ticking(tmp_path, "R/PT1H")])
    clock.advance(minutes=30)
    rt.deploy([ticking(tmp_path, "R/PT1H")])
    assert [t["due_at"][:19] for t in rt.timer_start_jobs()] == ["2030-01-01T01:00:00"]
    rt.deploy([ticking(tmp_path, "R/PT1H", topic="tock", name="tick.bpmn")])  # version 2, same process id
    [only] = rt.timer_start_jobs()
    assert only["due_at"][:19] == "2030-01-01T01:30:00"


def test_deploy_and_a_worker_from_the_command_line(tmp_path: Path) -> None:
    """timer-events page: `deploy` says when the timer starts the first instance; `worker --until-idle` starts the
    instances that are due and returns."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = ticking(tmp_path, "R2/2020-01-01T00:00:00Z/PT1H")  # both repetitions are past: due now
    handlers = tmp_path / "handlers.py"
    handlers.write_text("from bpmn_runner import handler\n\n@handler('tick')\ndef tick(call):\n    return {}\n")
    cli = CliRunner()
    deployed = cli.invoke(app, ["deploy", str(path), "--db", db])
    assert deployed.exit_code == 0, deployed.output
    assert "timer start event tick (R2/2020-01-01T00:00:00Z/PT1H) starts a new instance at 2020-01-01T00:00:00" \
        in deployed.stdout and "2 time(s)" in deployed.stdout
    worked = cli.invoke(app, ["worker", "--db", db, "--handlers", str(handlers), "--until-idle"])
    assert worked.exit_code == 0, worked.output
    listed = json.loads(cli.invoke(app, ["instances", "--db", db, "--json"]).stdout)
    rows = listed["instances"] if isinstance(listed, dict) else listed
    assert [row["status"] for row in rows] == ["completed", "completed"]


def test_run_in_the_foreground_starts_one_instance_and_returns(tmp_path: Path) -> None:
    """timer-events page; `run` never loops for ever: one instance now, and a note on when the next would start."""
    path = ticking(tmp_path, "0 0/5 * * * ?")
    handlers = tmp_path / "handlers.py"
    handlers.write_text("from bpmn_runner import handler\n\n@handler('tick')\ndef tick(call):\n    return {}\n")
    out = CliRunner().invoke(app, ["run", str(path), "--handlers", str(handlers)])
    assert out.exit_code == 0, out.output
    assert "started this one instance now; the next would start at" in out.output


def test_with_a_none_start_too_start_uses_the_none_start_and_the_timer_starts_at_its_own(store,
                                                                                         tmp_path: Path) -> None:
    """timer-events page: a process may have a none start event besides its timer start event; `start` starts at
    the none start, and each timer repetition starts a new instance at the timer start event."""
    clock = MovableClock()
    body = (timer_start("R2/PT1H") + '<bpmn:startEvent id="manual"/>' + zeebe_service("job", "tick") + END
            + chain("tick", "job", "end") + chain("manual", "job"))
    rt = runtime(store, registry(tick=lambda call: {}), clock)
    first = rt.start([write(tmp_path, "mixed.bpmn", body, process_id="ticker")])
    assert first["instance_id"] and first["status"] == "running"
    worker(rt).run_once()
    for _ in range(3):
        clock.advance(hours=1, seconds=1)
        worker(rt).run_once()
    starts = [[h["element_id"] for h in rt.show(i["instance_id"])["history"] if h["event"] == "completed"][0]
              for i in rt.list_instances()]
    assert starts == ["manual", "tick", "tick"]

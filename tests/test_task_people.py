"""Who started an instance and who completed its user tasks: recorded on the history by `start/complete --user`
(else $BPMN_RUNNER_USER), shown by `show`, and answered to SpiffArena scripts by get_process_initiator_user() and
get_last_user_completing_task(bpmn_process_identifier, task_bpmn_identifier) as SpiffArena's backend scripts do
(spiffworkflow_backend/scripts/get_last_user_completing_task.py: the user of the last completion of that task in
this instance)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import Engine, load
from bpmn_runner.cli import app
from bpmn_runner.environment import build_environment

from .durable import END, START, MovableClock, chain, write
from .durable import runtime as make_runtime

CODE = ("reviewer = get_last_user_completing_task('approval', 'review')['username']&#10;"
        "starter = get_process_initiator_user()['username']&#10;"
        "nobody = get_last_user_completing_task('approval', 'sign')")


def approval(tmp_path: Path) -> Path:
    """start -> review (user) -> who (script reading the people) -> sign (user) -> end."""
    body = (START + '<bpmn:userTask id="review" name="Review"/>'
            + f'<bpmn:scriptTask id="who"><bpmn:script>{CODE}</bpmn:script></bpmn:scriptTask>'
            + '<bpmn:userTask id="sign" name="Sign"/>' + END + chain("start", "review", "who", "sign", "end"))
    return write(tmp_path, "approval.bpmn", body, process_id="approval")


def test_in_memory_the_scripts_see_the_initiator_and_the_last_user_completing_a_task(tmp_path: Path) -> None:
    engine = Engine(environment=build_environment(user="olivia", entry_points=False))
    instance = engine.start(load([approval(tmp_path)]), "approval")
    instance.run()
    review = instance.waiting()[0]
    instance.complete_user_task(review.task_id, {}, user="rahul")
    result = instance.run()
    assert result.data["reviewer"] == "rahul" and result.data["starter"] == "olivia"
    assert result.data["nobody"] is None
    completed = [h for h in result.history if h.element_id == "review" and h.event == "completed"]
    assert completed[0].detail == "completed by rahul"


def test_the_store_keeps_who_started_and_who_completed_across_steps(store, tmp_path: Path) -> None:
    """Given an instance started by olivia, When rahul completes review in one step and the script reads the
    people in a later restore, Then the script sees rahul and olivia, and `show` lists rahul on review."""
    rt = make_runtime(store, None, MovableClock())
    iid = rt.start([approval(tmp_path)])["instance_id"]
    task = rt.list_tasks(iid)[0]
    rt.complete_task(task["task_id"], {}, user="rahul")
    shown = rt.show(iid)
    assert shown["data"]["reviewer"] == "rahul"
    assert [(c["element_id"], c["user"]) for c in shown["completed_by"]] == [("review", "rahul")]
    sign = rt.list_tasks(iid)[0]
    rt.complete_task(sign["task_id"], {}, user="mei")
    shown = rt.show(iid)
    assert shown["status"] == "completed"
    assert [(c["element_id"], c["user"]) for c in shown["completed_by"]] == [("review", "rahul"), ("sign", "mei")]


def test_start_and_complete_with_user_are_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    runner = CliRunner()
    path = approval(tmp_path)
    iid = runner.invoke(app, ["start", str(path), "--db", db, "--user", "olivia"]).stdout.strip()
    task = json.loads(runner.invoke(app, ["tasks", "--db", db, "--json"]).stdout)
    task_id = (task["tasks"] if isinstance(task, dict) else task)[0]["task_id"]
    assert runner.invoke(app, ["complete", task_id, "--db", db, "--user", "rahul"]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["show", iid, "--db", db, "--json"]).stdout)
    assert shown["started_by"] == "olivia" and shown["data"]["starter"] == "olivia"
    assert shown["data"]["reviewer"] == "rahul"
    monkeypatch.setenv("BPMN_RUNNER_USER", "mei")  # the environment's user completes the next task
    sign = json.loads(runner.invoke(app, ["tasks", "--db", db, "--json"]).stdout)
    sign_id = (sign["tasks"] if isinstance(sign, dict) else sign)[0]["task_id"]
    assert runner.invoke(app, ["complete", sign_id, "--db", db]).exit_code == 0
    text = runner.invoke(app, ["show", iid, "--db", db]).stdout
    assert "started" in text and "by olivia" in text
    assert "[review] completed by rahul" in text and "[sign] completed by mei" in text

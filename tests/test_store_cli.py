"""The store commands as a user or a script meets them: start, instances, show, tasks, complete, message, signal,
worker, retry, cancel, `run --db` and `report --instance/--heatmap`: output, `--json`, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app

from .durable import END, START, chain, three_services, user_task_process, write, zeebe_service
from .test_worker import PAID_CATCH, ZEEBE_MESSAGE

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"

runner = CliRunner()

HANDLERS = '''
from bpmn_runner import handler

@handler("step.a")
def a(call):
    return {"a": 1}

@handler("step.b")
def b(call):
    if call.data.get("fail_b"):
        raise RuntimeError("b is broken")
    return {"b": 2}

@handler("step.c")
def c(call):
    return {"c": 3}

@handler("record")
def record(call):
    return {"recorded": call.data.get("approved")}
'''


@pytest.fixture
def env(tmp_path: Path) -> dict:
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS)
    return {"db": f"sqlite:///{tmp_path / 'cli.db'}", "handlers": str(handlers), "three": str(three_services(tmp_path)),
            "review": str(user_task_process(tmp_path)), "tmp": tmp_path}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def as_json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_start_prints_the_instance_id_and_json_has_it(env: dict) -> None:
    result = invoke("start", env["three"], "--db", env["db"], "--data", '{"x": 1}', "-k", "K-1")
    assert result.exit_code == 0, result.stderr
    iid = result.stdout.strip()
    assert len(iid) == 32 and "three: running, waits at a (service step.a)" in result.stderr
    out = as_json(invoke("start", env["three"], "--db", env["db"], "--json"))
    assert out["status"] == "running" and len(out["instance_id"]) == 32 and out["instance_id"] != iid


def test_instances_lists_with_filters_and_json(env: dict) -> None:
    invoke("start", env["three"], "--db", env["db"])
    invoke("start", env["review"], "--db", env["db"])
    listed = as_json(invoke("instances", "--db", env["db"], "--json"))
    assert sorted(i["status"] for i in listed["instances"]) == ["running", "waiting"]
    waiting = as_json(invoke("instances", "--db", env["db"], "--json", "--status", "waiting"))
    assert [i["process_id"] for i in waiting["instances"]] == ["approval"]
    assert as_json(invoke("instances", "--db", env["db"], "--json", "-p", "three"))["instances"][0]["waiting"] == ["a"]
    text = invoke("instances", "--db", env["db"])
    assert text.exit_code == 0 and "approval" in text.stdout and "three" in text.stdout
    bad = invoke("instances", "--db", env["db"], "--status", "sleeping")
    assert bad.exit_code == 2 and "not a status" in bad.stderr


def test_worker_runs_the_jobs_until_idle_and_show_tells_the_story(env: dict) -> None:
    iid = invoke("start", env["three"], "--db", env["db"]).stdout.strip()
    worked = invoke("worker", "--db", env["db"], "--handlers", env["handlers"], "--until-idle")
    assert worked.exit_code == 0 and "3 job(s): 3 service" in worked.stderr
    shown = as_json(invoke("show", iid[:8], "--db", env["db"], "--json"))
    assert shown["status"] == "completed" and shown["data"] == {"a": 1, "b": 2, "c": 3}
    assert [h["element_id"] for h in shown["history"] if h["event"] == "completed"] == ["start", "a", "b", "c",
                                                                                      "end"]
    text = invoke("show", iid, "--db", env["db"])
    assert text.exit_code == 0 and f"instance {iid}: completed" in text.stdout and "completed  c" in text.stdout


def test_tasks_and_complete(env: dict) -> None:
    iid = invoke("start", env["review"], "--db", env["db"]).stdout.strip()
    tasks = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"]
    assert [(t["instance_id"], t["element_id"], t["name"]) for t in tasks] == [(iid, "review", "Review")]
    assert [f["id"] for f in tasks[0]["fields"]] == ["approved", "note"]
    assert "fields: approved:boolean, note:string" in invoke("tasks", "--db", env["db"]).stdout
    done = as_json(invoke("complete", tasks[0]["task_id"], "--data", '{"approved": true}', "--db", env["db"],
                          "--json"))
    assert done["status"] == "running" and done["instance_id"] == iid
    again = invoke("complete", tasks[0]["task_id"], "--db", env["db"])
    assert again.exit_code == 1 and "no open user task" in again.stderr
    assert as_json(invoke("tasks", "--db", env["db"], "--json")) == {"tasks": []}


def test_tasks_page_with_limit_and_after(env: dict) -> None:
    """Like `instances`, `tasks` pages oldest first: each page says where the next begins."""
    started = [invoke("start", env["review"], "--db", env["db"]).stdout.strip() for _ in range(5)]
    first = as_json(invoke("tasks", "--db", env["db"], "--json", "-n", "2"))
    second = as_json(invoke("tasks", "--db", env["db"], "--json", "-n", "2", "--after", first["next_after"]))
    third = as_json(invoke("tasks", "--db", env["db"], "--json", "-n", "2", "--after", second["next_after"]))
    assert [t["instance_id"] for page in (first, second, third) for t in page["tasks"]] == started
    assert "next_after" not in third
    text = invoke("tasks", "--db", env["db"], "-n", "2").stdout
    assert f"(more: --after {first['next_after']})" in text
    bad = invoke("tasks", "--db", env["db"], "--after", "nowhere")
    assert bad.exit_code == 2 and "not a place in the task list" in bad.stderr


def test_message_delivers_buffers_and_refuses(env: dict) -> None:
    path = write(env["tmp"], "pay.bpmn", START + PAID_CATCH + END + chain("start", "paid", "end"),
                 process_id="payment", extra=ZEEBE_MESSAGE)
    iid = invoke("start", path, "--db", env["db"], "--data", '{"orderId": 42}').stdout.strip()
    wrong = as_json(invoke("message", "payment-received", "--correlation", "orderId=41", "--db", env["db"],
                           "--json"))
    assert wrong["outcome"] == "buffered"
    right = as_json(invoke("message", "payment-received", "-c", "orderId=42", "--data", '{"amount": 3}',
                           "--db", env["db"], "--json"))
    assert right["outcome"] == "delivered" and right["instance_id"] == iid
    assert as_json(invoke("show", iid, "--db", env["db"], "--json"))["data"]["amount"] == 3
    nothing = invoke("message", "who-knows", "--db", env["db"])
    assert nothing.exit_code == 2 and "can match nothing" in nothing.stderr
    bad = invoke("message", "payment-received", "-c", "orderId", "--db", env["db"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
    text = invoke("message", "payment-received", "-c", "orderId=7", "--ttl", "60", "--db", env["db"])
    assert text.exit_code == 0 and "buffered until" in text.stdout


def test_signal(env: dict) -> None:
    extra = '<bpmn:signal id="Sig" name="go"/>'
    body = (START + '<bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition signalRef="Sig"/>'
            '</bpmn:intermediateCatchEvent>' + END + chain("start", "hear", "end"))
    path = write(env["tmp"], "sig.bpmn", body, process_id="sig", extra=extra)
    iid = invoke("start", path, "--db", env["db"]).stdout.strip()
    out = as_json(invoke("signal", "go", "--db", env["db"], "--json"))
    assert out["delivered"] == [iid]
    assert invoke("signal", "stop", "--db", env["db"]).exit_code == 2


def test_failing_handler_becomes_an_incident_that_retry_resumes(env: dict) -> None:
    body = START + zeebe_service("b", "step.b", retries=1) + END + chain("start", "b", "end")
    path = write(env["tmp"], "fail.bpmn", body, process_id="fail")
    iid = invoke("start", path, "--db", env["db"], "--data", '{"fail_b": true}').stdout.strip()
    invoke("worker", "--db", env["db"], "--handlers", env["handlers"], "--until-idle")
    listed = as_json(invoke("instances", "--db", env["db"], "--json", "--status", "incident"))["instances"]
    assert [i["instance_id"] for i in listed] == [iid] and "b is broken" in listed[0]["error"]
    shown = invoke("show", iid, "--db", env["db"])
    assert "incident at b after 1 attempt(s): " in shown.stdout and "bpmn-runner retry" in shown.stdout
    retried = as_json(invoke("retry", iid, "--db", env["db"], "--json"))
    assert retried == {"instance_id": iid, "status": "running", "jobs": 1}
    again = invoke("retry", iid, "--db", env["db"])  # it is running again: nothing to retry
    assert again.exit_code == 2 and "is running, not in an incident" in again.stderr


def test_cancel_and_unknown_ids(env: dict) -> None:
    iid = invoke("start", env["review"], "--db", env["db"]).stdout.strip()
    assert as_json(invoke("cancel", iid, "--db", env["db"], "--json")) == {"instance_id": iid, "status": "cancelled"}
    assert invoke("cancel", iid, "--db", env["db"]).exit_code == 2
    missing = invoke("show", "ffffffffffff", "--db", env["db"])
    assert missing.exit_code == 1 and "no instance 'ffffffffffff'" in missing.stderr
    assert "Traceback" not in missing.output


def test_a_start_that_fails_is_stored_as_failed_and_exits_1(env: dict) -> None:
    body = (START + '<bpmn:scriptTask id="boom" scriptFormat="python"><bpmn:script>x = 1 / 0</bpmn:script>'
            '</bpmn:scriptTask>' + END + chain("start", "boom", "end"))
    path = write(env["tmp"], "boom.bpmn", body, process_id="exploding")
    result = invoke("start", path, "--db", env["db"], "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["status"] == "failed" and "division" in out["error"]
    assert as_json(invoke("instances", "--db", env["db"], "--json", "-s", "failed"))["instances"][0]["instance_id"] \
        == out["instance_id"]


def test_start_with_handlers_checks_the_bindings(env: dict) -> None:
    body = START + zeebe_service("x", "not.registered") + END + chain("start", "x", "end")
    path = write(env["tmp"], "unbound.bpmn", body, process_id="unbound")
    result = invoke("start", path, "--db", env["db"], "--handlers", env["handlers"])
    assert result.exit_code == 3 and "needs a handler for 'not.registered'" in result.stderr
    assert invoke("start", path, "--db", env["db"]).exit_code == 0  # without --handlers a worker elsewhere has it


def test_db_comes_from_the_environment(env: dict, monkeypatch) -> None:
    monkeypatch.setenv("BPMN_RUNNER_DB", env["db"])
    iid = invoke("start", env["review"]).stdout.strip()
    assert as_json(invoke("instances", "--json"))["instances"][0]["instance_id"] == iid


def test_run_with_db_records_the_run_and_report_draws_it(env: dict) -> None:
    result = invoke("run", env["review"], "--db", env["db"], "--json", "-H", env["handlers"])
    assert result.exit_code == 0
    iid = json.loads(result.stdout)["instance_id"]
    shown = as_json(invoke("show", iid, "--db", env["db"], "--json"))
    assert shown["status"] == "waiting" and [w["element_id"] for w in shown["waiting"]] == ["review"]
    assert any(h["element_id"] == "start" and h["event"] == "completed" for h in shown["history"])
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]
    invoke("complete", task["task_id"], "--data", '{"approved": true}', "--db", env["db"])
    invoke("worker", "--db", env["db"], "-H", env["handlers"], "--until-idle")
    assert as_json(invoke("show", iid, "--db", env["db"], "--json"))["data"]["recorded"] is True
    report = env["tmp"] / "instance.html"
    made = invoke("report", "--instance", iid, "--db", env["db"], "-o", report)
    assert made.exit_code == 0, made.stderr
    html = report.read_text()
    assert iid in html and "<svg" in html
    heat = env["tmp"] / "heat.html"
    assert invoke("report", "--heatmap", "approval", "--db", env["db"], "-o", heat).exit_code == 0
    assert "Heatmap of approval" in heat.read_text()
    assert invoke("report", "--instance", iid, "--heatmap", "approval", "--db", env["db"], "-o", heat).exit_code == 2


def test_worker_and_start_in_real_subprocesses(env: dict) -> None:
    base = [sys.executable, "-m", "bpmn_runner"]
    envvars = {**os.environ, "BPMN_RUNNER_DB": env["db"]}
    started = subprocess.run(base + ["start", env["three"]], capture_output=True, text=True, env=envvars,
                             timeout=120)
    assert started.returncode == 0, started.stderr
    worked = subprocess.run(base + ["worker", "-H", env["handlers"], "--until-idle", "--concurrency", "2"],
                            capture_output=True, text=True, env=envvars, timeout=120)
    assert worked.returncode == 0 and "3 service" in worked.stderr
    shown = subprocess.run(base + ["show", started.stdout.strip(), "--json"], capture_output=True, text=True,
                           env=envvars, timeout=120)
    assert json.loads(shown.stdout)["status"] == "completed"


def test_deploy_then_a_message_starts_an_instance(env: dict) -> None:
    extra = '<bpmn:message id="M_order" name="order-placed"/>'
    body = ('<bpmn:startEvent id="placed"><bpmn:messageEventDefinition messageRef="M_order"/></bpmn:startEvent>'
            '<bpmn:userTask id="pack"/>' + END + chain("placed", "pack", "end"))
    diagram = write(env["tmp"], "orders.bpmn", body, process_id="orders", extra=extra)
    deployed = invoke("deploy", diagram, "--db", env["db"])
    assert deployed.exit_code == 0, deployed.stderr
    assert "deployed orders" in deployed.stdout
    assert as_json(invoke("instances", "--db", env["db"], "--json"))["instances"] == []
    sent = invoke("message", "order-placed", "--db", env["db"], "--data", '{"orderId": 7}')
    assert sent.exit_code == 0, sent.stderr
    instances = as_json(invoke("instances", "--db", env["db"], "--json"))["instances"]
    assert len(instances) == 1 and instances[0]["process_id"] == "orders"
    assert as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["element_id"] == "pack"


def test_deploy_a_broken_diagram_is_exit_3(env: dict) -> None:
    broken = env["tmp"] / "broken.bpmn"
    broken.write_text("<bpmn:definitions")
    result = invoke("deploy", broken, "--db", env["db"])
    assert result.exit_code == 3 and "broken.bpmn:1: error:" in result.stderr


def test_store_reports_draw_the_stored_bytes_without_writing_temporary_files(env: dict, monkeypatch) -> None:
    """`report --instance` and `--heatmap` hand the stored (name, bytes) sources straight to the report."""
    iid = invoke("start", env["review"], "--db", env["db"]).stdout.strip()
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError("the report wrote a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    made = invoke("report", "--instance", iid, "--db", env["db"], "-o", env["tmp"] / "instance.html")
    assert made.exit_code == 0, made.stderr
    assert iid in (env["tmp"] / "instance.html").read_text()
    heat = invoke("report", "--heatmap", "approval", "--db", env["db"], "-o", env["tmp"] / "heat.html")
    assert heat.exit_code == 0, heat.stderr
    assert "Heatmap of approval" in (env["tmp"] / "heat.html").read_text()

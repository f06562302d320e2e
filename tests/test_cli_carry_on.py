"""Commands that move a stored instance (`complete`, `message`, `signal`, `retry`, and `start`) with --handlers
carry it on in-process to its next wait, one committed step per service task, as a worker would; the jobs whose
handlers are not given stay for a worker, and without --handlers nothing changes (issue 15, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app

from .durable import END, START, chain, write, zeebe_service
from .test_worker import PAID_CATCH, ZEEBE_MESSAGE

runner = CliRunner()

HANDLERS = '''
from pathlib import Path
from bpmn_runner import handler

BROKEN = Path({broken!r})

@handler("step.a")
def a(call):
    return {{"a": call.data.get("a", 0) + 1}}

@handler("step.b")
def b(call):
    if BROKEN.exists():
        raise RuntimeError("b is broken")
    return {{"b": call.data.get("b", 0) + 1}}
'''

ONLY_A = '''
from bpmn_runner import handler

@handler("step.a")
def a(call):
    return {"a": call.data.get("a", 0) + 1}
'''

REVIEW = '<bpmn:userTask id="review" name="Review"/>'
HEAR = ('<bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition signalRef="Sig"/>'
        '</bpmn:intermediateCatchEvent>')
FIRST = '<bpmn:userTask id="first" name="First"/>'
SERVICES = zeebe_service("a", "step.a") + zeebe_service("b", "step.b", retries=1)


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def as_json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict:
    broken = tmp_path / "broken"
    (tmp_path / "handlers.py").write_text(HANDLERS.format(broken=str(broken)))
    (tmp_path / "only_a.py").write_text(ONLY_A)
    return {"db": db_url, "handlers": str(tmp_path / "handlers.py"), "only_a": str(tmp_path / "only_a.py"),
            "broken": broken, "tmp": tmp_path}


def after(env: dict, wait: str, name: str, *, extra: str = "", process_id: str = "p") -> Path:
    """start -> `wait` -> a -> b -> review (a user task) -> end."""
    return write(env["tmp"], name, START + wait + SERVICES + REVIEW + END
                 + chain("start", wait_id(wait), "a", "b", "review", "end"), process_id=process_id, extra=extra)


def wait_id(element: str) -> str:
    return element.split('id="', 1)[1].split('"', 1)[0]


def shown(env: dict, iid: str) -> dict:
    return as_json(invoke("show", iid, "--db", env["db"], "--json"))


def completed(history: list[dict], element: str) -> int:
    return sum(1 for h in history if h["event"] == "completed" and h["element_id"] == element)


def assert_at_review(env: dict, iid: str) -> None:
    """Moved past both service tasks, each handler run once, and now waiting for a person."""
    view = shown(env, iid)
    assert view["status"] == "waiting" and [w["element_id"] for w in view["waiting"]] == ["review"]
    assert completed(view["history"], "a") == 1 and completed(view["history"], "b") == 1
    assert view["data"]["a"] == 1 and view["data"]["b"] == 1


def start(env: dict, path: Path, *extra: str) -> str:
    result = invoke("start", path, "--db", env["db"], *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_complete_with_handlers_runs_the_service_tasks_to_the_next_user_task(env: dict) -> None:
    iid = start(env, after(env, FIRST, "complete.bpmn"))
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["task_id"]
    out = as_json(invoke("complete", task, "--db", env["db"], "--handlers", env["handlers"], "--json"))
    assert out["status"] == "waiting" and out["jobs_run"] == 2 and out["waiting"][0]["element_id"] == "review"
    assert_at_review(env, iid)


def test_complete_without_handlers_leaves_the_service_task_to_a_worker(env: dict) -> None:
    iid = start(env, after(env, FIRST, "complete.bpmn"))
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["task_id"]
    out = as_json(invoke("complete", task, "--db", env["db"], "--json"))
    assert out["status"] == "running" and "jobs_run" not in out
    view = shown(env, iid)
    assert view["status"] == "running" and completed(view["history"], "a") == 0
    worked = invoke("worker", "--db", env["db"], "--handlers", env["handlers"], "--until-idle")
    assert worked.exit_code == 0 and "2 job(s): 2 service" in worked.stderr
    assert_at_review(env, iid)


def test_a_job_without_its_handler_stays_for_a_worker(env: dict) -> None:
    iid = start(env, after(env, FIRST, "complete.bpmn"))
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["task_id"]
    out = as_json(invoke("complete", task, "--db", env["db"], "--handlers", env["only_a"], "--json"))
    assert out["status"] == "running" and out["jobs_run"] == 1 and out["waiting"][0]["element_id"] == "b"
    view = shown(env, iid)
    assert completed(view["history"], "a") == 1 and completed(view["history"], "b") == 0
    worked = invoke("worker", "--db", env["db"], "--handlers", env["handlers"], "--until-idle")
    assert worked.exit_code == 0 and "1 job(s): 1 service" in worked.stderr
    assert_at_review(env, iid)


def test_message_with_handlers_carries_the_instance_on(env: dict) -> None:
    path = after(env, PAID_CATCH, "pay.bpmn", extra=ZEEBE_MESSAGE, process_id="payment")
    iid = start(env, path, "--data", '{"orderId": 42}')
    out = as_json(invoke("message", "payment-received", "-c", "orderId=42", "--db", env["db"],
                         "--handlers", env["handlers"], "--json"))
    assert out["outcome"] == "delivered" and out["instance_id"] == iid and out["status"] == "waiting"
    assert_at_review(env, iid)
    buffered = as_json(invoke("message", "payment-received", "-c", "orderId=7", "--db", env["db"],
                              "--handlers", env["handlers"], "--json"))
    assert buffered["outcome"] == "buffered"


def test_message_without_handlers_is_unchanged(env: dict) -> None:
    path = after(env, PAID_CATCH, "pay.bpmn", extra=ZEEBE_MESSAGE, process_id="payment")
    iid = start(env, path, "--data", '{"orderId": 42}')
    out = as_json(invoke("message", "payment-received", "-c", "orderId=42", "--db", env["db"], "--json"))
    assert (out["outcome"], out["instance_id"], out["status"]) == ("delivered", iid, "running")
    assert "jobs_run" not in out
    assert completed(shown(env, iid)["history"], "a") == 0


def test_signal_with_handlers_carries_every_catching_instance_on(env: dict) -> None:
    path = after(env, HEAR, "sig.bpmn", extra='<bpmn:signal id="Sig" name="go"/>', process_id="sig")
    first, second = start(env, path), start(env, path)
    out = as_json(invoke("signal", "go", "--db", env["db"], "--handlers", env["handlers"], "--json"))
    assert sorted(out["delivered"]) == sorted([first, second]) and out["jobs_run"] == 4
    assert_at_review(env, first)
    assert_at_review(env, second)


def test_signal_without_handlers_is_unchanged(env: dict) -> None:
    path = after(env, HEAR, "sig.bpmn", extra='<bpmn:signal id="Sig" name="go"/>', process_id="sig")
    iid = start(env, path)
    out = as_json(invoke("signal", "go", "--db", env["db"], "--json"))
    assert out["delivered"] == [iid] and "jobs_run" not in out
    assert shown(env, iid)["status"] == "running"


def test_retry_with_handlers_runs_the_failed_job_and_goes_on(env: dict) -> None:
    env["broken"].write_text("yes")
    iid = start(env, after(env, FIRST, "retry.bpmn"))
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["task_id"]
    failed = as_json(invoke("complete", task, "--db", env["db"], "--handlers", env["handlers"], "--json"))
    assert failed["status"] == "incident" and "b is broken" in failed["handler_errors"][0]
    env["broken"].unlink()  # the cause fixed
    out = as_json(invoke("retry", iid, "--db", env["db"], "--handlers", env["handlers"], "--json"))
    assert out["jobs"] == 1 and out["jobs_run"] == 1 and out["status"] == "waiting"
    assert_at_review(env, iid)
    text = invoke("show", iid, "--db", env["db"])
    assert text.stdout.count("completed  b") == 1


def test_retry_without_handlers_leaves_the_job_to_a_worker(env: dict) -> None:
    env["broken"].write_text("yes")
    iid = start(env, after(env, FIRST, "retry.bpmn"))
    task = as_json(invoke("tasks", "--db", env["db"], "--json"))["tasks"][0]["task_id"]
    invoke("complete", task, "--db", env["db"], "--handlers", env["handlers"])
    env["broken"].unlink()
    text = invoke("retry", iid, "--db", env["db"])
    assert text.exit_code == 0 and "1 job(s) due again; a worker will run them" in text.stdout
    assert shown(env, iid)["status"] == "running"


def test_start_with_handlers_runs_to_the_first_wait(env: dict) -> None:
    body = START + SERVICES + REVIEW + END + chain("start", "a", "b", "review", "end")
    iid = start(env, write(env["tmp"], "straight.bpmn", body), "--handlers", env["handlers"])
    assert_at_review(env, iid)

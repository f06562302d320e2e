"""Business keys as in Camunda 7: not unique; `instances --business-key` with `--status` and `--process`;
`show`, `retry` and `cancel` by `--business-key` when exactly one open instance has it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner.cli import app

from .durable import three_services, user_task_process

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def start(path: Path, db: str, key: str) -> str:
    result = invoke("start", path, "--db", db, "--business-key", key, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["instance_id"]


def listed(db: str, *options: str) -> set[str]:
    result = invoke("instances", "--db", db, "--json", *options)
    assert result.exit_code == 0, result.output
    return {row["instance_id"] for row in json.loads(result.stdout)["instances"]}


def test_instances_filters_by_business_key_with_status_and_process(db_url: str, tmp_path: Path) -> None:
    """Camunda 7 REST "Get Instances" filters businessKey, processDefinitionKey and state combine (AND)."""
    review, three = user_task_process(tmp_path), three_services(tmp_path)
    a = start(review, db_url, "ORDER-1")
    b = start(review, db_url, "ORDER-1")
    c = start(three, db_url, "ORDER-1")   # another process, same key: a service job leaves it running
    start(review, db_url, "ORDER-2")
    assert invoke("cancel", b, "--db", db_url).exit_code == 0
    assert listed(db_url, "--business-key", "ORDER-1") == {a, b, c}
    assert listed(db_url, "--business-key", "ORDER-1", "--process", "approval") == {a, b}
    assert listed(db_url, "--business-key", "ORDER-1", "--status", "waiting") == {a}
    assert listed(db_url, "--business-key", "ORDER-1", "--status", "cancelled", "--process", "approval") == {b}
    assert listed(db_url, "--business-key", "ORDER-1", "--status", "cancelled", "--process", "three") == set()
    assert listed(db_url, "--business-key", "ORDER-9") == set()


def test_show_and_cancel_by_business_key_take_the_one_open_instance(db_url: str, tmp_path: Path) -> None:
    review = user_task_process(tmp_path)
    ended = start(review, db_url, "ORDER-1")
    assert invoke("cancel", "--business-key", "ORDER-1", "--db", db_url).exit_code == 0
    iid = start(review, db_url, "ORDER-1")   # the cancelled one no longer counts
    shown = invoke("show", "--business-key", "ORDER-1", "--db", db_url, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["instance_id"] == iid
    assert f"instance {iid}: waiting" in invoke("show", "-k", "ORDER-1", "--db", db_url).stdout
    cancelled = invoke("cancel", "--business-key", "ORDER-1", "--db", db_url, "--json")
    assert json.loads(cancelled.stdout) == {"instance_id": iid, "status": "cancelled"}
    none_open = invoke("show", "--business-key", "ORDER-1", "--db", db_url)
    assert none_open.exit_code == 2
    assert "no open instance has business key 'ORDER-1'" in none_open.stderr
    assert ended in none_open.stderr and iid in none_open.stderr


def test_a_business_key_shared_by_open_instances_is_an_error_naming_them(db_url: str, tmp_path: Path) -> None:
    review = user_task_process(tmp_path)
    first, second = start(review, db_url, "ORDER-1"), start(review, db_url, "ORDER-1")
    for command in ("show", "retry", "cancel"):
        result = invoke(command, "--business-key", "ORDER-1", "--db", db_url)
        assert result.exit_code == 2, (command, result.output)
        assert "2 open instances have business key 'ORDER-1'" in result.stderr
        assert first in result.stderr and second in result.stderr and "Traceback" not in result.output
    assert listed(db_url, "--business-key", "ORDER-1", "--status", "waiting") == {first, second}  # untouched


def test_retry_by_business_key(db_url: str, tmp_path: Path) -> None:
    handlers = tmp_path / "failing.py"
    handlers.write_text("from bpmn_runner import handler\n\n"
                        "@handler('step.a')\ndef a(call):\n    raise RuntimeError('a is down')\n\n"
                        "@handler('step.b')\ndef b(call):\n    return {}\n\n"
                        "@handler('step.c')\ndef c(call):\n    return {}\n")
    iid = start(three_services(tmp_path, retries=1), db_url, "ORDER-7")
    worked = invoke("worker", "--db", db_url, "--handlers", handlers, "--until-idle")
    assert worked.exit_code in (0, 1), worked.output
    assert listed(db_url, "--business-key", "ORDER-7", "--status", "incident") == {iid}
    retried = invoke("retry", "--business-key", "ORDER-7", "--db", db_url, "--json")
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.stdout) == {"instance_id": iid, "status": "running", "jobs": 1}


def test_an_instance_id_and_a_business_key_together_are_refused(db_url: str, tmp_path: Path) -> None:
    iid = start(user_task_process(tmp_path), db_url, "ORDER-1")
    both = invoke("show", iid, "--business-key", "ORDER-1", "--db", db_url)
    assert both.exit_code == 2 and "by its id or by --business-key" in both.stderr
    neither = invoke("cancel", "--db", db_url)
    assert neither.exit_code == 2 and "by its id or by --business-key" in neither.stderr

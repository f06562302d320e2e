"""Business keys as in Camunda 7: not unique; `instances --business-key` with `--status` and `--process`;
`show`, `retry` and `cancel` by `--business-key` when exactly one open instance has it; a message without a key
while several instances wait is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.errors import InvalidOperationError

from .durable import END, START, MovableClock, chain, runtime, three_services, user_task_process, write
from .test_worker import PAID_CATCH, ZEEBE_MESSAGE

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


# ----- a message without a key while several instances wait -------------------------------------------------

def _camunda7_catch(tmp_path: Path) -> Path:
    extra = '<bpmn:message id="Msg" name="approved"/>'
    body = (START + '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Msg"/>'
            '</bpmn:intermediateCatchEvent>' + END + chain("start", "wait", "end"))
    return write(tmp_path, "c7msg.bpmn", body, extra=extra)


def test_a_keyless_message_while_several_keyed_instances_wait_is_an_error_naming_them(store, tmp_path: Path) -> None:
    """Camunda 7 Javadoc, MessageCorrelationBuilder.correlate() (docs.camunda.org/javadoc/camunda-bpm-platform/7.20
    .../runtime/MessageCorrelationBuilder.html): it throws MismatchingMessageCorrelationException "if none or more
    than one execution or process definition is matched by the correlation" -- never an arbitrary pick, and here
    never a silent buffer either."""
    rt = runtime(store, None, MovableClock())
    path = write(tmp_path, "payment.bpmn", START + PAID_CATCH + END + chain("start", "paid", "end"),
                 process_id="payment", extra=ZEEBE_MESSAGE)
    one = rt.start([path], data={"orderId": 41})["instance_id"]
    two = rt.start([path], data={"orderId": 42})["instance_id"]
    with pytest.raises(InvalidOperationError, match="no correlation key and 2 instances wait") as err:
        rt.publish_message("payment-received", payload={"amount": 1})
    assert f"{one} (key 41)" in str(err.value) and f"{two} (key 42)" in str(err.value)
    assert store.count_messages() == {}  # not buffered
    assert {rt.show(i)["status"] for i in (one, two)} == {"waiting"}
    assert rt.publish_message("payment-received", correlations={"orderId": 42})["instance_id"] == two


def test_a_keyless_message_among_camunda_7_business_keys_is_refused_and_one_waiter_still_gets_it(
        store, tmp_path: Path) -> None:
    """Camunda 7 Javadoc, MessageCorrelationBuilder.correlate(): MismatchingMessageCorrelationException when more
    than one execution matches; exactly one match is correlated."""
    rt = runtime(store, None, MovableClock())
    path = _camunda7_catch(tmp_path)
    a = rt.start([path], business_key="K-1")["instance_id"]
    b = rt.start([path], business_key="K-2")["instance_id"]
    with pytest.raises(InvalidOperationError, match=f"{a} \\(key K-1\\), {b} \\(key K-2\\)|{b} \\(key K-2\\), {a}"):
        rt.publish_message("approved")
    assert rt.publish_message("approved", business_key="K-1")["instance_id"] == a
    assert rt.publish_message("approved")["instance_id"] == b  # now the only one waiting
    assert rt.show(b)["status"] == "completed"


def test_the_message_command_exits_2_naming_the_instances(db_url: str, tmp_path: Path) -> None:
    path = _camunda7_catch(tmp_path)
    a, b = start(path, db_url, "K-1"), start(path, db_url, "K-2")
    result = invoke("message", "approved", "--db", db_url)
    assert result.exit_code == 2 and a in result.stderr and b in result.stderr
    assert "--business-key K" in result.stderr and "Traceback" not in result.output

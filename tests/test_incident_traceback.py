"""An incident keeps the failing handler's traceback: stored with the job, in `show --json` as the incident's
`traceback`, never printed by plain `show`. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner.cli import app

from .durable import MovableClock, registry, runtime, three_services, worker

runner = CliRunner()

FAILING = ("from bpmn_runner import handler\n\n"
           "def charge_card(amount):\n    raise ValueError('card declined: ' + str(amount))\n\n"
           "@handler('step.a')\ndef a(call):\n    return charge_card(12)\n\n"
           "@handler('step.b')\ndef b(call):\n    return {}\n\n"
           "@handler('step.c')\ndef c(call):\n    return {}\n")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_show_json_has_the_handlers_traceback_and_plain_show_does_not(db_url: str, tmp_path: Path) -> None:
    """Issue 13 item 10. Camunda 7 keeps a failed job's exception stack trace apart from its message
    (Javadoc ManagementService.getJobExceptionStacktrace; Cockpit shows it on request only)."""
    handlers = tmp_path / "payments.py"
    handlers.write_text(FAILING)
    started = invoke("start", three_services(tmp_path, retries=1), "--db", db_url, "--json")
    iid = json.loads(started.stdout)["instance_id"]
    invoke("worker", "--db", db_url, "--handlers", handlers, "--until-idle")
    shown = json.loads(invoke("show", iid, "--db", db_url, "--json").stdout)
    assert shown["status"] == "incident"
    [incident] = shown["incidents"]
    assert "card declined: 12" in incident["error"]
    trace = incident["traceback"]
    assert trace.startswith("Traceback") and "payments.py" in trace and "charge_card" in trace
    assert "ValueError: card declined: 12" in trace
    plain = invoke("show", iid, "--db", db_url)
    assert plain.exit_code == 0 and "incident at a" in plain.stdout
    assert "Traceback" not in plain.output and "charge_card" not in plain.output


def test_the_incident_keeps_the_last_attempts_traceback_and_retry_clears_the_incident(store, tmp_path: Path) -> None:
    calls = []

    def flaky(call):
        calls.append(call.attempt)
        raise RuntimeError(f"attempt {len(calls)} failed")

    clock = MovableClock()
    rt = runtime(store, registry(step_a=flaky, step_b=lambda c: {}, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path, retries=2)])["instance_id"]
    for _ in range(2):
        worker(rt).run_once()
        clock.advance(minutes=10)
    [incident] = rt.show(iid)["incidents"]
    assert "RuntimeError: attempt 2 failed" in incident["traceback"] and "attempt 1" not in incident["traceback"]
    rt.retry(iid)
    assert rt.show(iid)["incidents"] == []

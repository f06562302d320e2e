"""The command line: every command and exit code, as a user at a terminal or a script would meet them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app

from .scenario import write
from .test_elements import END, START, chain, flow

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
ORDER = str(PROCESSES / "order_fulfillment.bpmn")
ORDER_HANDLERS = str(PROCESSES / "order_handlers.py")
ORDER_DATA = str(PROCESSES / "order_fulfillment.data.json")

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_run_json_prints_one_object_with_the_documented_keys() -> None:
    result = invoke("run", ORDER, "--handlers", ORDER_HANDLERS, "--data-file", ORDER_DATA, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"status", "instance_id", "process_id", "data", "path", "waiting"}
    assert payload["status"] == "completed" and payload["process_id"] == "order_fulfillment"
    assert payload["path"][-1] == "Event_OrderShipped" and payload["waiting"] == []


def test_run_prints_a_readable_summary() -> None:
    result = invoke("run", ORDER, "--handlers", ORDER_HANDLERS, "--data-file", ORDER_DATA)
    assert result.exit_code == 0, result.output
    assert "order_fulfillment: completed" in result.stdout
    assert "Check stock in ERP" in result.stdout and "Order shipped" in result.stdout


def test_run_failed_exits_1_with_the_error_in_json(tmp_path: Path) -> None:
    handlers = tmp_path / "h.py"
    handlers.write_text("from bpmn_runner import handler\n@handler('svc')\ndef svc(call):\n"
                        "    raise RuntimeError('database is down')\n")
    diagram = write(tmp_path, START + '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="svc"/>'
                    + END + chain("start", "t", "end"))
    result = invoke("run", str(diagram), "--handlers", str(handlers), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed" and "database is down" in payload["error"]


def test_run_definition_error_exits_3_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text('<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                      '\n<bpmn:process id="p" isExecutable="true">\n<bpmn:startEvent id="s">\n</bpmn:process>')
    result = invoke("run", str(broken))
    assert result.exit_code == 3
    assert "broken.bpmn:" in result.stderr and "not well-formed" in result.stderr
    assert "Traceback" not in result.output


def test_run_bad_data_is_a_usage_error_exit_2() -> None:
    result = invoke("run", ORDER, "--handlers", ORDER_HANDLERS, "--data", "{not json")
    assert result.exit_code == 2
    assert "--data is not valid JSON" in result.stderr


def test_unknown_option_is_a_usage_error_exit_2() -> None:
    assert invoke("run", ORDER, "--no-such-option").exit_code == 2


def test_run_waits_at_a_user_task_without_a_terminal(tmp_path: Path) -> None:
    diagram = write(tmp_path, START + '<bpmn:userTask id="approve" name="Approve"/>' + END
                    + chain("start", "approve", "end"))
    result = invoke("run", str(diagram), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["status"] == "waiting" and payload["waiting"] == ["approve"]
    text = invoke("run", str(diagram))
    assert "waiting at: Approve [approve]" in text.stdout


def test_several_executable_processes_ask_for_one(tmp_path: Path) -> None:
    write(tmp_path, START + END + chain("start", "end"), name="a.bpmn", process_id="alpha")
    write(tmp_path, START + END + chain("start", "end"), name="b.bpmn", process_id="beta")
    result = invoke("run", str(tmp_path / "a.bpmn"), str(tmp_path / "b.bpmn"))
    assert result.exit_code == 3
    assert "alpha" in result.stderr and "beta" in result.stderr and "--process" in result.stderr
    chosen = invoke("run", str(tmp_path), "--process", "beta", "--json")
    assert chosen.exit_code == 0 and json.loads(chosen.stdout)["process_id"] == "beta"


def test_simulate_walks_a_diagram_without_handlers() -> None:
    result = invoke("run", ORDER, "--simulate", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed"


def test_max_steps_fails_naming_repeating_elements(tmp_path: Path) -> None:
    body = (START + '<bpmn:exclusiveGateway id="merge"/><bpmn:task id="spin"/><bpmn:exclusiveGateway id="gw" '
            'default="f_back"/><bpmn:endEvent id="end"/>' + flow("f0", "start", "merge") + flow("f1", "merge", "spin")
            + flow("f2", "spin", "gw") + flow("f_back", "gw", "merge") + flow("f_out", "gw", "end", "${done}"))
    diagram = write(tmp_path, body)
    result = invoke("run", str(diagram), "--simulate", "--max-steps", "30", "--data", '{"done": false}', "--json")
    assert result.exit_code == 1
    assert "spin" in json.loads(result.stdout)["error"]


def test_validate_ok_exits_0() -> None:
    result = invoke("validate", ORDER, "--handlers", ORDER_HANDLERS)
    assert result.exit_code == 0, result.output


def test_validate_names_missing_handlers_with_did_you_mean(tmp_path: Path) -> None:
    handlers = tmp_path / "h.py"
    handlers.write_text("from bpmn_runner import handler\n@handler('erp.check-stok')\ndef f(call):\n    return {}\n")
    result = invoke("validate", ORDER, "--handlers", str(handlers))
    assert result.exit_code == 3
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert any("erp.check-stock" in line and "did you mean 'erp.check-stok'" in line for line in lines)
    assert all(line.startswith("processes/order_fulfillment.bpmn:") or "order_fulfillment.bpmn:" in line
               for line in lines)


def test_validate_unbound_task_is_an_error_with_line(tmp_path: Path) -> None:
    diagram = write(tmp_path, START + '\n<bpmn:serviceTask id="t" name="Charge"/>' + END + chain("start", "t", "end"))
    result = invoke("validate", str(diagram))
    assert result.exit_code == 3
    assert f"{diagram}:6: error:" in result.stdout or "diagram.bpmn:6: error:" in result.stdout


def test_handlers_lists_names_and_sources() -> None:
    result = invoke("handlers", "--handlers", ORDER_HANDLERS)
    assert result.exit_code == 0
    assert "payment.charge" in result.stdout and "order_handlers.py" in result.stdout
    as_json = json.loads(invoke("handlers", "--handlers", ORDER_HANDLERS, "--json").stdout)
    assert "erp.check-stock" in [h["name"] for h in as_json["handlers"]]


def test_handlers_from_a_missing_module_is_a_clear_error() -> None:
    result = invoke("handlers", "--handlers", "no_such_module_xyz")
    assert result.exit_code == 3
    assert "no_such_module_xyz" in result.stderr and "Traceback" not in result.output


def test_run_writes_the_instance_report(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = invoke("run", ORDER, "--handlers", ORDER_HANDLERS, "--data-file", ORDER_DATA, "--report", str(target))
    assert result.exit_code == 0, result.output
    html = target.read_text()
    assert 'data-element-id="Activity_ChargePayment"' in html


def test_real_subprocess_run_and_python_dash_m() -> None:
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "bpmn_runner", "run", ORDER, "--handlers", ORDER_HANDLERS,
                           "--data-file", ORDER_DATA, "--json"], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "completed"


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["validate", "--help"], ["handlers", "--help"]])
def test_help_works_for_every_command(args: list[str]) -> None:
    assert invoke(*args).exit_code == 0


def test_run_on_a_terminal_asks_for_user_task_fields(tmp_path: Path) -> None:
    import pty
    import select
    import time
    user = ('<bpmn:userTask id="approve" name="Approve order"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="approved" label="Approved?" type="boolean"/>'
            '<camunda:formField id="note" label="Note" type="string"/></camunda:formData>'
            '</bpmn:extensionElements></bpmn:userTask>')
    diagram = write(tmp_path, START + user + END + chain("start", "approve", "end"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: a real terminal on stdin and stdout
        os.execv(sys.executable, [sys.executable, "-m", "bpmn_runner", "run", str(diagram)])
    output = b""
    answers = [b"yes\r", b"looks fine\r"]
    deadline = time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if answers and output.rstrip().endswith(b":"):
                os.write(fd, answers.pop(0))
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "Approved?" in text and "Note" in text
    assert "p: completed" in text and '"note": "looks fine"' in text
    assert os.waitstatus_to_exitcode(status) == 0


def test_run_json_keeps_handler_prints_off_stdout(tmp_path: Path) -> None:
    handlers = tmp_path / "h.py"
    handlers.write_text("from bpmn_runner import handler\n@handler('svc')\ndef svc(call):\n"
                        "    print('debug output from a handler')\n    return {'ok': True}\n")
    diagram = write(tmp_path, START + '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="svc"/>'
                    + END + chain("start", "t", "end"))
    proc = subprocess.run([sys.executable, "-m", "bpmn_runner", "run", str(diagram), "--handlers", str(handlers),
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["data"] == {"ok": True}
    assert "debug output from a handler" in proc.stderr


def test_run_json_definition_error_is_one_json_object_and_exit_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bpmn"
    empty.write_text("")
    result = invoke("run", str(empty), "--json")
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["status"] == "failed" and "empty.bpmn:1: error:" in payload["error"]

"""`bpmn-runner serve` as a user starts it: a process that answers on its port with the API, the Camunda subset
and the in-process worker (--handlers runs service jobs, timers fire), and refuses a public binding without a
token in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .serve_helpers import Serve, request, wait_for

HANDLERS = '''
from bpmn_runner import handler

@handler("work")
def work(call):
    return {"worked": True}
'''


def test_serve_answers_and_runs_in_process_handlers(tmp_path: Path) -> None:
    (tmp_path / "work_handlers.py").write_text(HANDLERS)
    serve = Serve(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "serve.log", "--handlers",
                  str(tmp_path / "work_handlers.py"), "--workers", "2")
    try:
        assert request("GET", serve.base + "/engine-rest/engine") == (200, [{"name": "default"}])
        status, spec = request("GET", serve.base + "/api/openapi.json")
        assert status == 200 and "/api/instances" in spec["paths"]
        diagram = Path(__file__).resolve().parent / "serve_data" / "one_task.bpmn"
        from .serve_helpers import multipart
        body, kind = multipart({"files": ("one_task.bpmn", diagram.read_bytes())}, {})
        assert request("POST", serve.base + "/api/deployments", raw=body, headers={"Content-Type": kind})[0] == 200
        status, out = request("POST", serve.base + "/api/process-definitions/one_task/start", {})
        assert status == 201
        # the topic has an in-process handler: serve's worker runs it, and fetchAndLock never hands it out
        assert request("POST", serve.base + "/engine-rest/external-task/fetchAndLock",
                       {"workerId": "w", "maxTasks": 5, "topics": [{"topicName": "work", "lockDuration": 1000}]}) \
            == (200, [])
        shown = wait_for(lambda: (s := request("GET", f"{serve.base}/api/instances/{out['instance_id']}")[1])
                         ["status"] == "completed" and s, 30, "the in-process handler did not run", serve.log)
        assert shown["data"] == {"worked": True}
    finally:
        serve.stop()


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bpmn_runner", "serve", "--host", "0.0.0.0", "--db",
                           f"sqlite:///{tmp_path / 'x.db'}"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --host 0.0.0.0 is reachable from other machines: give --token TOKEN (or set BPMN_RUNNER_TOKEN) so "
        "that only clients with the token get in"]
    assert "Traceback" not in done.stderr


def test_serve_says_when_its_port_is_taken(tmp_path: Path) -> None:
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "bpmn_runner", "serve", "--port", str(port), "--db",
                               f"sqlite:///{tmp_path / 'x.db'}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}: ") and "choose another --port" in line


def test_sigterm_answers_waiting_long_polls_and_stops_cleanly(tmp_path: Path) -> None:
    import threading
    import time
    serve = Serve(f"sqlite:///{tmp_path / 'stop.db'}", tmp_path / "serve.log")
    answer: list = []
    poll = threading.Thread(target=lambda: answer.append(request(
        "POST", serve.base + "/engine-rest/external-task/fetchAndLock",
        {"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 60000,
         "topics": [{"topicName": "never", "lockDuration": 1000}]})))
    poll.start()
    time.sleep(1.0)
    serve.stop()
    poll.join(30)
    assert answer == [(200, [])]  # answered at the shutdown, long before its 60 s
    # uvicorn shuts down, then ends with the signal it was sent, as a process stopped by SIGTERM does
    assert serve.process.returncode in (0, -15) and "Traceback" not in serve.log()

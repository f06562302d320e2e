"""Helpers of the `serve` tests: a free port, `bpmn-runner serve` as a subprocess, waiting for answers, and the
official Camunda clients (skipped with a reason when they cannot be installed, failed under
BPMN_RUNNER_REQUIRE_CLIENTS=1 as in CI)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ROOT / "processes" / "order_fulfillment.bpmn"
CLIENTS = Path(__file__).resolve().parent / "serve_clients"
NODE_CLIENT = "camunda-external-task-client-js@^3.1.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_client(message: str) -> None:
    if os.environ.get("BPMN_RUNNER_REQUIRE_CLIENTS") == "1":
        pytest.fail(message + "; BPMN_RUNNER_REQUIRE_CLIENTS=1 makes this a failure")
    pytest.skip(message)


def node_client_dir() -> Path:
    """A folder with camunda-external-task-client-js installed by npm (reused across runs) and the Node worker."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing_client("node and npm are needed for the camunda-external-task-client-js tests")
    cache = Path(os.environ.get("BPMN_RUNNER_TEST_CACHE") or Path.home() / ".cache" / "bpmn-runner-tests") / "node"
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "node_modules" / "camunda-external-task-client-js" / "package.json").exists():
        try:
            done = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", NODE_CLIENT],
                                  capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            missing_client(f"npm install {NODE_CLIENT} took over 10 minutes")
        if done.returncode != 0:
            missing_client(f"npm install {NODE_CLIENT} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    shutil.copy(CLIENTS / "order_worker.mjs", cache / "order_worker.mjs")
    return cache


def python_client_ready() -> None:
    try:
        import camunda.external_task.external_task_worker  # noqa: F401
    except ImportError:
        missing_client("camunda-external-task-client-python3 is not installed (pip install -e '.[test]')")


class Serve:
    """`bpmn-runner serve` in a subprocess on a free port; its output goes to a log file shown on failure."""

    def __init__(self, db_url: str, log: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "bpmn_runner", "serve", "--db", db_url,
                                         "--port", str(self.port), *extra], stdout=self._log,
                                        stderr=subprocess.STDOUT, cwd=str(log.parent), env=env)
        wait_for(lambda: self._up(), 30, f"serve did not answer on {self.base}", self.log)

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}: {self.log()}")
        try:
            return request("GET", self.base + "/engine-rest/engine")[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def request(method: str, url: str, body: Any = None, *, raw: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON body or text) with urllib: no client library between the test and the server."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, text, kind = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        status, text, kind = exc.code, exc.read(), exc.headers.get("content-type", "")
    return status, json.loads(text) if text and kind.startswith("application/json") else text.decode()


def multipart(files: dict[str, tuple[str, bytes]], fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "----bpmn-runner-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def deploy_order(base: str) -> dict[str, Any]:
    body, kind = multipart({"order": (ORDER.name, ORDER.read_bytes())}, {"deployment-name": "orders"})
    status, out = request("POST", base + "/engine-rest/deployment/create", raw=body,
                          headers={"Content-Type": kind})
    assert status == 200, out
    return out


def wait_for(check: Callable[[], Any], seconds: float, what: str, log: Callable[[], str] | None = None) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {seconds:.0f}s" + (f"\n{log()}" if log else ""))

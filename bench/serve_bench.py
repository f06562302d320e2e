"""`serve` under load: instances started over REST against Runtime.start and the CLI's `start`, and concurrent
fetchAndLock long polls that must each get exactly one task.

    .venv/bin/python bench/serve_bench.py [--db URL] [--instances 1000] [--polls 200] [--clients 8] [--cli 20]

Runs `bpmn-runner serve` as a subprocess on a free loopback port (default store: a temporary SQLite file) and
prints: REST starts per second (with --clients concurrent keep-alive connections), Runtime.start per second in
this process on the same store, the CLI's `start` per second (one process per instance, --cli of them), and for
--polls long polls parked at once: errors, tasks delivered, duplicates, and instances left unfinished after every
delivered task was completed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmn_runner.durable import open_runtime  # noqa: E402
from bpmn_runner.environment import build_environment  # noqa: E402

ONE_TASK = ROOT / "tests" / "serve_data" / "one_task.bpmn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Http:
    """One keep-alive connection (each thread has its own)."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
        self.conn.request(method, path, body=body, headers=headers or {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        kind = response.getheader("content-type") or ""
        return response.status, json.loads(data) if data and kind.startswith("application/json") else data

    def post(self, path: str, payload: object) -> tuple[int, object]:
        return self.call("POST", path, json.dumps(payload).encode())


def deploy(port: int, name: str, content: bytes) -> None:
    boundary = "bench-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="{name}"\r\n\r\n'.encode()
            + content + f"\r\n--{boundary}--\r\n".encode())
    status, out = Http(port).call("POST", "/engine-rest/deployment/create", body,
                                  {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200, out


def rest_starts(port: int, count: int, clients: int) -> tuple[float, int, set[str]]:
    local = threading.local()
    errors = 0
    ids: set[str] = set()
    lock = threading.Lock()

    def one(n: int) -> None:
        nonlocal errors
        if not hasattr(local, "http"):
            local.http = Http(port)
        status, out = local.http.post("/engine-rest/process-definition/key/one_task/start",
                                      {"businessKey": f"B{n}", "variables": {"n": {"value": n, "type": "Integer"}}})
        with lock:
            if status == 200 and isinstance(out, dict):
                ids.add(out["id"])
            else:
                errors += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - began, errors, ids


def runtime_starts(db: str, count: int) -> float:
    with open_runtime(db, build_environment(entry_points=False)) as runtime:
        _digest, definitions = runtime.deploy([ONE_TASK])
        began = time.perf_counter()
        for n in range(count):
            runtime.start(definitions=definitions, process_id="one_task", data={"n": n})
        return time.perf_counter() - began


def cli_starts(db: str, count: int) -> float:
    began = time.perf_counter()
    for n in range(count):
        subprocess.run([sys.executable, "-m", "bpmn_runner", "start", str(ONE_TASK), "--db", db, "--data",
                        json.dumps({"n": n})], check=True, capture_output=True)
    return time.perf_counter() - began


def long_polls(port: int, polls: int) -> dict[str, object]:
    poll_bpmn = ONE_TASK.read_bytes().replace(b'id="one_task"', b'id="poll_task"') \
        .replace(b'camunda:topic="work"', b'camunda:topic="poll"').replace(b"Defs_one_task", b"Defs_poll_task")
    deploy(port, "poll_task.bpmn", poll_bpmn)
    results: list[tuple[int, object]] = []
    lock = threading.Lock()

    def poll(n: int) -> None:
        try:
            out = Http(port).post("/engine-rest/external-task/fetchAndLock",
                                  {"workerId": f"bench-{n}", "maxTasks": 1, "asyncResponseTimeout": 60000,
                                   "topics": [{"topicName": "poll", "lockDuration": 120000}]})
        except OSError as exc:
            out = (0, str(exc))
        with lock:
            results.append(out)

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(polls)]
    for thread in threads:
        thread.start()
    time.sleep(3.0)  # every poll parked
    http = Http(port)
    status, _ = http.call("GET", "/engine-rest/engine")
    answered_while_parked = status == 200
    began = time.perf_counter()
    started = set()
    for _ in range(polls):
        status, out = http.post("/engine-rest/process-definition/key/poll_task/start", {})
        if status == 200 and isinstance(out, dict):
            started.add(out["id"])
    for thread in threads:
        thread.join(120)
    delivered_in = time.perf_counter() - began
    errors = [r for r in results if r[0] != 200]
    tasks = [t for status, out in results if status == 200 and isinstance(out, list) for t in out]
    instances = [t["processInstanceId"] for t in tasks]
    for task in tasks:
        status, _ = http.post(f"/engine-rest/external-task/{task['id']}/complete", {"workerId": task["workerId"]})
        if status != 204:
            errors.append((status, task["id"]))
    unfinished = 0
    for instance in started:
        status, out = http.call("GET", f"/engine-rest/history/process-instance/{instance}")
        if status != 200 or not isinstance(out, dict) or out["state"] != "COMPLETED":
            unfinished += 1
    return {"polls": polls, "errors": len(errors), "tasks": len(tasks), "duplicates": len(instances) -
            len(set(instances)), "started": len(started), "unfinished": unfinished,
            "seconds": delivered_in, "answered_while_parked": answered_while_parked}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cli", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="serve-bench-")
    db = args.db or f"sqlite:///{folder}/bench.db"
    port = free_port()
    log = open(Path(folder) / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "bpmn_runner", "serve", "--db", db, "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if Http(port, 2).call("GET", "/engine-rest/engine")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        deploy(port, "one_task.bpmn", ONE_TASK.read_bytes())
        seconds, errors, ids = rest_starts(port, args.instances, args.clients)
        print(f"REST starts:     {args.instances} in {seconds:.2f}s = {args.instances / seconds:.0f}/s "
              f"({args.clients} clients), errors {errors}, distinct instances {len(ids)}")
        seconds = runtime_starts(db, args.instances)
        print(f"Runtime.start:   {args.instances} in {seconds:.2f}s = {args.instances / seconds:.0f}/s (one thread)")
        if args.cli:
            seconds = cli_starts(db, args.cli)
            print(f"CLI start:       {args.cli} in {seconds:.2f}s = {args.cli / seconds:.1f}/s (a process each)")
        out = long_polls(port, args.polls)
        print(f"long polls:      {out['polls']} parked, server answered meanwhile: {out['answered_while_parked']}; "
              f"{out['started']} instances started, {out['tasks']} tasks delivered in {out['seconds']:.2f}s, "
              f"errors {out['errors']}, duplicates {out['duplicates']}, unfinished after completing "
              f"{out['unfinished']}")
    finally:
        server.terminate()
        server.wait(20)
        log.close()


if __name__ == "__main__":
    main()

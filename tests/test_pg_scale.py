"""Four worker processes share one PostgreSQL: every instance of a three-service-task process completes and each
task is recorded once. 100 instances by default, 1,000 with `BPMN_RUNNER_FULL=1`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bpmn_runner.store import open_store

from .durable import completed_counts, runtime, three_services

FULL = os.environ.get("BPMN_RUNNER_FULL") == "1"
INSTANCES = 1000 if FULL else 100
WORKERS = 4

HANDLERS = '''
import os
from bpmn_runner import handler

LOG = {log!r}


def _note(call):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{{call.idempotency_key}} {{os.getpid()}}\\n".encode())
    finally:
        os.close(fd)
    return {{call.element_id: True}}


@handler("step.a")
def a(call):
    return _note(call)


@handler("step.b")
def b(call):
    return _note(call)


@handler("step.c")
def c(call):
    return _note(call)
'''


@pytest.mark.postgres
def test_four_workers_on_postgresql_complete_every_instance_once(pg_url: str, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    handlers = tmp_path / "scale_handlers.py"
    handlers.write_text(HANDLERS.format(log=str(log)))
    rt = runtime(pg_url)
    path = three_services(tmp_path)
    ids = [rt.start([path])["instance_id"] for _ in range(INSTANCES)]
    rt.store.close()
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "bpmn_runner", "worker", "--db", pg_url, "--handlers",
                               str(handlers), "--until-idle", "--poll", "0.05", "--id", f"scale-{i}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(WORKERS)]
    outputs = [p.communicate(timeout=900 if FULL else 300)[1] for p in procs]
    elapsed = time.monotonic() - started
    assert all(p.returncode == 0 for p in procs), outputs
    store = open_store(pg_url)
    statuses = {store.get_instance(i).status for i in ids}
    counts = completed_counts(store)
    store.close()
    assert statuses == {"completed"}
    assert sorted(set(counts.values())) == [1]
    assert len(counts) == INSTANCES * 5  # start, a, b, c, end
    lines = log.read_text().splitlines()
    pids = {line.split()[1] for line in lines}
    assert len({line.split()[0] for line in lines}) == INSTANCES * 3
    assert len(pids) >= 2, "the work was not shared"
    print(f"\n{WORKERS} workers on PostgreSQL: {INSTANCES} instances in {elapsed:.1f} s "
          f"({INSTANCES / elapsed:.1f} instances/s, including worker start-up); {len(lines)} handler calls "
          f"from {len(pids)} workers")

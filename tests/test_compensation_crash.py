"""Crash test for compensation: the worker is killed with SIGKILL inside a compensation handler; a new worker takes
the job over once its lease expires, and the compensation goes on to the end (last completed first) without losing
a step or recording one twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from bpmn_runner.store import open_store

from .durable import completed_counts, runtime, write
from .test_compensation_store import saga

LEASE = 1.0

HANDLERS = '''
import os, time
from bpmn_runner import BpmnError, handler

LOG = {log!r}
SLOW = {slow!r}


def _write(line):
    with open(LOG, "a") as out:
        out.write(line + "\\n")


def _step(name):
    def run(call):
        _write(f"start {{name}} {{os.getpid()}}")
        while name == "undo.charge" and os.path.exists(SLOW):
            time.sleep(0.05)  # the test kills the worker here
        _write(f"end {{name}} {{os.getpid()}}")
        return {{name.replace(".", "_"): True}}
    return run


do_reserve = handler("do.reserve")(_step("do.reserve"))
do_charge = handler("do.charge")(_step("do.charge"))
undo_reserve = handler("undo.reserve")(_step("undo.reserve"))
undo_charge = handler("undo.charge")(_step("undo.charge"))


@handler("do.book")
def book(call):
    raise BpmnError("NO_CARRIER", "no carrier")
'''


def _worker(url: str, handlers: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bpmn_runner", "worker", "--db", url, "--handlers", str(handlers),
                             "--lease", str(LEASE), "--poll", "0.05", "--id", name],
                            stdout=subprocess.DEVNULL, stderr=open(handlers.parent / f"{name}.err", "w"))


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_inside_a_compensation_handler_loses_nothing(db_url: str, tmp_path: Path) -> None:
    log, slow = tmp_path / "handler.log", tmp_path / "slow"
    slow.touch()
    handlers = tmp_path / "saga_handlers.py"
    handlers.write_text(HANDLERS.format(log=str(log), slow=str(slow)))
    rt = runtime(db_url)
    iid = rt.start([write(tmp_path, "saga.bpmn", saga("camunda7"))])["instance_id"]
    rt.store.close()

    def lines() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    first = _worker(db_url, handlers, "w1")
    second = None
    try:
        assert _wait_for(lambda: any(line.startswith("start undo.charge") for line in lines())), \
            (tmp_path / "w1.err").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        slow.unlink()
        second = _worker(db_url, handlers, "w2")

        def done() -> bool:
            store = open_store(db_url)
            try:
                return store.get_instance(iid).status == "completed"
            finally:
                store.close()
        assert _wait_for(done), (tmp_path / "w2.err").read_text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)

    events = [" ".join(line.split()[:2]) for line in lines()]
    assert events == ["start do.reserve", "end do.reserve", "start do.charge", "end do.charge",
                      "start undo.charge",                     # killed here
                      "start undo.charge", "end undo.charge",  # run again by the second worker
                      "start undo.reserve", "end undo.reserve"]
    store = open_store(db_url)
    counts = {element: n for (instance, element), n in completed_counts(store).items() if instance == iid}
    store.close()
    assert counts["undo_charge"] == 1 and counts["undo_reserve"] == 1 and counts["undo_all"] == 1
    assert all(n == 1 for n in counts.values())

"""Throughput of durable instances (issue 4), run by hand:

    .venv/bin/python bench/store_bench.py                 # about a minute and a half
    .venv/bin/python bench/store_bench.py --quick         # about 30 s
    .venv/bin/python bench/store_bench.py --pg postgresql://postgres@127.0.0.1:5432/test

Two measurements, in the same run:

1. Workers on PostgreSQL: instances per second with 1 and with 4 `bpmn-runner worker` processes, for a process of
   three service tasks whose handler sleeps 20 ms. The instances are started first; the clock runs from the
   first handler call to the last instance's end, so worker start-up is not counted. A fresh schema per row.
2. Persisted against in-memory on SQLite: the W1 straight-through process of bench/run.py (10 service tasks with
   no-op handlers, an exclusive gateway) run in memory with `Engine.start().run()`, and persisted: `Runtime.start`
   and a `Worker` in the same process, committing a step per service task to a SQLite file.

Prints a table and the ratios; `--json FILE` writes the numbers too. `persisted_w1()` is the hook bench/run.py
can call for its "W1 persisted (SQLite)" row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmn_runner import Engine, HandlerRegistry, load  # noqa: E402
from bpmn_runner.runtime import Runtime  # noqa: E402
from bpmn_runner.store import open_store  # noqa: E402
from bpmn_runner.worker import Worker  # noqa: E402
from tests.generate import straight_through  # noqa: E402

DEFAULT_PG = os.environ.get("BPMN_RUNNER_TEST_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"

THREE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
<bpmn:process id="three" isExecutable="true">
<bpmn:startEvent id="start"/>
<bpmn:serviceTask id="a"><bpmn:extensionElements><zeebe:taskDefinition type="sleep"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="b"><bpmn:extensionElements><zeebe:taskDefinition type="sleep"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="c"><bpmn:extensionElements><zeebe:taskDefinition type="sleep"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/><bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="c"/><bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="end"/>
</bpmn:process></bpmn:definitions>
"""

SLEEP_HANDLERS = '''
import os, time
from bpmn_runner import handler

LOG = {log!r}


@handler("sleep")
def sleep(call):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{{time.time()}}\\n".encode())
    finally:
        os.close(fd)
    time.sleep({seconds})
    return {{}}
'''


# ----- PostgreSQL: 1 and 4 worker processes -----------------------------------------------------------------

def _pg_schema(base: str) -> tuple[str, str]:
    import psycopg
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    separator = "&" if "?" in base else "?"
    return name, f"{base}{separator}options={quote(f'-csearch_path={name}')}"


def _drop_schema(base: str, name: str) -> None:
    import psycopg
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def pg_workers(base: str, instances: int, workers: int, sleep: float = 0.02) -> dict[str, Any]:
    """Instances per second with `workers` worker processes sharing one PostgreSQL."""
    schema, url = _pg_schema(base)
    try:
        with tempfile.TemporaryDirectory() as folder:
            diagram = Path(folder) / "three.bpmn"
            diagram.write_text(THREE)
            log = Path(folder) / "calls.log"
            handlers = Path(folder) / "sleep_handlers.py"
            handlers.write_text(SLEEP_HANDLERS.format(log=str(log), seconds=sleep))
            store = open_store(url)
            runtime = Runtime(store)
            definitions = load([diagram])
            ids = [runtime.start(definitions=definitions)["instance_id"] for _ in range(instances)]
            procs = [subprocess.Popen([sys.executable, "-m", "bpmn_runner", "worker", "--db", url, "--handlers",
                                       str(handlers), "--until-idle", "--poll", "0.05"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for _ in range(workers)]
            for proc in procs:
                _, err = proc.communicate(timeout=3600)
                if proc.returncode != 0:
                    raise RuntimeError(f"worker failed: {err[-2000:]}")
            records = [store.get_instance(i) for i in ids]
            store.close()
            if {r.status for r in records} != {"completed"}:
                raise RuntimeError(f"not all completed: {sorted({r.status for r in records})}")
            first = min(float(line) for line in log.read_text().split())
            last = max(r.ended_at or r.updated_at for r in records)
            elapsed = last - first
            return {"instances": instances, "workers": workers, "handler_sleep_ms": sleep * 1000,
                    "seconds": round(elapsed, 3), "instances_per_s": round(instances / elapsed, 1)}
    finally:
        _drop_schema(base, schema)


# ----- SQLite: persisted against in-memory ----------------------------------------------------------------

def _noop_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("noop", lambda call: {})
    return registry


def straight_in_memory(path: Path, instances: int) -> float:
    definitions = load([path])
    engine = Engine(_noop_registry())
    started = time.perf_counter()
    for _ in range(instances):
        result = engine.start(definitions, None, {"x": 1}).run()
        assert result.status == "completed", result.error
    return instances / (time.perf_counter() - started)


def straight_persisted(path: Path, instances: int, url: str) -> float:
    store = open_store(url)
    runtime = Runtime(store, _noop_registry())
    definitions = load([path])
    worker = Worker(runtime, worker_id="bench")
    started = time.perf_counter()
    for _ in range(instances):
        runtime.start(definitions=definitions, data={"x": 1})
        while worker.run_once():
            pass
    elapsed = time.perf_counter() - started
    done = store.count_instances().get("completed", 0)
    store.close()
    assert done == instances, f"{done} of {instances} completed"
    return instances / elapsed


def persisted_w1(instances: int = 200) -> str:
    """The "W1 straight-through, persisted (SQLite)" cell of bench/run.py: instances per second."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "straight.bpmn"
        path.write_text(straight_through())
        return f"{straight_persisted(path, instances, f'sqlite:///{folder}/w1.db'):.1f}"


def sqlite_ratio(instances: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "straight.bpmn"
        path.write_text(straight_through())
        straight_in_memory(path, min(20, instances))  # warm up: imports, parser, caches
        memory = max(straight_in_memory(path, instances) for _ in range(2))
        persisted = max(straight_persisted(path, instances, f"sqlite:///{folder}/w1-{i}.db") for i in range(2))
    return {"instances": instances, "in_memory_per_s": round(memory, 1), "persisted_per_s": round(persisted, 1),
            "persisted_over_memory": round(persisted / memory, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made and dropped per row)")
    parser.add_argument("--quick", action="store_true", help="fewer instances")
    parser.add_argument("--instances", type=int, default=None, help="instances per PostgreSQL row")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    pg_n = args.instances or (100 if args.quick else 400)
    w1_n = 100 if args.quick else 300
    results: dict[str, Any] = {}
    try:
        one = pg_workers(args.pg, pg_n, 1)
        four = pg_workers(args.pg, pg_n, 4)
        results["postgresql"] = {"1": one, "4": four, "speed_up": round(four["instances_per_s"] /
                                                                      one["instances_per_s"], 2)}
    except Exception as exc:  # no server: say so and measure the rest
        results["postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
    results["sqlite_w1"] = sqlite_ratio(w1_n)
    pg = results["postgresql"]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if "error" in pg:
        print(f"PostgreSQL: not measured ({pg['error']})")
    else:
        print(f"PostgreSQL, 3 service tasks, handler sleeps 20 ms, {pg_n} instances:")
        print(f"  1 worker : {pg['1']['instances_per_s']:>7} instances/s  ({pg['1']['seconds']} s)")
        print(f"  4 workers: {pg['4']['instances_per_s']:>7} instances/s  ({pg['4']['seconds']} s)"
              f"  -> {pg['speed_up']}x")
    w1 = results["sqlite_w1"]
    print(f"SQLite, W1 straight-through (10 no-op service tasks + gateway), {w1_n} instances:")
    print(f"  in memory: {w1['in_memory_per_s']:>7} instances/s")
    print(f"  persisted: {w1['persisted_per_s']:>7} instances/s  -> {w1['persisted_over_memory']:.1%} of in-memory "
          f"({1 / w1['persisted_over_memory']:.1f}x slower; a commit per service task)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Throughput of durable instances (issues 4 and 15), run by hand:

    .venv/bin/python bench/store_bench.py                 # a few minutes
    .venv/bin/python bench/store_bench.py --quick --json bench/out/store.json    # about a minute
    .venv/bin/python bench/store_bench.py --pg postgresql://postgres@127.0.0.1:5432/test

Measured in one run, per store (SQLite file, PostgreSQL schema made and dropped per row), on the W1
straight-through process of bench/run.py (10 service tasks with no-op handlers, an exclusive gateway) with Camunda 8
job types (a Camunda 7 external task is always a job, whatever the commit mode):

- memory_inst_s: in memory, `Engine.start().run()`: the baseline (the same figure for both stores);
- wait_states_inst_s: persisted with commits at wait states (the default, issue 15 item 1): `Runtime.start` with
  the handlers runs the instance to its end in memory and commits once (commits_per_instance in the details);
- each_task_inst_s: persisted with a commit per service task: the instances are started (a commit each), then a
  `Worker` in this process runs their jobs until none is left; each_task_ms_per_step: its wall-clock ms per
  committed step (the starts' commits included);
- PostgreSQL only, workers_1_inst_s and workers_4_inst_s: instances per second with 1 and 4 `bpmn-runner worker`
  processes (default commit mode) for a process of three service tasks whose handler sleeps 20 ms; the instances
  are started first and the clock runs from the first handler call to the last instance's end (worker start-up
  not counted).

Each of the first three rows runs with 1 and with 2 threads (2 = the cores of the project machine: `Runtime.start`
called from two threads, as `serve` and the bridge call it, and a worker of `--concurrency 2`), and each row keeps
its best; the figures of each thread count are in the details (`threads`). With two threads one instance's Python
runs while another waits for the database, so on PostgreSQL, whose server work runs on the other core, two threads
are faster; in memory and on SQLite (one writer, in this process) they are not.

Prints a table; `--json FILE` writes {"sqlite": {...}, "postgresql": {...}, "details": {...}}. Rows are the best of
two runs (the machine is shared). `persisted_w1()` is the hook bench/run.py calls for its "W1 persisted" row.
bench/cli_chain.py measures the 2,000-task chain through the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmn_runner import Engine, HandlerRegistry, load  # noqa: E402
from bpmn_runner.durable import Runtime, Worker  # noqa: E402
from bpmn_runner.store import open_store  # noqa: E402
from tests.generate import straight_through  # noqa: E402

THREADS = (1, 2)  # threads calling Runtime.start, and a worker's --concurrency
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
READY = {ready!r}
WORKERS = {workers}
_waited = []


def _barrier():
    # every worker process waits at its first call until all have started: start-up is not counted
    os.makedirs(READY, exist_ok=True)
    open(os.path.join(READY, str(os.getpid())), "w").close()
    deadline = time.time() + 120
    while len(os.listdir(READY)) < WORKERS and time.time() < deadline:
        time.sleep(0.005)
    _waited.append(1)


@handler("sleep")
def sleep(call):
    if not _waited:
        _barrier()
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
            handlers.write_text(SLEEP_HANDLERS.format(log=str(log), seconds=sleep, workers=workers,
                                                      ready=str(Path(folder) / "ready")))
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


def _threaded(work: Any, instances: int, threads: int) -> float:
    """Seconds for `instances` calls of `work()` shared by `threads` threads."""
    share = instances // threads
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            for _ in range(share):
                work()
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)
    runners = [threading.Thread(target=loop) for _ in range(threads)]
    started = time.perf_counter()
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def _count_commits(store: Any) -> list[int]:
    """A counter of the store's committed steps from now on: `[n]`."""
    commits = [0]
    commit = store.commit_step

    def counted(step: Any) -> str:
        commits[0] += 1
        return commit(step)
    store.commit_step = counted
    return commits


def straight_wait_states(path: Path, instances: int, url: str, threads: int = 1) -> tuple[float, float]:
    """(instances per second, commits per instance) with wait-state commits: each start runs to the end."""
    store = open_store(url)
    runtime = Runtime(store, _noop_registry(), commit="wait-states")
    definitions = load([path])
    commits = _count_commits(store)
    runtime.start(definitions=definitions, data={"x": 1})  # warm up: deployment, caches
    commits[0] = 0

    def start() -> None:
        out = runtime.start(definitions=definitions, data={"x": 1})
        assert out["status"] == "completed", out
    share = instances // threads * threads
    elapsed = _threaded(start, share, threads)
    store.close()
    return share / elapsed, commits[0] / share


def _best_of_threads(measure: Any, url_for: Any, offset: int,
                     rounds: int = 2) -> tuple[dict[int, tuple[float, float]], int]:
    """{threads: best (rate, second figure)} over `rounds` fresh stores for 1 and 2 threads, and the best count."""
    best: dict[int, tuple[float, float]] = {}
    for attempt in range(rounds):
        for threads in THREADS:
            url, cleanup = url_for(offset + attempt * 10 + threads)  # a fresh store each
            try:
                best[threads] = max(best.get(threads, (0.0, 0.0)), measure(url, threads))
            finally:
                cleanup()
    return best, max(best, key=lambda t: best[t][0])


def wait_states(path: Path, instances: int, url_for: Any) -> dict[str, Any]:
    best, top = _best_of_threads(lambda url, threads: straight_wait_states(path, instances, url, threads), url_for,
                                 100)
    return {"wait_states_inst_s": round(best[top][0], 1), "wait_states_commits_per_instance": round(best[top][1], 2),
            "wait_states_threads": {str(t): round(r, 1) for t, (r, _) in best.items()}}


def straight_in_memory(path: Path, instances: int, threads: int = 1) -> float:
    definitions = load([path])
    engine = Engine(_noop_registry())

    def run() -> None:
        result = engine.start(definitions, None, {"x": 1}).run()
        assert result.status == "completed", result.error
    share = instances // threads * threads
    return share / _threaded(run, share, threads)


def straight_persisted(path: Path, instances: int, url: str) -> float:
    return straight_persisted_steps(path, instances, url)[0]


def straight_persisted_steps(path: Path, instances: int, url: str, concurrency: int = 1) -> tuple[float, float]:
    """(instances per second, committed steps per instance) with a commit per service task: the instances are
    started, then a worker of `concurrency` threads runs their jobs until none is left."""
    store = open_store(url)
    runtime = Runtime(store, _noop_registry(), commit="each-task")
    definitions = load([path])
    worker = Worker(runtime, worker_id="bench", concurrency=concurrency, poll=0.01)
    commits = _count_commits(store)
    started = time.perf_counter()
    for _ in range(instances):
        runtime.start(definitions=definitions, data={"x": 1})
    worker.run(until_idle=True)
    elapsed = time.perf_counter() - started
    done = store.count_instances().get("completed", 0)
    store.close()
    assert done == instances, f"{done} of {instances} completed"
    return instances / elapsed, commits[0] / instances


def persisted_w1(instances: int = 200) -> str:
    """The "W1 straight-through, persisted (SQLite)" cell of bench/run.py: instances per second."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "straight.bpmn"
        path.write_text(straight_through())
        return f"{straight_persisted(path, instances, f'sqlite:///{folder}/w1.db'):.1f}"


def each_task(path: Path, instances: int, url_for: Any) -> dict[str, Any]:
    """Best of two runs with workers of 1 and 2 threads, on fresh stores."""
    best, top = _best_of_threads(lambda url, threads: straight_persisted_steps(path, instances, url, threads),
                                 url_for, 200)
    rate, steps = best[top]
    return {"each_task_inst_s": round(rate, 1), "each_task_ms_per_step": round(1000 / (rate * steps), 3),
            "steps_per_instance": round(steps, 2),
            "each_task_ms_per_step_threads": {str(t): round(1000 / (r * n), 3) for t, (r, n) in best.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made and dropped per row)")
    parser.add_argument("--quick", action="store_true", help="fewer instances")
    parser.add_argument("--instances", type=int, default=None, help="instances per worker row")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    pg_n = args.instances or (100 if args.quick else 400)
    w1_n = 100 if args.quick else 300
    out: dict[str, Any] = {"sqlite": {}, "postgresql": {}, "details": {"machine": f"{os.cpu_count()} cores, Python "
                                                                           f"{sys.version.split()[0]}",
                                                                "straight_instances": w1_n, "workers_instances": pg_n}}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "straight.bpmn"
        path.write_text(straight_through(dialect="zeebe"))
        straight_in_memory(path, min(20, w1_n))  # warm up: imports, parser, caches
        by_threads = {t: max(straight_in_memory(path, w1_n, t) for _ in range(3)) for t in THREADS}
        memory = round(max(by_threads.values()), 1)
        out["details"]["memory_threads"] = {str(t): round(r, 1) for t, r in by_threads.items()}

        def sqlite_url(i: int) -> tuple[str, Any]:
            return f"sqlite:///{folder}/w1-{i}.db", lambda: None
        sqlite: dict[str, Any] = {"memory_inst_s": memory}
        sqlite.update(wait_states(path, w1_n, sqlite_url))
        sqlite.update(each_task(path, w1_n, sqlite_url))
        out["sqlite"] = sqlite

        def pg_url(_: int) -> tuple[str, Any]:
            schema, url = _pg_schema(args.pg)
            return url, lambda: _drop_schema(args.pg, schema)
        try:
            pg: dict[str, Any] = {"memory_inst_s": memory}
            pg.update(wait_states(path, w1_n, pg_url))
            pg.update(each_task(path, w1_n, pg_url))
            one = pg_workers(args.pg, pg_n, 1)
            four = pg_workers(args.pg, pg_n, 4)
            pg.update({"workers_1_inst_s": one["instances_per_s"], "workers_4_inst_s": four["instances_per_s"]})
            out["details"]["workers"] = {"1": one, "4": four}
            out["postgresql"] = pg
        except Exception as exc:  # no server: say so and keep the SQLite figures
            out["postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
        for row in (out["sqlite"], out["postgresql"]):
            if "wait_states_inst_s" in row:
                row["wait_states_vs_memory"] = round(row["wait_states_inst_s"] / memory, 2)
    print(f"machine: {out['details']['machine']}; W1 straight-through, {w1_n} instances; workers: {pg_n} instances")
    print(f"{'':<12}{'memory':>10}{'wait-states':>13}{'each-task':>11}{'ms/step':>9}{'1 worker':>10}{'4 workers':>11}")
    for name in ("sqlite", "postgresql"):
        row = out[name]
        if "error" in row:
            print(f"{name:<12}not measured: {row['error']}")
            continue
        cells = [row["memory_inst_s"], row["wait_states_inst_s"], row["each_task_inst_s"],
                 row["each_task_ms_per_step"], row.get("workers_1_inst_s"), row.get("workers_4_inst_s")]
        widths = (10, 13, 11, 9, 10, 11)
        print(f"{name:<12}" + "".join(f"{'—' if c is None else c:>{w}}" for c, w in zip(cells, widths)))
    print("(instances per second; ms per committed step; each the best of 1 and 2 threads)")
    memory_threads = out["details"].get("memory_threads", {})
    for name in ("sqlite", "postgresql"):
        row = out[name]
        if "wait_states_threads" not in row:
            continue
        cells = [f"{t} thread(s): memory {memory_threads.get(t)}, wait-states {row['wait_states_threads'][t]} "
                 f"({row['wait_states_threads'][t] / memory_threads[t]:.2f}x), each-task "
                 f"{row['each_task_ms_per_step_threads'][t]} ms/step" for t in row["wait_states_threads"]]
        print(f"{name}: " + "; ".join(cells))
    for name in ("sqlite", "postgresql"):
        if "wait_states_vs_memory" in out[name]:
            print(f"{name}: wait-states at {out[name]['wait_states_vs_memory']}x in memory, "
                  f"{out[name]['wait_states_commits_per_instance']} commit(s) per instance")
    if "workers" in out["details"]:
        pg = out["postgresql"]
        print(f"postgresql: 4 workers at {pg['workers_4_inst_s'] / pg['workers_1_inst_s']:.2f}x one")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Where a committed step's time goes (issue 15, item 2), on SQLite and PostgreSQL, run by hand:

    .venv/bin/python bench/step_breakdown.py                       # straight-through x 100, chain of 2,000
    .venv/bin/python bench/step_breakdown.py --chain 500 --instances 30 --stores sqlite
    .venv/bin/python bench/step_breakdown.py --json bench/out/breakdown.json

Two workloads, each persisted with a commit per service task (a `Worker` and a `Runtime` in this process):

- straight: the W1 shape (10 no-op service tasks and an exclusive gateway), `--instances` of them, start included;
- chain: one instance of `--chain` no-op service tasks; its start (deploy, first commit) is not counted.

Each runs twice: once plain, for the wall-clock ms per committed step (and the CPU time this process spent, which
other jobs on a shared machine disturb less than the wall clock), and once instrumented, for the breakdown.
The instrumented run charges every interval to the innermost section that is open (self time), so the sections
add up to the total; "other" is what no section covers (the worker loop, building the step record, ...).
Sections: claim and store code (the repository's own Python around the claim and the step transactions: building
statements, reading rows), build step (the runtime turning a run into rows), engine (SpiffWorkflow running the step),
restore, serialize (the state to JSON), json (encoding the other columns), history (building history rows),
sql:<verb table> (statement round trips through SQLAlchemy), sql:step statements and sql:claim select/update (the
hot path's statements, sent on the driver's cursor), begin (BEGIN IMMEDIATE sent on the driver: SQLite's write
lock), commit (COMMIT: the WAL write; the WAL flush on PostgreSQL),
handler.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.store_bench import DEFAULT_PG, _drop_schema, _noop_registry, _pg_schema  # noqa: E402
from bpmn_runner import load  # noqa: E402
from bpmn_runner import engine as engine_module  # noqa: E402
from bpmn_runner.durable import Runtime, Worker  # noqa: E402
from bpmn_runner.durable import steps as steps_module  # noqa: E402
from bpmn_runner.store import driver_steps, open_store, queue, repository  # noqa: E402
from tests.generate import chain, straight_through  # noqa: E402


class Profile:
    """Self time per named section; sections nest (a stack), so the parts add up to the whole."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [name, started, child seconds]

    def push(self, name: str) -> None:
        self._stack.append([name, time.perf_counter(), 0.0])

    def pop(self) -> None:
        name, started, children = self._stack.pop()
        spent = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + spent - children
        self.calls[name] = self.calls.get(name, 0) + 1
        if self._stack:
            self._stack[-1][2] += spent

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        self.push(name)
        try:
            yield
        finally:
            self.pop()


@contextmanager
def instrumented(profile: Profile, store: Any) -> Iterator[None]:
    """Wrap the functions a step goes through; undone on exit."""
    undo: list[Callable[[], None]] = []

    def wrap(owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with profile.section(name):
                return original(*args, **kwargs)
        setattr(owner, attribute, timed)
        undo.append(lambda: setattr(owner, attribute, original))

    wrap(store, "claim_jobs", "claim")
    wrap(store, "load_for_step", "load")
    wrap(store, "commit_step", "store code")
    wrap(steps_module.Steps, "build_step", "build step")
    wrap(steps_module.Steps, "restore", "restore")
    wrap(steps_module, "history_rows", "history")
    wrap(engine_module.Instance, "run", "engine")
    wrap(engine_module.Instance, "complete_service_task", "engine")
    wrap(engine_module.Instance, "state", "serialize")
    wrap(engine_module.Instance, "state_json", "serialize")
    wrap(engine_module.Engine, "call_handler", "handler")
    wrap(repository, "dumps", "json")
    wrap(store.engine.dialect, "do_commit", "commit")
    # The step's and the claim's statements go to the driver directly (store/hot_path.py), past the SQLAlchemy
    # events below: time them where they are sent (on PostgreSQL a step's statements are one pipelined round trip).
    wrap(store._hot, "write_step", "sql:step statements")
    wrap(store._hot, "select_due", "sql:claim select")
    wrap(store._hot, "take", "sql:claim update")
    # PostgreSQL: a step without waits or messages is one statement in autocommit mode (its COMMIT and WAL flush
    # included), a claim one pipeline (store/pg_step.py)
    wrap(driver_steps, "write_step_alone", "sql:step statement with its commit")
    wrap(queue, "claim_at_once", "sql:claim (one round trip)")
    # SQLite steps without waits or messages, and claims, begin and commit on the driver (Store._driver_write)
    wrap(store._hot, "begin", "begin")
    wrap(store._hot, "commit", "commit")

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        verb = words[0].upper() if words else "?"
        table = next((w for w in words[1:6] if w.lower() in _TABLES), "")
        profile.push(f"sql:{verb} {table}".strip())

    def after(*args: Any) -> None:
        profile.pop()
    event.listen(store.engine, "before_cursor_execute", before)
    event.listen(store.engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
        event.remove(store.engine, "after_cursor_execute", after)
        for step in reversed(undo):
            step()


_TABLES = {"instances", "jobs", "history", "waits", "messages", "definitions", "processes"}


def _count_commits(store: Any) -> Callable[[], int]:
    counter = [0]
    original = store.commit_step

    def counted(step: Any) -> str:
        status = original(step)
        counter[0] += 1
        return status
    store.commit_step = counted
    return lambda: counter[0]


def run_workload(url: str, path: Path, instances: int, data: dict[str, Any], *, count_start: bool,
                 profile: Profile | None) -> dict[str, Any]:
    """Start `instances` instances and work them off; returns seconds, committed steps and state sizes."""
    store = open_store(url)
    runtime = Runtime(store, _noop_registry())
    definitions = load([path])
    worker = Worker(runtime, worker_id="bench")
    commits = _count_commits(store)
    runtime.deploy_definitions(definitions)  # deploying once is start-up, in both workloads
    elapsed, cpu, steps = 0.0, 0.0, 0
    sizes: list[int] = []
    original_commit = store.commit_step

    def sized(step: Any) -> str:
        state = step.instance.state
        sizes.append(len(state) if isinstance(state, str) else len(json.dumps(state)))
        return original_commit(step)
    store.commit_step = sized
    try:
        for _ in range(instances):
            if not count_start:
                runtime.start(definitions=definitions, data=dict(data))
            before_steps = commits()
            started, cpu_started = time.perf_counter(), time.process_time()
            with (instrumented(profile, store) if profile is not None else _nothing()):
                if count_start:
                    runtime.start(definitions=definitions, data=dict(data))
                while worker.run_once():
                    pass
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            steps += commits() - before_steps
        done = store.count_instances().get("completed", 0)
    finally:
        store.close()
    if done != instances:
        raise RuntimeError(f"{done} of {instances} instances completed")
    return {"seconds": elapsed, "cpu_seconds": cpu, "steps": steps, "state_bytes_max": max(sizes) if sizes else 0,
            "state_bytes_last": sizes[-1] if sizes else 0}


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def measure(url_for: Callable[[str], tuple[str, Callable[[], None]]], name: str, path: Path, instances: int,
            data: dict[str, Any], count_start: bool) -> dict[str, Any]:
    url, cleanup = url_for(f"{name}-plain")
    try:
        plain = run_workload(url, path, instances, data, count_start=count_start, profile=None)
    finally:
        cleanup()
    profile = Profile()
    url, cleanup = url_for(f"{name}-profiled")
    try:
        profiled = run_workload(url, path, instances, data, count_start=count_start, profile=profile)
    finally:
        cleanup()
    per_step = {k: v / profiled["steps"] * 1e3 for k, v in profile.seconds.items()}
    covered = sum(per_step.values())
    total = profiled["seconds"] / profiled["steps"] * 1e3
    per_step["other"] = max(0.0, total - covered)
    return {"workload": name, "steps": plain["steps"], "ms_per_step": round(plain["seconds"] / plain["steps"] * 1e3, 3),
            "cpu_ms_per_step": round(plain["cpu_seconds"] / plain["steps"] * 1e3, 3),
            "profiled_ms_per_step": round(total, 3), "state_bytes_max": plain["state_bytes_max"],
            "breakdown_ms": {k: round(v, 4) for k, v in sorted(per_step.items(), key=lambda kv: -kv[1])}}


def sqlite_urls(folder: str) -> Callable[[str], tuple[str, Callable[[], None]]]:
    return lambda label: (f"sqlite:///{folder}/{label}.db", lambda: None)


def pg_urls(base: str) -> Callable[[str], tuple[str, Callable[[], None]]]:
    def make(label: str) -> tuple[str, Callable[[], None]]:
        schema, url = _pg_schema(base)
        return url, lambda: _drop_schema(base, schema)
    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made and dropped per run)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--instances", type=int, default=100, help="straight-through instances")
    parser.add_argument("--chain", type=int, default=2000, help="service tasks in the chain")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        straight = Path(folder) / "straight.bpmn"
        straight.write_text(straight_through())
        long_chain = Path(folder) / "chain.bpmn"
        long_chain.write_text(chain(args.chain))
        for store_name in args.stores.split(","):
            urls = sqlite_urls(folder) if store_name == "sqlite" else pg_urls(args.pg)
            for name, path, n, data, count_start in (
                    ("straight", straight, args.instances, {"x": 1}, True),
                    (f"chain{args.chain}", long_chain, 1, {}, False)):
                row = measure(urls, name, path, n, data, count_start)
                row["store"] = store_name
                results.append(row)
                print(f"\n{store_name} {name}: {row['ms_per_step']:.3f} ms per committed step over {row['steps']} "
                      f"steps, {row['cpu_ms_per_step']:.3f} ms of it CPU time in this process (instrumented "
                      f"{row['profiled_ms_per_step']:.3f}); saved state up to "
                      f"{row['state_bytes_max']:,} bytes")
                for section, ms in row["breakdown_ms"].items():
                    share = ms / row["profiled_ms_per_step"] if row["profiled_ms_per_step"] else 0
                    print(f"  {section:<24} {ms:8.3f} ms  {share:6.1%}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Time the store queries a user and the workers make on a large store (issue 15, item 3: each under 50 ms with
1,000,000 instances and 10,000,000 history rows on PostgreSQL), run by hand after bench/gen_store.py:

    .venv/bin/python bench/store_queries.py \
        --db 'postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbig_store'

Two columns: the query (the runtime call the command makes, on an open store) and the whole command through the
CLI's own code (typer's CliRunner in this process: it opens the store, queries, prints, closes), i.e. without the
Python interpreter's start-up (about 0.5 s, the same for every command). A job claim is timed on the store API, as
a worker makes it. Every cell is the median and the worst of `--repeat` runs, in ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from bpmn_runner.cli import app  # noqa: E402
from bpmn_runner.durable import Runtime  # noqa: E402
from bpmn_runner.store import open_store  # noqa: E402

runner = CliRunner()


def timed(action: Callable[[], Any], repeat: int) -> dict[str, float]:
    action()  # warm: imports, the connection's first use
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1e3)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def command(*args: str) -> Callable[[], None]:
    def go() -> None:
        result = runner.invoke(app, list(args))
        if result.exit_code != 0:
            raise RuntimeError(f"{' '.join(args[:3])}: exit {result.exit_code}: {result.stderr or result.stdout}")
    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    db = args.db
    store = open_store(db)
    counts = store.count_instances()
    total = sum(counts.values())
    halfway = store.list_instances(business_key=f"BK-{total // 2}")  # an instance about halfway through
    middle = halfway[0].id if halfway else store.list_instances(status="completed", limit=1)[0].id
    waiting = store.list_instances(status="waiting", limit=1)[0].id
    store.close()
    runtime = Runtime(open_store(db))
    k_third = f"BK-{total // 3}"
    checks: list[tuple[str, list[str], Callable[[], Any]]] = [
        ("instances --status waiting -n 50", ["instances", "-s", "waiting", "-n", "50"],
         lambda: runtime.list_instances(status="waiting", limit=50)),
        ("instances --status running -n 50", ["instances", "-s", "running", "-n", "50"],
         lambda: runtime.list_instances(status="running", limit=50)),
        ("instances --status completed -n 50 --after <halfway>",
         ["instances", "-s", "completed", "-n", "50", "--after", middle],
         lambda: runtime.list_instances(status="completed", limit=50, after=middle)),
        ("instances -n 50 --after <halfway>", ["instances", "-n", "50", "--after", middle],
         lambda: runtime.list_instances(limit=50, after=middle)),
        ("instances --process approval -n 50", ["instances", "-p", "approval", "-n", "50"],
         lambda: runtime.list_instances(process_id="approval", limit=50)),
        (f"instances --business-key {k_third}", ["instances", "-k", k_third],
         lambda: runtime.list_instances(business_key=k_third)),
        ("show <id> (10 history rows)", ["show", middle], lambda: runtime.show(middle)),
        ("show <8-character prefix>", ["show", middle[:8]], lambda: runtime.show(middle[:8])),
        ("tasks -n 50", ["tasks", "-n", "50"], lambda: runtime.list_tasks(limit=50)),
        ("tasks --instance <id>", ["tasks", "-i", waiting], lambda: runtime.list_tasks(waiting)),
    ]
    rows: dict[str, dict[str, float]] = {}
    for name, cli_args, query in checks:
        rows[name] = {"command": timed(command(*cli_args, "--db", db), args.repeat),
                      "query": timed(query, args.repeat)}

    def claim() -> None:
        claimed, _ = runtime.store.claim_jobs("bench-queries", ["record"], now=time.time(), lease=300.0, limit=1)
        if not claimed:
            raise RuntimeError("no job left to claim")
    rows["claim a job (as a worker)"] = {"query": timed(claim, args.repeat)}

    def store_open() -> None:
        open_store(db).close()
    rows["open and close the store (in every command)"] = {"query": timed(store_open, args.repeat)}
    runtime.store.close()
    print(f"store: {total:,} instances {counts}")
    width = max(len(k) for k in rows)
    print(f"  {'':<{width}}  {'query (open store)':>24}  {'command (CliRunner)':>24}   ms, median / max")
    for name, value in rows.items():
        cells = []
        for column in ("query", "command"):
            got = value.get(column)
            cells.append(f"{got['median_ms']:9.2f} / {got['max_ms']:9.2f}" if got else f"{'':>21}")
        over = any(v["median_ms"] >= 50 for v in value.values())
        print(f"  {name:<{width}}  {cells[0]:>24}  {cells[1]:>24}{'   over 50 ms' if over else ''}")
    if args.json:
        args.json.write_text(json.dumps({"instances": total, "by_status": counts, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

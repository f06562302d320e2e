"""What a page of `serve` costs on the order example: the tasklist, the cockpit's process page and an instance page,
and the 1.5 s poll of a live region, unchanged (the common case) and changed (re-rendered).

    .venv/bin/python bench/pages_bench.py [N] [--db FILE]   (default: 200 open orders waiting for review)

Prints the mean time per request over TestClient (in-process, no network), SQLite store in a temporary folder (or
FILE, kept: a second run with the same N reuses it). Then the cockpit's counts per element both ways in the same
run, alternately, best of 5: reading every open instance (as the process page did before) and counted by the
database (`Store.element_counts`). The tasklist and the process page show a page of 50 whatever N is.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from bpmn_runner.server.app import create_app  # noqa: E402
from tests.pages import counts_by_reading, large_order, order_context, start_order  # noqa: E402


def timed(client: TestClient, url: str, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.mean(times) * 1000


def best_of(function: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def main(n: int, db: Path | None) -> None:
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="pages-bench-")) / "bench.db"
    ctx = order_context(f"sqlite:///{db}")
    with ctx.runtime() as runtime:
        have = [r["instance_id"] for r in runtime.list_instances(status="waiting", limit=n)]
    began = time.perf_counter()
    ids = have + [start_order(ctx, large_order(f"B-{i}")) for i in range(len(have), n)]
    print(f"{n} orders waiting for review ({n - len(have)} started and run to the review in "
          f"{time.perf_counter() - began:.1f} s), store {db}")
    client = TestClient(create_app(ctx))
    iid = ids[0]
    stamp = re.search(r'data-live="/live/instances/[^"]+" data-stamp="([^"]+)"',
                      client.get(f"/instances/{iid}").text).group(1)
    following = re.search(r'id="next-page" href="([^"]+)"', client.get("/tasks?view=all").text)
    rows = [
        ("tasklist, all open tasks (page 1)", "/tasks?view=all"),
        ("tasklist, page 2", following.group(1).replace("&amp;", "&") if following else "/tasks?view=all"),
        ("cockpit overview", "/cockpit"),
        ("process page (counts on the diagram)", "/cockpit/processes/order_fulfillment"),
        ("instances, first 50", "/instances"),
        ("instance page", f"/instances/{iid}"),
        ("live instance poll, unchanged", f"/live/instances/{iid}?stamp={stamp}"),
        ("live instance poll, changed", f"/live/instances/{iid}?stamp=old"),
        ("live tasklist poll", "/live/tasks?view=all"),
        ("/api/tasks?limit=50", "/api/tasks?limit=50"),
        ("/engine-rest/task?maxResults=50", "/engine-rest/task?maxResults=50"),
    ]
    for label, url in rows:
        print(f"{label:40s} {timed(client, url):8.1f} ms")
    with ctx.runtime() as runtime:
        store = runtime.store
        assert counts_by_reading(store, "order_fulfillment") == store.element_counts("order_fulfillment")
        before = after = float("inf")
        for _ in range(3):  # alternately, so that a busy machine slows both alike
            before = min(before, best_of(lambda: counts_by_reading(store, "order_fulfillment"), 2))
            after = min(after, best_of(lambda: store.element_counts("order_fulfillment"), 5))
    print(f"{'counts per element, reading every instance':40s} {before:8.1f} ms   (before)")
    print(f"{'counts per element, by the database':40s} {after:8.1f} ms   (now)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=200, help="open orders waiting for review")
    parser.add_argument("--db", type=Path, help="the SQLite file to use (kept; reused by a later run)")
    options = parser.parse_args()
    main(options.n, options.db)

"""What a page of `serve` costs on the order example: the tasklist, the cockpit's process page and an instance page,
and the 1.5 s poll of a live region, unchanged (the common case) and changed (re-rendered).

    .venv/bin/python bench/pages_bench.py [N]      (default: 200 open orders waiting for review)

Prints the mean time per request over TestClient (in-process, no network), SQLite store in a temporary folder.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from bpmn_runner.server.app import create_app  # noqa: E402
from tests.pages import large_order, order_context, start_order  # noqa: E402


def timed(client: TestClient, url: str, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.mean(times) * 1000


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    ctx = order_context(f"sqlite:///{folder / 'bench.db'}")
    began = time.perf_counter()
    ids = [start_order(ctx, large_order(f"B-{i}")) for i in range(n)]
    print(f"{n} orders started and run to the review in {time.perf_counter() - began:.1f} s")
    client = TestClient(create_app(ctx))
    iid = ids[0]
    stamp = re.search(r'data-live="/live/instances/[^"]+" data-stamp="([^"]+)"',
                      client.get(f"/instances/{iid}").text).group(1)
    rows = [
        ("tasklist, all open tasks", "/tasks?view=all"),
        ("cockpit overview", "/cockpit"),
        ("process page (counts on the diagram)", "/cockpit/processes/order_fulfillment"),
        ("instances, first 50", "/instances"),
        ("instance page", f"/instances/{iid}"),
        ("live instance poll, unchanged", f"/live/instances/{iid}?stamp={stamp}"),
        ("live instance poll, changed", f"/live/instances/{iid}?stamp=old"),
        ("live tasklist poll", "/live/tasks?view=all"),
    ]
    for label, url in rows:
        print(f"{label:40s} {timed(client, url):8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

"""Helpers for the tests of the pages of `serve`: an app over a fresh SQLite store with the order example's
handlers, an order that waits at "Review large order", and the CSRF token of a page."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from bpmn_runner.environment import build_environment
from bpmn_runner.registry import HandlerRegistry
from bpmn_runner.server.context import ServerContext
from bpmn_runner.store import OPEN_STATUSES, Store

ROOT = Path(__file__).resolve().parents[1]
ORDER = ROOT / "processes" / "order_fulfillment.bpmn"
HANDLERS = ROOT / "processes" / "order_handlers.py"


def large_order(order_id: str = "A-2001", **changes: Any) -> dict[str, Any]:
    """An order of 1000 or more: it waits at the user task 'Review large order' (candidate group sales)."""
    order = {"id": order_id, "sku": "LAMP-3", "quantity": 1, "amount": 1450.0, "card": "4242424242424242",
             "customer": {"name": "Ada Lovelace", "email": "ada@example.com"}}
    order.update(changes)
    return {"order": order}


def order_context(db_url: str, *, token: str | None = None, registry: HandlerRegistry | None = None,
                  **options: Any) -> ServerContext:
    if registry is None:
        registry = HandlerRegistry()
        registry.load(str(HANDLERS))
    env = build_environment(handlers=registry, entry_points=False)
    return ServerContext(env, db_url, token=token, **options)


def start_order(ctx: ServerContext, data: dict[str, Any] | None = None) -> str:
    """Start an order and carry it on with the handlers to its first wait; its instance id."""
    with ctx.runtime() as runtime:
        started = runtime.start([ORDER], data=data or large_order())
        runtime.run_to_wait([started["instance_id"]])
    return started["instance_id"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def task_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-task-id="([^"]+)"', html)


def counts_by_reading(store: Store, process_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """The cockpit's counts per element as they were made before the database counted them: every open instance
    read (where it waits, from its `waiting` list), and the jobs of each instance in an incident. The reference
    the tests and bench/pages_bench.py compare `Store.element_counts` with."""
    waiting: Counter[str] = Counter()
    incidents: Counter[str] = Counter()
    for status in OPEN_STATUSES:
        for record in store.list_instances(process_id=process_id, status=status):
            waiting.update({str(w.get("element_id")) for w in record.waiting if w.get("element_id")})
            if status == "incident":
                incidents.update(j.element_id for j in store.jobs_of(record.id) if j.status == "incident")
    return dict(waiting), dict(incidents)

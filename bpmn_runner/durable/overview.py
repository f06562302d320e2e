"""Read models of the cockpit: stored processes with their instances by status, open instances and incidents per
element of one process, and the stored deployments."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import NotFoundError
from ..store import OPEN_STATUSES, Store
from .queries import task_row


def process_overview(store: Store) -> list[dict[str, Any]]:
    """Every stored process (newest version) with its instances counted by status, by process id."""
    rows = []
    for process_id, version, digest in sorted(store.latest_processes()):
        by_status = store.count_instances(process_id)
        rows.append({"process_id": process_id, "version": version, "definition": digest,
                     "by_status": dict(sorted(by_status.items())), "total": sum(by_status.values()),
                     "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES)})
    return rows


def latest_definition(store: Store, process_id: str) -> str:
    """The hash of the newest stored definition of a process."""
    found = [d for p, _v, d in store.latest_processes() if p == process_id]
    if not found:
        raise NotFoundError(f"no stored process {process_id!r}")
    return found[0]


def element_counts(store: Store, process_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """(open instances waiting at each element, open incidents at each element) of one process, all versions."""
    waiting: Counter[str] = Counter()
    incidents: Counter[str] = Counter()
    for status in OPEN_STATUSES:
        for record in store.list_instances(process_id=process_id, status=status):
            waiting.update({str(w.get("element_id")) for w in record.waiting if w.get("element_id")})
            if status == "incident":
                incidents.update(j.element_id for j in store.jobs_of(record.id) if j.status == "incident")
    return dict(waiting), dict(incidents)


def deployments(store: Store) -> list[dict[str, Any]]:
    """Every stored definition, newest first: its hash, files, processes and when it was first stored."""
    rows = []
    for digest in store.catalogs():
        record = store.get_definition(digest)
        rows.append({"definition": record.hash, "processes": list(record.process_ids),
                     "files": [s.get("name", "") for s in record.sources], "created_at": record.created_at})
    return sorted(rows, key=lambda r: -r["created_at"])


def open_tasks(store: Store, *, task_id: str | None = None) -> list[dict[str, Any]]:
    """Open user tasks as `Queries.list_tasks` gives them; with `task_id`, that task only (exact id)."""
    found = store.find_waits(("user", "manual"), task_id=task_id)
    return [task_row(w) for w in found if task_id is None or w.task_id == task_id]

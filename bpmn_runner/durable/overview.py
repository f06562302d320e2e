"""Read models of the cockpit and the tasklist: stored processes with their instances by status, open instances
and incidents per element of one process, the stored deployments, and open user tasks a page at a time."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import NotFoundError
from ..store import OPEN_STATUSES, Store, WaitRecord
from ..store.page_reads import parse_task_mark, task_mark
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


def oldest_open_instances(store: Store, process_id: str, now: float, limit: int) -> list[dict[str, Any]]:
    """The `limit` oldest open instances of a process as `Queries.list_instances` gives them (`running` includes
    those waiting at a timer that is due at `now`)."""
    due = store.due_timer_instances(now)
    return [{"instance_id": r.id, "process_id": r.process_id, "business_key": r.business_key,
             "status": "running" if r.status == "waiting" and r.id in due else r.status,
             "waiting": [w.get("element_id") for w in r.waiting], "error": r.error, "created_at": r.created_at,
             "updated_at": r.updated_at, "ended_at": r.ended_at}
            for r in store.oldest_open_instances(process_id, limit)]


def latest_definition(store: Store, process_id: str) -> str:
    """The hash of the newest stored definition of a process."""
    found = [d for p, _v, d in store.latest_processes() if p == process_id]
    if not found:
        raise NotFoundError(f"no stored process {process_id!r}")
    return found[0]


def element_counts(store: Store, process_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """(open instances waiting at each element, open incidents at each element) of one process, all versions,
    counted by the database (`Store.element_counts`)."""
    return store.element_counts(process_id)


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


def task_list_page(store: Store, *, where: Callable[[dict[str, Any]], bool] | None = None, after: str = "",
                   before: str = "", limit: int = 50, mentions: str | None = None) -> dict[str, Any]:
    """A page of the open user tasks `where` accepts (rows as `open_tasks` gives them), oldest first: the `limit`
    after mark `after`, or just before mark `before`; with the marks of the next and previous pages ("" for
    none). Marks are places in the list, not tasks: a task done meanwhile leaves the pages around it whole.
    `mentions`: a value every task `where` accepts has in its instance's `waiting` list (see Store.user_task_page)."""
    def accept(w: WaitRecord) -> bool:
        return where is None or where(task_row(w))

    found, more = store.user_task_page(after=parse_task_mark(after) if after else None,
                                       before=parse_task_mark(before) if before else None, limit=limit,
                                       accept=accept if where is not None else None, mentions=mentions)
    first, last = (_mark(found[0]), _mark(found[-1])) if found else ("", "")
    if before:
        previous, following = (first if more else ""), last or before
    else:
        following, previous = (last if more else ""), ((first or after) if after else "")
    return {"tasks": [task_row(w) for w in found], "next": following, "previous": previous}


def _mark(w: WaitRecord) -> str:
    return task_mark(w.created_at, w.instance_id, w.task_id)

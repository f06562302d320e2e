"""The store's reads behind the pages of `serve` and the task listings: open instances and incidents counted per
element by the database, and open user tasks a page at a time (keyset paging). Mixed into `Store`."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import String, distinct, func, select, text, tuple_, union
from sqlalchemy.engine import Connection

from ..errors import InvalidOperationError
from .records import InstanceRecord, WaitRecord
from .rows import dumps, instance_record, wait_with_instance
from .schema import ENDED_STATUSES, OPEN_STATUSES, instances, jobs, waits

#: Where a user task stands in every task listing: (created_at, instance id, task id), oldest first.
TaskMark = tuple[float, str, str]
#: The kinds of wait a person completes (rows of `waits`).
PEOPLE_KINDS = ("user", "manual")
#: The jobs that mark where an instance waits (a message job is a message on its way, not a place).
WAITING_JOBS = ("service", "timer", "async")
_BATCH = 200
_MAX_BATCH = 1000
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
#: (instance, element) of each wait of kind `event` in the `waiting` lists (JSON text, written compact) of the open
#: instances of a process; the LIKE skips parsing the lists that name none.
_EVENT_WAITS = {
    "sqlite": "SELECT i.id AS instance_id, json_extract(e.value, '$.element_id') AS element_id "
              "FROM instances AS i, json_each(i.waiting) AS e "
              f"WHERE i.process_id = :process_id AND i.status IN ({_OPEN}) AND i.waiting LIKE :event_kind "
              "AND json_extract(e.value, '$.kind') = 'event' AND json_extract(e.value, '$.element_id') <> ''",
    "postgresql": "SELECT i.id AS instance_id, e.value ->> 'element_id' AS element_id FROM instances AS i "
                  "CROSS JOIN LATERAL jsonb_array_elements(CAST(i.waiting AS jsonb)) AS e(value) "
                  f"WHERE i.process_id = :process_id AND i.status IN ({_OPEN}) AND i.waiting LIKE :event_kind "
                  "AND e.value ->> 'kind' = 'event' AND e.value ->> 'element_id' <> ''",
}


def task_mark(created_at: float, instance_id: str, task_id: str) -> str:
    """The text form of a task's place in the listing (a page link's `after` or `before`): since when it is
    open, its instance and its id."""
    return f"{float(created_at)!r}:{instance_id}:{task_id}"


def parse_task_mark(text: str) -> TaskMark:
    since, _, rest = text.partition(":")
    instance_id, _, task_id = rest.rpartition(":")
    try:
        return float(since), instance_id, task_id
    except ValueError:
        raise InvalidOperationError(f"{text!r} is not a place in the task list: give the mark a page gave (its "
                                    f"next or previous link, or the `more: --after ...` line)") from None


class PageReads:
    """Aggregates and pages for `serve` (see `Store`)."""

    # ----- open instances per element -----------------------------------------------------------------------

    def element_counts(self, process_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """(open instances waiting at each element, open incidents at each element) of one process, all versions,
        counted by the database: each instance once per element, each job in an incident once.

        Where an instance waits is a row of `waits` (user and manual tasks, message and signal catches), a job
        (service tasks, timers, asyncBefore/asyncAfter continuations), or, for the catches no table holds (kind
        `event`: a condition, an error or escalation boundary), only its `waiting` list, read by the database in
        the instances whose list names such a wait."""
        open_ids = (select(instances.c.id).where(instances.c.process_id == process_id,
                                                 instances.c.status.in_(OPEN_STATUSES)).subquery())
        sources = [
            select(waits.c.instance_id, waits.c.element_id).join(open_ids, open_ids.c.id == waits.c.instance_id)
            .subquery(),
            select(jobs.c.instance_id, jobs.c.element_id).join(open_ids, open_ids.c.id == jobs.c.instance_id)
            .where(jobs.c.kind.in_(WAITING_JOBS)).subquery(),
            text(_EVENT_WAITS[self.dialect]).bindparams(  # type: ignore[attr-defined]
                process_id=process_id, event_kind='%"kind":"event"%')
            .columns(instance_id=String, element_id=String).subquery("event_waits")]
        waiting: dict[str, int] = {}
        seen: dict[str, int] = {}
        with self.read() as conn:  # type: ignore[attr-defined]
            for pairs in sources:
                for element_id, count in conn.execute(
                        select(pairs.c.element_id, func.count(distinct(pairs.c.instance_id)))
                        .group_by(pairs.c.element_id)).all():
                    waiting[element_id] = waiting.get(element_id, 0) + int(count)
                    seen[element_id] = seen.get(element_id, 0) + 1
            shared = sorted(e for e, n in seen.items() if n > 1)
            if shared:  # a user task with a timeout timer, a multiple event: each instance counted once
                both = union(*[select(p.c.instance_id, p.c.element_id).where(p.c.element_id.in_(shared))
                               for p in sources]).subquery()
                waiting.update({r[0]: int(r[1]) for r in conn.execute(
                    select(both.c.element_id, func.count()).group_by(both.c.element_id)).all()})
            incidents = {r[0]: int(r[1]) for r in conn.execute(
                select(jobs.c.element_id, func.count())
                .join(instances, instances.c.id == jobs.c.instance_id)
                .where(instances.c.process_id == process_id, instances.c.status == "incident",
                       jobs.c.status == "incident")
                .group_by(jobs.c.element_id)).all()}
        return waiting, incidents

    def oldest_open_instances(self, process_id: str, limit: int) -> list[InstanceRecord]:
        """The `limit` oldest open instances of a process (any version), without their state: one index range in
        creation order that stops at the limit (a query per status scans every instance of the process when a
        status has none)."""
        columns = [c for c in instances.c if c.name != "state"]
        with self.read() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(select(*columns).where(instances.c.process_id == process_id,
                                                       instances.c.status.in_(OPEN_STATUSES))
                                .order_by(instances.c.created_at, instances.c.id).limit(limit)).all()
        return [instance_record(r) for r in rows]

    # ----- open user tasks, a page at a time ----------------------------------------------------------------

    def user_task_page(self, *, instance_id: str | None = None, element_id: str | None = None,
                       after: TaskMark | None = None, before: TaskMark | None = None, limit: int | None = None,
                       skip: int = 0, accept: Callable[[WaitRecord], bool] | None = None,
                       mentions: str | None = None) -> tuple[list[WaitRecord], bool]:
        """Open user and manual tasks oldest first, `limit` of them after `after` (or the `limit` just before
        `before`, still oldest first), skipping the first `skip` that `accept` takes; and whether more follow in
        that direction. Rows are read in index order a batch at a time until the page is full, so a page costs
        the rows up to it, not every open task. With `mentions`, only tasks whose instance's `waiting` list has
        that string as a JSON value reach `accept` (the database's cheap first cut for a filter on a user)."""
        backwards = before is not None
        mark = before if backwards else after
        want = None if limit is None else skip + limit + 1
        # unfiltered, one batch is the page; filtered, batches of a few hundred rows until the page is full
        size = min(want, _MAX_BATCH) if want is not None and accept is None else _BATCH
        found: list[WaitRecord] = []
        with self.read() as conn:  # type: ignore[attr-defined]
            while want is None or len(found) < want:
                batch, mark, last = self._task_batch(conn, instance_id, element_id, mark, backwards, size,
                                                     mentions)
                found += [w for w in batch if accept is None or accept(w)]
                if last:
                    break
        more = want is not None and len(found) >= want
        found = found[skip:skip + limit] if limit is not None else found[skip:]
        return (found[::-1] if backwards else found), more

    def _task_batch(self, conn: Connection, instance_id: str | None, element_id: str | None,
                    mark: TaskMark | None, backwards: bool, size: int, mentions: str | None
                    ) -> tuple[list[WaitRecord], TaskMark | None, bool]:
        """The next rows after (before) `mark` in listing order, merged over the kinds: one index range per kind,
        as `kind IN (..)` would not keep the (kind, created_at) order; (rows, the new mark, whether that was all)."""
        key = tuple_(waits.c.created_at, waits.c.instance_id, waits.c.task_id)
        order = [waits.c.created_at, waits.c.instance_id, waits.c.task_id]
        query = (select(waits, instances.c.business_key, instances.c.process_id,
                        instances.c.waiting.label("instance_waiting"))
                 .join(instances, instances.c.id == waits.c.instance_id)
                 .where(instances.c.status.notin_(ENDED_STATUSES))
                 .order_by(*[c.desc() for c in order] if backwards else order).limit(size))
        if instance_id is not None:
            query = query.where(waits.c.instance_id == instance_id)
        if element_id is not None:
            query = query.where(waits.c.element_id == element_id)
        if mentions is not None:
            query = query.where(instances.c.waiting.contains(dumps(mentions), autoescape=True))
        if mark is not None:
            near = waits.c.created_at <= mark[0] if backwards else waits.c.created_at >= mark[0]
            query = query.where(near, key < tuple_(*mark) if backwards else key > tuple_(*mark))
        rows: list[Any] = []
        bound: TaskMark | None = None  # rows past the end of a full batch of one kind may be missing from the others
        for kind in PEOPLE_KINDS:
            got = conn.execute(query.where(waits.c.kind == kind)).all()
            rows += got
            if len(got) == size:
                end = (got[-1].created_at, got[-1].instance_id, got[-1].task_id)
                bound = end if bound is None else (max(bound, end) if backwards else min(bound, end))
        rows.sort(key=lambda r: (r.created_at, r.instance_id, r.task_id), reverse=backwards)
        if bound is not None:
            rows = [r for r in rows if ((r.created_at, r.instance_id, r.task_id) >= bound if backwards
                                        else (r.created_at, r.instance_id, r.task_id) <= bound)]
        out = [wait_with_instance(r) for r in rows]
        return out, (bound if bound is not None else mark), bound is None

    def definition_hashes(self, instance_ids: Sequence[str]) -> dict[str, str]:
        """The definition each instance runs, by instance id (no state read)."""
        if not instance_ids:
            return {}
        with self.read() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(select(instances.c.id, instances.c.definition_hash)
                                .where(instances.c.id.in_(list(set(instance_ids))))).all()
        return {r.id: r.definition_hash for r in rows}


__all__ = ["PageReads", "TaskMark", "parse_task_mark", "task_mark"]

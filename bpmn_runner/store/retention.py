"""Removing finished instances from a store (`bpmn-runner cleanup`), in batches of short transactions.

Only ended instances (completed, failed, cancelled) are touched, and only their own rows: jobs, waits, history
and the messages they sent or received once those are consumed or expired (with the bridge's inbox rows
of those messages and the outbox rows it published). Running instances' rows are never
read or locked, so workers carry on while a cleanup runs; on PostgreSQL the batch's instance rows are locked
with SKIP LOCKED (an instance row someone else holds is left for the next run), on SQLite each batch is one
short write transaction, so other writers wait at most one batch.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, or_, select

from ..errors import InvalidOperationError
from .schema import ENDED_STATUSES, history, inbox, instances, jobs, messages, outbox, waits

if TYPE_CHECKING:
    from .repository import Store

BATCH = 1000


def cleanup(store: "Store", finished_before: float, *, keep_history: bool = False,
            batch: int = BATCH) -> dict[str, int]:
    """Delete instances that ended before `finished_before` (epoch seconds); returns counts of what went."""
    counts = {"instances": 0, "history": 0, "jobs": 0, "waits": 0, "messages": 0}
    while True:
        with store.write() as conn:
            query = (select(instances.c.id).where(instances.c.ended_at < finished_before,
                                                  instances.c.status.in_(ENDED_STATUSES))
                     .order_by(instances.c.ended_at).limit(batch))
            if store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(conn.execute(query).scalars())
            if not ids:
                return counts
            if not keep_history:
                counts["history"] += conn.execute(delete(history).where(history.c.instance_id.in_(ids))).rowcount
                # the bridge's inbox forgets the events that became these messages (their dedup window ends here)
                conn.execute(delete(inbox).where(inbox.c.message_id.in_(select(messages.c.id).where(
                    or_(messages.c.source_instance_id.in_(ids), messages.c.target_instance_id.in_(ids)),
                    messages.c.status.in_(("consumed", "expired"))))))
                counts["messages"] += conn.execute(delete(messages).where(
                    or_(messages.c.source_instance_id.in_(ids), messages.c.target_instance_id.in_(ids)),
                    messages.c.status.in_(("consumed", "expired")))).rowcount
            conn.execute(delete(outbox).where(outbox.c.instance_id.in_(ids), outbox.c.published_at.is_not(None)))
            counts["jobs"] += conn.execute(delete(jobs).where(jobs.c.instance_id.in_(ids))).rowcount
            counts["waits"] += conn.execute(delete(waits).where(waits.c.instance_id.in_(ids))).rowcount
            counts["instances"] += conn.execute(delete(instances).where(
                and_(instances.c.id.in_(ids), instances.c.status.in_(ENDED_STATUSES)))).rowcount
        if len(ids) < batch:
            return counts


def parse_before(text: str) -> float:
    """`--finished-before` as epoch seconds: an ISO date (midnight UTC) or date and time (UTC unless it says)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidOperationError(f"--finished-before {text!r} is not a date; write 2026-01-31 or "
                                    f"2026-01-31T12:00:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()

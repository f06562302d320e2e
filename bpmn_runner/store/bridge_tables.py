"""The broker bridge's tables: the outbox a step writes in its own transaction, and the inbox of event ids seen."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..errors import ConcurrentUpdateError
from .records import JobRecord, MessageRecord, OutboxRecord, StepRecord
from .rows import dumps, job_record, job_values, loads, message_values
from .schema import inbox, jobs, messages, outbox


def write_outbox(conn: Connection, step: StepRecord) -> None:
    """Inside a step's transaction: one outbox row per message the step threw (nothing else touches the step)."""
    rows = [dict(id=m.id, name=m.name, instance_id=m.source_instance_id or step.instance.id,
                 business_key=step.instance.business_key, correlation_key=m.correlation_key,
                 payload=dumps(m.payload), created_at=m.created_at, published_at=None, locked_by=None,
                 locked_until=None)
            for m in step.new_messages]
    if rows:
        conn.execute(insert(outbox), rows)


class BridgeOperations:
    """Inbox and outbox operations of the Store (a mixin: `self.write()`/`self.read()` are the Store's)."""

    def receive_event(self, event_id: str, message: MessageRecord, job: JobRecord) -> str | None:
        """Store an inbound event as `message` (with the job that routes it) and its id in the inbox, in one
        transaction. Returns None when it is new, else the id of the message the same event became before."""
        with self.write() as conn:  # type: ignore[attr-defined]
            seen = conn.execute(select(inbox.c.message_id).where(inbox.c.event_id == event_id)).scalar()
            if seen is not None:
                return str(seen)
            try:
                with conn.begin_nested():
                    conn.execute(insert(inbox).values(event_id=event_id, message_id=message.id,
                                                      received_at=message.created_at))
                    conn.execute(insert(messages).values(**message_values(message)))
                    conn.execute(insert(jobs).values(**job_values(job)))
            except IntegrityError as exc:  # the same event, stored by another bridge at the same moment
                raise ConcurrentUpdateError(f"event {event_id} was stored by someone else; try again") from exc
            return None

    def message_job(self, message_id: str) -> JobRecord | None:
        """The job that still has to route a message (None once it was routed)."""
        with self.read() as conn:  # type: ignore[attr-defined]
            row = conn.execute(select(jobs).where(jobs.c.kind == "message", jobs.c.task_id == message_id)).first()
        return job_record(row) if row is not None else None

    def pending_outbox(self, names: Sequence[str], limit: int = 100, *, worker: str | None = None,
                       now: float = 0.0, lease: float = 30.0) -> list[OutboxRecord]:
        """Thrown messages of these names not yet published, oldest first. With `worker`, only rows no other
        worker holds, leased to this one for `lease` seconds (so several bridges publish each row once, unless
        one dies holding it: then another publishes it again after the lease, with the same id)."""
        if not names:
            return []
        query = (select(outbox).where(outbox.c.published_at.is_(None), outbox.c.name.in_(list(names)))
                 .order_by(outbox.c.created_at).limit(limit))
        if worker is None:
            with self.read() as conn:  # type: ignore[attr-defined]
                return [_outbox_record(r) for r in conn.execute(query).all()]
        free = or_(outbox.c.locked_until.is_(None), outbox.c.locked_until <= now, outbox.c.locked_by == worker)
        with self.read() as conn:  # type: ignore[attr-defined]  # most looks find nothing: no write transaction
            if conn.execute(query.where(free).with_only_columns(outbox.c.id)).first() is None:
                return []
        with self.write() as conn:  # type: ignore[attr-defined]
            if self.dialect == "postgresql":  # type: ignore[attr-defined]
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query.where(free)).all()
            if rows:
                conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                             .values(locked_by=worker, locked_until=now + lease))
        return [_outbox_record(r) for r in rows]

    def outbox_of(self, instance_id: str) -> list[OutboxRecord]:
        with self.read() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(select(outbox).where(outbox.c.instance_id == instance_id)
                                .order_by(outbox.c.created_at)).all()
        return [_outbox_record(r) for r in rows]

    def mark_published(self, ids: Sequence[str], now: float) -> int:
        if not ids:
            return 0
        with self.write() as conn:  # type: ignore[attr-defined]
            done = conn.execute(update(outbox).where(outbox.c.id.in_(list(ids)), outbox.c.published_at.is_(None))
                                .values(published_at=now))
            return int(done.rowcount)


def _outbox_record(row: Any) -> OutboxRecord:
    return OutboxRecord(id=row.id, name=row.name, instance_id=row.instance_id, payload=loads(row.payload, {}),
                        created_at=row.created_at, business_key=row.business_key,
                        correlation_key=row.correlation_key, published_at=row.published_at)

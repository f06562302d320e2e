"""Conversions between database rows and the store's plain records, and the small SQL helpers both halves of the
store share."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_

from .columns import JOB_COLUMNS
from .records import InstanceRecord, JobRecord, MessageRecord, WaitRecord


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def dumps(value: Any) -> str:
    return _ENCODE(value)  # json.dumps with these options would build an encoder every call


def loads(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


def like_prefix(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "") + "%"


def starts_with(column: Any, prefix: str) -> Any:
    """`column LIKE 'prefix%'` that an ordinary index serves: a LIKE alone is a full scan on PostgreSQL (outside
    the C collation) and on SQLite (case-insensitive LIKE); the range narrows it to the prefix's rows first."""
    cleaned = like_prefix(prefix)[:-1]
    if not cleaned:
        return column.like(like_prefix(prefix))
    upper = cleaned[:-1] + chr(ord(cleaned[-1]) + 1)
    return and_(column >= cleaned, column < upper, column.like(like_prefix(prefix)))


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def instance_record(row: Any) -> InstanceRecord:
    mapping = row._mapping
    state = mapping.get("state")
    return InstanceRecord(
        id=row.id, definition_hash=row.definition_hash, process_id=row.process_id, business_key=row.business_key,
        status=row.status, state=loads(state) if state is not None else None, version=int(row.version),
        data=loads(row.data, {}), waiting=loads(row.waiting, []), error=row.error, created_at=row.created_at,
        updated_at=row.updated_at, ended_at=mapping.get("ended_at"))


def job_record(row: Any) -> JobRecord:
    return JobRecord(id=row.id, instance_id=row.instance_id, kind=row.kind, task_id=row.task_id,
                     element_id=row.element_id, handler=row.handler, payload=loads(row.payload, {}),
                     due_at=row.due_at, attempts=int(row.attempts), max_attempts=int(row.max_attempts),
                     backoff=loads(row.backoff), status=row.status, locked_by=row.locked_by,
                     locked_until=row.locked_until, last_error=row.last_error, created_at=row.created_at,
                     last_traceback=row._mapping.get("last_traceback"))


def job_from_tuple(row: tuple[Any, ...]) -> JobRecord:
    """A job from a hot-path row (columns in hot_path.JOB_COLUMNS order)."""
    values = dict(zip(JOB_COLUMNS, row))
    values["payload"] = loads(values["payload"], {})
    values["backoff"] = loads(values["backoff"])
    return JobRecord(**values)


def job_values(job: JobRecord) -> dict[str, Any]:
    return dict(id=job.id, instance_id=job.instance_id, kind=job.kind, task_id=job.task_id,
                element_id=job.element_id, handler=job.handler, payload=dumps(job.payload), status=job.status,
                due_at=job.due_at, attempts=job.attempts, max_attempts=job.max_attempts,
                backoff=dumps(job.backoff) if job.backoff is not None else None, locked_by=job.locked_by,
                locked_until=job.locked_until, last_error=job.last_error, created_at=job.created_at)


#: `element_type` of one history row that stands for several sequence flows taken in one step: `detail` holds
#: their ids (space-separated; BPMN ids have no spaces) and `element_id` the first. Read back as one `taken`
#: event per flow, so a step writes one row for its flows, not one each.
TAKEN_FLOWS = "sequenceFlows"


def history_tuple(instance_id: str, process_id: str, element_id: str, event: str, at: float, element_type: str,
                  name: str, changes: Any, detail: str, started_at: float | None = None) -> tuple[Any, ...]:
    """A history row as the store writes it: HISTORY_COLUMNS order, its data changes as JSON text."""
    return (instance_id, process_id, element_id, event, float(at), element_type, name,
            dumps(changes) if changes else "{}", detail, started_at)


def taken_flows_row(instance_id: str, process_id: str, flows: list[str], at: float) -> tuple[Any, ...]:
    """The history row of the sequence flows a step took."""
    if len(flows) == 1:
        return history_tuple(instance_id, process_id, flows[0], "taken", at, "sequenceFlow", "", None, "")
    return history_tuple(instance_id, process_id, flows[0], "taken", at, TAKEN_FLOWS, "", None, " ".join(flows))


def history_dicts(rows: Any) -> list[dict[str, Any]]:
    """History events from stored rows: a row of several taken flows read as one event per flow, a `completed`
    row with `started_at` as the element's `entered` event at that time, then its `completed` event."""
    out: list[dict[str, Any]] = []
    for row in rows:
        event = history_dict(row)
        if row.element_type == TAKEN_FLOWS:
            out.extend({**event, "element_id": flow, "element_type": "sequenceFlow", "detail": ""}
                       for flow in row.detail.split())
            continue
        if row.started_at is not None:
            out.append({**event, "event": "entered", "at": row.started_at, "data_changes": {}, "detail": ""})
        out.append(event)
    return out


def history_dict(row: Any) -> dict[str, Any]:
    return {"instance_id": row.instance_id, "process_id": row.process_id, "element_id": row.element_id,
            "event": row.event, "at": row.at, "element_type": row.element_type, "name": row.name,
            "data_changes": loads(row.data_changes, {}), "detail": row.detail}


def history_values(h: dict[str, Any]) -> dict[str, Any]:
    return dict(instance_id=h["instance_id"], process_id=h.get("process_id") or "", element_id=h["element_id"],
                event=h["event"], at=float(h["at"]), element_type=h.get("element_type") or "",
                name=h.get("name") or "", data_changes=dumps(h.get("data_changes") or {}),
                detail=h.get("detail") or "", started_at=h.get("started_at"))


def wait_record(row: Any) -> WaitRecord:
    return WaitRecord(instance_id=row.instance_id, task_id=row.task_id, kind=row.kind, event_name=row.event_name,
                      element_id=row.element_id, name=row.name, correlation_key=row.correlation_key,
                      form=loads(row.form, []), created_at=row.created_at)


def wait_with_instance(row: Any) -> WaitRecord:
    """A wait read with its instance's business key, process and `waiting` list (its own entry as `details`)."""
    w = wait_record(row)
    w.business_key, w.process_id = row.business_key, row.process_id
    w.details = next((e for e in loads(row.instance_waiting, []) if e.get("task_id") == w.task_id), {})
    return w


def message_record(row: Any) -> MessageRecord:
    return MessageRecord(id=row.id, name=row.name, correlation_key=row.correlation_key,
                         payload=loads(row.payload, {}), created_at=row.created_at, expires_at=row.expires_at,
                         status=row.status, business_key=row.business_key, message_id=row.message_id,
                         source_instance_id=row.source_instance_id, target_instance_id=row.target_instance_id,
                         consumed_at=row.consumed_at)


def message_values(m: MessageRecord) -> dict[str, Any]:
    return dict(id=m.id, name=m.name, correlation_key=m.correlation_key, business_key=m.business_key,
                payload=dumps(m.payload), message_id=m.message_id, status=m.status,
                source_instance_id=m.source_instance_id, target_instance_id=m.target_instance_id,
                created_at=m.created_at, expires_at=m.expires_at, consumed_at=m.consumed_at)

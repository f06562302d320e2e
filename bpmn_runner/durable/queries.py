"""Read models of stored instances: lists, one instance in full, and the views the HTML reports draw."""

from __future__ import annotations

import json
from typing import Any

from ..environment import Environment
from ..errors import InvalidOperationError, NotFoundError
from ..store import OPEN_STATUSES, InstanceRecord, MessageRecord, Store, WaitRecord
from ..store.page_reads import parse_task_mark
from .deployments import Deployments, Source


class Queries:
    """Reads only; `running` includes instances waiting at a timer that is due now."""

    def __init__(self, *, store: Store, environment: Environment, deployments: Deployments) -> None:
        self.store = store
        self.environment = environment
        self.deployments = deployments

    def _live_status(self, record: InstanceRecord, due: set[str] | None = None) -> str:
        if record.status == "waiting":
            due = self.store.due_timer_instances(self.environment.now()) if due is None else due
            if record.id in due:
                return "running"
        return record.status

    def list_instances(self, *, status: str | None = None, process_id: str | None = None,
                       business_key: str | None = None, limit: int | None = None,
                       after: str | None = None) -> list[dict[str, Any]]:
        """Instances, oldest first, `limit` at a time after instance `after`."""
        now = self.environment.now()
        due = self.store.due_timer_instances(now)
        out = []
        for record in self.store.list_instances(status=status, process_id=process_id, business_key=business_key,
                                                limit=limit, after=after, timers_due_at=now):
            live = self._live_status(record, due)
            out.append({"instance_id": record.id, "process_id": record.process_id,
                        "business_key": record.business_key, "status": live,
                        "waiting": [w.get("element_id") for w in record.waiting], "error": record.error,
                        "created_at": record.created_at, "updated_at": record.updated_at,
                        "ended_at": record.ended_at})
        return out

    def instance_by_business_key(self, business_key: str) -> str:
        """The id of the one open instance with this business key (business keys need not be unique, as in
        Camunda 7); none or several is an InvalidOperationError that names the instances."""
        found = self.store.list_instances(business_key=business_key)
        open_ids = [r.id for r in found if r.status in OPEN_STATUSES]
        if len(open_ids) == 1:
            return open_ids[0]
        if open_ids:
            raise InvalidOperationError(f"{len(open_ids)} open instances have business key {business_key!r}: "
                                        f"{', '.join(open_ids)}; name one by its instance id")
        ended = f" (ended: {', '.join(r.id for r in found)}; name one by its instance id)" if found else ""
        raise InvalidOperationError(f"no open instance has business key {business_key!r}{ended}")

    def list_tasks(self, instance: str | None = None, *, assignee: str | None = None,
                   group: str | None = None, limit: int | None = None, after: str | None = None,
                   element_id: str | None = None, skip: int = 0) -> list[dict[str, Any]]:
        """Open user tasks oldest first: at most `limit`, after the task at mark `after` (`task_mark`), the first
        `skip` left out. With `assignee` those assigned to that user, with `group` those a group member may claim
        (candidate group), as Tasklist's filters; with `element_id` those of that element. The filters apply
        before the limit, and the store reads only as many rows as the page needs."""
        instance_id = self.store.resolve_instance_id(instance) if instance else None

        def accept(w: WaitRecord) -> bool:
            assignment = w.details.get("assignment") or {}
            if assignee is not None and assignment.get("assignee") != assignee:
                return False
            return group is None or group in (assignment.get("candidateGroups") or [])

        found, _more = self.store.user_task_page(
            instance_id=instance_id, element_id=element_id, after=parse_task_mark(after) if after else None,
            limit=limit, skip=skip, accept=accept if assignee is not None or group is not None else None,
            mentions=assignee if assignee is not None else group)
        return [task_row(w) for w in found]

    def show(self, ident: str) -> dict[str, Any]:
        instance_id = self.store.resolve_instance_id(ident)
        record = self.store.get_instance(instance_id)
        jobs = self.store.jobs_of(instance_id)
        history = self.store.history_of(instance_id)
        waits = {(w.task_id, w.kind): w for w in self.store.waits_of(instance_id)}
        sent, received = self.store.messages_of(instance_id)
        waiting = []
        for w in record.waiting:
            row = dict(w)
            found = waits.get((w.get("task_id"), w.get("kind")))
            if found is not None and found.correlation_key is not None:
                row["correlation_key"] = found.correlation_key
            timer = next((j for j in jobs if j.kind == "timer" and j.task_id == w.get("task_id")), None)
            if timer is not None:
                row["due_at"] = timer.due_at
            waiting.append(row)
        incidents = [{"element_id": j.element_id, "kind": j.kind, "job_id": j.id, "error": j.last_error,
                      "attempts": j.attempts, "at": record.updated_at, "traceback": j.last_traceback}
                     for j in jobs if j.status == "incident"]
        return {
            "instance_id": record.id, "process_id": record.process_id,
            "process_version": self.store.process_version(record.process_id, record.definition_hash),
            "definition": record.definition_hash, "business_key": record.business_key,
            "status": self._live_status(record), "error": record.error, "data": record.data, "waiting": waiting,
            "incidents": incidents,
            "jobs": [{"job_id": j.id, "kind": j.kind, "element_id": j.element_id, "handler": j.handler,
                      "status": j.status, "due_at": j.due_at, "attempts": j.attempts,
                      "max_attempts": j.max_attempts, "locked_by": j.locked_by, "locked_until": j.locked_until,
                      "last_error": j.last_error} for j in jobs],
            "history": [{k: v for k, v in h.items() if k not in ("instance_id",)} for h in history],
            "started_by": _people(record).get("initiator"),
            "completed_by": completed_by(history),
            "messages_sent": [message_view(m) for m in sent],
            "messages_received": [message_view(m) for m in received],
            "created_at": record.created_at, "updated_at": record.updated_at, "ended_at": record.ended_at,
        }

    # ----- report views -------------------------------------------------------------------------------------

    def instance_view(self, ident: str) -> tuple[list[Source], dict[str, Any]]:
        """(the stored diagram files, the run dict `report.render_instance_report` draws) for one instance."""
        shown = self.show(ident)
        history = [h for h in shown["history"] if h["event"] != "taken"]
        view = {
            "instance_id": shown["instance_id"], "process_id": shown["process_id"], "status": shown["status"],
            "business_key": shown["business_key"], "data": shown["data"], "error": shown["error"],
            "path": [h["element_id"] for h in history if h["event"] == "completed"],
            "flows": [h["element_id"] for h in shown["history"] if h["event"] == "taken"],
            "waiting": [{"element_id": w.get("element_id"), "name": w.get("name"), "kind": w.get("kind"),
                         "detail": w.get("detail", "")} for w in shown["waiting"]],
            "incidents": shown["incidents"], "history": history,
            "messages_sent": shown["messages_sent"], "messages_received": shown["messages_received"],
        }
        return self.deployments.sources_for(shown["definition"]), view

    def heatmap_stats(self, process_id: str) -> tuple[list[Source], dict[str, Any]]:
        """(the newest stored diagram files of the process, the stats `report.render_heatmap_report` draws)."""
        latest = [d for p, _v, d in self.store.latest_processes() if p == process_id]
        if not latest:
            raise NotFoundError(f"no stored process {process_id!r}")
        rows = self.store.history_of_process(process_id)
        durations: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        flows: dict[str, int] = {}
        entered: dict[tuple[str, str], list[float]] = {}
        for row in rows:
            ident, event = row["element_id"], row["event"]
            if event == "taken":
                flows[ident] = flows.get(ident, 0) + 1
            elif event == "entered":
                entered.setdefault((row["instance_id"], ident), []).append(row["at"])
            elif event in ("completed", "failed", "cancelled"):
                if event == "completed":
                    counts[ident] = counts.get(ident, 0) + 1
                started = entered.get((row["instance_id"], ident))
                if started:
                    durations.setdefault(ident, []).append(max(0.0, row["at"] - started.pop(0)) * 1000)
        elements = {}
        for ident in sorted(set(counts) | set(durations)):
            values = sorted(durations.get(ident, []))
            mean = sum(values) / len(values) if values else None
            p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] if values else None
            elements[ident] = {"count": counts.get(ident, 0), "mean_ms": mean, "p95_ms": p95}
        by_status: dict[str, int] = {}
        for record in self.store.list_instances(process_id=process_id):
            by_status[record.status] = by_status.get(record.status, 0) + 1
        stats = {"process_id": process_id, "elements": elements, "flows": flows, "instances_by_status": by_status}
        return self.deployments.sources_for(latest[0]), stats


def message_view(m: MessageRecord) -> dict[str, Any]:
    return {"id": m.id, "name": m.name, "correlation_key": m.correlation_key, "payload": m.payload,
            "status": m.status, "at": m.consumed_at or m.created_at, "from": m.source_instance_id,
            "to": m.target_instance_id}


COMPLETED_BY = "completed by "


def completed_by(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who completed each user task, in order (the history event of a task completed with a user says so)."""
    return [{"element_id": h["element_id"], "name": h.get("name") or "", "user": h["detail"][len(COMPLETED_BY):],
             "at": h["at"]}
            for h in history if h["event"] == "completed" and str(h.get("detail") or "").startswith(COMPLETED_BY)]


def _people(record: InstanceRecord) -> dict[str, Any]:
    state = record.state
    if isinstance(state, str):
        try:
            state = json.loads(state)
        except ValueError:
            return {}
    found = state.get("people") if isinstance(state, dict) else None
    return found if isinstance(found, dict) else {}


def task_row(w: WaitRecord) -> dict[str, Any]:
    """An open user task as `tasks` and the tasklist show it, from its wait row (no instance state is read)."""
    return {"task_id": w.task_id, "instance_id": w.instance_id, "element_id": w.element_id, "name": w.name,
            "kind": w.kind, "process_id": w.process_id, "business_key": w.business_key, "fields": w.form,
            "since": w.created_at, "assignment": w.details.get("assignment") or {},
            "instructions": w.details.get("instructions", "")}

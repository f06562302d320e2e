"""`/engine-rest/history/process-instance`, `/history/activity-instance` and `/incident`: what ran, how an
instance ended, and the incidents waiting for an operator, from the store's history and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from ...durable.runtime import Runtime
from ...errors import NotFoundError
from ...store import InstanceRecord, JobRecord
from ..context import ServerContext
from ..errors import ApiError
from .variables import PREFIX, camunda_date, definition_id

#: our instance status -> Camunda 7's historic process instance state
STATES = {"running": "ACTIVE", "waiting": "ACTIVE", "incident": "ACTIVE", "completed": "COMPLETED",
          "cancelled": "EXTERNALLY_TERMINATED", "failed": "INTERNALLY_TERMINATED"}
ENDS = ("completed", "cancelled", "failed")


def activity_type(element_type: str) -> str:
    """Our element type (`ServiceTask`, `EndEvent`) in Camunda's spelling (`serviceTask`, `noneEndEvent`)."""
    text = element_type.split(":")[-1].replace(" ", "")
    if not text:
        return ""
    text = text[0].lower() + text[1:]
    return "noneEndEvent" if text == "endEvent" else "noneStartEvent" if text == "startEvent" else text


def historic_instance_json(runtime: Runtime, record: InstanceRecord) -> dict[str, Any]:
    version = runtime.store.process_version(record.process_id, record.definition_hash)
    history = runtime.store.history_of(record.id)
    ends = [h for h in history if h["event"] == "completed" and "end" in h["element_type"].lower()]
    started = [h for h in history if h["event"] in ("entered", "completed")]
    return {
        "id": record.id, "rootProcessInstanceId": record.id, "superProcessInstanceId": None,
        "businessKey": record.business_key, "processDefinitionId": definition_id(record.process_id, version,
                                                                                  record.definition_hash),
        "processDefinitionKey": record.process_id, "processDefinitionName": record.process_id,
        "processDefinitionVersion": version, "startTime": camunda_date(record.created_at),
        "endTime": camunda_date(record.ended_at),
        "durationInMillis": int((record.ended_at - record.created_at) * 1000) if record.ended_at else None,
        "startUserId": None, "startActivityId": started[0]["element_id"] if started else None,
        "endActivityId": ends[-1]["element_id"] if ends and record.status in ENDS else None,
        "deleteReason": "cancelled" if record.status == "cancelled" else record.error, "tenantId": None,
        "state": STATES.get(record.status, "ACTIVE"),
    }


def activity_instances(runtime: Runtime, record: InstanceRecord) -> list[dict[str, Any]]:
    """One entry per element run: an `entered` row paired with the `completed`, `cancelled` or `failed` row that
    followed it (elements recorded only as completed, such as events, start and end at that time)."""
    version = runtime.store.process_version(record.process_id, record.definition_hash)
    out: list[dict[str, Any]] = []
    open_rows: dict[str, list[dict[str, Any]]] = {}
    for index, row in enumerate(runtime.store.history_of(record.id)):
        if row["event"] == "taken":
            continue
        element = row["element_id"]
        if row["event"] == "entered":
            entry = {
                "id": f"{element}:{record.id}:{index}", "parentActivityInstanceId": record.id,
                "activityId": element, "activityName": row["name"] or None,
                "activityType": activity_type(row["element_type"]), "processDefinitionKey": record.process_id,
                "processDefinitionId": definition_id(record.process_id, version, record.definition_hash),
                "processInstanceId": record.id, "executionId": record.id, "taskId": None,
                "calledProcessInstanceId": None, "calledCaseInstanceId": None, "assignee": None,
                "startTime": camunda_date(row["at"]), "endTime": None, "durationInMillis": None,
                "canceled": False, "completeScope": False, "tenantId": None}
            open_rows.setdefault(element, []).append(entry)
            out.append(entry)
            continue
        pending = open_rows.get(element)
        if pending:
            entry = pending.pop(0)
        else:
            entry = {**activity_row_from(row, record, version, index), "startTime": camunda_date(row["at"])}
            out.append(entry)
        entry["endTime"] = camunda_date(row["at"])
        entry["durationInMillis"] = _millis(entry["startTime"], entry["endTime"])
        entry["canceled"] = row["event"] == "cancelled"
        entry["completeScope"] = "end" in row["element_type"].lower()
    return out


def activity_row_from(row: dict[str, Any], record: InstanceRecord, version: int | None, index: int) -> dict:
    return {"id": f"{row['element_id']}:{record.id}:{index}", "parentActivityInstanceId": record.id,
            "activityId": row["element_id"], "activityName": row["name"] or None,
            "activityType": activity_type(row["element_type"]), "processDefinitionKey": record.process_id,
            "processDefinitionId": definition_id(record.process_id, version, record.definition_hash),
            "processInstanceId": record.id, "executionId": record.id, "taskId": None,
            "calledProcessInstanceId": None, "calledCaseInstanceId": None, "assignee": None, "canceled": False,
            "completeScope": False, "tenantId": None}


def _millis(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    fmt = "%Y-%m-%dT%H:%M:%S.%f%z"
    return int((datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds() * 1000)


def incident_json(runtime: Runtime, job: JobRecord, records: dict[str, InstanceRecord]) -> dict[str, Any]:
    record = records.get(job.instance_id or "")
    if record is None and job.instance_id:
        try:
            record = records[job.instance_id] = runtime.store.get_instance(job.instance_id)
        except NotFoundError:
            record = None
    definition = None
    if record is not None:
        version = runtime.store.process_version(record.process_id, record.definition_hash)
        definition = definition_id(record.process_id, version, record.definition_hash)
    return {"id": job.id, "processDefinitionId": definition, "processInstanceId": job.instance_id,
            "executionId": job.task_id, "incidentTimestamp": camunda_date(record.updated_at if record else None),
            "incidentType": "failedExternalTask" if job.kind == "service" else "failedJob",
            "activityId": job.element_id, "failedActivityId": job.element_id, "causeIncidentId": job.id,
            "rootCauseIncidentId": job.id, "configuration": job.id, "tenantId": None,
            "incidentMessage": job.last_error, "jobDefinitionId": None, "annotation": None}


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    def record_of(ident: str) -> InstanceRecord:
        try:
            return ctx.shared_runtime().store.get_instance(ident)
        except NotFoundError:
            raise ApiError(404, "InvalidRequestException",
                           f"Historic process instance with id {ident} does not exist") from None

    @api.get("/history/process-instance/{ident}")
    def historic_instance(ident: str) -> dict[str, Any]:
        return historic_instance_json(ctx.shared_runtime(), record_of(ident))

    @api.get("/history/process-instance")
    def historic_instances(processDefinitionKey: str | None = None, businessKey: str | None = None,
                           processInstanceId: str | None = None, maxResults: int = 100) -> list[dict[str, Any]]:
        runtime = ctx.shared_runtime()
        if processInstanceId:
            records = [record_of(processInstanceId)]
        else:
            records = runtime.store.list_instances(process_id=processDefinitionKey, business_key=businessKey,
                                                   limit=maxResults)
        return [historic_instance_json(runtime, r) for r in records]

    @api.get("/history/activity-instance")
    def historic_activities(processInstanceId: str | None = None,
                            activityId: str | None = None) -> list[dict[str, Any]]:
        if not processInstanceId:
            raise ApiError(400, "InvalidRequestException", "this server needs processInstanceId for "
                                                           "/history/activity-instance")
        rows = activity_instances(ctx.shared_runtime(), record_of(processInstanceId))
        return [r for r in rows if activityId is None or r["activityId"] == activityId]

    @api.get("/incident")
    def incidents(processInstanceId: str | None = None, incidentId: str | None = None,
                  activityId: str | None = None, maxResults: int = 1000) -> list[dict[str, Any]]:
        runtime = ctx.shared_runtime()
        records: dict[str, InstanceRecord] = {}
        jobs = runtime.store.incident_jobs(instance_id=processInstanceId, limit=maxResults)
        return [incident_json(runtime, j, records) for j in jobs
                if (incidentId is None or j.id == incidentId) and (activityId is None or j.element_id == activityId)]

    @api.get("/incident/count")
    def incident_count(processInstanceId: str | None = None) -> dict[str, int]:
        return {"count": len(ctx.shared_runtime().store.incident_jobs(instance_id=processInstanceId))}

    return api

"""`/engine-rest/engine`, `/deployment/create`, `/process-definition`, `/process-instance` of the Camunda 7 REST
API: deploy diagrams, list definitions, start instances by key, read running instances and their variables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...durable.runtime import Runtime
from ...errors import NotFoundError
from ...store import ENDED_STATUSES, OPEN_STATUSES, InstanceRecord
from ..context import ServerContext
from ..errors import ApiError
from ..uploads import deploy_upload
from .variables import (PREFIX, bad, camunda_date, definition_id, split_definition_id, typed_all,
                        untyped_all)


def definition_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": definition_id(row["process_id"], row["version"], row["definition"]), "key": row["process_id"],
            "category": "http://bpmn.io/schema/bpmn", "description": None, "name": row["process_id"],
            "version": row["version"], "resource": None, "deploymentId": row["definition"], "diagram": None,
            "suspended": False, "tenantId": None, "versionTag": None, "historyTimeToLive": None,
            "startableInTasklist": True}


def instance_json(runtime: Runtime, record: InstanceRecord | dict[str, Any], base: str = "") -> dict[str, Any]:
    if isinstance(record, dict):
        ident, process_id, digest = record["instance_id"], record["process_id"], record["definition"]
        business_key, status = record.get("business_key"), record["status"]
    else:
        ident, process_id, digest = record.id, record.process_id, record.definition_hash
        business_key, status = record.business_key, record.status
    version = runtime.store.process_version(process_id, digest)
    return {"links": [{"method": "GET", "href": f"{base}/engine-rest/process-instance/{ident}", "rel": "self"}],
            "id": ident, "definitionId": definition_id(process_id, version, digest), "businessKey": business_key,
            "caseInstanceId": None, "ended": status in ENDED_STATUSES, "suspended": False, "tenantId": None}


def open_instance(runtime: Runtime, ident: str) -> InstanceRecord:
    """The instance while it runs; Camunda answers 404 for one that ended (it is only in the history then)."""
    try:
        record = runtime.store.get_instance(ident)
    except NotFoundError:
        record = None
    if record is None or record.status in ENDED_STATUSES:
        raise ApiError(404, "InvalidRequestException", f"Process instance with id {ident} does not exist")
    return record


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    @api.get("/engine")
    def engines() -> list[dict[str, str]]:
        return [{"name": "default"}]

    @api.post("/deployment/create")
    async def create_deployment(request: Request) -> dict[str, Any]:
        form = await request.form(max_files=20, max_fields=20)
        files = [(v.filename or k, await v.read(ctx.upload_limit + 1)) for k, v in form.multi_items()
                 if not isinstance(v, str)]
        if not files:
            raise bad("a deployment needs at least one resource (a .bpmn or .dmn file as a multipart file part)")
        name = form.get("deployment-name")
        deployed = await run_in_threadpool(deploy_upload, ctx, files)
        return {"links": [], "id": deployed["deployment"], "name": name if isinstance(name, str) else None,
                "source": form.get("deployment-source") if isinstance(form.get("deployment-source"), str) else None,
                "deploymentTime": camunda_date(deployed["at"]), "tenantId": None,
                "deployedProcessDefinitions": {definition_json(r)["id"]: definition_json(r)
                                               for r in deployed["definitions"]},
                "deployedCaseDefinitions": None, "deployedDecisionDefinitions": None,
                "deployedDecisionRequirementsDefinitions": None}

    @api.get("/process-definition")
    def definitions(key: str | None = None, latestVersion: bool = False, firstResult: int = 0,
                    maxResults: int | None = None) -> list[dict[str, Any]]:
        rows = ctx.shared_runtime().store.process_versions(key)
        if latestVersion:
            newest: dict[str, dict[str, Any]] = {}
            for row in rows:
                newest[row["process_id"]] = row
            rows = list(newest.values())
        rows = rows[firstResult:firstResult + maxResults if maxResults is not None else None]
        return [definition_json(r) for r in rows]

    def latest(key: str) -> dict[str, Any]:
        rows = ctx.shared_runtime().store.process_versions(key)
        if not rows:
            raise ApiError(404, "RestException", f"No matching process definition with key: {key} and no tenant-id")
        return rows[-1]

    def by_id(ident: str) -> dict[str, Any]:
        key, version, _digest = split_definition_id(ident)
        for row in ctx.shared_runtime().store.process_versions(key):
            if row["version"] == version:
                return row
        raise ApiError(404, "RestException", f"No matching definition with id {ident}")

    @api.get("/process-definition/key/{key}")
    def definition_by_key(key: str) -> dict[str, Any]:
        return definition_json(latest(key))

    @api.get("/process-definition/{ident}")
    def definition_by_id(ident: str) -> dict[str, Any]:
        return definition_json(by_id(ident))

    def start(request: Request, row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        runtime = ctx.shared_runtime()
        business_key = body.get("businessKey")
        if business_key is not None and not isinstance(business_key, str):
            raise bad("businessKey must be a string")
        variables = untyped_all(body.get("variables"))
        definitions = runtime.deployments.definitions_for(row["definition"])
        out = runtime.start(definitions=definitions, process_id=row["process_id"], data=variables,
                            business_key=business_key)
        record = runtime.store.get_instance(out["instance_id"])
        result = instance_json(runtime, record, str(request.base_url).rstrip("/"))
        if body.get("withVariablesInReturn"):
            result["variables"] = typed_all(record.data)
        return result

    @api.post("/process-definition/key/{key}/start")
    async def start_by_key(key: str, request: Request, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        out = await run_in_threadpool(lambda: start(request, latest(key), body or {}))
        ctx.hub.poke()
        return out

    @api.post("/process-definition/{ident}/start")
    async def start_by_id(ident: str, request: Request, body: dict[str, Any] | None = Body(None)) -> dict[str, Any]:
        out = await run_in_threadpool(lambda: start(request, by_id(ident), body or {}))
        ctx.hub.poke()
        return out

    @api.get("/process-instance")
    def instances(request: Request, processDefinitionKey: str | None = None, businessKey: str | None = None,
                  processInstanceIds: str | None = None, firstResult: int = 0,
                  maxResults: int | None = None) -> list[dict[str, Any]]:
        runtime = ctx.shared_runtime()
        wanted = set(processInstanceIds.split(",")) if processInstanceIds else None
        rows = [r for status in ("running", "waiting", "incident")
                for r in runtime.store.list_instances(status=status, process_id=processDefinitionKey,
                                                      business_key=businessKey)]
        rows.sort(key=lambda r: (r.created_at, r.id))
        rows = [r for r in rows if wanted is None or r.id in wanted]
        rows = rows[firstResult:firstResult + maxResults if maxResults is not None else None]
        base = str(request.base_url).rstrip("/")
        return [instance_json(runtime, r, base) for r in rows]

    @api.get("/process-instance/count")
    def count_instances(processDefinitionKey: str | None = None) -> dict[str, int]:
        runtime = ctx.shared_runtime()
        by_status = runtime.store.count_instances(processDefinitionKey)
        return {"count": sum(by_status.get(s, 0) for s in OPEN_STATUSES)}

    @api.get("/process-instance/{ident}")
    def instance(ident: str, request: Request) -> dict[str, Any]:
        runtime = ctx.shared_runtime()
        return instance_json(runtime, open_instance(runtime, ident), str(request.base_url).rstrip("/"))

    @api.get("/process-instance/{ident}/variables")
    def variables(ident: str) -> dict[str, Any]:
        return typed_all(open_instance(ctx.shared_runtime(), ident).data)

    @api.delete("/process-instance/{ident}", status_code=204)
    def delete_instance(ident: str) -> Response:
        runtime = ctx.shared_runtime()
        open_instance(runtime, ident)
        runtime.cancel(ident)
        return Response(status_code=204)

    return api

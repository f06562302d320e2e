"""`/engine-rest/task` (list, claim, unclaim, complete), `/message` and `/signal` of the Camunda 7 REST API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ...durable.overview import open_tasks
from ...durable.variable_correlation import correlate_by_variables
from ...errors import InvalidOperationError, NotFoundError
from ..context import ServerContext
from ..errors import ApiError
from .processes import instance_json
from .variables import PREFIX, bad, camunda_date, definition_id, typed_all, untyped_all


def task_json(task: dict[str, Any], definition: str | None) -> dict[str, Any]:
    assignment = task.get("assignment") or {}
    return {"id": task["task_id"], "name": task.get("name") or None, "assignee": assignment.get("assignee"),
            "owner": None, "created": camunda_date(task.get("since")), "due": assignment.get("dueDate"),
            "followUp": assignment.get("followUpDate"), "lastUpdated": None, "delegationState": None,
            "description": task.get("instructions") or None, "executionId": task["instance_id"],
            "parentTaskId": None, "priority": int(assignment.get("priority") or 50),
            "processDefinitionId": definition, "processInstanceId": task["instance_id"],
            "taskDefinitionKey": task["element_id"], "caseExecutionId": None, "caseInstanceId": None,
            "caseDefinitionId": None, "suspended": False, "formKey": assignment.get("formKey"),
            "camundaFormRef": None, "tenantId": None}


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    def task_call(call: Any, task_id: str, *args: Any) -> Any:
        try:
            return call(task_id, *args)
        except NotFoundError:
            raise ApiError(404, "InvalidRequestException", f"Cannot find task with id {task_id}") from None

    @api.get("/task")
    def tasks(processInstanceId: str | None = None, assignee: str | None = None, candidateGroup: str | None = None,
              taskDefinitionKey: str | None = None, firstResult: int = 0,
              maxResults: int | None = None) -> list[dict[str, Any]]:
        if firstResult < 0 or (maxResults is not None and maxResults < 0):
            raise bad("firstResult and maxResults must not be negative")
        runtime = ctx.shared_runtime()
        if processInstanceId and not _exists(processInstanceId):
            return []
        # the filters and the page go to the store, which reads only the rows up to the page
        rows = runtime.queries.list_tasks(processInstanceId, assignee=assignee, group=candidateGroup,
                                          element_id=taskDefinitionKey, skip=firstResult, limit=maxResults)
        return [task_json(row, definition) for row, definition in zip(rows, _definitions(rows))]

    def _definitions(rows: list[dict[str, Any]]) -> list[str]:
        """The Camunda processDefinitionId of each task's instance, one lookup per process version."""
        store = ctx.shared_runtime().store
        hashes = store.definition_hashes([r["instance_id"] for r in rows])
        versions: dict[tuple[str, str], str] = {}
        out = []
        for row in rows:
            key = (row["process_id"], hashes.get(row["instance_id"], ""))
            if key not in versions:
                versions[key] = definition_id(key[0], store.process_version(*key), key[1])
            out.append(versions[key])
        return out

    def _exists(instance_id: str) -> bool:
        return bool(ctx.shared_runtime().store.definition_hashes([instance_id]))  # exact ids only, no state read

    def _open_task(task_id: str) -> dict[str, Any] | None:
        found = open_tasks(ctx.shared_runtime().store, task_id=task_id)
        return found[0] if found else None

    @api.get("/task/{task_id}")
    def task(task_id: str) -> dict[str, Any]:
        row = _open_task(task_id)
        if row is None:
            raise ApiError(404, "InvalidRequestException", f"No matching task with id {task_id}")
        return task_json(row, _definitions([row])[0])

    @api.post("/task/{task_id}/claim", status_code=204)
    def claim(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        user = body.get("userId")
        if not isinstance(user, str) or not user:
            raise bad("userId is mandatory")
        runtime = ctx.shared_runtime()
        current = _open_task(task_id)
        holder = ((current or {}).get("assignment") or {}).get("assignee")
        if holder and holder != user:
            raise ApiError(500, "TaskAlreadyClaimedException",
                           f"Task '{task_id}' is already claimed by someone else.")
        task_call(runtime.claim_task, task_id, user)
        return Response(status_code=204)

    @api.post("/task/{task_id}/unclaim", status_code=204)
    def unclaim(task_id: str) -> Response:
        task_call(ctx.shared_runtime().claim_task, task_id, None)
        return Response(status_code=204)

    @api.post("/task/{task_id}/complete")
    async def complete(task_id: str, body: dict[str, Any] | None = Body(None)) -> Response:
        body = body or {}
        variables = untyped_all(body.get("variables"))
        runtime = ctx.shared_runtime()
        out = await run_in_threadpool(task_call, runtime.complete_task, task_id, variables)
        ctx.hub.poke()
        if body.get("withVariablesInReturn"):
            record = await run_in_threadpool(runtime.store.get_instance, out["instance_id"])
            return JSONResponse(typed_all(record.data))
        return Response(status_code=204)

    @api.post("/message")
    async def message(request: Request, body: dict[str, Any] = Body(...)) -> Response:
        name = body.get("messageName")
        if not isinstance(name, str) or not name:
            raise bad("messageName is mandatory")
        if body.get("all"):
            raise bad("'all': correlating a message to every matching execution is not supported here")
        keys = untyped_all(body.get("correlationKeys"))
        payload = {**untyped_all(body.get("processVariables")), **untyped_all(body.get("processVariablesLocal"))}
        business_key = body.get("businessKey")
        runtime = ctx.shared_runtime()
        try:
            if keys:  # Camunda 7: process variables of the waiting execution must equal the keys
                out = await run_in_threadpool(correlate_by_variables, runtime, name, keys,
                                              business_key=business_key, payload=payload)
            else:
                out = await run_in_threadpool(lambda: runtime.publish_message(name, payload=payload,
                                                                              business_key=business_key))
        except InvalidOperationError as exc:
            raise ApiError(400, "RestException", f"Cannot correlate message '{name}': {exc}") from None
        ctx.hub.poke()
        if not body.get("resultEnabled"):
            return Response(status_code=204)
        base = str(request.base_url).rstrip("/")
        results = []
        if out.get("outcome") in ("delivered", "started"):
            record = await run_in_threadpool(runtime.store.get_instance, out["instance_id"])
            instance = instance_json(runtime, record, base)
            if out["outcome"] == "started":
                results.append({"resultType": "ProcessDefinition", "execution": None, "processInstance": instance,
                                **({"variables": typed_all(record.data)} if body.get("variablesInResultEnabled")
                                   else {})})
            else:
                results.append({"resultType": "Execution", "processInstance": None,
                                "execution": {"id": record.id, "processInstanceId": record.id,
                                              "ended": instance["ended"], "tenantId": None},
                                **({"variables": typed_all(record.data)} if body.get("variablesInResultEnabled")
                                   else {})})
        return JSONResponse(results)

    @api.post("/signal", status_code=204)
    async def signal(body: dict[str, Any] = Body(...)) -> Response:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise bad("name is mandatory")
        variables = untyped_all(body.get("variables"))
        await run_in_threadpool(ctx.shared_runtime().send_signal, name, variables)
        ctx.hub.poke()
        return Response(status_code=204)

    return api

"""`/engine-rest/external-task`: fetchAndLock with long polling, complete, failure, bpmnError, extendLock,
unlock, and the list of external tasks, as the Camunda 7 REST API reference describes them."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ...durable.external_tasks import LockedTask, TopicRequest
from ...errors import ExternalTaskError, NotFoundError
from ...store import JobRecord
from ..context import ServerContext
from ..errors import ApiError
from .variables import PREFIX, bad, camunda_date, definition_id, typed_all, untyped_all

MAX_ASYNC_TIMEOUT_MS = 1_800_000
POLL_SLICE = 1.0  # seconds a long poll waits before it looks whether its client is still there


def _need(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is None or not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise bad(f"{name} is mandatory" if value is None else f"{name} has the wrong type: {value!r}")
    return value


def _number(body: dict[str, Any], name: str, default: float | None = None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(f"{name} must be a number, not {value!r}")
    return float(value)


def _topics(body: dict[str, Any]) -> list[TopicRequest]:
    topics = body.get("topics") or []
    if not isinstance(topics, list):
        raise bad("topics must be a list")
    out = []
    for item in topics:
        if not isinstance(item, dict) or not isinstance(item.get("topicName"), str):
            raise bad("each topic needs a topicName")
        lock = _number(item, "lockDuration")
        if lock is None or lock <= 0:
            raise bad(f"topic {item['topicName']!r}: lockDuration must be greater than zero")
        names = item.get("variables")
        keys = item.get("processDefinitionKeyIn") or ([item["processDefinitionKey"]]
                                                      if item.get("processDefinitionKey") else None)
        wanted = item.get("processVariables") or None
        if wanted is not None and not isinstance(wanted, dict):
            raise bad(f"topic {item['topicName']!r}: processVariables must be an object of name to value")
        out.append(TopicRequest(item["topicName"], lock / 1000.0, list(names) if isinstance(names, list) else None,
                                business_key=item.get("businessKey"), process_ids=list(keys) if keys else None,
                                process_variables=wanted))
    return out


def locked_task_json(task: LockedTask, version: int | None) -> dict[str, Any]:
    job = task.job
    return {
        "activityId": job.element_id, "activityInstanceId": f"{job.element_id}:{job.task_id}",
        "errorMessage": job.last_error if task.retries is not None else None,
        "errorDetails": job.last_traceback if task.retries is not None else None,
        "executionId": job.task_id, "id": job.id, "lockExpirationTime": camunda_date(job.locked_until),
        "createTime": camunda_date(job.created_at),
        "processDefinitionId": definition_id(task.process_id, version, task.definition),
        "processDefinitionKey": task.process_id, "processDefinitionVersionTag": None,
        "processInstanceId": job.instance_id, "tenantId": None, "retries": task.retries,
        "workerId": task.worker_id, "priority": 0, "topicName": task.topic, "businessKey": task.business_key,
        "variables": typed_all(task.variables), "extensionProperties": {},
    }


def external_task_json(job: JobRecord) -> dict[str, Any]:
    return {"id": job.id, "activityId": job.element_id, "activityInstanceId": f"{job.element_id}:{job.task_id}",
            "executionId": job.task_id, "processInstanceId": job.instance_id, "topicName": job.handler,
            "workerId": job.locked_by, "lockExpirationTime": camunda_date(job.locked_until),
            "retries": job.max_attempts - job.attempts if job.last_error else None,
            "errorMessage": job.last_error, "suspended": False, "priority": 0, "tenantId": None,
            "createTime": camunda_date(job.created_at)}


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix=f"{PREFIX}/external-task")

    def external(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ExternalTaskError as exc:
            raise ApiError(400, "BadUserRequestException", str(exc)) from None
        except NotFoundError:
            raise ApiError(404, "RestException", f"External task with id {args[0]} does not exist") from None

    def fetch(worker_id: str, topics: list[TopicRequest], max_tasks: int) -> list[dict[str, Any]]:
        runtime = ctx.shared_runtime()
        tasks = runtime.external.fetch_and_lock(worker_id, topics, max_tasks, exclude=ctx.in_process_topics())
        versions: dict[tuple[str, str], int | None] = {}
        out = []
        for task in tasks:
            key = (task.process_id, task.definition)
            if key not in versions:
                versions[key] = runtime.store.process_version(*key)
            out.append(locked_task_json(task, versions[key]))
        return out

    @api.post("/fetchAndLock")
    async def fetch_and_lock(request: Request, body: dict[str, Any] = Body(...)) -> Response:
        worker_id = _need(body, "workerId", str)
        max_tasks = int(_need(body, "maxTasks", int))
        timeout_ms = _number(body, "asyncResponseTimeout", 0.0) or 0.0
        if timeout_ms > MAX_ASYNC_TIMEOUT_MS:
            raise bad(f"The asynchronous response timeout cannot be set to a value greater than "
                      f"{MAX_ASYNC_TIMEOUT_MS} milliseconds")
        topics = _topics(body)
        deadline = time.monotonic() + timeout_ms / 1000.0
        names = [t.name for t in topics]
        while True:
            tasks = await run_in_threadpool(fetch, worker_id, topics, max_tasks) if max_tasks > 0 and topics else []
            remaining = deadline - time.monotonic()
            if tasks or remaining <= 0 or ctx.stopping:
                return JSONResponse(tasks)
            # in slices, so that a worker that hung up is noticed (it must not be handed, and lose, a task)
            await ctx.hub.wait(names, min(remaining, POLL_SLICE))
            if await request.is_disconnected():
                return Response(status_code=204)

    @api.get("")
    def list_external_tasks(processInstanceId: str | None = None, topicName: str | None = None,
                            maxResults: int = 100) -> list[dict[str, Any]]:
        jobs = ctx.shared_runtime().store.external_jobs(topics=[topicName] if topicName else None,
                                                        instance_id=processInstanceId, limit=maxResults)
        return [external_task_json(j) for j in jobs]

    @api.get("/{task_id}")
    def get_external_task(task_id: str) -> dict[str, Any]:
        job = external(lambda _id: ctx.shared_runtime().store.get_job(_id), task_id)
        if job.kind != "service":
            raise ApiError(404, "RestException", f"External task with id {task_id} does not exist")
        return external_task_json(job)

    @api.post("/{task_id}/complete", status_code=204)
    async def complete(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        variables = {**untyped_all(body.get("variables")), **untyped_all(body.get("localVariables"))}
        await run_in_threadpool(external, ctx.shared_runtime().external.complete, task_id,
                                _need(body, "workerId", str), variables)
        ctx.hub.poke()
        return Response(status_code=204)

    @api.post("/{task_id}/failure", status_code=204)
    async def failure(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        retries = body.get("retries")
        if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
            raise bad("retries must be a non-negative integer")
        timeout = _number(body, "retryTimeout", 0.0) or 0.0
        await run_in_threadpool(external, ctx.shared_runtime().external.failure, task_id,
                                _need(body, "workerId", str), str(body.get("errorMessage") or ""),
                                details=body.get("errorDetails"), retries=int(retries or 0),
                                retry_timeout=timeout / 1000.0)
        ctx.hub.poke()
        return Response(status_code=204)

    @api.post("/{task_id}/bpmnError", status_code=204)
    async def bpmn_error(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        await run_in_threadpool(external, ctx.shared_runtime().external.bpmn_error, task_id,
                                _need(body, "workerId", str), _need(body, "errorCode", str),
                                str(body.get("errorMessage") or ""), untyped_all(body.get("variables")))
        ctx.hub.poke()
        return Response(status_code=204)

    @api.post("/{task_id}/extendLock", status_code=204)
    def extend_lock(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        duration = _number(body, "newDuration")
        if duration is None or duration <= 0:
            raise bad("newDuration must be greater than zero")
        external(ctx.shared_runtime().external.extend_lock, task_id, _need(body, "workerId", str),
                 duration / 1000.0)
        return Response(status_code=204)

    @api.post("/{task_id}/lock", status_code=204)
    def lock(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        duration = _number(body, "lockDuration")
        if duration is None or duration <= 0:
            raise bad("lockDuration must be greater than zero")
        external(ctx.shared_runtime().external.lock, task_id, _need(body, "workerId", str), duration / 1000.0)
        return Response(status_code=204)

    @api.put("/{task_id}/retries", status_code=204)
    async def retries(task_id: str, body: dict[str, Any] = Body(...)) -> Response:
        count = body.get("retries")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise bad("retries must be a non-negative integer")
        await run_in_threadpool(external, ctx.shared_runtime().external.set_retries, task_id, count)
        ctx.hub.poke()
        return Response(status_code=204)

    @api.post("/{task_id}/unlock", status_code=204)
    async def unlock(task_id: str) -> Response:
        await run_in_threadpool(external, ctx.shared_runtime().external.unlock, task_id)
        ctx.hub.poke()
        return Response(status_code=204)

    return api

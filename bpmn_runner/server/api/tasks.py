"""`/api/tasks` (user tasks: list, claim, complete with form validation), `/api/messages` and `/api/signals`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...store.page_reads import task_mark
from ..context import ServerContext
from .models import ClaimRequest, CompleteRequest, MessageRequest, SignalRequest


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["tasks and events"])

    @api.get("/tasks", summary="Open user tasks oldest first, filtered by instance, assignee or candidate group; "
                               "`limit` at a time after `after` (the next page is the Link header's rel=next)")
    def list_tasks(request: Request, response: Response, instance_id: str | None = None,
                   assignee: str | None = None, group: str | None = None,
                   limit: int = Query(100, ge=1, le=10_000), after: str | None = None) -> list[dict[str, Any]]:
        rows = ctx.shared_runtime().queries.list_tasks(instance_id, assignee=assignee, group=group,
                                                       limit=limit + 1, after=after)
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            following = request.url.include_query_params(after=task_mark(last["since"], last["instance_id"],
                                                                          last["task_id"]))
            response.headers["Link"] = f'<{following}>; rel="next"'
        return rows

    @api.post("/tasks/{task_id}/claim", summary="Assign the task to a user (null: unclaim)")
    def claim(task_id: str, body: ClaimRequest) -> dict[str, Any]:
        return ctx.shared_runtime().claim_task(task_id, body.user)

    @api.post("/tasks/{task_id}/complete",
              summary="Complete the task; the values are checked against its form (a 400 names the bad field)")
    async def complete(task_id: str, body: CompleteRequest) -> dict[str, Any]:
        out = await run_in_threadpool(ctx.shared_runtime().complete_task, task_id, body.variables)
        ctx.hub.poke()
        return {k: v for k, v in out.items() if k != "new_service_jobs"}

    @api.post("/messages", summary="Deliver a message, start a process at a message start, or buffer it")
    async def message(body: MessageRequest) -> dict[str, Any]:
        out = await run_in_threadpool(lambda: ctx.shared_runtime().publish_message(
            body.name, correlations=body.correlation_keys or None, payload=body.variables,
            business_key=body.business_key, message_id=body.message_id, ttl=body.ttl))
        ctx.hub.poke()
        return out

    @api.post("/signals", summary="Broadcast a signal to every waiting instance and signal start event")
    async def signal(body: SignalRequest) -> dict[str, Any]:
        out = await run_in_threadpool(ctx.shared_runtime().send_signal, body.name, body.variables)
        ctx.hub.poke()
        return out

    return api

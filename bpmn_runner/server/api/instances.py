"""`/api/instances` (start, list with the CLI's filters and paging, one in full, variables, history, retry,
cancel, the instance report as HTML) and `/api/incidents`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ...report import render_instance_report
from ...store import STATUSES
from ..context import ServerContext
from ..errors import ApiError
from .definitions import html
from .models import StartRequest


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["instances"])

    @api.post("/process-definitions/{process_id}/start", status_code=201,
              summary="Start an instance and run it to its first wait")
    async def start(process_id: str, body: StartRequest | None = None) -> dict[str, Any]:
        body = body or StartRequest()

        def go() -> dict[str, Any]:
            runtime = ctx.shared_runtime()
            rows = [r for r in runtime.store.process_versions(process_id)
                    if body.version is None or r["version"] == body.version]
            if not rows:
                raise ApiError(404, "not_found", f"no stored process {process_id!r}"
                               + (f" version {body.version}" if body.version is not None else ""))
            definitions = runtime.deployments.definitions_for(rows[-1]["definition"])
            return runtime.start(definitions=definitions, process_id=process_id, data=body.variables,
                                 business_key=body.business_key)
        out = await run_in_threadpool(go)
        ctx.hub.poke()
        return {k: v for k, v in out.items() if k != "new_service_jobs"}

    @api.get("/instances", summary="Instances, oldest first, `limit` at a time after instance `after`")
    def list_instances(status: str | None = Query(None, description=f"One of {', '.join(STATUSES)}"),
                       process_id: str | None = None, business_key: str | None = None,
                       limit: int = Query(100, ge=1, le=10_000), after: str | None = None) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise ApiError(422, "invalid_request", f"status {status!r}: use one of {', '.join(STATUSES)}")
        rows = ctx.shared_runtime().list_instances(status=status, process_id=process_id,
                                                   business_key=business_key, limit=limit, after=after)
        return {"instances": rows, "next": rows[-1]["instance_id"] if len(rows) == limit else None}

    @api.get("/instances/{instance_id}", summary="One instance in full: data, waits, jobs, incidents, history")
    def show(instance_id: str) -> dict[str, Any]:
        return ctx.shared_runtime().show(instance_id)

    @api.get("/instances/{instance_id}/variables", summary="The process variables")
    def variables(instance_id: str) -> dict[str, Any]:
        return ctx.shared_runtime().show(instance_id)["data"]

    @api.get("/instances/{instance_id}/history", summary="The element events, in order")
    def history(instance_id: str) -> list[dict[str, Any]]:
        return ctx.shared_runtime().show(instance_id)["history"]

    @api.post("/instances/{instance_id}/retry", summary="Retry the failed jobs of an instance in an incident")
    async def retry(instance_id: str) -> dict[str, Any]:
        out = await run_in_threadpool(ctx.shared_runtime().retry, instance_id)
        ctx.hub.poke()
        return out

    @api.post("/instances/{instance_id}/cancel", summary="Cancel an open instance")
    def cancel(instance_id: str) -> dict[str, Any]:
        return ctx.shared_runtime().cancel(instance_id)

    @api.get("/instances/{instance_id}/report", response_class=HTMLResponse,
             summary="The instance report: its run painted on the diagram, as HTML")
    def report(instance_id: str) -> HTMLResponse:
        sources, view = ctx.shared_runtime().instance_view(instance_id)
        return html(render_instance_report(sources, view))

    @api.get("/incidents", summary="Open incidents (failed jobs waiting for a retry)")
    def incidents(instance_id: str | None = None, limit: int = Query(100, ge=1, le=10_000)) -> list[dict[str, Any]]:
        runtime = ctx.shared_runtime()
        return [{"incident_id": j.id, "instance_id": j.instance_id, "element_id": j.element_id, "kind": j.kind,
                 "topic": j.handler, "error": j.last_error, "attempts": j.attempts, "traceback": j.last_traceback}
                for j in runtime.store.incident_jobs(instance_id=instance_id, limit=limit)]

    return api

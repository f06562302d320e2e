"""`/api/deployments` and `/api/process-definitions`: upload diagrams, list definitions by id and version, start
instances, and the definition report and heatmap as HTML."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ...report import CSP, render_definition_report, render_heatmap_report
from ..context import ServerContext
from ..errors import ApiError
from ..uploads import deploy_upload


def html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"Content-Security-Policy": CSP})


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["definitions"])

    def versions(process_id: str | None = None) -> list[dict[str, Any]]:
        return ctx.shared_runtime().store.process_versions(process_id)

    def one(process_id: str, version: int | None = None) -> dict[str, Any]:
        rows = versions(process_id)
        if version is not None:
            rows = [r for r in rows if r["version"] == version]
        if not rows:
            what = f"version {version} of process {process_id!r}" if version is not None else \
                f"process {process_id!r}"
            raise ApiError(404, "not_found", f"no stored {what} (deploy it first: POST /api/deployments)")
        return rows[-1]

    @api.post("/deployments", summary="Deploy .bpmn/.dmn files (multipart, field `files`)")
    async def deploy(request: Request, files: list[UploadFile] = File(...)) -> dict[str, Any]:
        read = [(f.filename or "upload.bpmn", await f.read(ctx.upload_limit + 1)) for f in files]
        out = await run_in_threadpool(deploy_upload, ctx, read)
        ctx.hub.poke()
        return out

    @api.get("/process-definitions", summary="Every stored version of every process, with instance counts")
    def list_definitions(process_id: str | None = None, latest: bool = False) -> list[dict[str, Any]]:
        rows = versions(process_id)
        if latest:
            rows = list({r["process_id"]: r for r in rows}.values())
        return rows

    @api.get("/process-definitions/{process_id}", summary="The newest version of a process")
    def get_definition(process_id: str) -> dict[str, Any]:
        return one(process_id)

    @api.get("/process-definitions/{process_id}/versions/{version}", summary="One version of a process")
    def get_version(process_id: str, version: int) -> dict[str, Any]:
        return one(process_id, version)

    @api.get("/process-definitions/{process_id}/versions/{version}/report", response_class=HTMLResponse,
             summary="The definition report (diagram and element table) as HTML")
    def definition_report(process_id: str, version: int) -> HTMLResponse:
        row = one(process_id, version)
        sources = ctx.shared_runtime().deployments.sources_for(row["definition"])
        return html(render_definition_report(sources))

    @api.get("/process-definitions/{process_id}/heatmap", response_class=HTMLResponse,
             summary="Counts and durations of every instance drawn on the newest diagram, as HTML")
    def heatmap(process_id: str) -> HTMLResponse:
        sources, stats = ctx.shared_runtime().heatmap_stats(process_id)
        return html(render_heatmap_report(sources, stats))

    return api

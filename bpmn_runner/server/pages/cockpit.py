"""The cockpit: process definitions with open instances per element drawn on the diagram, instances with filters,
and one instance with its live diagram, variables, history and incidents (retry, cancel)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from ...durable.overview import element_counts, latest_definition, oldest_open_instances, process_overview
from ...errors import ExecutionError, InvalidOperationError
from ...report import render_heatmap_report, render_instance_report
from ...report.formatting import format_timestamp, short_json
from ...report.live import counts_diagram, instance_diagram
from ...store import OPEN_STATUSES, STATUSES
from ..context import ServerContext
from .common import PageProblem, blocking, fragment, guarded, page, posted_form, redirect, stamp_of

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def instance_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "created": format_timestamp(r["created_at"]), "updated": format_timestamp(r["updated_at"]),
             "waiting": [w for w in r.get("waiting") or [] if w]} for r in rows]


def instance_stamp(shown: dict[str, Any]) -> str:
    return stamp_of([shown["status"], shown["updated_at"], len(shown["history"]), shown["waiting"],
                     [(i["job_id"], i["attempts"]) for i in shown["incidents"]]])


def routes(router: APIRouter, ctx: ServerContext) -> None:
    # ----- process definitions ------------------------------------------------------------------------------

    def processes() -> list[dict[str, Any]]:
        with ctx.runtime() as runtime:
            return process_overview(runtime.store)

    @router.get("/cockpit")
    @guarded
    async def cockpit(request: Request) -> Response:
        rows = await blocking(processes)
        return page(request, "server_cockpit.html.j2", title="Cockpit", processes=rows, stamp=stamp_of(rows))

    @router.get("/live/cockpit")
    @guarded
    async def live_cockpit(request: Request) -> Response:
        rows = await blocking(processes)
        return fragment(request, "server_part_processes.html.j2", stamp_of(rows), processes=rows)

    def process_state(process_id: str) -> tuple[str, dict[str, Any]]:
        with ctx.runtime() as runtime:
            waiting, incidents = element_counts(runtime.store, process_id)
            # a page of the oldest open instances (one more: is there more?); the counts stand for all of them
            rows = oldest_open_instances(runtime.store, process_id, runtime.now(), DEFAULT_LIMIT + 1)
            more, rows = len(rows) > DEFAULT_LIMIT, rows[:DEFAULT_LIMIT]
            stamp = stamp_of([waiting, incidents, more,
                              [(r["instance_id"], r["status"], r["updated_at"]) for r in rows]])
            sources = runtime.deployments.sources_for(latest_definition(runtime.store, process_id))
        return stamp, {"process_id": process_id, "instances": instance_rows(rows), "more_open": more,
                       "diagram": lambda: counts_diagram(sources, waiting, incidents)}

    async def process_page(request: Request, process_id: str, *, status: int = 200, start_error: str = "",
                           start_data: str = "{}", start_key: str = "") -> Response:
        stamp, state = await blocking(process_state, process_id)
        state["diagram"] = await blocking(state["diagram"])
        return page(request, "server_process.html.j2", status=status, title=f"Process {process_id}", stamp=stamp,
                    start_error=start_error, start_data=start_data, start_key=start_key, **state)

    @router.get("/cockpit/processes/{process_id}")
    @guarded
    async def process(request: Request, process_id: str) -> Response:
        return await process_page(request, process_id)

    def start(process_id: str, data: dict[str, Any], business_key: str | None) -> str:
        with ctx.runtime() as runtime:
            definitions = runtime.deployments.definitions_for(latest_definition(runtime.store, process_id))
            started = runtime.start(definitions=definitions, process_id=process_id, data=data,
                                    business_key=business_key)
            runtime.run_to_wait([started["instance_id"]])
        return started["instance_id"]

    @router.post("/cockpit/processes/{process_id}/start")
    @guarded
    async def start_instance(request: Request, process_id: str) -> Response:
        form = await posted_form(request)
        text, key = str(form.get("data") or "{}"), str(form.get("business_key") or "").strip()
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            data, problem = None, f"the variables are not JSON: {exc}"
        else:
            problem = "" if isinstance(data, dict) else "the variables must be a JSON object, like {\"amount\": 5}"
        if problem or data is None:
            return await process_page(request, process_id, status=422, start_error=problem, start_data=text,
                                      start_key=key)
        try:
            instance_id = await blocking(start, process_id, data, key or None)
        except (InvalidOperationError, ExecutionError) as exc:
            return await process_page(request, process_id, status=422, start_error=str(exc), start_data=text,
                                      start_key=key)
        return redirect(f"/instances/{instance_id}")

    @router.get("/live/processes/{process_id}")
    @guarded
    async def live_process(request: Request, process_id: str) -> Response:
        stamp, state = await blocking(process_state, process_id)
        if request.query_params.get("stamp") != stamp:
            state["diagram"] = await blocking(state["diagram"])
        return fragment(request, "server_part_process.html.j2", stamp, **state)

    def heatmap(process_id: str) -> str:
        with ctx.runtime() as runtime:
            sources, stats = runtime.heatmap_stats(process_id)
        return render_heatmap_report(sources, stats)

    @router.get("/cockpit/processes/{process_id}/heatmap")
    @guarded
    async def process_heatmap(request: Request, process_id: str) -> Response:
        return HTMLResponse(await blocking(heatmap, process_id))

    # ----- instances ----------------------------------------------------------------------------------------

    def filters_of(request: Request) -> dict[str, Any]:
        q = request.query_params
        status = q.get("status") or ""
        if status and status not in STATUSES:
            raise PageProblem(400, f"no instance status {status!r}: choose one of {', '.join(STATUSES)}")
        try:
            limit = min(MAX_LIMIT, max(1, int(q.get("limit") or DEFAULT_LIMIT)))
        except ValueError:
            raise PageProblem(400, f"limit must be a whole number, not {q.get('limit')!r}") from None
        return {"status": status, "process": q.get("process") or "", "business_key": q.get("business_key") or "",
                "limit": limit, "after": q.get("after") or ""}

    def listed(filters: dict[str, Any]) -> list[dict[str, Any]]:
        with ctx.runtime() as runtime:
            return instance_rows(runtime.list_instances(
                status=filters["status"] or None, process_id=filters["process"] or None,
                business_key=filters["business_key"] or None, limit=filters["limit"],
                after=filters["after"] or None))

    def query_of(filters: dict[str, Any], **changes: Any) -> str:
        return urlencode({k: v for k, v in {**filters, **changes}.items() if v})

    def instances_stamp(rows: list[dict[str, Any]]) -> str:
        return stamp_of([(r["instance_id"], r["status"], r["updated_at"]) for r in rows])

    @router.get("/instances")
    @guarded
    async def instances(request: Request) -> Response:
        filters = filters_of(request)
        rows = await blocking(listed, filters)
        full = len(rows) == filters["limit"]
        return page(request, "server_instances.html.j2", title="Instances", instances=rows, filters=filters,
                    statuses=STATUSES, query=query_of(filters), stamp=instances_stamp(rows),
                    next_after=rows[-1]["instance_id"] if full else "",
                    next_query=query_of(filters, after=rows[-1]["instance_id"]) if full else "")

    @router.get("/live/instances")
    @guarded
    async def live_instances(request: Request) -> Response:
        rows = await blocking(listed, filters_of(request))
        return fragment(request, "server_part_instances.html.j2", instances_stamp(rows), instances=rows)

    def instance_state(ident: str, known: str | None = None) -> tuple[str, dict[str, Any]]:
        with ctx.runtime() as runtime:
            shown = runtime.show(ident)
            stamp = instance_stamp(shown)
            if stamp == known:
                return stamp, {}
            sources, view = runtime.instance_view(shown["instance_id"])
        history = [{"at": format_timestamp(h.get("at")), "element_id": h.get("element_id", ""),
                    "name": h.get("name") or "", "event": h.get("event", ""), "detail": h.get("detail") or ""}
                   for h in shown["history"] if h.get("event") != "taken"]
        return stamp, {
            "instance_id": shown["instance_id"], "shown": shown, "history": history,
            "variables": [(k, short_json(v)) for k, v in sorted((shown["data"] or {}).items())],
            "times": {"created": format_timestamp(shown["created_at"]),
                      "ended": format_timestamp(shown["ended_at"]) if shown["ended_at"] else ""},
            "open": shown["status"] in OPEN_STATUSES, "diagram": instance_diagram(sources, view)}

    @router.get("/instances/{ident}")
    @guarded
    async def instance(request: Request, ident: str) -> Response:
        stamp, state = await blocking(instance_state, ident)
        return page(request, "server_instance.html.j2", title=f"Instance {state['instance_id']}", stamp=stamp,
                    **state)

    @router.get("/live/instances/{ident}")
    @guarded
    async def live_instance(request: Request, ident: str) -> Response:
        stamp, state = await blocking(instance_state, ident, request.query_params.get("stamp"))
        return fragment(request, "server_part_instance.html.j2", stamp, **state)

    def report(ident: str) -> str:
        with ctx.runtime() as runtime:
            sources, view = runtime.instance_view(ident)
        return render_instance_report(sources, view)

    @router.get("/instances/{ident}/report")
    @guarded
    async def instance_report(request: Request, ident: str) -> Response:
        return HTMLResponse(await blocking(report, ident))

    def act(action: str, ident: str) -> str:
        with ctx.runtime() as runtime:
            instance_id = runtime.store.resolve_instance_id(ident)
            if action == "retry":
                runtime.retry(instance_id)
                runtime.run_to_wait([instance_id])
            else:
                runtime.cancel(instance_id)
        return instance_id

    @router.post("/instances/{ident}/retry")
    @guarded
    async def retry(request: Request, ident: str) -> Response:
        await posted_form(request)
        return redirect(f"/instances/{await blocking(act, 'retry', ident)}")

    @router.post("/instances/{ident}/cancel")
    @guarded
    async def cancel(request: Request, ident: str) -> Response:
        await posted_form(request)
        return redirect(f"/instances/{await blocking(act, 'cancel', ident)}")

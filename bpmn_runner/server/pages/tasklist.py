"""The tasklist: my tasks, my groups' tasks and all open tasks; claim and unclaim; a task's form, checked field by
field and completed, after which the instance is carried on with the handlers this server has."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...durable.overview import open_tasks, task_list_page
from ...errors import InvalidOperationError, NotFoundError
from ...report.formatting import format_json, format_timestamp
from ..context import ServerContext
from .common import (PageProblem, blocking, fragment, guarded, page, posted_form, redirect, session_of,
                     stamp_of)
from .forms import errors_by_field, field_views, read_submission

VIEWS = (("mine", "My tasks"), ("group", "My groups' tasks"), ("all", "All open tasks"))
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def task_view(row: dict[str, Any]) -> dict[str, Any]:
    assignment = row.get("assignment") or {}
    return {"task_id": row["task_id"], "instance_id": row["instance_id"], "element_id": row["element_id"],
            "name": row.get("name") or row["element_id"], "process_id": row["process_id"],
            "business_key": row.get("business_key"), "assignee": assignment.get("assignee") or "",
            "groups": list(assignment.get("candidateGroups") or []),
            "users": list(assignment.get("candidateUsers") or []), "due": assignment.get("dueDate") or "",
            "since": format_timestamp(row.get("since")) if row.get("since") else "",
            "instructions": row.get("instructions") or "", "fields": list(row.get("fields") or [])}


def _claimable(task: dict[str, Any], user: str, groups: list[str]) -> bool:
    """Unassigned, and offered to the user or to one of their groups (any group when they named none)."""
    if task["assignee"]:
        return False
    if user and user in task["users"]:
        return True
    return bool(set(task["groups"]) & set(groups)) if groups else bool(task["groups"])


def routes(router: APIRouter, ctx: ServerContext) -> None:
    def listed(filters: dict[str, Any], user: str, groups: list[str]) -> dict[str, Any]:
        view = filters["view"]
        if view == "mine" and not user:
            return {"tasks": [], "next": "", "previous": ""}
        where: Callable[[dict[str, Any]], bool] | None = None
        if view == "mine":
            where = lambda row: task_view(row)["assignee"] == user  # noqa: E731
        elif view == "group":
            where = lambda row: _claimable(task_view(row), user, groups)  # noqa: E731
        with ctx.runtime() as runtime:
            found = task_list_page(runtime.store, where=where, after=filters["after"], before=filters["before"],
                                   limit=filters["limit"], mentions=user if view == "mine" else None)
        return {**found, "tasks": [task_view(r) for r in found["tasks"]]}

    def one(task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        with ctx.runtime() as runtime:
            found = open_tasks(runtime.store, task_id=task_id)
            if not found:
                raise NotFoundError(f"no open task {task_id!r}: it may be done already (see the tasklist)")
            task = task_view(found[0])
            data = runtime.show(task["instance_id"])["data"]
        return task, data

    def filters_of(request: Request) -> dict[str, Any]:
        q = request.query_params
        view = q.get("view") or ("mine" if session_of(request).user else "all")
        if view not in dict(VIEWS):
            raise PageProblem(400, f"no task view {view!r}: choose one of {', '.join(dict(VIEWS))}")
        try:
            limit = min(MAX_LIMIT, max(1, int(q.get("limit") or DEFAULT_LIMIT)))
        except ValueError:
            raise PageProblem(400, f"limit must be a whole number, not {q.get('limit')!r}") from None
        return {"view": view, "after": q.get("after") or "", "before": q.get("before") or "", "limit": limit}

    def query_of(filters: dict[str, Any], **changes: Any) -> str:
        kept = {**filters, **changes}
        if kept["limit"] == DEFAULT_LIMIT:
            kept.pop("limit")
        return urlencode({k: v for k, v in kept.items() if v})

    def shown(filters: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
        """What the live region draws: the tasks and the links to the pages around them."""
        return {"tasks": found["tasks"],
                "next_query": query_of(filters, after=found["next"], before="") if found["next"] else "",
                "previous_query": query_of(filters, before=found["previous"], after="") if found["previous"]
                else ""}

    @router.get("/tasks")
    @guarded
    async def tasklist(request: Request) -> Response:
        session = session_of(request)
        filters = filters_of(request)
        part = shown(filters, await blocking(listed, filters, session.user, session.groups))
        return page(request, "server_tasklist.html.j2", title="Tasklist", view=filters["view"], views=VIEWS,
                    query=query_of(filters), stamp=stamp_of(part), **part)

    @router.get("/live/tasks")
    @guarded
    async def live_tasks(request: Request) -> Response:
        session = session_of(request)
        filters = filters_of(request)
        part = shown(filters, await blocking(listed, filters, session.user, session.groups))
        return fragment(request, "server_part_tasks.html.j2", stamp_of(part), **part)

    def task_page(request: Request, task: dict[str, Any], data: dict[str, Any], *, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, error: str = "", status: int = 200) -> Response:
        fields = field_views(task["fields"], values if values is not None else data, errors or {})
        return page(request, "server_task.html.j2", status=status, title=f"Task: {task['name']}", task=task,
                    fields=fields, error=error, variables=format_json(data))

    @router.get("/tasks/{task_id}")
    @guarded
    async def show_task(request: Request, task_id: str) -> Response:
        task, data = await blocking(one, task_id)
        return task_page(request, task, data)

    def claim(task_id: str, user: str | None) -> None:
        with ctx.runtime() as runtime:
            runtime.claim_task(task_id, user)

    @router.post("/tasks/{task_id}/claim")
    @guarded
    async def claim_task(request: Request, task_id: str) -> Response:
        await posted_form(request)
        user = session_of(request).user
        if not user:
            return redirect(f"/login?next=/tasks/{task_id}")
        task, _data = await blocking(one, task_id)
        if task["assignee"] and task["assignee"] != user:
            raise PageProblem(409, f"{task['assignee']} has claimed this task already")
        await blocking(claim, task_id, user)
        return redirect(f"/tasks/{task_id}")

    @router.post("/tasks/{task_id}/unclaim")
    @guarded
    async def unclaim_task(request: Request, task_id: str) -> Response:
        await posted_form(request)
        task, _data = await blocking(one, task_id)
        if task["assignee"] != session_of(request).user:
            raise PageProblem(409, "only the assignee can unclaim this task")
        await blocking(claim, task_id, None)
        return redirect("/tasks")

    def complete(task_id: str, data: dict[str, Any], user: str) -> str:
        with ctx.runtime() as runtime:
            result = runtime.complete_task(task_id, data, user=user)
            instance_id = str(result.get("instance_id") or "")
            if instance_id:
                runtime.run_to_wait([instance_id])  # carry it on with this server's handlers, as the CLI does
        return instance_id

    @router.post("/tasks/{task_id}/complete")
    @guarded
    async def complete_task(request: Request, task_id: str) -> Response:
        form = await posted_form(request)
        task, data = await blocking(one, task_id)
        if task["assignee"] != session_of(request).user or not session_of(request).user:
            raise PageProblem(409, "claim the task before you complete it")
        values, errors = read_submission(task["fields"], form)
        if errors:
            return task_page(request, task, data, values=dict(form), errors=errors, status=422,
                             error="The form has errors: see the fields marked below.")
        try:
            instance_id = await blocking(complete, task_id, values, session_of(request).user)
        except InvalidOperationError as exc:
            by_field = errors_by_field(str(exc), task["fields"])
            return task_page(request, task, data, values=dict(form), errors=by_field, status=422, error=str(exc))
        return redirect(f"/instances/{instance_id}" if instance_id else "/tasks")

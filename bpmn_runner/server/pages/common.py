"""What every page shares: rendering a template with the session and its CSRF token, reading a posted form (the
CSRF token checked), running store work off the event loop, and turning errors into a page."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Awaitable, Callable, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ...errors import BpmnRunnerError, NotFoundError
from ...report.templates import render
from ..auth import Session, Sessions

T = TypeVar("T")
NAV = (("/tasks", "Tasklist"), ("/cockpit", "Cockpit"), ("/instances", "Instances"), ("/deployments", "Deployments"))


class PageProblem(Exception):
    """A request the page refuses, shown to the person as one line with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session_of(request: Request) -> Session:
    return request.state.session


def sessions_of(request: Request) -> Sessions:
    return request.app.state.sessions


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page: `template` extends server_base.html.j2."""
    return HTMLResponse(render(template, **base_context(request), **context), status_code=status)


def base_context(request: Request) -> dict[str, Any]:
    session = session_of(request)
    return {"csrf": sessions_of(request).csrf(session), "user": session.user, "groups": session.groups,
            "nav": NAV, "here": request.url.path}


def fragment(request: Request, template: str, stamp: str, **context: Any) -> JSONResponse:
    """The JSON a live region polls: unchanged (same stamp as the caller's) or the region's new HTML."""
    if request.query_params.get("stamp") == stamp:
        return JSONResponse({"changed": False, "stamp": stamp})
    html = render(template, **base_context(request), **context)
    return JSONResponse({"changed": True, "stamp": stamp, "html": html})


def stamp_of(value: Any) -> str:
    """A short fingerprint of what a live region shows: it changes when the region must be redrawn."""
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


async def posted_form(request: Request) -> dict[str, Any]:
    """The fields of a posted page form; a missing or wrong CSRF token is refused (403)."""
    form = await request.form()
    if not sessions_of(request).csrf_ok(session_of(request), form.get("csrf")):
        raise PageProblem(403, "the form's security token is missing or out of date: reload the page and try again")
    return {k: v for k, v in form.multi_items() if k != "csrf"}


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Store and engine work runs in a worker thread, never on the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def guarded(function: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Route errors become a page with one line: 404 for what does not exist, 400 for a refused operation."""
    @functools.wraps(function)
    async def route(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return await function(request, *args, **kwargs)
        except PageProblem as problem:
            return error_page(request, problem.status, problem.message)
        except NotFoundError as exc:
            return error_page(request, 404, str(exc))
        except BpmnRunnerError as exc:
            return error_page(request, 400, str(exc))
    return route


def error_page(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/live/"):
        return JSONResponse({"code": "error", "message": message}, status_code=status)
    return page(request, "server_error.html.j2", status=status, title=f"Error {status}", message=message)

"""The login form: a name and groups for the tasklist and, when the server has a token, the token; it sets a signed,
HttpOnly, SameSite=Strict session cookie. Also serves the pages' one script file."""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...report.templates import render
from ..auth import Session, set_session, token_ok
from ..context import ServerContext
from .common import guarded, page, posted_form, redirect, session_of, sessions_of


def safe_next(target: str) -> str:
    """Only a path on this server (never `//host` or a scheme): no open redirect through the login form."""
    return target if re.fullmatch(r"/(?![/\\])[^\s]*", target or "") else "/tasks"


@lru_cache(maxsize=1)
def _script() -> str:
    return render("server_pages.js.j2")


def routes(router: APIRouter, ctx: ServerContext) -> None:
    @router.get("/login")
    @guarded
    async def login_form(request: Request) -> Response:
        return page(request, "server_login.html.j2", title="Log in", error="", token_required=ctx.token is not None,
                    next=safe_next(request.query_params.get("next", "/tasks")))

    @router.post("/login")
    @guarded
    async def login(request: Request) -> Response:
        form = await posted_form(request)
        target = safe_next(str(form.get("next") or "/tasks"))
        user = str(form.get("user") or "").strip()[:100]
        groups = [g.strip()[:100] for g in str(form.get("groups") or "").split(",") if g.strip()][:50]
        problem = ("give your name" if not user else
                   "the access token is not right" if not token_ok(ctx, str(form.get("token") or "")) else "")
        if problem:
            return page(request, "server_login.html.j2", status=401 if user else 422, title="Log in", error=problem,
                        token_required=ctx.token is not None, next=target)
        session = Session(user=user, groups=groups, authenticated=True)  # a new session id on every login
        response = redirect(target)
        set_session(response, sessions_of(request), session, secure=request.url.scheme == "https")
        return response

    @router.post("/logout")
    @guarded
    async def logout(request: Request) -> Response:
        await posted_form(request)
        response = redirect("/login")
        set_session(response, sessions_of(request), Session(), secure=request.url.scheme == "https")
        return response

    @router.get("/static/pages.js")
    async def script() -> Response:
        return Response(_script(), media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    @router.get("/")
    async def home(request: Request) -> Response:
        return redirect("/tasks" if session_of(request).user else "/cockpit")

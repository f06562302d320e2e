"""The server-rendered pages of `serve`: tasklist, cockpit and deployments, with the login form."""

from __future__ import annotations

from fastapi import APIRouter

from ..context import ServerContext
from . import cockpit, deployments, login, tasklist


def router(ctx: ServerContext) -> APIRouter:
    """The routes of the pages, mounted at `/` (kept out of the OpenAPI document of /api)."""
    pages = APIRouter(include_in_schema=False)
    for module in (login, tasklist, cockpit, deployments):
        module.routes(pages, ctx)
    return pages

"""The server-rendered pages of `serve`: tasklist, cockpit and deployments (owned by the pages work)."""

from __future__ import annotations

from fastapi import APIRouter

from ..context import ServerContext


def router(ctx: ServerContext) -> APIRouter:
    """The routes of the pages, mounted at `/`."""
    return APIRouter()

"""The Camunda 7 REST subset under `/engine-rest/`: enough for the official external-task clients and for services
that deploy, start processes, correlate messages and work on user tasks (see the README's table)."""

from __future__ import annotations

from fastapi import APIRouter

from ..context import ServerContext
from . import external_task, history, processes, tasks
from .variables import PREFIX


def router(ctx: ServerContext) -> APIRouter:
    """Every route of the subset, each under /engine-rest (left out of /api/openapi.json: Camunda documents it)."""
    api = APIRouter(include_in_schema=False)
    for part in (processes, external_task, history, tasks):
        api.include_router(part.router(ctx))
    return api

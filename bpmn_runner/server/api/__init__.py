"""The project's own REST API under `/api/`, described by OpenAPI at `/api/openapi.json`."""

from __future__ import annotations

from fastapi import APIRouter

from ..context import ServerContext
from . import definitions, instances, tasks


def router(ctx: ServerContext) -> APIRouter:
    api = APIRouter()  # each part carries the /api prefix in its own routes' paths
    for part in (definitions, instances, tasks):
        api.include_router(part.router(ctx))
    return api

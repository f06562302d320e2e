"""The ASGI application of `serve`: the API routers, the Camunda 7 REST subset, the pages and security."""

from __future__ import annotations

from fastapi import FastAPI

from . import auth, pages
from .context import ServerContext


def create_app(ctx: ServerContext) -> FastAPI:
    """One FastAPI application over the store of `ctx`."""
    app = FastAPI(title="bpmn-runner", openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    auth.install_security(app, ctx)
    app.include_router(pages.router(ctx))
    return app

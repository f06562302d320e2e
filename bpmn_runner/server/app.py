"""The ASGI application of `serve`: the API routers, the Camunda 7 REST subset, the pages and security."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from . import api, auth, engine_rest, pages
from .context import ServerContext
from .errors import install_error_handlers


def create_app(ctx: ServerContext) -> FastAPI:
    """One FastAPI application over the store of `ctx`; while it runs (its lifespan) the in-process workers run
    the handlers' jobs and fire timers, and the broker bridge (if configured) moves events in and out."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(ctx.start_workers)
        await run_in_threadpool(ctx.start_bridge)
        try:
            yield
        finally:
            await run_in_threadpool(ctx.close)

    app = FastAPI(title="bpmn-runner", openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  lifespan=lifespan, description="The REST API of `bpmn-runner serve`: deployments, process "
                  "definitions, instances, user tasks, messages and signals, incidents, history and reports.")
    install_error_handlers(app)
    auth.install_security(app, ctx)
    app.include_router(api.router(ctx))
    app.include_router(engine_rest.router(ctx))
    app.include_router(pages.router(ctx))
    return app

"""Security of `serve`: bearer token for API clients, login form and CSRF for pages (owned by the pages work)."""

from __future__ import annotations

from fastapi import FastAPI

from .context import ServerContext


def install_security(app: FastAPI, ctx: ServerContext) -> None:
    """Add the token check (when `ctx.token` is set) to every route of `app`."""

"""Deploying uploaded diagrams: size-checked, parsed by the hardened loader as untrusted input, stored once per
content hash; shared by the project's API and the Camunda subset."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from ..definitions import load_sources
from .context import ServerContext
from .errors import ApiError

ALLOWED_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".xml")


def deploy_upload(ctx: ServerContext, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Store uploaded (name, bytes) files as one deployment; returns its id (the content hash), time and the
    process versions it defines. A file over the size limit or not a diagram is refused in one line."""
    sources = []
    for name, content in files:
        base = PurePath(name.replace("\\", "/")).name or "upload.bpmn"
        if len(content) > ctx.upload_limit:
            raise ApiError(413, "too_large", f"{base}: over the upload limit of {ctx.upload_limit} bytes")
        if not base.lower().endswith(ALLOWED_SUFFIXES):
            raise ApiError(400, "invalid_request", f"{base}: not a .bpmn or .dmn file")
        sources.append((base, content))
    definitions = load_sources(sources)
    runtime = ctx.shared_runtime()
    digest = runtime.deploy_definitions(definitions)
    rows = [r for r in runtime.store.process_versions() if r["definition"] == digest]
    return {"deployment": digest, "at": runtime.now(), "definitions": rows}

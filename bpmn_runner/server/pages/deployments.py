"""Deployments: upload a .bpmn (size-limited, read by the hardened loader as an untrusted diagram, linted with the
server's trust level and handlers), the stored definitions, and each one's lint findings and definition report."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, Response

from ...definitions import load_sources
from ...durable.overview import deployments
from ...errors import BpmnRunnerError
from ...lint import lint
from ...report import render_definition_report
from ...report.formatting import format_timestamp
from ..context import ServerContext
from .common import PageProblem, blocking, guarded, page, posted_form, redirect

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the CSRF field around the file


def safe_name(filename: str | None) -> str:
    """The file's own name (no folders), in plain characters, ending in .bpmn."""
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(str(filename or "")).name).strip(" .") or "upload.bpmn"
    if not name.lower().endswith(".bpmn"):
        raise PageProblem(400, f"{name}: upload a BPMN file whose name ends in .bpmn")
    return name


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def routes(router: APIRouter, ctx: ServerContext) -> None:
    env = ctx.environment
    trust = "as full Python (trusted)" if env.trust_scripts else "in the sandbox (untrusted)"

    def findings_of(sources: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """Lint the files as the server would run them: its handlers and its trust level."""
        with tempfile.TemporaryDirectory(prefix="bpmn-runner-upload-") as folder:
            paths = []
            for name, content in sources:
                path = Path(folder) / Path(name).name
                path.write_bytes(content)
                paths.append(path)
            found = lint(paths, handlers=env.handlers, handlers_given=env.handlers_given,
                         trust_scripts=env.trust_scripts, disable=env.settings.disable)
        return [{**f.to_json(), "file": Path(f.file).name} for f in found]

    def listed() -> list[dict[str, Any]]:
        with ctx.runtime() as runtime:
            rows = deployments(runtime.store)
        return [{**r, "deployed": format_timestamp(r["created_at"])} for r in rows]

    def overview(request: Request, *, error: str = "", findings: list[dict[str, Any]] | None = None,
                 status: int = 200, rows: list[dict[str, Any]] | None = None) -> Response:
        return page(request, "server_deployments.html.j2", status=status, title="Deployments",
                    deployments=rows or [], error=error, findings=findings or [], limit=_size(ctx.upload_limit),
                    trust=trust)

    @router.get("/deployments")
    @guarded
    async def deployments_page(request: Request) -> Response:
        return overview(request, rows=await blocking(listed))

    def deploy(name: str, content: bytes) -> tuple[str | None, str, list[dict[str, Any]]]:
        findings = findings_of([(name, content)])
        try:
            definitions = load_sources([(name, content)])
        except BpmnRunnerError as exc:
            return None, str(exc), findings
        errors = [f for f in findings if f["severity"] == "error"]
        if errors:
            return None, f"{name} has {len(errors)} error(s) (listed below): fix them and upload it again", findings
        with ctx.runtime() as runtime:
            return runtime.deploy_definitions(definitions), "", findings

    @router.post("/deployments")
    @guarded
    async def upload(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > ctx.upload_limit + FORM_OVERHEAD:
            raise PageProblem(413, f"the upload is over the {_size(ctx.upload_limit)} limit for a diagram")
        form = await posted_form(request)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            raise PageProblem(400, "choose a .bpmn file to upload")
        name = safe_name(upload_file.filename)
        content = await upload_file.read(ctx.upload_limit + 1)
        if len(content) > ctx.upload_limit:
            raise PageProblem(413, f"{name} is over the {_size(ctx.upload_limit)} limit for a diagram")
        digest, error, findings = await blocking(deploy, name, content)
        if digest is None:
            return overview(request, error=error, findings=findings, status=422, rows=await blocking(listed))
        return redirect(f"/deployments/{digest}?deployed=1")

    def stored(digest: str) -> tuple[Any, list[tuple[str, bytes]]]:
        with ctx.runtime() as runtime:
            record = runtime.store.get_definition(digest)
            return record, runtime.deployments.sources_for(digest)

    @router.get("/deployments/{digest}")
    @guarded
    async def deployment(request: Request, digest: str) -> Response:
        record, sources = await blocking(stored, digest)
        findings = await blocking(findings_of, sources)
        return page(request, "server_deployment.html.j2", title=f"Deployment {digest[:12]}", definition=digest,
                    files=[n for n, _ in sources], processes=record.process_ids, findings=findings,
                    deployed=request.query_params.get("deployed") == "1")

    @router.get("/deployments/{digest}/report")
    @guarded
    async def definition_report(request: Request, digest: str) -> Response:
        _record, sources = await blocking(stored, digest)
        names = set(env.handlers.names()) if env.handlers_given else None
        return HTMLResponse(await blocking(render_definition_report, sources, handler_names=names))

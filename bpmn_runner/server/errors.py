"""Errors of `serve` as JSON: `{"code", "message"}` under /api/, Camunda's `{"type", "message"}` under
/engine-rest/, one plain line elsewhere; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BpmnRunnerError, ConcurrentUpdateError, NotFoundError, StoreError

ENGINE_REST = "/engine-rest"
log = logging.getLogger("bpmn_runner.server")


class ApiError(Exception):
    """A refused request: the HTTP status, a short code (the project's API) or exception type (Camunda's)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def status_of(exc: BpmnRunnerError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConcurrentUpdateError):
        return 409
    if isinstance(exc, StoreError):
        return 500  # the database: not the request's fault
    return 400  # a definition, an expression, a step or a request the instance's state does not allow


def _code_of(exc: BpmnRunnerError) -> str:
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_").removesuffix("_error")


def _camunda_type(status: int, exc: BaseException | None = None) -> str:
    if isinstance(exc, ApiError) and exc.code.endswith("Exception"):
        return exc.code
    if status == 404 or status == 400:
        return "InvalidRequestException"
    return "ProcessEngineException" if status >= 500 else "RestException"


def error_response(request: Request, status: int, code: str, message: str,
                   exc: BaseException | None = None) -> Response:
    path = request.url.path
    message = " ".join(str(message).split()) or code
    if path.startswith(ENGINE_REST):
        return JSONResponse({"type": _camunda_type(status, exc), "message": message}, status_code=status)
    if path.startswith("/api"):
        return JSONResponse({"code": code, "message": message}, status_code=status)
    return PlainTextResponse(message, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, exc)

    @app.exception_handler(BpmnRunnerError)
    async def _domain(request: Request, exc: BpmnRunnerError) -> Response:
        return error_response(request, status_of(exc), _code_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return error_response(request, 400 if request.url.path.startswith(ENGINE_REST) else 422,
                              "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error")
        if not (request.url.path.startswith(ENGINE_REST) or request.url.path.startswith("/api")):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)
        response = error_response(request, exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error",
                              f"internal error ({type(exc).__name__}); the server log has the details")

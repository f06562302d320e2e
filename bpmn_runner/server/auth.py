"""Security of `serve`: the bearer token of API clients, signed session cookies and CSRF tokens for the pages, and
the headers every response carries (Content-Security-Policy and friends)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InvalidOperationError
from .context import ServerContext

SESSION_COOKIE = "bpmn_runner_session"
SESSION_MAX_AGE = 12 * 3600
API_PREFIXES = ("/api", "/engine-rest")
#: Pages a visitor reaches before logging in.
OPEN_PATHS = ("/login", "/static/")
#: Scripts only from this server (the pages' one small script file), no inline script, no other origin.
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY"}


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_api(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


@dataclass
class Session:
    """Who uses the pages: a name and groups (for the tasklist), and whether they gave the token."""

    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    user: str = ""
    groups: list[str] = field(default_factory=list)
    authenticated: bool = False
    issued: float = field(default_factory=time.time)


class Sessions:
    """Signs and reads session cookies and derives each session's CSRF token. With a token the key comes from it,
    so several `serve` processes sharing a token accept each other's cookies; without one it is random."""

    def __init__(self, token: str | None) -> None:
        secret = token.encode("utf-8") if token else secrets.token_bytes(32)
        self._key = hmac.new(secret, b"bpmn-runner pages session", hashlib.sha256).digest()

    def _sign(self, text: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, text.encode("ascii"), hashlib.sha256).digest()
                                        ).decode("ascii").rstrip("=")

    def encode(self, session: Session) -> str:
        payload = json.dumps([session.sid, session.user, session.groups, session.authenticated, session.issued])
        body = base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")
        return f"{body}.{self._sign(body)}"

    def decode(self, value: str | None) -> Session | None:
        if not value or "." not in value:
            return None
        body, signature = value.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            sid, user, groups, authenticated, issued = json.loads(text)
        except (ValueError, TypeError):
            return None
        if time.time() - float(issued) > SESSION_MAX_AGE:
            return None
        return Session(str(sid), str(user), [str(g) for g in groups], bool(authenticated), float(issued))

    def csrf(self, session: Session) -> str:
        return self._sign("csrf:" + session.sid)

    def csrf_ok(self, session: Session, given: Any) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given, self.csrf(session))


def token_ok(ctx: ServerContext, given: str | None) -> bool:
    return ctx.token is None or (given is not None and hmac.compare_digest(given.encode(), ctx.token.encode()))


def set_session(response: Response, sessions: Sessions, session: Session, *, secure: bool = False) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, and Secure when the page came over HTTPS."""
    response.set_cookie(SESSION_COOKIE, sessions.encode(session), max_age=SESSION_MAX_AGE, httponly=True,
                        samesite="strict", path="/", secure=secure)


def install_security(app: FastAPI, ctx: ServerContext) -> None:
    """Add the token check (when `ctx.token` is set) to every route of `app`, sessions to the pages, and the
    security headers to every response. Binding elsewhere than loopback without a token is refused."""
    if ctx.token is None and not is_loopback(ctx.host):
        raise InvalidOperationError(f"serving on {ctx.host} needs a token: pass --token or set BPMN_RUNNER_TOKEN "
                                    "(or bind to 127.0.0.1)")
    sessions = Sessions(ctx.token)
    app.state.sessions = sessions
    app.add_middleware(SecurityMiddleware, ctx=ctx, sessions=sessions)


class SecurityMiddleware:
    """Plain ASGI (no buffering, so long polls and streams pass through untouched): refuses what needs a token or a
    login, gives pages their session, and adds the security headers and a new session's cookie to the response."""

    def __init__(self, app: ASGIApp, *, ctx: ServerContext, sessions: Sessions) -> None:
        self.app = app
        self.ctx = ctx
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie: str | None = None
        if is_api(request.url.path):
            refused = _check_bearer(self.ctx, request)
        else:
            found = self.sessions.decode(request.cookies.get(SESSION_COOKIE))
            session = found or Session()
            scope.setdefault("state", {})["session"] = session
            cookie = None if found is not None else self.sessions.encode(session)
            refused = _check_login(self.ctx, request, session)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                already = any(v.startswith(SESSION_COOKIE + "=") for v in headers.getlist("set-cookie"))
                if cookie is not None and not already:
                    headers.append("set-cookie", _cookie_header(cookie, secure=request.url.scheme == "https"))
            await send(message)

        await (refused or self.app)(scope, receive, send_with_headers)


def _check_bearer(ctx: ServerContext, request: Request) -> Response | None:
    if ctx.token is None:
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_ok(ctx, given.strip()):
        return None
    return JSONResponse({"code": "unauthorized", "message": "this server needs a token: send the header "
                         "'Authorization: Bearer <token>' (the --token or BPMN_RUNNER_TOKEN of serve)"},
                        status_code=401, headers={"WWW-Authenticate": 'Bearer realm="bpmn-runner"'})


def _check_login(ctx: ServerContext, request: Request, session: Session) -> Response | None:
    path = request.url.path
    if ctx.token is None or session.authenticated or any(path.startswith(p) for p in OPEN_PATHS):
        return None
    if request.method in ("GET", "HEAD") and not path.startswith("/live/"):
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if path.startswith("/live/"):
        return JSONResponse({"code": "unauthorized", "message": "log in again"}, status_code=401)
    return PlainTextResponse("log in first: open /login", status_code=401)


def _cookie_header(value: str, *, secure: bool) -> str:
    response = Response()
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_MAX_AGE, httponly=True, samesite="strict", path="/",
                        secure=secure)
    return response.headers["set-cookie"]

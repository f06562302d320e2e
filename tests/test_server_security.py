"""Security of `serve`: the bearer token on /api and /engine-rest, the login form and its session cookie, CSRF on
every page form, escaping of every value shown, the Content-Security-Policy, and no token-less binding beyond
loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")

from fastapi.testclient import TestClient  # noqa: E402

from bpmn_runner.errors import InvalidOperationError  # noqa: E402
from bpmn_runner.server.app import create_app  # noqa: E402
from bpmn_runner.server.auth import SESSION_COOKIE, is_loopback  # noqa: E402

from .pages import csrf_of, large_order, order_context, start_order, task_ids  # noqa: E402

TOKEN = "s3cret-token"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'serve.db'}"


def login(client: TestClient, user: str = "mary", groups: str = "sales", token: str | None = TOKEN):
    form = {"csrf": csrf_of(client.get("/login").text), "user": user, "groups": groups, "next": "/tasks"}
    if token is not None:
        form["token"] = token
    return client.post("/login", data=form, follow_redirects=False)


def test_api_clients_need_the_bearer_token(db: str) -> None:
    app = create_app(order_context(db, token=TOKEN))
    client = TestClient(app)
    for path in ("/api/instances", "/engine-rest/engine", "/api/openapi.json"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["code"] == "unauthorized" and "Bearer" in refused.json()["message"]
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # a page session is no way into the API
    login(client)
    assert client.get("/api/openapi.json").status_code == 401


def test_without_a_token_on_loopback_nothing_asks_for_one(db: str) -> None:
    client = TestClient(create_app(order_context(db)))
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/cockpit").status_code == 200


def test_binding_beyond_loopback_without_a_token_is_refused(db: str) -> None:
    with pytest.raises(InvalidOperationError, match="needs a token"):
        create_app(order_context(db, host="0.0.0.0"))
    create_app(order_context(db, host="0.0.0.0", token=TOKEN))
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_pages_send_a_visitor_to_the_login_form_and_the_token_logs_in(db: str) -> None:
    client = TestClient(create_app(order_context(db, token=TOKEN)))
    sent = client.get("/tasks?view=all", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/login?next=%2Ftasks%3Fview%3Dall"
    assert client.get("/live/tasks").status_code == 401
    form = client.get(sent.headers["location"]).text
    assert 'type="password" name="token"' in form and 'value="/tasks?view=all"' in form
    wrong = login(client, token="guess")
    assert wrong.status_code == 401 and "not right" in wrong.text
    assert client.get("/cockpit", follow_redirects=False).status_code == 303
    right = login(client)
    assert right.status_code == 303 and right.headers["location"] == "/tasks"
    cookie = next(v for k, v in right.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    assert client.get("/cockpit").status_code == 200
    assert "Secure" not in cookie                             # plain HTTP on loopback: a Secure cookie would vanish
    over_tls = TestClient(client.app, base_url="https://testserver")
    assert "Secure" in login(over_tls).headers["set-cookie"]


def test_a_forged_or_tampered_session_cookie_is_not_a_login(db: str) -> None:
    app = create_app(order_context(db, token=TOKEN))
    client = TestClient(app)
    login(client)
    value = client.cookies[SESSION_COOKIE]
    body, signature = value.rsplit(".", 1)
    for forged in (body + "." + signature[::-1], "e30." + signature, "anything"):
        other = TestClient(app, cookies={SESSION_COOKIE: forged})
        assert other.get("/cockpit", follow_redirects=False).status_code == 303
    # a cookie signed by a server with another token is not accepted either
    elsewhere = TestClient(create_app(order_context(db, token="other-token")), cookies={SESSION_COOKIE: value})
    assert elsewhere.get("/cockpit", follow_redirects=False).status_code == 303


def test_the_login_form_never_redirects_off_the_server(db: str) -> None:
    client = TestClient(create_app(order_context(db, token=TOKEN)))
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = {"csrf": csrf_of(client.get("/login").text), "user": "m", "token": TOKEN, "next": target}
        done = client.post("/login", data=form, follow_redirects=False)
        assert done.headers["location"] == "/tasks", target


def page_posts(app) -> list[str]:
    """Every POST route of the pages, with sample path parameters."""
    paths = []
    routes = list(app.routes)
    while routes:
        route = routes.pop(0)
        included = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
        if included is not None:
            routes += list(included.routes)
        elif "POST" in (getattr(route, "methods", None) or ()) and not route.path.startswith(("/api", "/engine-rest")):
            paths.append(re.sub(r"\{[^}]+\}", "x", route.path))
    return paths


def test_every_page_form_is_refused_without_its_csrf_token(db: str) -> None:
    ctx = order_context(db)
    iid = start_order(ctx)
    app = create_app(ctx)
    client = TestClient(app)
    login(client, token=None)
    posts = page_posts(app)
    assert {"/login", "/logout", "/tasks/x/claim", "/tasks/x/unclaim", "/tasks/x/complete", "/instances/x/retry",
            "/instances/x/cancel", "/deployments", "/cockpit/processes/x/start"} <= set(posts)
    foreign = TestClient(app)
    other_csrf = csrf_of(foreign.get("/login").text)   # a token of another session
    for path in posts:
        for data in ({}, {"csrf": "nope"}, {"csrf": other_csrf}):
            refused = client.post(path, data=data, follow_redirects=False)
            assert refused.status_code == 403 and "security token" in refused.text, (path, data)
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    refused = client.post(f"/tasks/{task_id}/claim", data={}, follow_redirects=False)
    assert refused.status_code == 403
    with ctx.runtime() as runtime:
        assert runtime.list_tasks(iid)[0]["assignment"].get("assignee") is None
        assert runtime.show(iid)["status"] == "waiting"


def test_every_value_shown_is_escaped(db: str) -> None:
    ctx = order_context(db)
    evil = "<script>alert(1)</script>"
    iid = start_order(ctx, {**large_order(id=evil), "note": evil, evil: 1})
    client = TestClient(create_app(ctx))
    login(client, user=evil, groups=evil, token=None)
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    pages = [client.get(f"/instances/{iid}").text, client.get(f"/tasks/{task_id}").text,
             client.get("/tasks?view=all").text, client.get(f"/live/instances/{iid}").json()["html"],
             client.get(f"/instances?business_key={evil}").text]
    for html in pages:
        assert evil not in html and "&lt;script&gt;" in html
    echoed = client.get("/instances", params={"process": evil}).text   # a filter echoed into its input
    assert evil not in echoed and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in echoed


def test_every_response_carries_the_content_security_policy(db: str) -> None:
    client = TestClient(create_app(order_context(db)))
    for path in ("/cockpit", "/login", "/live/cockpit", "/static/pages.js", "/api/openapi.json", "/nope"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
    html = client.get("/cockpit").text
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/pages.js" defer>']  # no inline script


def test_names_in_an_uploaded_diagram_are_escaped_on_every_page_that_draws_it(db: str, tmp_path: Path) -> None:
    from .durable import END, START, chain, write

    evil = "<script>alert(1)</script>"
    task = '<bpmn:userTask id="t" name="&lt;script&gt;alert(1)&lt;/script&gt;"/>'
    diagram = write(tmp_path, "evil.bpmn", START + task + END + chain("start", "t", "end"), process_id="evil")
    ctx = order_context(db)
    client = TestClient(create_app(ctx))
    csrf = csrf_of(client.get("/deployments").text)
    done = client.post("/deployments", data={"csrf": csrf}, files={"file": ("evil.bpmn", diagram.read_bytes())},
                       follow_redirects=False)
    assert done.status_code == 303
    digest = done.headers["location"].split("/")[2].split("?")[0]
    with ctx.runtime() as runtime:
        iid = runtime.start(definitions=runtime.deployments.definitions_for(digest), process_id="evil")["instance_id"]
    for path in ("/cockpit/processes/evil", f"/instances/{iid}", "/tasks?view=all", f"/deployments/{digest}/report",
                 f"/instances/{iid}/report"):
        html = client.get(path).text
        assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path

"""The project's REST API of `serve` (/api/, described at /api/openapi.json): deployments, definitions by id and
version, starting, instance lists with the CLI's filters and keyset paging, variables, history, user tasks with
form validation (Camunda 7 generated forms: "User Task Forms" in the Camunda 7 user guide), messages, signals,
incidents and retry, cancel, and the HTML reports; errors are JSON `{"code", "message"}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bpmn_runner.environment import build_environment
from bpmn_runner.server.app import create_app
from bpmn_runner.server.context import ServerContext

DATA = Path(__file__).resolve().parent / "serve_data"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(ServerContext(build_environment(), db_url))) as test_client:
        yield test_client


def upload(client: TestClient, name: str, content: bytes | None = None) -> dict[str, Any]:
    response = client.post("/api/deployments", files=[("files", (name, content or (DATA / name).read_bytes()))])
    assert response.status_code == 200, response.text
    return response.json()


def test_openapi_describes_the_api(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/deployments", "/api/process-definitions/{process_id}/versions/{version}",
                 "/api/process-definitions/{process_id}/start", "/api/instances", "/api/tasks/{task_id}/complete",
                 "/api/messages", "/api/signals", "/api/incidents", "/api/instances/{instance_id}/retry"):
        assert path in spec["paths"], path
    assert "StartRequest" in spec["components"]["schemas"]
    assert not any(p.startswith("/engine-rest") for p in spec["paths"])


def test_definitions_versions_start_list_and_page(client: TestClient) -> None:
    first = upload(client, "one_task.bpmn")
    assert [(d["process_id"], d["version"]) for d in first["definitions"]] == [("one_task", 1)]
    changed = (DATA / "one_task.bpmn").read_bytes().replace(b'name="Work"', b'name="Work harder"')
    assert [d["version"] for d in upload(client, "one_task.bpmn", changed)["definitions"]] == [2]
    assert upload(client, "one_task.bpmn")["deployment"] == first["deployment"]  # same bytes: same deployment
    assert client.get("/api/process-definitions/one_task").json()["version"] == 2
    assert client.get("/api/process-definitions/one_task/versions/1").json()["definition"] == first["deployment"]
    missing = client.get("/api/process-definitions/one_task/versions/9")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    ids = []
    for n in range(5):
        out = client.post("/api/process-definitions/one_task/start",
                          json={"variables": {"n": n}, "business_key": f"K{n % 2}", "version": 1 + n % 2})
        assert out.status_code == 201, out.text
        assert out.json()["waiting"][0]["element_id"] == "work"
        ids.append(out.json()["instance_id"])
    page = client.get("/api/instances", params={"limit": 2}).json()
    assert [i["instance_id"] for i in page["instances"]] == ids[:2] and page["next"] == ids[1]
    rest = client.get("/api/instances", params={"limit": 10, "after": page["next"]}).json()
    assert [i["instance_id"] for i in rest["instances"]] == ids[2:] and rest["next"] is None
    assert len(client.get("/api/instances", params={"business_key": "K1"}).json()["instances"]) == 2
    assert client.get("/api/instances", params={"status": "nonsense"}).status_code == 422
    shown = client.get(f"/api/instances/{ids[1]}").json()
    assert (shown["process_version"], shown["business_key"]) == (2, "K1")
    assert client.get(f"/api/instances/{ids[3]}/variables").json() == {"n": 3}
    assert [h["element_id"] for h in client.get(f"/api/instances/{ids[0]}/history").json()
            if h["event"] == "entered"][:2] == ["start", "work"]
    assert client.post(f"/api/instances/{ids[4]}/cancel").json()["status"] == "cancelled"
    again = client.post(f"/api/instances/{ids[4]}/cancel")
    assert again.status_code == 400 and "already cancelled" in again.json()["message"]
    nobody = client.get("/api/instances/nothing-like-this")
    assert nobody.status_code == 404 and set(nobody.json()) == {"code", "message"}


def test_tasks_form_validation_messages_signals_and_reports(client: TestClient) -> None:
    upload(client, "review_ship.bpmn")
    instance = client.post("/api/process-definitions/review_ship/start", json={"business_key": "O-1"}).json()
    [task] = client.get("/api/tasks", params={"group": "sales"}).json()
    assert client.get("/api/tasks", params={"group": "hr"}).json() == []
    assert client.post(f"/api/tasks/{task['task_id']}/claim", json={"user": "ann"}).status_code == 200
    assert [t["task_id"] for t in client.get("/api/tasks", params={"assignee": "ann"}).json()] == [task["task_id"]]
    bad = client.post(f"/api/tasks/{task['task_id']}/complete", json={"variables": {"amount": "lots"}})
    assert bad.status_code == 400 and "amount" in bad.json()["message"]
    required = client.post(f"/api/tasks/{task['task_id']}/complete", json={"variables": {}})
    assert required.status_code == 400 and "required" in required.json()["message"]
    done = client.post(f"/api/tasks/{task['task_id']}/complete", json={"variables": {"amount": "12"}})
    assert done.status_code == 200 and done.json()["waiting"][0]["element_id"] == "paid"

    sent = client.post("/api/messages", json={"name": "Payment received", "business_key": "O-1",
                                              "variables": {"paid": True}})
    assert sent.json()["outcome"] == "delivered"
    assert client.get(f"/api/instances/{instance['instance_id']}/variables").json() == {"amount": 12, "paid": True}
    waiting = client.post("/api/process-definitions/wait_go/start", json={}).json()
    assert client.post("/api/signals", json={"name": "Go"}).json()["delivered"] == [waiting["instance_id"]]
    refused = client.post("/api/signals", json={"name": "Nobody"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_operation"

    report = client.get(f"/api/instances/{instance['instance_id']}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "<svg" in report.text and "Content-Security-Policy" in report.headers
    assert "<svg" in client.get("/api/process-definitions/review_ship/heatmap").text
    assert "<svg" in client.get("/api/process-definitions/review_ship/versions/1/report").text


def test_incidents_and_retry(client: TestClient) -> None:
    upload(client, "one_task.bpmn")
    instance = client.post("/api/process-definitions/one_task/start", json={}).json()["instance_id"]
    fetched = client.post("/engine-rest/external-task/fetchAndLock",
                          json={"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "work",
                                                                              "lockDuration": 10000}]}).json()
    client.post(f"/engine-rest/external-task/{fetched[0]['id']}/failure",
                json={"workerId": "w", "errorMessage": "boom", "retries": 0})
    [incident] = client.get("/api/incidents").json()
    assert (incident["instance_id"], incident["element_id"], incident["error"]) == (instance, "work", "boom")
    assert client.get(f"/api/instances/{instance}").json()["status"] == "incident"
    assert client.post(f"/api/instances/{instance}/retry").json()["jobs"] == 1
    assert client.get("/api/incidents").json() == []
    twice = client.post(f"/api/instances/{instance}/retry")
    assert twice.status_code == 400 and "not in an incident" in twice.json()["message"]


def test_uploads_are_checked(client: TestClient) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    refused = client.post("/api/deployments", files=[("files", ("evil.bpmn", evil))])
    assert refused.status_code == 400 and "passwd" not in refused.text
    assert client.post("/api/deployments", files=[("files", ("notes.txt", b"hello"))]).status_code == 400
    huge = client.post("/api/deployments", files=[("files", ("big.bpmn", b" " * (5 * 1024 * 1024 + 10)))])
    assert huge.status_code == 413 and huge.json()["code"] == "too_large"

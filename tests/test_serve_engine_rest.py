"""The Camunda 7 REST subset of `serve` (/engine-rest/): paths, typed variables, status codes and error bodies as
the Camunda 7 REST API reference gives them (docs.camunda.org/rest/camunda-bpm-platform/7.x/: "Create
Deployment", "Start Process Instance", "Get Process Instance" (404 once it ended), "Fetch and Lock", "Complete",
"Handle Failure", "Handle BPMN Error", "Extend Lock", "Unlock", "Get Incidents", "Get Tasks", "Claim Task",
"Complete Task", "Correlate a Message", "Throw a Signal", "Get Historic Process Instance"; error bodies
`{"type", "message"}` from its "Introduction" page; variable types from the user guide's "Process Variables")."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bpmn_runner.environment import build_environment
from bpmn_runner.server.app import create_app
from bpmn_runner.server.context import ServerContext

from .serve_helpers import Serve, request

DATA = Path(__file__).resolve().parent / "serve_data"
R = "/engine-rest"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    ctx = ServerContext(build_environment(), f"sqlite:///{tmp_path / 'rest.db'}")
    with TestClient(create_app(ctx)) as test_client:
        yield test_client


def deploy(client: TestClient, name: str) -> dict[str, Any]:
    response = client.post(f"{R}/deployment/create", data={"deployment-name": name},
                           files={"data": (name, (DATA / name).read_bytes(), "application/octet-stream")})
    assert response.status_code == 200, response.text
    return response.json()


def start(client: TestClient, key: str, variables: dict[str, Any] | None = None, business_key: str | None = None):
    response = client.post(f"{R}/process-definition/key/{key}/start",
                           json={"variables": variables or {}, "businessKey": business_key})
    assert response.status_code == 200, response.text
    return response.json()


def fetch(client: TestClient, worker: str = "w1", topic: str = "work", **extra: Any) -> list[dict[str, Any]]:
    body = {"workerId": worker, "maxTasks": 10,
            "topics": [{"topicName": topic, "lockDuration": 60000, **extra}]}
    response = client.post(f"{R}/external-task/fetchAndLock", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"  # the Node client parses only this exactly
    return response.json()


def state(client: TestClient, instance_id: str) -> str:
    return client.get(f"{R}/history/process-instance/{instance_id}").json()["state"]


TYPED = {"name": {"value": "Ada", "type": "String"}, "count": {"value": 7, "type": "Integer"},
         "big": {"value": 2**40, "type": "Long"}, "ratio": {"value": 0.5, "type": "Double"},
         "ok": {"value": True, "type": "Boolean"}, "order": {"value": '{"id": "A-1", "lines": [1, 2]}', "type": "Json"},
         "due": {"value": "2026-01-31T10:00:00.000+0000", "type": "Date"}, "none": {"value": None, "type": "Null"}}


def test_deploy_start_fetch_and_complete_with_typed_variables(client: TestClient) -> None:
    deployed = deploy(client, "one_task.bpmn")
    [definition] = deployed["deployedProcessDefinitions"].values()
    assert (definition["key"], definition["version"]) == ("one_task", 1)
    assert client.get(f"{R}/process-definition", params={"key": "one_task"}).json()[0]["id"] == definition["id"]
    assert client.get(f"{R}/engine").json() == [{"name": "default"}]

    started = start(client, "one_task", TYPED, business_key="BK-1")
    assert (started["businessKey"], started["ended"], started["definitionId"]) == ("BK-1", False, definition["id"])
    [task] = fetch(client, variables=["name", "count", "big", "ratio", "ok", "order", "none"])
    assert (task["topicName"], task["activityId"], task["processInstanceId"], task["businessKey"], task["retries"]) \
        == ("work", "work", started["id"], "BK-1", None)
    got = {k: (v["type"], v["value"]) for k, v in task["variables"].items()}
    assert got == {"name": ("String", "Ada"), "count": ("Integer", 7), "big": ("Long", 2**40),
                   "ratio": ("Double", 0.5), "ok": ("Boolean", True), "none": ("Null", None),
                   "order": ("Json", json.dumps({"id": "A-1", "lines": [1, 2]}))}
    assert fetch(client, worker="w2") == []  # locked for w1

    done = client.post(f"{R}/external-task/{task['id']}/complete",
                       json={"workerId": "w1", "variables": {"result": {"value": "ok", "type": "String"},
                                                             "total": {"value": 3}}})
    assert (done.status_code, done.content) == (204, b"")
    gone = client.get(f"{R}/process-instance/{started['id']}")
    assert gone.status_code == 404 and gone.json() == {
        "type": "InvalidRequestException", "message": f"Process instance with id {started['id']} does not exist"}
    assert state(client, started["id"]) == "COMPLETED"
    activities = client.get(f"{R}/history/activity-instance", params={"processInstanceId": started["id"]}).json()
    assert [a["activityId"] for a in activities] == ["start", "work", "end"]
    assert all(a["endTime"] for a in activities)


def test_failure_retries_lock_rules_and_incident(client: TestClient) -> None:
    deploy(client, "one_task.bpmn")
    instance = start(client, "one_task")["id"]
    [task] = fetch(client)
    url = f"{R}/external-task/{task['id']}"
    wrong = client.post(f"{url}/complete", json={"workerId": "intruder"})
    assert wrong.status_code == 400 and wrong.json()["type"] == "BadUserRequestException"
    assert "intruder" in wrong.json()["message"]
    missing = client.post(f"{R}/external-task/nope/complete", json={"workerId": "w1"})
    assert missing.status_code == 404 and missing.json()["message"] == "External task with id nope does not exist"

    before = client.get(url).json()["lockExpirationTime"]
    assert client.post(f"{url}/extendLock", json={"workerId": "w1", "newDuration": 3_600_000}).status_code == 204
    assert client.get(url).json()["lockExpirationTime"] > before

    failed = client.post(f"{url}/failure", json={"workerId": "w1", "errorMessage": "ERP down", "errorDetails": "503",
                                                 "retries": 2, "retryTimeout": 0})
    assert failed.status_code == 204
    [again] = fetch(client, worker="w2")
    assert (again["id"], again["retries"], again["errorMessage"], again["errorDetails"]) == \
        (task["id"], 2, "ERP down", "503")
    assert client.post(f"{url}/unlock").status_code == 204
    [third] = fetch(client, worker="w3")
    assert third["id"] == task["id"]

    assert client.post(f"{url}/failure", json={"workerId": "w3", "errorMessage": "still down",
                                               "retries": 0}).status_code == 204
    incidents = client.get(f"{R}/incident", params={"processInstanceId": instance}).json()
    assert [(i["activityId"], i["incidentType"], i["incidentMessage"], i["configuration"]) for i in incidents] == \
        [("work", "failedExternalTask", "still down", task["id"])]
    assert fetch(client) == []
    assert state(client, instance) == "ACTIVE"
    # an operator retries it (the project's API), and a worker gets it again
    assert client.post(f"/api/instances/{instance}/retry").status_code == 200
    assert [t["id"] for t in fetch(client)] == [task["id"]]


def test_an_expired_lock_still_lets_its_worker_answer_until_another_takes_it(client: TestClient) -> None:
    """Camunda 7 checks the lock owner, not the lock time, when a worker completes; extending an expired lock is
    refused ("Extend Lock" in the REST reference)."""
    deploy(client, "one_task.bpmn")
    first, second = start(client, "one_task")["id"], start(client, "one_task")["id"]
    tasks = {t["processInstanceId"]: t for t in fetch(client, lockDuration=50)}
    time.sleep(0.2)
    late = client.post(f"{R}/external-task/{tasks[first]['id']}/extendLock", json={"workerId": "w1",
                                                                                  "newDuration": 1000})
    assert late.status_code == 400 and "expired" in late.json()["message"]
    assert client.post(f"{R}/external-task/{tasks[first]['id']}/complete", json={"workerId": "w1"}).status_code \
        == 204
    assert state(client, first) == "COMPLETED"
    [taken] = fetch(client, worker="w2")
    assert taken["id"] == tasks[second]["id"]
    lost = client.post(f"{R}/external-task/{taken['id']}/complete", json={"workerId": "w1"})
    assert lost.status_code == 400 and "w2" in lost.json()["message"]


def test_operators_set_retries_and_lock_a_task(client: TestClient) -> None:
    """"Set Retries" resolves an external task's incident (retries > 0) or makes one (0); "Lock" locks one task
    by id for a worker (REST reference)."""
    deploy(client, "one_task.bpmn")
    instance = start(client, "one_task")["id"]
    [task] = fetch(client)
    url = f"{R}/external-task/{task['id']}"
    client.post(f"{url}/failure", json={"workerId": "w1", "errorMessage": "down", "retries": 0})
    assert client.get(f"/api/instances/{instance}").json()["status"] == "incident"
    assert client.put(f"{url}/retries", json={"retries": 2}).status_code == 204
    assert client.get(f"{R}/incident", params={"processInstanceId": instance}).json() == []
    assert client.get(f"/api/instances/{instance}").json()["status"] == "running"
    assert client.post(f"{url}/lock", json={"workerId": "w9", "lockDuration": 60000}).status_code == 204
    taken = client.post(f"{url}/lock", json={"workerId": "w8", "lockDuration": 60000})
    assert taken.status_code == 400 and "w9" in taken.json()["message"]
    assert client.put(f"{url}/retries", json={"retries": 0}).status_code == 400  # w9 holds it
    assert client.post(f"{url}/unlock").status_code == 204
    assert client.put(f"{url}/retries", json={"retries": 0}).status_code == 204
    assert [i["activityId"] for i in client.get(f"{R}/incident", params={"processInstanceId": instance}).json()] \
        == ["work"]


def test_fetch_and_lock_filters_by_business_key_process_and_variables(client: TestClient) -> None:
    """A topic of "Fetch and Lock" may carry `businessKey`, `processDefinitionKey(In)` and `processVariables`
    (values the instance's variables must equal); only matching tasks are locked."""
    deploy(client, "one_task.bpmn")
    a = start(client, "one_task", {"region": {"value": "EU", "type": "String"}}, business_key="A")["id"]
    b = start(client, "one_task", {"region": {"value": "US", "type": "String"}}, business_key="B")["id"]
    assert fetch(client, processDefinitionKey="other") == []
    assert [t["processInstanceId"] for t in fetch(client, processVariables={"region": "US"})] == [b]
    assert [t["processInstanceId"] for t in fetch(client, worker="w2", businessKey="A",
                                                  processDefinitionKeyIn=["one_task"])] == [a]


def test_uncaught_bpmn_error_becomes_an_incident(client: TestClient) -> None:
    deploy(client, "one_task.bpmn")
    instance = start(client, "one_task")["id"]
    [task] = fetch(client)
    thrown = client.post(f"{R}/external-task/{task['id']}/bpmnError",
                         json={"workerId": "w1", "errorCode": "NOPE", "errorMessage": "no catcher"})
    assert thrown.status_code == 204
    [incident] = client.get(f"{R}/incident", params={"processInstanceId": instance}).json()
    assert "NOPE" in incident["incidentMessage"]


@pytest.mark.parametrize("body, message", [
    ({"maxTasks": 1, "topics": []}, "workerId is mandatory"),
    ({"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 1_800_001, "topics": []}, "cannot be set"),
    ({"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t", "lockDuration": 0}]}, "lockDuration"),
])
def test_fetch_and_lock_refuses_bad_requests_in_camunda_form(client: TestClient, body: dict, message: str) -> None:
    response = client.post(f"{R}/external-task/fetchAndLock", json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "InvalidRequestException" and message in response.json()["message"]


def test_user_tasks_messages_signals_and_termination(client: TestClient) -> None:
    deploy(client, "review_ship.bpmn")
    instance = start(client, "review_ship", business_key="ORDER-9")["id"]
    [task] = client.get(f"{R}/task", params={"processInstanceId": instance}).json()
    assert (task["taskDefinitionKey"], task["name"], task["assignee"]) == ("review", "Review order", None)
    assert [t["id"] for t in client.get(f"{R}/task", params={"candidateGroup": "sales"}).json()] == [task["id"]]
    assert client.get(f"{R}/task", params={"candidateGroup": "hr"}).json() == []

    assert client.post(f"{R}/task/{task['id']}/claim", json={"userId": "ann"}).status_code == 204
    taken = client.post(f"{R}/task/{task['id']}/claim", json={"userId": "bob"})
    assert taken.status_code == 500 and taken.json()["type"] == "TaskAlreadyClaimedException"
    assert [t["assignee"] for t in client.get(f"{R}/task", params={"assignee": "ann"}).json()] == ["ann"]

    invalid = client.post(f"{R}/task/{task['id']}/complete", json={"variables": {"amount": {"value": 0,
                                                                                           "type": "Long"}}})
    assert invalid.status_code == 400 and "amount" in invalid.json()["message"]
    done = client.post(f"{R}/task/{task['id']}/complete", json={"variables": {"amount": {"value": 5,
                                                                                        "type": "Long"}}})
    assert done.status_code == 204

    unknown = client.post(f"{R}/message", json={"messageName": "Nobody listens"})
    assert unknown.status_code == 400 and unknown.json()["type"] == "RestException"
    correlated = client.post(f"{R}/message", json={"messageName": "Payment received", "businessKey": "ORDER-9",
                                                    "processVariables": {"paid": {"value": True, "type": "Boolean"}},
                                                    "resultEnabled": True})
    assert correlated.status_code == 200
    assert [(r["resultType"], r["execution"]["processInstanceId"]) for r in correlated.json()] == \
        [("Execution", instance)]
    [ship] = fetch(client, topic="ship")
    assert ship["variables"]["paid"] == {"type": "Boolean", "value": True, "valueInfo": {}}
    assert client.post(f"{R}/external-task/{ship['id']}/complete", json={"workerId": "w1"}).status_code == 204
    assert state(client, instance) == "COMPLETED"

    waiting = start(client, "wait_go")["id"]
    assert client.post(f"{R}/signal", json={"name": "Go"}).status_code == 204
    assert state(client, waiting) == "COMPLETED"
    doomed = start(client, "review_ship")["id"]
    assert client.delete(f"{R}/process-instance/{doomed}").status_code == 204
    assert state(client, doomed) == "EXTERNALLY_TERMINATED"


def test_long_polls_wait_without_blocking_and_lose_no_task(tmp_path: Path) -> None:
    """40 workers long-poll at once on a real server; 40 instances started meanwhile give each worker exactly
    one task (none lost, none twice), and the server keeps answering other requests while they wait."""
    serve = Serve(f"sqlite:///{tmp_path / 'poll.db'}", tmp_path / "serve.log")
    try:
        from .serve_helpers import multipart
        body, kind = multipart({"f": ("one_task.bpmn", (DATA / "one_task.bpmn").read_bytes())}, {})
        assert request("POST", serve.base + f"{R}/deployment/create", raw=body, headers={"Content-Type": kind})[0] \
            == 200
        results: dict[int, Any] = {}

        def poll(n: int) -> None:
            results[n] = request("POST", serve.base + f"{R}/external-task/fetchAndLock",
                                 {"workerId": f"w{n}", "maxTasks": 1, "asyncResponseTimeout": 30000,
                                  "topics": [{"topicName": "work", "lockDuration": 60000}]})
        threads = [threading.Thread(target=poll, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        assert request("GET", serve.base + f"{R}/engine")[0] == 200  # answered while 40 polls wait
        started = {request("POST", serve.base + f"{R}/process-definition/key/one_task/start", {})[1]["id"]
                   for _ in range(40)}
        for thread in threads:
            thread.join(60)
        assert all(status == 200 for status, _ in results.values()), serve.log()
        got = [task["processInstanceId"] for _, tasks in results.values() for task in tasks]
        assert sorted(got) == sorted(started)
    finally:
        serve.stop()


def test_message_correlation_keys_match_process_variables(client: TestClient) -> None:
    """`correlationKeys` restrict correlation to the execution whose process variables equal them ("Correlate a
    Message" in the REST reference); none matching is a 400, as Camunda's MismatchingMessageCorrelationException."""
    deploy(client, "review_ship.bpmn")
    waiting = {}
    for order_id in ("A", "B"):
        instance = start(client, "review_ship", {"orderId": {"value": order_id, "type": "String"}})["id"]
        [task] = client.get(f"{R}/task", params={"processInstanceId": instance}).json()
        client.post(f"{R}/task/{task['id']}/complete", json={"variables": {"amount": {"value": 1, "type": "Long"}}})
        waiting[order_id] = instance
    out = client.post(f"{R}/message", json={"messageName": "Payment received", "resultEnabled": True,
                                             "correlationKeys": {"orderId": {"value": "B", "type": "String"}}})
    assert out.status_code == 200 and out.json()[0]["execution"]["processInstanceId"] == waiting["B"]
    assert [t["processInstanceId"] for t in fetch(client, topic="ship")] == [waiting["B"]]
    nobody = client.post(f"{R}/message", json={"messageName": "Payment received",
                                                "correlationKeys": {"orderId": {"value": "Z", "type": "String"}}})
    assert nobody.status_code == 400 and "Cannot correlate message 'Payment received'" in nobody.json()["message"]


@pytest.mark.postgres
def test_two_serve_processes_share_one_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    """Workers long-poll two `serve` processes over one database; tasks started through one are delivered once
    across both, and a task locked through one is completed through the other."""
    from .serve_helpers import multipart
    servers = [Serve(pg_url, tmp_path / f"serve{n}.log") for n in range(2)]
    try:
        body, kind = multipart({"f": ("one_task.bpmn", (DATA / "one_task.bpmn").read_bytes())}, {})
        assert request("POST", servers[0].base + f"{R}/deployment/create", raw=body,
                       headers={"Content-Type": kind})[0] == 200
        results: dict[int, Any] = {}

        def poll(n: int) -> None:
            results[n] = request("POST", servers[n % 2].base + f"{R}/external-task/fetchAndLock",
                                 {"workerId": f"w{n}", "maxTasks": 1, "asyncResponseTimeout": 30000,
                                  "topics": [{"topicName": "work", "lockDuration": 60000}]})
        threads = [threading.Thread(target=poll, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        started = {request("POST", servers[0].base + f"{R}/process-definition/key/one_task/start", {})[1]["id"]
                   for _ in range(20)}
        for thread in threads:
            thread.join(60)
        tasks = [(n, t) for n, (status, out) in results.items() if status == 200 for t in out]
        assert sorted(t["processInstanceId"] for _, t in tasks) == sorted(started)
        for n, task in tasks:
            other = servers[(n + 1) % 2].base
            assert request("POST", f"{other}{R}/external-task/{task['id']}/complete",
                           {"workerId": f"w{n}"})[0] == 204
        states = {request("GET", f"{servers[1].base}{R}/history/process-instance/{i}")[1]["state"] for i in started}
        assert states == {"COMPLETED"}
    finally:
        for server in servers:
            server.stop()


def test_instance_count_counts_open_instances_per_process(client: TestClient) -> None:
    """GET /process-instance/count (Camunda 7 REST reference, "Get Process Instance Count"): running instances, all
    of them or of one `processDefinitionKey`; an ended instance is no longer counted."""
    deploy(client, "one_task.bpmn")
    deploy(client, "review_ship.bpmn")
    ids = [start(client, "one_task")["id"] for _ in range(3)]
    start(client, "review_ship")
    count = lambda **params: client.get(f"{R}/process-instance/count", params=params).json()["count"]  # noqa: E731
    assert (count(), count(processDefinitionKey="one_task"), count(processDefinitionKey="review_ship")) == (4, 3, 1)
    assert client.delete(f"{R}/process-instance/{ids[0]}").status_code == 204
    assert (count(), count(processDefinitionKey="one_task")) == (3, 2)

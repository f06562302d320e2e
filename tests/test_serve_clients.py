"""The official Camunda 7 external-task clients against `bpmn-runner serve`, unchanged but for the base URL.

A Node worker on camunda-external-task-client-js (npm) and a Python worker on camunda-external-task-client-python3
(PyPI), tests/serve_clients/, complete the order example's external tasks on SQLite and PostgreSQL. The Node worker
declines one card with `handleBpmnError` (the error boundary event takes the order to "Order cancelled"); the
Python worker reports a failure with retries 0 for one order, which becomes an incident visible via
GET /engine-rest/incident.

Semantics from the Camunda 7 docs: "External Tasks" (user guide: fetch and lock, long polling, reporting a
failure: "if retries is 0 an incident is created", reporting a BPMN error) and the REST API reference pages
"Fetch and Lock", "Complete", "Handle Failure", "Handle BPMN Error", "Get Incidents", "Get Historic Process
Instance" and "Get Historic Activity Instances" (docs.camunda.org/rest/camunda-bpm-platform/7.x/).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .serve_helpers import CLIENTS, Serve, deploy_order, node_client_dir, python_client_ready, request, \
    stop_process, wait_for

ORDER = {"sku": "BOOK-42", "quantity": 2, "amount": 59.9, "customer": {"name": "Ada", "email": "ada@example.com"}}


def start_order(base: str, order_id: str, card: str) -> str:
    order = {**ORDER, "id": order_id, "card": card}
    status, out = request("POST", base + "/engine-rest/process-definition/key/order_fulfillment/start",
                          {"businessKey": order_id, "variables": {"order": {"value": json.dumps(order),
                                                                            "type": "Json"}}})
    assert status == 200, out
    return out["id"]


def history(base: str, instance_id: str) -> dict:
    status, out = request("GET", f"{base}/engine-rest/history/process-instance/{instance_id}")
    assert status == 200, out
    return out


def test_node_and_python_workers_complete_the_order_example(db_url: str, tmp_path: Path) -> None:
    node_dir = node_client_dir()
    python_client_ready()
    serve = Serve(db_url, tmp_path / "serve.log")
    workers: list[subprocess.Popen] = []
    logs = {name: tmp_path / f"{name}.log" for name in ("node", "python")}
    try:
        deploy_order(serve.base)
        shipped = start_order(serve.base, "A-1", "4242424242424242")
        declined = start_order(serve.base, "D-2", "4000000000000002")
        failing = start_order(serve.base, "FAIL-3", "4242424242424242")
        workers.append(subprocess.Popen(["node", str(node_dir / "order_worker.mjs"), serve.base + "/engine-rest"],
                                        cwd=node_dir, stdout=open(logs["node"], "w"), stderr=subprocess.STDOUT))
        workers.append(subprocess.Popen([sys.executable, str(CLIENTS / "order_worker.py"),
                                         serve.base + "/engine-rest"], stdout=open(logs["python"], "w"),
                                        stderr=subprocess.STDOUT))

        def explain() -> str:
            return "\n".join(f"--- {name}:\n{path.read_text(errors='replace')[-1500:]}"
                             for name, path in logs.items()) + f"\n--- serve:\n{serve.log()}"

        for instance_id in (shipped, declined):
            wait_for(lambda i=instance_id: history(serve.base, i)["state"] == "COMPLETED", 60,
                     f"instance {instance_id} did not complete", explain)
        incidents = wait_for(lambda: request("GET", f"{serve.base}/engine-rest/incident?processInstanceId="
                                                    f"{failing}")[1], 60, "no incident for FAIL-3", explain)
        ran = {i: [a["activityId"] for a in request("GET", f"{serve.base}/engine-rest/history/activity-instance"
                                                           f"?processInstanceId={i}")[1]] for i in (shipped, declined)}
        ended = {i: history(serve.base, i) for i in (shipped, declined, failing)}
        gone = [request("GET", f"{serve.base}/engine-rest/process-instance/{i}")[0] for i in (shipped, failing)]
    finally:
        for worker in workers:
            stop_process(worker)
        serve.stop()

    # the shipped order ran every step and reached its end event (the timer fired inside serve)
    for element in ("Activity_CheckStock", "Activity_ReserveStock", "Activity_ChargePayment", "Activity_UpdateCrm",
                    "Activity_BookShipment", "Event_WaitForPickup", "Activity_NotifyShipped", "Event_OrderShipped"):
        assert element in ran[shipped], ran[shipped]
    assert ended[shipped]["endActivityId"] == "Event_OrderShipped"
    # the declined card took the error boundary event thrown by the Node worker's handleBpmnError
    assert "Event_CardDeclined" in ran[declined] and "Activity_NotifyShipped" not in ran[declined]
    assert ended[declined]["endActivityId"] == "Event_OrderCancelled"
    # the Python worker's failure with retries 0 is an incident at the CRM update, with its message
    assert [(i["activityId"], i["incidentType"], i["incidentMessage"]) for i in incidents] == \
        [("Activity_UpdateCrm", "failedExternalTask", "CRM is down")]
    assert ended[failing]["state"] == "ACTIVE"
    # an ended instance is only in the history (404), an instance in an incident still runs
    assert gone == [404, 200]

"""A Camunda 7 external-task worker for the order example's CRM topics, written against
camunda-external-task-client-python3 as for a Camunda engine: only the base URL (argv[1]) points at bpmn-runner.
An order whose id starts with FAIL makes the CRM update fail with no retries left: an incident."""

import json
import sys

from camunda.external_task.external_task_worker import ExternalTaskWorker

TOPICS = ["crm.update-order", "crm.notify-shipped", "crm.notify-declined", "crm.notify-cancelled",
          "payment.refund", "erp.release-stock"]
CONFIG = {"maxTasks": 5, "lockDuration": 30000, "asyncResponseTimeout": 10000, "retries": 3,
          "retryTimeout": 1000, "sleepSeconds": 1}


def order_of(task):
    value = task.get_variable("order")
    return json.loads(value) if isinstance(value, str) else value


def handle(task):
    topic = task.get_topic_name()
    order = order_of(task)
    if topic == "crm.update-order":
        if str(order["id"]).startswith("FAIL"):
            return task.failure("CRM is down", "the CRM answered 503 for order " + order["id"], max_retries=0,
                                retry_timeout=1000)
        return task.complete({"crmUpdated": True})
    if topic == "crm.notify-shipped":
        return task.complete({"notifiedShipped": True, "orderStatus": "shipped"})
    if topic == "crm.notify-declined":
        return task.complete({"notifiedDeclined": True, "orderStatus": "cancelled"})
    if topic == "crm.notify-cancelled":
        return task.complete({"notifiedCancelled": True, "orderStatus": "refunded"})
    if topic == "payment.refund":
        return task.complete({"refundId": "RF-" + order["id"]})
    return task.complete({"stockReleased": True})


if __name__ == "__main__":
    ExternalTaskWorker(worker_id="python-crm", base_url=sys.argv[1], config=CONFIG).subscribe(TOPICS, handle)

"""The pages of `serve` through FastAPI's TestClient: the tasklist (claim, generated forms, errors by field,
completing moves the instance on), the cockpit (counts on the diagram, instances with filters, the live instance
page, retry and cancel) and deployments (upload, lint findings, definition report).

Semantics follow Camunda 7: "User Task Forms" (docs.camunda.org/manual/7.15/user-guide/task-forms: a generated
task form from camunda:formData, with the validation constraints of its fields) and Cockpit's "Process Definition
View" (docs.camunda.org/manual/7.16/webapps/cockpit/bpmn/process-definition-view/: instance and incident counters on
the rendered diagram, the running instances in a table, down to the process instance view)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")

from fastapi.testclient import TestClient  # noqa: E402

from bpmn_runner.server.app import create_app  # noqa: E402

from .durable import END, START, chain, registry, three_services, write  # noqa: E402
from .pages import ORDER, csrf_of, large_order, order_context, start_order, task_ids  # noqa: E402


@pytest.fixture
def db(tmp_path: Path) -> str:
    """SQLite only; the tests that take `db_url` run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'serve.db'}"


def login(client: TestClient, user: str, groups: str = "", token: str | None = None) -> None:
    form = {"csrf": csrf_of(client.get("/login").text), "user": user, "groups": groups, "next": "/tasks"}
    if token is not None:
        form["token"] = token
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


def post(client: TestClient, url: str, page: str, **data: str):
    return client.post(url, data={"csrf": csrf_of(client.get(page).text), **data}, follow_redirects=False)


# --- tasklist ---------------------------------------------------------------------------------------------------

def test_the_order_review_is_a_group_task_for_sales_until_someone_claims_it(db: str) -> None:
    ctx = order_context(db)
    start_order(ctx)
    small = start_order(ctx, large_order("A-2002", amount=59.9))  # a small order never waits for a person
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    group = client.get("/tasks?view=group").text
    [task_id] = task_ids(group)
    assert "Review large order" in group and "Claim" in group
    assert task_ids(client.get("/tasks?view=mine").text) == []
    with ctx.runtime() as runtime:
        assert runtime.show(small)["status"] != "waiting" or runtime.list_tasks(small) == []

    other = TestClient(create_app(ctx))
    login(other, "fred", "finance")
    assert task_ids(other.get("/tasks?view=group").text) == []       # not offered to finance
    assert task_ids(other.get("/tasks?view=all").text) == [task_id]

    claimed = post(client, f"/tasks/{task_id}/claim", "/tasks?view=group")
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/tasks/{task_id}"
    assert task_ids(client.get("/tasks?view=mine").text) == [task_id]
    assert task_ids(client.get("/tasks?view=group").text) == []      # claimed: no longer a group task
    refused = post(other, f"/tasks/{task_id}/claim", "/tasks?view=all")
    assert refused.status_code == 409 and "mary has claimed this task" in refused.text

    unclaimed = post(client, f"/tasks/{task_id}/unclaim", "/tasks")
    assert unclaimed.status_code == 303
    assert task_ids(client.get("/tasks?view=group").text) == [task_id]


def test_the_generated_form_completes_the_task_and_the_instance_moves_on(db_url: str) -> None:
    ctx = order_context(db_url)
    iid = start_order(ctx)
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    before = client.get(f"/tasks/{task_id}").text
    assert 'id="complete" disabled' in before                       # claim first
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    form = client.get(f"/tasks/{task_id}").text
    assert 'type="checkbox" name="approved"' in form and 'type="text" name="comment"' in form
    assert 'id="complete" disabled' not in form

    done = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", approved="true", comment="known buyer")
    assert done.status_code == 303 and done.headers["location"] == f"/instances/{iid}"
    page = client.get(done.headers["location"]).text
    with ctx.runtime() as runtime:
        shown = runtime.show(iid)
    assert shown["data"]["approved"] is True and shown["data"]["comment"] == "known buyer"
    assert shown["data"]["amountCharged"] == 1450.0                 # the charge ran in-process after the review
    assert [w["element_id"] for w in shown["waiting"]] == ["Event_WaitForPickup"]
    assert 'data-element-id="Event_WaitForPickup"' in page and 'data-event="completed"' in page
    assert task_ids(client.get("/tasks?view=all").text) == []


def test_an_unchecked_box_is_false_and_a_rejected_order_ends(db: str) -> None:
    ctx = order_context(db)
    iid = start_order(ctx)
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", comment="no")
    page = client.get(f"/instances/{iid}").text
    assert 'id="instance-status">completed<' in page
    assert 'data-element-id="Event_OrderRejected" data-event="completed"' in page


FORM_TASK = ('<bpmn:userTask id="ask" name="Enter the amount"><bpmn:extensionElements><camunda:formData>'
             '<camunda:formField id="amount" label="Amount" type="long">'
             '<camunda:validation><camunda:constraint name="required"/><camunda:constraint name="max" config="10"/>'
             '</camunda:validation></camunda:formField>'
             '<camunda:formField id="size" label="Size" type="enum"><camunda:value id="S" name="Small"/>'
             '<camunda:value id="L" name="Large"/></camunda:formField>'
             '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')


def test_form_errors_are_shown_by_field_and_the_task_stays_open(db: str, tmp_path: Path) -> None:
    """Generated task forms with the form-field validation constraints `required` and `max`
    (docs.camunda.org/manual/7.15/user-guide/task-forms, "Generated Task Forms")."""
    diagram = write(tmp_path, "form.bpmn", START + FORM_TASK + END + chain("start", "ask", "end"), process_id="form")
    ctx = order_context(db)
    with ctx.runtime() as runtime:
        iid = runtime.start([diagram])["instance_id"]
    client = TestClient(create_app(ctx))
    login(client, "mary")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    page = client.get(f"/tasks/{task_id}").text
    assert 'type="number" name="amount"' in page and '<select name="size"' in page and "Amount *" in page

    not_a_number = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", amount="ten", size="S")
    assert not_a_number.status_code == 422
    assert re.search(r'id="error-amount">must be a whole number', not_a_number.text)
    assert 'value="ten"' in not_a_number.text                       # what the person typed stays

    missing = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", size="S")
    assert missing.status_code == 422 and 'id="error-amount">is required' in missing.text

    too_big = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", amount="50", size="L")
    assert too_big.status_code == 422                                 # the engine's constraint, on its field
    assert re.search(r'id="error-amount">[^<]*must be at most 10', too_big.text)

    ok = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", amount="7", size="L")
    assert ok.status_code == 303
    with ctx.runtime() as runtime:
        shown = runtime.show(iid)
    assert shown["status"] == "completed" and shown["data"]["amount"] == 7 and shown["data"]["size"] == "L"


def test_a_spiffarena_json_schema_form_is_drawn_and_checked(db: str, tmp_path: Path) -> None:
    """SpiffArena user task forms are JSON schemas (spiff-arena.readthedocs.io, 'Forms'): the fields and their
    `required` come from the schema; a value the schema refuses is shown on its field."""
    schema = {"type": "object", "required": ["reason"],
              "properties": {"reason": {"type": "string", "title": "Reason", "minLength": 3},
                             "days": {"type": "integer", "title": "Days"}}}
    (tmp_path / "leave-schema.json").write_text(json.dumps(schema))
    task = ('<bpmn:userTask id="ask" name="Ask for leave"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="leave-schema.json"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
    diagram = write(tmp_path, "leave.bpmn", START + task + END + chain("start", "ask", "end"), process_id="leave")
    ctx = order_context(db)
    with ctx.runtime() as runtime:
        runtime.start([diagram])
    client = TestClient(create_app(ctx))
    login(client, "mary")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    page = client.get(f"/tasks/{task_id}").text
    assert 'name="reason"' in page and 'type="number" name="days"' in page and "Reason *" in page
    short = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", reason="no", days="2")
    assert short.status_code == 422 and re.search(r'id="error-reason">[^<]*too short', short.text)
    assert post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", reason="holiday",
                days="2").status_code == 303


def test_completing_needs_the_claim_and_a_done_task_is_a_404(db: str) -> None:
    ctx = order_context(db)
    start_order(ctx)
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    unclaimed = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", approved="true")
    assert unclaimed.status_code == 409 and "claim the task before you complete it" in unclaimed.text
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", approved="true")
    gone = client.get(f"/tasks/{task_id}")
    assert gone.status_code == 404 and "may be done already" in gone.text


# --- cockpit ----------------------------------------------------------------------------------------------------

def test_the_cockpit_counts_open_instances_per_element_on_the_diagram(db_url: str) -> None:
    ctx = order_context(db_url)
    for n in range(2):
        start_order(ctx, large_order(f"A-30{n}"))
    client = TestClient(create_app(ctx))
    overview = client.get("/cockpit").text
    assert 'data-process-id="order_fulfillment"' in overview
    assert re.search(r'class="num open-count">2<', overview)
    process = client.get("/cockpit/processes/order_fulfillment").text
    review = re.search(r'<g class="([^"]*)" data-element-id="Activity_ReviewOrder">(.*?)</g>\s*(?=<g class|</svg>)',
                       process, re.S)
    assert review and "waiting" in review.group(1)
    assert re.search(r'<g class="badge">.*?>2</text>', review.group(2), re.S)
    heatmap = client.get("/cockpit/processes/order_fulfillment/heatmap")
    assert heatmap.status_code == 200 and "Heatmap of order_fulfillment" in heatmap.text
    assert client.get("/cockpit/processes/nope").status_code == 404


def test_instances_are_filtered_and_paged(db_url: str) -> None:
    ctx = order_context(db_url)
    waiting = [start_order(ctx, large_order(f"A-40{n}")) for n in range(3)]
    with ctx.runtime() as runtime:
        runtime.cancel(waiting[0])
    client = TestClient(create_app(ctx))
    rows = lambda html: re.findall(r'<tr data-instance-id="([^"]+)"', html)  # noqa: E731
    assert rows(client.get("/instances").text) == waiting
    assert rows(client.get("/instances?status=cancelled").text) == waiting[:1]
    assert rows(client.get("/instances?status=waiting&process=order_fulfillment").text) == waiting[1:]
    assert rows(client.get("/instances?process=other").text) == []
    first = client.get("/instances?limit=2").text
    assert rows(first) == waiting[:2]
    next_page = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert rows(client.get(next_page).text) == waiting[2:]
    bad = client.get("/instances?status=sleeping")
    assert bad.status_code == 400 and "no instance status &#39;sleeping&#39;" in bad.text


def test_an_incident_is_shown_with_its_error_and_retry_carries_the_instance_on(db: str, tmp_path: Path) -> None:
    broken = {"on": True}

    def step_a(call):
        if broken["on"]:
            raise RuntimeError("the ERP is down")
        return {"a": 1}

    ctx = order_context(db, registry=registry(step_a=step_a, step_b=lambda c: {}, step_c=lambda c: {}))
    with ctx.runtime() as runtime:
        iid = runtime.start([three_services(tmp_path, retries=1)])["instance_id"]
        runtime.run_to_wait([iid])
    client = TestClient(create_app(ctx))
    page = client.get(f"/instances/{iid}").text
    assert 'id="instance-status">incident<' in page and "the ERP is down" in page and 'id="retry"' in page
    assert re.search(r'<g class="[^"]*failed[^"]*" data-element-id="a"', page)
    broken["on"] = False
    retried = post(client, f"/instances/{iid}/retry", f"/instances/{iid}")
    assert retried.status_code == 303
    after = client.get(f"/instances/{iid}").text
    assert 'id="instance-status">completed<' in after and 'id="retry"' not in after


def test_cancel_stops_an_open_instance(db: str) -> None:
    ctx = order_context(db)
    iid = start_order(ctx)
    client = TestClient(create_app(ctx))
    assert post(client, f"/instances/{iid}/cancel", f"/instances/{iid}").status_code == 303
    page = client.get(f"/instances/{iid}").text
    assert 'id="instance-status">cancelled<' in page and 'id="cancel"' not in page
    again = post(client, f"/instances/{iid}/cancel", "/login")
    assert again.status_code == 400


def test_the_live_region_says_unchanged_until_the_instance_moves(db: str) -> None:
    ctx = order_context(db)
    iid = start_order(ctx)
    client = TestClient(create_app(ctx))
    stamp = re.search(r'data-live="/live/instances/[^"]+" data-stamp="([^"]+)"',
                      client.get(f"/instances/{iid}").text).group(1)
    assert client.get(f"/live/instances/{iid}?stamp={stamp}").json() == {"changed": False, "stamp": stamp}
    with ctx.runtime() as runtime:
        [task] = runtime.list_tasks(iid)
        runtime.complete_task(task["task_id"], {"approved": False})
    moved = client.get(f"/live/instances/{iid}?stamp={stamp}").json()
    assert moved["changed"] is True and moved["stamp"] != stamp
    assert 'id="instance-status">completed<' in moved["html"]
    tasks = client.get("/live/tasks?view=all").json()
    assert tasks["changed"] is True and 'id="no-tasks"' in tasks["html"]


# --- deployments ------------------------------------------------------------------------------------------------

def upload(client: TestClient, name: str, content: bytes):
    csrf = csrf_of(client.get("/deployments").text)
    return client.post("/deployments", data={"csrf": csrf}, files={"file": (name, content, "application/xml")},
                       follow_redirects=False)


def test_an_uploaded_diagram_is_deployed_with_its_findings_and_report(db: str) -> None:
    ctx = order_context(db)
    client = TestClient(create_app(ctx))
    done = upload(client, "order_fulfillment.bpmn", ORDER.read_bytes())
    assert done.status_code == 303 and done.headers["location"].startswith("/deployments/")
    page = client.get(done.headers["location"]).text
    assert 'id="deployed"' in page and "order_fulfillment" in page and 'id="no-findings"' in page
    digest = done.headers["location"].split("/")[2].split("?")[0]
    report = client.get(f"/deployments/{digest}/report")
    assert report.status_code == 200 and "Activity_ReviewOrder" in report.text and "registered" in report.text
    assert digest[:12] in client.get("/deployments").text
    with ctx.runtime() as runtime:
        assert [p for p, _v, d in runtime.store.latest_processes() if d == digest] == ["order_fulfillment"]


XXE = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
       b'<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&x;</bpmn:documentation>'
       b'</bpmn:process></bpmn:definitions>')


def test_a_hostile_or_broken_upload_is_refused_with_one_line(db: str, tmp_path: Path) -> None:
    ctx = order_context(db, upload_limit=4096)
    client = TestClient(create_app(ctx))
    hostile = upload(client, "evil.bpmn", XXE)
    assert hostile.status_code == 422 and 'id="upload-error"' in hostile.text and "root:" not in hostile.text
    assert upload(client, "notes.txt", b"hello").status_code == 400
    too_big = upload(client, "big.bpmn", b"<x>" + b" " * 5000 + b"</x>")
    assert too_big.status_code == 413 and "limit" in too_big.text
    broken = upload(client, "broken.bpmn", b"<bpmn:definitions")
    assert broken.status_code == 422 and "broken.bpmn" in broken.text
    with ctx.runtime() as runtime:
        assert runtime.store.latest_processes() == []


def test_an_upload_whose_script_the_sandbox_refuses_is_not_deployed(db: str, tmp_path: Path) -> None:
    """The server's trust level decides: an untrusted server never stores a diagram whose script needs full
    Python, so no request can run it."""
    script = ('<bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>import os\nos.system("touch pwned")'
              '</bpmn:script></bpmn:scriptTask>')
    diagram = write(tmp_path, "script.bpmn", START + script + END + chain("start", "s", "end"), process_id="s")
    ctx = order_context(db)
    client = TestClient(create_app(ctx))
    refused = upload(client, "script.bpmn", diagram.read_bytes())
    assert refused.status_code == 422 and "[sandbox]" not in refused.text
    assert re.search(r'<tr class="finding error">.*?<code>sandbox</code>', refused.text, re.S)
    with ctx.runtime() as runtime:
        assert runtime.store.latest_processes() == []
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_camunda_8_form_is_drawn_with_its_required_field(db: str, tmp_path: Path) -> None:
    """Camunda 8 user task forms (form-js, docs.camunda.io/docs/8.2/components/modeler/forms/camunda-forms-reference):
    an embedded `zeebe:userTaskForm`; a number, a checkbox, a select, and `validate.required`."""
    form = json.dumps({"id": "f1", "components": [
        {"key": "amount", "type": "number", "label": "Amount", "validate": {"required": True}},
        {"key": "approved", "type": "checkbox", "label": "Approved"},
        {"key": "level", "type": "select", "label": "Level", "values": [{"label": "Low", "value": "low"},
                                                                        {"label": "High", "value": "high"}]}]})
    extra = ('<bpmn:extensionElements><zeebe:userTaskForm id="UserTaskForm_1">'
             f'{form.replace("&", "&amp;").replace("<", "&lt;")}</zeebe:userTaskForm></bpmn:extensionElements>')
    user = ('<bpmn:userTask id="ask" name="Check it"><bpmn:extensionElements><zeebe:formDefinition '
            'formKey="camunda-forms:bpmn:UserTaskForm_1"/></bpmn:extensionElements></bpmn:userTask>')
    diagram = write(tmp_path, "c8.bpmn", START + user + END + chain("start", "ask", "end"), process_id="c8")
    diagram.write_text(diagram.read_text().replace('<bpmn:process id="c8" isExecutable="true">',
                                                   '<bpmn:process id="c8" isExecutable="true">' + extra, 1))
    ctx = order_context(db)
    with ctx.runtime() as runtime:
        iid = runtime.start([diagram])["instance_id"]
    client = TestClient(create_app(ctx))
    login(client, "mary")
    [task_id] = task_ids(client.get("/tasks?view=all").text)
    post(client, f"/tasks/{task_id}/claim", "/tasks")
    page = client.get(f"/tasks/{task_id}").text
    assert 'type="number" name="amount"' in page and 'type="checkbox" name="approved"' in page
    assert '<option value="high">high</option>' in page and "Amount *" in page
    missing = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", level="low")
    assert missing.status_code == 422 and 'id="error-amount">is required' in missing.text
    done = post(client, f"/tasks/{task_id}/complete", f"/tasks/{task_id}", amount="2.5", approved="true", level="high")
    assert done.status_code == 303
    with ctx.runtime() as runtime:
        assert runtime.show(iid)["data"] == {"amount": 2.5, "approved": True, "level": "high"}


def test_the_tasklist_query_gives_what_list_tasks_gives(db_url: str) -> None:
    from bpmn_runner.durable.overview import open_tasks

    ctx = order_context(db_url)
    ids = [start_order(ctx, large_order(f"A-50{n}")) for n in range(3)]
    with ctx.runtime() as runtime:
        first = runtime.list_tasks(ids[0])[0]["task_id"]
        runtime.claim_task(first, "mary")
        assert open_tasks(runtime.store) == runtime.list_tasks() and len(open_tasks(runtime.store)) == 3
        assert open_tasks(runtime.store, task_id=first) == runtime.list_tasks(ids[0])
        assert open_tasks(runtime.store, task_id=first[:6]) == []   # exact ids only
        assert runtime.list_tasks(assignee="mary")[0]["assignment"]["assignee"] == "mary"


def test_listing_tasks_reads_no_instance_state(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tasks` and the tasklist read the wait rows with their instance's `waiting` entry in one query: loading
    each instance (its whole state) per task made `tasks -n 50` cost 40 ms on a store of 1,000,000 instances."""
    ctx = order_context(db_url)
    ids = [start_order(ctx, large_order(f"A-60{n}")) for n in range(2)]
    with ctx.runtime() as runtime:
        def no_state(*_args: object) -> None:
            raise AssertionError("an instance was loaded to list tasks")
        monkeypatch.setattr(runtime.store, "get_instance", no_state)
        tasks = runtime.list_tasks(group="sales")
        assert sorted(t["instance_id"] for t in tasks) == sorted(ids)
        assert all(t["assignment"]["candidateGroups"] == ["sales"] for t in tasks)


def test_an_instance_is_started_from_the_process_page(db: str) -> None:
    ctx = order_context(db)
    start_order(ctx, large_order("A-600", amount=10.0))            # deploys the order example
    client = TestClient(create_app(ctx))
    page = "/cockpit/processes/order_fulfillment"
    bad = post(client, f"{page}/start", page, data="{not json", business_key="K-1")
    assert bad.status_code == 422 and 'id="start-error">the variables are not JSON' in bad.text
    assert '>{not json</textarea>' in bad.text and 'value="K-1"' in bad.text
    listed = post(client, f"{page}/start", page, data="[1, 2]")
    assert listed.status_code == 422 and "must be a JSON object" in listed.text
    started = post(client, f"{page}/start", page, data=json.dumps(large_order("A-601")), business_key="A-601")
    assert started.status_code == 303 and started.headers["location"].startswith("/instances/")
    iid = started.headers["location"].split("/")[-1]
    with ctx.runtime() as runtime:
        shown = runtime.show(iid)
    assert shown["business_key"] == "A-601" and [w["element_id"] for w in shown["waiting"]] == ["Activity_ReviewOrder"]
    assert post(client, "/cockpit/processes/nope/start", page, data="{}").status_code == 404

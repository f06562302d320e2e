"""The pages of `serve` and the task listings with many open instances: the cockpit's counts per element come from
the database and equal what reading every instance gave; the tasklist, `/api/tasks` and Camunda's
`/engine-rest/task` (firstResult, maxResults) are paged by the store, each task on exactly one page.

Semantics: Cockpit's "Process Definition View" (docs.camunda.org/manual/7.16/webapps/cockpit/bpmn/
process-definition-view/: instance and incident counters per activity on the diagram); Camunda 7 REST "Get Tasks"
(docs.camunda.org/manual/7.16/reference/rest/task/get-query/: firstResult, maxResults, assignee, candidateGroup,
taskDefinitionKey); Tasklist's filters (my tasks, my groups' tasks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (pip install -e '.[test]')")

from fastapi.testclient import TestClient  # noqa: E402

from bpmn_runner.environment import build_environment  # noqa: E402
from bpmn_runner.registry import HandlerRegistry  # noqa: E402
from bpmn_runner.server.app import create_app  # noqa: E402
from bpmn_runner.server.context import ServerContext  # noqa: E402

from .durable import END, START, MovableClock, flow, registry, timer_catch, write, zeebe_service  # noqa: E402
from .pages import counts_by_reading, order_context, task_ids  # noqa: E402
from .test_server_pages import login  # noqa: E402

MESSAGES = '<bpmn:message id="M" name="M"/><bpmn:message id="M2" name="M2"/><bpmn:signal id="S" name="S"/>'
REMINDER = ('<bpmn:extensionElements><camunda:taskListener event="timeout" id="reminder" class="remind">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</camunda:taskListener></bpmn:extensionElements>')
BRANCHES = {
    "user": f'<bpmn:userTask id="user" name="Decide" camunda:candidateGroups="sales">{REMINDER}</bpmn:userTask>',
    "msg": '<bpmn:intermediateCatchEvent id="msg"><bpmn:messageEventDefinition messageRef="M"/>'
           '</bpmn:intermediateCatchEvent>',
    "rcv": '<bpmn:receiveTask id="rcv" messageRef="M2"/>',
    "sig": '<bpmn:intermediateCatchEvent id="sig"><bpmn:signalEventDefinition signalRef="S"/>'
           '</bpmn:intermediateCatchEvent>',
    "tim": timer_catch("tim", "PT1H"),
    "bad": zeebe_service("bad", "bad.job", 1),
    "slow": zeebe_service("slow", "slow.job"),
    "asy": '<bpmn:scriptTask id="asy" camunda:asyncBefore="true" scriptFormat="python"><bpmn:script>y = 1'
           '</bpmn:script></bpmn:scriptTask>',
    "cond": '<bpmn:intermediateCatchEvent id="cond"><bpmn:conditionalEventDefinition><bpmn:condition '
            'xsi:type="bpmn:tFormalExpression">x == 1</bpmn:condition></bpmn:conditionalEventDefinition>'
            '</bpmn:intermediateCatchEvent>',
}


def every_kind(folder: Path) -> Path:
    """A parallel split into a wait of every kind: a user task (with a timeout listener: a timer job at the same
    element), message, receive and signal catches, a timer, two service tasks (one with an error boundary event),
    an asyncBefore, and a condition (the condition and the boundary event are waits of kind `event`, which no
    table holds but the instance's own `waiting` list)."""
    body = START + '<bpmn:parallelGateway id="fork"/>' + flow("f0", "start", "fork")
    for ident, element in BRANCHES.items():
        body += element + flow(f"f_{ident}", "fork", ident) + f'<bpmn:endEvent id="end_{ident}"/>'
        body += flow(f"g_{ident}", ident, f"end_{ident}")
    body += ('<bpmn:boundaryEvent id="oops" attachedToRef="slow"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>'
             '<bpmn:endEvent id="end_oops"/>' + flow("g_oops", "oops", "end_oops"))
    return write(folder, "kinds.bpmn", body, process_id="kinds", extra=MESSAGES)


def drawn_counts(html: str) -> tuple[dict[str, int], dict[str, int]]:
    """(open instances, incidents) per element as the process page draws them (each element's title)."""
    waiting, incidents = {}, {}
    for ident, title in re.findall(r'data-element-id="([^"]+)"[^>]*>\s*<title>([^<]*)</title>', html):
        found = re.search(r"(\d+) open instance", title)
        if found:
            waiting[ident] = int(found.group(1))
        found = re.search(r"(\d+) incident", title)
        if found:
            incidents[ident] = int(found.group(1))
    return waiting, incidents


def test_the_counts_on_the_process_page_are_the_ones_reading_every_instance_gave(db_url: str,
                                                                                  tmp_path: Path) -> None:
    def bad(call):
        if call.data.get("broken"):
            raise RuntimeError("the ERP is down")
        return {}

    ctx = order_context(db_url, registry=registry(bad_job=bad, remind=lambda call: {}))
    diagram = every_kind(tmp_path)
    other = write(tmp_path, "other.bpmn", START + '<bpmn:userTask id="user"/>' + END
                  + flow("a", "start", "user") + flow("b", "user", "end"), process_id="other")
    with ctx.runtime() as runtime:
        failed = [runtime.start([diagram], data={"broken": True})["instance_id"] for _ in range(2)]
        runtime.run_to_wait(failed)                    # `bad` fails into an incident, the continuation runs
        fresh = [runtime.start([diagram])["instance_id"] for _ in range(3)]   # the continuation held
        runtime.cancel(fresh[2])                       # ended: counted nowhere
        runtime.start([other])                         # another process's user task of the same element id
        old = counts_by_reading(runtime.store, "kinds")
        kinds = {w["element_id"]: w["kind"] for i in (failed[0], fresh[0]) for w in runtime.show(i)["waiting"]}
    page = TestClient(create_app(ctx)).get("/cockpit/processes/kinds").text
    waiting, incidents = drawn_counts(page)

    assert incidents == old[1] == {"bad": 2}
    assert waiting["user"] == waiting["tim"] == waiting["slow"] == 4 and waiting["asy"] == waiting["bad"] == 2
    assert waiting == old[0] and waiting["cond"] == waiting["oops"] == 4 and 'id="more-open"' not in page
    assert {kinds[e] for e in waiting} == {"user", "message", "signal", "timer", "service", "async", "event"}


def task_process(folder: Path, group: str) -> Path:
    task = f'<bpmn:userTask id="review_{group}" name="Review for {group}" camunda:candidateGroups="{group}"/>'
    return write(folder, f"{group}.bpmn", START + task + END + flow("a", "start", f"review_{group}")
                 + flow("b", f"review_{group}", "end"), process_id=f"{group}_tasks")


def many_tasks(db_url: str, folder: Path, groups: list[str]) -> tuple[ServerContext, list[str]]:
    """One open task per entry of `groups` (its candidate group), all opened at the same instant (the clock
    stands still), so only the instance and task ids order them; their task ids in listing order."""
    env = build_environment(handlers=HandlerRegistry(), entry_points=False, clock=MovableClock())
    ctx = ServerContext(env, db_url)
    diagrams = {g: task_process(folder, g) for g in set(groups)}
    with ctx.runtime() as runtime:
        for group in groups:
            runtime.start([diagrams[group]])
        return ctx, [t["task_id"] for t in runtime.list_tasks()]


def link(html: str, ident: str) -> str | None:
    found = re.search(rf'id="{ident}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_tasklist_shows_50_tasks_a_page_each_once(db_url: str, tmp_path: Path) -> None:
    ctx, ids = many_tasks(db_url, tmp_path, ["sales"] * 120)
    client = TestClient(create_app(ctx))
    first = client.get("/tasks?view=all").text
    assert task_ids(first) == ids[:50] and link(first, "previous-page") is None
    second = client.get(link(first, "next-page")).text
    assert task_ids(second) == ids[50:100]
    third = client.get(link(second, "next-page")).text
    assert task_ids(third) == ids[100:] and link(third, "next-page") is None
    assert task_ids(client.get(link(third, "previous-page")).text) == ids[50:100]
    assert task_ids(client.get(link(second, "previous-page")).text) == ids[:50]
    live = re.search(r'data-live="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert "after=" in live and task_ids(client.get(live).json()["html"]) == ids[50:100]

    with ctx.runtime() as runtime:                       # a task on the first page is done meanwhile
        runtime.complete_task(ids[49], {})
    assert task_ids(client.get(link(first, "next-page")).text) == ids[50:100]
    assert client.get("/tasks?view=all&after=nonsense").status_code == 400


def test_the_group_view_keeps_its_filter_from_page_to_page(db_url: str, tmp_path: Path) -> None:
    groups = ["sales", "sales", "finance"] * 40              # 80 tasks for sales, 40 for finance, interleaved
    ctx, ids = many_tasks(db_url, tmp_path, groups)
    with ctx.runtime() as runtime:
        sales = [t["task_id"] for t in runtime.list_tasks(group="sales")]
    assert len(sales) == 80
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    first = client.get("/tasks?view=group").text
    assert task_ids(first) == sales[:50] and "view=group" in link(first, "next-page")
    second = client.get(link(first, "next-page")).text
    assert task_ids(second) == sales[50:] and link(second, "next-page") is None


def test_the_task_listings_of_the_rest_apis_are_paged_by_the_store(db_url: str, tmp_path: Path) -> None:
    ctx, ids = many_tasks(db_url, tmp_path, ["sales", "finance"] * 60)
    with ctx.runtime() as runtime:
        for task_id in ids[-3:]:
            runtime.claim_task(task_id, "mary")
        finance = [t["task_id"] for t in runtime.list_tasks(group="finance")]
    client = TestClient(create_app(ctx))

    pages, url = [], "/api/tasks?limit=50"
    while url:
        response = client.get(url)
        pages.append([t["task_id"] for t in response.json()])
        found = re.match(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
        url = found.group(1) if found else ""
    assert [len(p) for p in pages] == [50, 50, 20] and sum(pages, []) == ids
    # the filter applies before the limit: mary's three tasks are the last ones
    assert [t["task_id"] for t in client.get("/api/tasks?assignee=mary&limit=2").json()] == ids[-3:-1]

    rest = "/engine-rest/task"
    assert [t["id"] for t in client.get(f"{rest}?firstResult=100&maxResults=30").json()] == ids[100:]
    assert [t["id"] for t in client.get(f"{rest}?candidateGroup=finance&firstResult=10&maxResults=5").json()] \
        == finance[10:15]
    assert [t["id"] for t in client.get(f"{rest}?assignee=mary&maxResults=1").json()] == ids[-3:-2]
    task = client.get(f"{rest}?taskDefinitionKey=review_finance&maxResults=1").json()[0]
    assert task["processDefinitionId"].startswith("finance_tasks:1:") and task["id"] == finance[0]
    assert client.get(f"{rest}/{task['id']}").json() == task


def test_my_tasks_are_paged_and_a_task_only_offered_to_me_is_not_one_of_them(db_url: str, tmp_path: Path) -> None:
    ctx, ids = many_tasks(db_url, tmp_path, ["sales"] * 60)
    offered = write(tmp_path, "offered.bpmn", START + '<bpmn:userTask id="pick" camunda:candidateUsers="mary"/>'
                    + END + flow("a", "start", "pick") + flow("b", "pick", "end"), process_id="offered")
    with ctx.runtime() as runtime:
        for task_id in ids[:55]:
            runtime.claim_task(task_id, "mary")
        runtime.claim_task(ids[55], "fred")
        runtime.start([offered])                          # names mary, but is nobody's task yet
    client = TestClient(create_app(ctx))
    login(client, "mary", "sales")
    first = client.get("/tasks").text                     # a logged-in user starts at "my tasks"
    assert task_ids(first) == ids[:50]
    second = client.get(link(first, "next-page")).text
    assert "view=mine" in link(first, "next-page") and task_ids(second) == ids[50:55]
    assert link(second, "next-page") is None
    assert [t["task_id"] for t in client.get("/api/tasks?assignee=mary").json()] == ids[:55]


def test_the_process_page_lists_the_oldest_50_open_instances_and_links_to_all(db_url: str, tmp_path: Path) -> None:
    ctx, ids = many_tasks(db_url, tmp_path, ["sales"] * 55)
    with ctx.runtime() as runtime:
        instances = [r["instance_id"] for r in runtime.list_instances(process_id="sales_tasks")]
        runtime.cancel(instances[0])                      # ended: not listed
    page = TestClient(create_app(ctx)).get("/cockpit/processes/sales_tasks").text
    assert re.findall(r'<tr data-instance-id="([^"]+)"', page) == instances[1:51]
    assert drawn_counts(page)[0] == {"review_sales": 54}
    assert re.search(r'id="more-open">[^<]*<a href="/instances\?process=sales_tasks">', page)

"""Camunda's own examples, tried as a Camunda 7 team would: the diagrams in tests/data/camunda_examples follow
camunda/camunda-bpm-examples element for element (see its README); each test names the example and the
documented result it checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import Engine, HandlerRegistry, load
from bpmn_runner.cli import app

from .durable import MovableClock, runtime, worker

EXAMPLES = Path(__file__).parent / "data" / "camunda_examples"
cli = CliRunner()

LOAN_HANDLERS = '''
from bpmn_runner import handler

@handler("creditScoreChecker")
def check(call):
    # the example's client: defaultScore (set by the input parameter's script) and four more scores
    return {"creditScores": [call.data["defaultScore"], 9, 1, 4, 10]}

@handler("loanGranter")
def grant(call):
    print("granted", call.data["score"])

@handler("requestRejecter")
def reject(call):
    print("rejected", call.data["score"])
'''

ORDER_HANDLERS = '''
from bpmn_runner import handler

@handler("invoiceCreator")
def create(call):
    return {"invoiceId": "A123", "invoice": {"id": "A123"}}   # completed with process-scope variables

@handler("invoiceArchiver")
def archive(call):
    print("Invoice on process scope archived:", call.data["invoice"]["id"])
'''


def module(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


# ----- loan granting: external tasks, a cron timer start, a multi-instance sub-process ----------------------


def test_loan_granting_run_grants_the_good_scores_and_rejects_the_others(tmp_path: Path) -> None:
    """camunda-bpm-examples clients/java/loan-granting (README: the credit score list [defaultScore, 9, 1, 4, 10]
    with defaultScore 5 from the input parameter's script; per score a sub-process instance; score > 5 grants,
    else rejects). `run` starts one instance of the cron timer start and says when the next would start."""
    out = cli.invoke(app, ["run", str(EXAMPLES / "loan-granting.bpmn"), "--handlers",
                           str(module(tmp_path, "loan", LOAN_HANDLERS))])
    assert out.exit_code == 0, out.output
    assert "loan_process: completed" in out.stdout
    assert sorted(line for line in out.stdout.splitlines() if line.startswith(("granted", "rejected"))) == [
        "granted 10", "granted 9", "rejected 1", "rejected 4", "rejected 5"]
    assert "timer start event 'StartEvent_1' (0/5 0/1 * 1/1 * ? *): started this one instance now; the next " \
           "would start at" in out.stdout


def test_loan_granting_in_the_store_starts_an_instance_every_five_seconds(store, tmp_path: Path) -> None:
    """loan-granting example (the cron `0/5 0/1 * 1/1 * ? *` starts a new instance every five seconds); in the
    store a worker starts each one and runs its external tasks."""
    clock = MovableClock()
    handlers = HandlerRegistry()
    handlers.load(str(module(tmp_path, "loan", LOAN_HANDLERS)))
    rt = runtime(store, handlers, clock)
    rt.deploy([EXAMPLES / "loan-granting.bpmn"])
    assert rt.timer_start_jobs()[0]["due_at"].startswith("2030-01-01T00:00:05")
    for _ in range(2):
        clock.advance(seconds=5)
        worker(rt).run_once()
    instances = rt.list_instances()
    assert [i["status"] for i in instances] == ["completed", "completed"]
    shown = rt.show(instances[0]["instance_id"])
    assert shown["data"]["creditScores"] == [5, 9, 1, 4, 10]
    done = [h["element_id"] for h in shown["history"] if h["event"] == "completed"]
    assert done.count("Task_0v4gadf") == 2 and done.count("Task_0j0sjlk") == 3
    assert rt.timer_start_jobs()[0]["due_at"].startswith("2030-01-01T00:00:15")


# ----- order handling: a conditional boundary event on a sub-process ----------------------------------------


def test_order_handling_archives_the_invoice_when_invoice_id_is_set_on_the_process(tmp_path: Path) -> None:
    """camunda-bpm-examples clients/java/order-handling: the invoice creator completes with process variables, so
    the conditional boundary event `${invoiceId != null}` interrupts the sub-process and the archiver prints
    "Invoice on process scope archived"."""
    out = cli.invoke(app, ["run", str(EXAMPLES / "order-handling.bpmn"), "--handlers",
                           str(module(tmp_path, "order", ORDER_HANDLERS)), "--json"])
    assert out.exit_code == 0, out.output
    assert "Invoice on process scope archived: A123" in out.output
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed"
    assert result["path"][-3:] == ["BoundaryEvent_1y1bvad", "Task_1yjkccw", "EndEvent_0q2wrcp"]
    assert "EndEvent_00asnpf" not in result["path"]


def test_order_handling_without_the_variable_ends_normally(tmp_path: Path) -> None:
    """order-handling example, its other branch (variables set locally, so none reaches the process): the
    condition stays false and the sub-process ends normally."""
    local = ORDER_HANDLERS.replace('return {"invoiceId": "A123", "invoice": {"id": "A123"}}', "return None")
    out = cli.invoke(app, ["run", str(EXAMPLES / "order-handling.bpmn"), "--handlers",
                           str(module(tmp_path, "order", local)), "--json"])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["path"][-1] == "EndEvent_00asnpf"
    assert "Task_1yjkccw" not in result["path"]


def test_order_handling_in_the_store_interrupts_the_sub_process_when_the_worker_completes_the_job(
        store, tmp_path: Path) -> None:
    """order-handling example in the store: the external task is a job; completing it with invoiceId fires the
    conditional boundary event before the sub-process ends."""
    clock = MovableClock()
    handlers = HandlerRegistry()
    handlers.load(str(module(tmp_path, "order", ORDER_HANDLERS)))
    rt = runtime(store, handlers, clock)
    rt.deploy([EXAMPLES / "order-handling.bpmn"])
    clock.advance(seconds=5)
    worker(rt).run_once()
    [instance] = rt.list_instances()
    shown = rt.show(instance["instance_id"])
    done = [h["element_id"] for h in shown["history"] if h["event"] == "completed"]
    assert shown["status"] == "completed" and "Task_1yjkccw" in done and "EndEvent_0q2wrcp" in done
    assert "EndEvent_00asnpf" not in done


# ----- job announcement: user tasks, assignee expressions, a call activity with camunda:in ------------------


class JobAnnouncementService:
    """The example's mocked service (JobAnnouncementProcessTest): findRequester gives gonzo, findEditor fozzie."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list]] = []

    def registry(self) -> HandlerRegistry:
        reg = HandlerRegistry()
        answers = {"findRequester": "gonzo", "findEditor": "fozzie"}
        for method in ("findRequester", "findEditor", "postToWebsite", "postToTwitter", "postToFacebook",
                       "notifyAboutPostings"):
            def handler(call, method=method):
                self.calls.append((method, list(call.args)))
                return answers.get(method)
            reg.register(f"jobAnnouncementService.{method}", handler)
        return reg


def test_job_announcement_happy_path_as_camundas_test_asserts_it() -> None:
    """camunda-bpm-examples testing/assert/job-announcement-publication-process, JobAnnouncementProcessTest
    .testHappyPath: edit (candidate group engineering, unassigned, claimed by fozzie), review assigned to gonzo,
    publish (engineering) with exactly jobAnnouncementId and approved as variables, then the called publication
    process posts to the website, Twitter and Facebook and the confirmation is sent; nothing else is called."""
    service = JobAnnouncementService()
    definitions = load([EXAMPLES / "job-announcement.bpmn"], search_siblings=True)
    instance = Engine(service.registry()).start(definitions, "camunda-testing-job-announcement",
                                                {"jobAnnouncementId": 1})
    assert instance.run().status == "waiting"
    [edit] = instance.waiting()
    assert edit.element_id == "edit" and edit.assignment == {"candidateGroups": ["engineering"]}
    instance.claim(edit.task_id, "fozzie")
    assert instance.waiting()[0].assignment["assignee"] == "fozzie"
    instance.complete_user_task(edit.task_id, {})
    instance.run()
    [review] = instance.waiting()
    assert review.element_id == "review" and review.assignment == {"assignee": "gonzo"}
    instance.complete_user_task(review.task_id, {"approved": True})
    result = instance.run()
    [publish] = instance.waiting()
    assert publish.element_id == "publish" and publish.assignment == {"candidateGroups": ["engineering"]}
    assert result.data == {"jobAnnouncementId": 1, "approved": True}
    instance.claim(publish.task_id, "fozzie")
    instance.complete_user_task(publish.task_id, {"twitter": True, "facebook": True})
    result = instance.run()
    assert result.status == "completed", result.error
    assert sorted(service.calls) == sorted([("findRequester", [1]), ("postToWebsite", [1]), ("postToTwitter", [1]),
                                            ("postToFacebook", [1]), ("notifyAboutPostings", [1])])
    order = [e for e in result.path if e in ("edit", "review", "publish", "publication", "mail")]
    assert order == ["edit", "review", "publish", "publication", "mail"]


def test_job_announcement_passes_only_what_camunda_in_names(tmp_path: Path) -> None:
    """call-activity reference (docs.camunda.org/manual/latest/reference/bpmn20/subprocesses/call-activity): the
    called process gets only the camunda:in variables, and without camunda:out nothing comes back; with twitter
    false only the website and Facebook are posted to."""
    service = JobAnnouncementService()
    seen: list[dict] = []
    reg = service.registry()
    original = reg.get("jobAnnouncementService.postToWebsite").func
    spy = HandlerRegistry()
    for name in reg.names():
        spy.register(name, reg.get(name).func if name != "jobAnnouncementService.postToWebsite" else
                     (lambda call: seen.append(dict(call.data)) or original(call)))
    reg = spy
    definitions = load([EXAMPLES / "job-announcement.bpmn"], search_siblings=True)
    instance = Engine(reg).start(definitions, None, {"jobAnnouncementId": 7, "draft": "secret"})
    instance.run()
    for data in ({}, {"approved": True}, {"twitter": False, "facebook": True}):
        instance.complete_user_task(instance.waiting()[0].task_id, data)
        result = instance.run()
    assert result.status == "completed", result.error
    assert seen == [{"jobAnnouncementId": 7, "twitter": False, "facebook": True}]
    assert [c[0] for c in service.calls if c[0].startswith("post")] == ["postToWebsite", "postToFacebook"]


def test_job_announcement_in_the_store_from_the_command_line(tmp_path: Path) -> None:
    """job-announcement example through the CLI and the store, as Tasklist would: tasks by candidate group, claim,
    complete with the form variables; the review task is assigned by the assignee expression's handler."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    handlers = module(tmp_path, "jobs", "from bpmn_runner import handler\n\n"
                      "@handler('jobAnnouncementService.findRequester')\ndef requester(call):\n    return 'gonzo'\n\n"
                      + "".join(f"@handler('jobAnnouncementService.{m}')\ndef {m}(call):\n    print('{m}', "
                                f"call.args)\n\n" for m in ("postToWebsite", "postToTwitter", "postToFacebook",
                                                            "notifyAboutPostings")))

    def tasks(*options: str) -> list[dict]:
        out = cli.invoke(app, ["tasks", "--db", db, "--json", *options])
        return json.loads(out.stdout)["tasks"]

    started = cli.invoke(app, ["start", str(EXAMPLES / "job-announcement.bpmn"), "--db", db, "--data",
                               '{"jobAnnouncementId": 1}', "--handlers", str(handlers), "--json"])
    assert started.exit_code == 0, started.output
    [edit] = tasks("--group", "engineering")
    assert cli.invoke(app, ["claim", edit["task_id"], "fozzie", "--db", db]).exit_code == 0
    assert [t["element_id"] for t in tasks("--assignee", "fozzie")] == ["edit"]
    assert cli.invoke(app, ["complete", edit["task_id"], "--db", db, "--handlers", str(handlers)]).exit_code == 0
    [review] = tasks("--assignee", "gonzo")
    assert review["element_id"] == "review"
    cli.invoke(app, ["complete", review["task_id"], "--db", db, "--data", '{"approved": true}', "--handlers",
                     str(handlers)])
    [publish] = tasks("--group", "engineering")
    done = cli.invoke(app, ["complete", publish["task_id"], "--db", db, "--data",
                            '{"twitter": true, "facebook": false}', "--handlers", str(handlers), "--json"])
    assert done.exit_code == 0, done.output
    finished = json.loads(done.stdout.strip().splitlines()[-1])
    assert finished["status"] == "completed" and finished["jobs_run"] == 3  # website, Twitter, confirmation
    assert "postToWebsite [1]" in done.output and "postToTwitter [1]" in done.output
    assert "postToFacebook" not in done.output and "notifyAboutPostings [1]" in done.output


# ----- the dish decision: a decision graph, ranges, collect -------------------------------------------------


@pytest.mark.parametrize("season, guests, children, dish, beverages", [
    ("Spring", 10, False, "Stew", ["Guiness", "Water"]),
    ("Spring", 3, True, "Dry Aged Gourmet Steak", ["Pinot Noir", "Apple Juice", "Water"]),
    ("Spring", 6, False, "Steak", ["Pinot Noir", "Water"]),
    ("Fall", 8, False, "Spareribs", ["Aecht Schlenkerla Rauchbier", "Water"]),
    ("Winter", 4, False, "Roastbeef", ["Bordeaux", "Water"]),
    ("Winter", 9, True, "Stew", ["Guiness", "Apple Juice", "Water"]),
    ("Summer", 20, False, "Light Salad and a nice Steak", ["Pinot Noir", "Water"]),
])
def test_the_dish_decision_gives_camundas_dish_and_beverages(season: str, guests: int, children: bool, dish: str,
                                                             beverages: list[str]) -> None:
    """docs.camunda.org/get-started/dmn (the Dish decision table: "Fall", "Winter", "Spring" with guest-count
    ranges) and get-started/dmn/drg (Beverages, hit policy COLLECT, requires Dish; Spring with 10 guests and no
    children gives Stew, then Guiness and Water); through a business rule task (mapDecisionResult singleEntry and
    collectEntries) under `run`."""
    data = json.dumps({"season": season, "guestCount": guests, "guestsWithChildren": children})
    out = cli.invoke(app, ["run", str(EXAMPLES / "dish-decision.bpmn"), "--data", data, "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["status"] == "completed"
    assert result["data"]["desiredDish"] == dish and result["data"]["beverages"] == beverages


def test_the_dish_decision_graph_with_decide_and_in_the_store(tmp_path: Path) -> None:
    """get-started/dmn/drg: evaluating Beverages evaluates the required Dish decision first; the stored instance
    keeps the same results."""
    data = '{"season": "Spring", "guestCount": 10, "guestsWithChildren": false}'
    decided = cli.invoke(app, ["decide", str(EXAMPLES / "dish.dmn"), "--decision", "beverages", "--data", data,
                               "--json"])
    assert json.loads(decided.stdout)["results"] == {"Dish": "Stew", "Beverages": ["Guiness", "Water"]}
    db = f"sqlite:///{tmp_path / 'store.db'}"
    started = cli.invoke(app, ["start", str(EXAMPLES / "dish-decision.bpmn"), "--db", db, "--data", data, "--json"])
    shown = json.loads(cli.invoke(app, ["show", json.loads(started.stdout)["instance_id"], "--db", db,
                                        "--json"]).stdout)
    assert shown["status"] == "completed" and shown["data"]["beverages"] == ["Guiness", "Water"]

"""Durable instances, run by workers: jobs, retries and incidents, leases, timers and messages.

Each test stores its instances (SQLite, and PostgreSQL where reachable), then plays the worker with a clock the
test moves: Given a stored instance, When a worker runs what is due, Then the store holds what a user expects.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bpmn_runner import BpmnError
from bpmn_runner.errors import InvalidOperationError
from bpmn_runner.durable import Runtime, Worker, retry_policy
from bpmn_runner.store import open_store

from .durable import (END, START, MovableClock, camunda_service, chain, completed_counts, flow, registry, runtime,
                      three_services, timer_catch, user_task_process, worker, write, zeebe_service)

ZEEBE_MESSAGE = ('<bpmn:message id="Msg_paid" name="payment-received"><bpmn:extensionElements>'
                 '<zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>')
PAID_CATCH = ('<bpmn:intermediateCatchEvent id="paid" name="Payment received">'
              '<bpmn:messageEventDefinition messageRef="Msg_paid"/></bpmn:intermediateCatchEvent>')


def calls_of(log: list, element: str | None = None) -> list:
    return [c for c in log if element is None or c.element_id == element]


# ----- service jobs -----------------------------------------------------------------------------------------

def test_service_tasks_are_jobs_that_a_worker_runs_to_completion(store, tmp_path: Path) -> None:
    seen = []
    handlers = registry(step_a=lambda c: seen.append(c) or {"a": 1}, step_b=lambda c: seen.append(c) or {"b": 2},
                        step_c=lambda c: seen.append(c) or {"c": c.data["a"] + c.data["b"]})
    rt = runtime(store, handlers, MovableClock())
    started = rt.start([three_services(tmp_path)], data={"orderId": 7})
    assert started["status"] == "running" and [w["element_id"] for w in started["waiting"]] == ["a"]
    assert worker(rt).run_once() == 3
    shown = rt.show(started["instance_id"])
    assert shown["status"] == "completed" and shown["data"]["c"] == 3
    assert [c.element_id for c in seen] == ["a", "b", "c"]
    assert {c.instance_id for c in seen} == {started["instance_id"]}  # the id `start` printed
    assert all(n == 1 for n in completed_counts(store).values())
    assert [h["element_id"] for h in shown["history"] if h["event"] == "completed"] == ["start", "a", "b", "c", "end"]
    assert shown["jobs"] == [] and shown["ended_at"] is not None


def test_a_failing_handler_is_retried_with_backoff_then_becomes_an_incident_that_retry_resumes(store,
                                                                                                tmp_path: Path) -> None:
    clock = MovableClock()
    attempts = []
    broken = {"on": True}

    def flaky(call):
        attempts.append((call.attempt, call.idempotency_key))
        if broken["on"]:
            raise ConnectionError("ERP is down")
        return {"b": "ok"}

    rt = runtime(store, registry(step_a=lambda c: {}, step_b=flaky, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    w = worker(rt)
    w.run_once()
    assert len(attempts) == 1 and rt.show(iid)["status"] == "running"
    assert w.run_once() == 0  # backing off: the second attempt is 1 s later
    clock.advance(seconds=1)
    w.run_once()
    clock.advance(seconds=1)
    assert w.run_once() == 0  # the third attempt waits 2 s (doubling)
    clock.advance(seconds=1)
    w.run_once()
    assert [a for a, _ in attempts] == [1, 2, 3]
    assert len({k for _, k in attempts}) == 1  # the same idempotency key on every retry
    shown = rt.show(iid)
    assert shown["status"] == "incident"
    assert "ERP is down" in shown["error"] and shown["incidents"][0]["element_id"] == "b"
    assert [i["status"] for i in rt.list_instances(status="incident")] == ["incident"]
    assert any(h["event"] == "failed" and h["element_id"] == "b" for h in shown["history"])
    clock.advance(minutes=10)
    assert w.run_once() == 0  # an incident waits for a person
    broken["on"] = False
    assert rt.retry(iid)["jobs"] == 1
    w.run_once()
    assert rt.show(iid)["status"] == "completed"
    with pytest.raises(InvalidOperationError):
        rt.retry(iid)


def test_retry_settings_come_from_the_diagram() -> None:
    assert retry_policy({"retries": 5}) == (5, None)
    assert retry_policy({"retry_cycle": "R2/PT10M"}) == (2, [600.0])
    assert retry_policy({"retry_cycle": "PT1M,PT5M"}) == (3, [60.0, 300.0])
    assert retry_policy({}) == (3, None)


def test_camunda_retry_cycle_sets_attempts_and_pause(store, tmp_path: Path) -> None:
    clock = MovableClock()
    tries = []
    body = START + camunda_service("s", "pay", cycle="R2/PT10M") + END + chain("start", "s", "end")
    rt = runtime(store, registry(pay=lambda c: tries.append(1) or 1 / 0), clock)
    iid = rt.start([write(tmp_path, "c7.bpmn", body)])["instance_id"]
    w = worker(rt)
    w.run_once()
    clock.advance(minutes=9)
    assert w.run_once() == 0
    clock.advance(minutes=1)
    w.run_once()
    assert len(tries) == 2 and rt.show(iid)["status"] == "incident"
    assert "ZeroDivisionError" in rt.show(iid)["error"]


def test_uncaught_bpmn_error_is_an_incident_at_once(store, tmp_path: Path) -> None:
    def decline(call):
        raise BpmnError("DECLINED", "card declined")

    rt = runtime(store, registry(step_a=decline, step_b=lambda c: {}, step_c=lambda c: {}), MovableClock())
    iid = rt.start([three_services(tmp_path, retries=5)])["instance_id"]
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "incident" and "DECLINED" in shown["error"]


def test_caught_bpmn_error_takes_the_boundary_path(store, tmp_path: Path) -> None:
    body = (START + zeebe_service("charge", "pay") + '<bpmn:error id="Err" errorCode="DECLINED"/>'
            '<bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="Err"/>'
            '</bpmn:boundaryEvent>' + zeebe_service("tell", "mail") + END + '<bpmn:endEvent id="end_declined"/>'
            + chain("start", "charge", "end") + flow("f_d", "declined", "tell") + flow("f_t", "tell", "end_declined"))

    def pay(call):
        raise BpmnError("DECLINED", "no")

    rt = runtime(store, registry(pay=pay, mail=lambda c: {"told": True}), MovableClock())
    iid = rt.start([write(tmp_path, "err.bpmn", body)])["instance_id"]
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["data"]["told"] is True


# ----- leases -----------------------------------------------------------------------------------------------

def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_complete(store, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(store, registry(step_a=lambda c: {"by": "w2"}, step_b=lambda c: {}, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    first, _ = store.claim_jobs("w1", ["step.a"], now=rt.now(), lease=30, limit=1)
    assert first and first[0].attempts == 1
    assert store.claim_jobs("w2", ["step.a"], now=rt.now(), lease=30)[0] == []  # held
    clock.advance(seconds=31)  # w1 died (or stalled) holding the job
    second, _ = store.claim_jobs("w2", ["step.a"], now=rt.now(), lease=30, limit=1)
    assert second and second[0].attempts == 2  # the expired lease counted as an attempt
    assert "lease of worker w1 expired" in second[0].last_error
    stored = {j.id: j for j in store.jobs_of(iid)}[second[0].id]  # what the claim wrote is what it returned
    assert (stored.locked_by, stored.attempts, stored.last_error) == ("w2", 2, second[0].last_error)
    assert stored.locked_until == second[0].locked_until
    assert rt.complete_service_job(first[0], "w1", {"by": "w1"}) is None  # w1 lost its lease: dropped
    assert rt.complete_service_job(second[0], "w2", {"by": "w2"})["status"] == "running"
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["data"]["by"] == "w2"
    assert all(n == 1 for n in completed_counts(store).values())


def test_a_last_attempt_whose_lease_expired_becomes_an_incident(store, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path, retries=1)])["instance_id"]
    store.claim_jobs("ghost", ["step.a"], now=rt.now(), lease=5, limit=1)
    clock.advance(seconds=6)
    assert worker(rt).run_once() == 0
    shown = rt.show(iid)
    assert shown["status"] == "incident" and "leases expired" in shown["error"]


def test_a_long_handler_keeps_its_lease_with_heartbeats(db_url: str, tmp_path: Path) -> None:
    runs = []

    def slow(call):
        runs.append(call.attempt)
        time.sleep(1.2)
        return {}

    rt = runtime(db_url, registry(step_a=slow, step_b=lambda c: {}, step_c=lambda c: {}))
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    w = worker(rt, "slow", lease=0.4, poll=0.05)
    thread = threading.Thread(target=w.run, kwargs={"until_idle": True})
    thread.start()
    time.sleep(0.6)  # past the first lease: only heartbeats keep the job
    rival = runtime(db_url, registry(step_a=slow))
    assert rival.store.claim_jobs("rival", ["step.a"], now=rival.now(), lease=5)[0] == []
    thread.join(20)
    assert runs == [1] and rt.show(iid)["status"] == "completed"
    rt.store.close()
    rival.store.close()


def test_until_idle_waits_for_a_dead_workers_lease_then_takes_the_job_over(db_url: str, tmp_path: Path) -> None:
    rt = runtime(db_url, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}))
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    claimed, _ = rt.store.claim_jobs("dead", ["step.a"], now=rt.now(), lease=0.8)
    assert claimed
    started = time.monotonic()
    stats = worker(rt, "heir", poll=0.05).run(until_idle=True)
    assert time.monotonic() - started >= 0.5  # it waited for the lease rather than leaving
    assert stats.service == 3 and rt.show(iid)["status"] == "completed"
    rt.store.close()


def test_parallel_branches_completed_by_two_workers_are_each_recorded_once(store, tmp_path: Path) -> None:
    body = (START + '<bpmn:parallelGateway id="split"/>' + zeebe_service("x", "x") + zeebe_service("y", "y")
            + '<bpmn:parallelGateway id="join"/>' + END
            + flow("f0", "start", "split") + flow("f1", "split", "x") + flow("f2", "split", "y")
            + flow("f3", "x", "join") + flow("f4", "y", "join") + flow("f5", "join", "end"))
    rt = runtime(store, registry(x=lambda c: {"x": 1}, y=lambda c: {"y": 2}), MovableClock())
    iid = rt.start([write(tmp_path, "par.bpmn", body)])["instance_id"]
    jx, _ = store.claim_jobs("w1", ["x"], now=rt.now(), lease=30)
    jy, _ = store.claim_jobs("w2", ["y"], now=rt.now(), lease=30)
    other = Runtime(store, rt.handlers, clock=rt.clock)  # a second worker process with its own caches
    assert rt.complete_service_job(jx[0], "w1", {"x": 1})["status"] == "running"
    assert other.complete_service_job(jy[0], "w2", {"y": 2})["status"] == "completed"  # redone on version v+1
    shown = rt.show(iid)
    assert shown["data"]["x"] == 1 and shown["data"]["y"] == 2
    assert all(n == 1 for (i, e), n in completed_counts(store).items() if e != "join")


def test_a_job_is_not_dropped_when_this_worker_kept_an_older_copy_of_its_instance(store, tmp_path: Path) -> None:
    """Two worker threads: one ran step a (and keeps the instance live as of then), the other ran step b; when the
    first then runs step c, its live copy is stale. The step must be redone from the store, not dropped (which
    left the instance `running` for ever)."""
    rt = runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}), MovableClock())
    other = Runtime(store, rt.handlers, clock=rt.clock, commit="each-task")  # the other thread's caches
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    for name, by in (("step.a", rt), ("step.b", other), ("step.c", rt)):
        job, _ = store.claim_jobs("w1", [name], now=rt.now(), lease=30)
        assert by.complete_service_job(job[0], "w1", {}) is not None, name
    assert rt.show(iid)["status"] == "completed"


# ----- timers -----------------------------------------------------------------------------------------------

def test_a_timer_survives_a_restart_and_fires_once_when_due(db_url: str, tmp_path: Path) -> None:
    clock = MovableClock()
    body = START + timer_catch("wait", "PT1H") + camunda_service("after", "after") + END + \
        chain("start", "wait", "after", "end")
    path = write(tmp_path, "timer.bpmn", body)
    first = runtime(db_url, registry(after=lambda c: {"done": True}), clock)
    iid = first.start([path])["instance_id"]
    shown = first.show(iid)
    assert shown["status"] == "waiting" and shown["waiting"][0]["kind"] == "timer"
    assert shown["waiting"][0]["due_at"] == clock().timestamp() + 3600
    assert worker(first).run(until_idle=True).jobs == 0  # a later timer does not keep --until-idle running
    first.store.close()
    path.unlink()  # every worker down, and the files gone: the store has what it needs

    clock.advance(hours=5)
    again = runtime(db_url, registry(after=lambda c: {"done": True}), clock)
    assert again.list_instances()[0]["status"] == "running"  # a due timer is work a worker can do now
    w = worker(again, "w2")
    assert w.run_once() == 2  # the timer, then the service task after it
    assert w.run_once() == 0
    shown = again.show(iid)
    assert shown["status"] == "completed" and shown["data"]["done"] is True
    assert completed_counts(again.store)[(iid, "wait")] == 1
    again.store.close()


def test_interrupting_boundary_timer_cancels_the_user_task(store, tmp_path: Path) -> None:
    clock = MovableClock()
    body = (START + '<bpmn:userTask id="review"/><bpmn:boundaryEvent id="late" attachedToRef="review">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent>' + zeebe_service("escalate", "esc") + END + '<bpmn:endEvent id="end_late"/>'
            + chain("start", "review", "end") + flow("f2", "late", "escalate") + flow("f3", "escalate", "end_late"))
    rt = runtime(store, registry(esc=lambda c: {"escalated": True}), clock)
    iid = rt.start([write(tmp_path, "boundary.bpmn", body)])["instance_id"]
    assert [t["element_id"] for t in rt.list_tasks()] == ["review"]
    clock.advance(days=1)
    assert worker(rt).run_once() == 0
    clock.advance(days=1, seconds=1)
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["data"]["escalated"] is True
    assert rt.list_tasks() == []
    assert any(h["event"] == "cancelled" and h["element_id"] == "review" for h in shown["history"])


def test_non_interrupting_cycle_boundary_timer_reminds_while_the_task_stays_open(store, tmp_path: Path) -> None:
    clock = MovableClock()
    body = (START + '<bpmn:userTask id="review"/><bpmn:boundaryEvent id="remind" attachedToRef="review" '
            'cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle>'
            '</bpmn:timerEventDefinition></bpmn:boundaryEvent>' + zeebe_service("mail", "mail") + END
            + '<bpmn:endEvent id="end_r"/>' + chain("start", "review", "end") + flow("f2", "remind", "mail")
            + flow("f3", "mail", "end_r"))
    sent = []
    rt = runtime(store, registry(mail=lambda c: sent.append(1) or {}), clock)
    iid = rt.start([write(tmp_path, "remind.bpmn", body)])["instance_id"]
    w = worker(rt)
    for _ in range(4):
        clock.advance(hours=1, seconds=1)
        w.run_once()
    assert len(sent) == 2  # R2: two reminders, each fired once
    assert [t["element_id"] for t in rt.list_tasks()] == ["review"]
    rt.complete_task(rt.list_tasks()[0]["task_id"], {})
    assert rt.show(iid)["status"] == "completed"


def test_a_boundary_timer_on_a_service_task_drops_the_running_job(store, tmp_path: Path) -> None:
    clock = MovableClock()
    body = (START + zeebe_service("call", "slow") + '<bpmn:boundaryEvent id="timeout" attachedToRef="call">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>PT30S</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent>' + END + '<bpmn:endEvent id="end_timeout"/>' + chain("start", "call", "end")
            + flow("f_t", "timeout", "end_timeout"))
    rt = runtime(store, registry(slow=lambda c: {"late": True}), clock)
    iid = rt.start([write(tmp_path, "timeout.bpmn", body)])["instance_id"]
    held, _ = store.claim_jobs("w1", ["slow"], now=rt.now(), lease=300)
    clock.advance(seconds=31)
    timers = Runtime(store, None, clock=clock)  # a worker without the handler still runs timers
    assert worker(timers, "w2").run_once() == 1
    assert rt.show(iid)["status"] == "completed"
    assert rt.complete_service_job(held[0], "w1", {"late": True}) is None  # its task was cancelled
    assert "late" not in rt.show(iid)["data"]


def test_timer_start_event_with_a_cycle_starts_a_new_instance_per_repetition(store, tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events ("Timer Start Event": a process
    instance is created each time the timer fires; R3 repeats three times)."""
    clock = MovableClock()
    body = ('<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>'
            '</bpmn:timerEventDefinition></bpmn:startEvent>' + zeebe_service("job", "tick") + END
            + chain("tick", "job", "end"))
    ticks = []
    rt = runtime(store, registry(tick=lambda c: ticks.append(c.instance_id) or {}), clock)
    started = rt.start([write(tmp_path, "cycle.bpmn", body)])
    assert started["status"] == "scheduled" and started["instance_id"] is None
    assert started["timer_starts"][0]["due_at"].startswith("2030-01-01T01:00:00")
    w = worker(rt)
    for _ in range(5):
        clock.advance(hours=1, seconds=1)
        w.run_once()
    assert len(ticks) == 3 and len(set(ticks)) == 3
    assert [i["status"] for i in rt.list_instances()] == ["completed"] * 3
    assert rt.timer_start_jobs() == []


# ----- messages ---------------------------------------------------------------------------------------------

def _payment_process(tmp_path: Path, *, service_first: bool = False) -> Path:
    if service_first:
        body = START + zeebe_service("prep", "prep") + PAID_CATCH + END + chain("start", "prep", "paid", "end")
    else:
        body = START + PAID_CATCH + END + chain("start", "paid", "end")
    return write(tmp_path, "payment.bpmn", body, process_id="payment", extra=ZEEBE_MESSAGE)


def test_a_message_reaches_the_instance_whose_key_matches(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    path = _payment_process(tmp_path)
    one = rt.start([path], data={"orderId": 41})["instance_id"]
    two = rt.start([path], data={"orderId": 42})["instance_id"]
    assert rt.show(two)["waiting"][0]["correlation_key"] == "42"
    out = rt.publish_message("payment-received", correlations={"orderId": "42"}, payload={"amount": 10})
    assert out["outcome"] == "delivered" and out["instance_id"] == two
    assert rt.show(two)["status"] == "completed" and rt.show(two)["data"]["amount"] == 10
    assert rt.show(one)["status"] == "waiting"
    assert rt.show(two)["messages_received"][0]["name"] == "payment-received"


def test_a_message_sent_twice_is_correlated_once(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    iid = rt.start([_payment_process(tmp_path)], data={"orderId": 42})["instance_id"]
    first = rt.publish_message("payment-received", correlations={"orderId": 42}, message_id="pay-42")
    with pytest.raises(InvalidOperationError, match="already published"):
        rt.publish_message("payment-received", correlations={"orderId": 42}, message_id="pay-42")
    again = rt.publish_message("payment-received", correlations={"orderId": 42})
    assert first["outcome"] == "delivered" and again["outcome"] == "buffered"  # nothing waits any more
    assert completed_counts(store)[(iid, "paid")] == 1


def test_a_message_that_arrives_before_the_instance_waits_is_buffered_then_delivered(store, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(store, registry(prep=lambda c: {}), clock)
    iid = rt.start([_payment_process(tmp_path, service_first=True)], data={"orderId": 42})["instance_id"]
    out = rt.publish_message("payment-received", correlations={"orderId": "42"}, payload={"amount": 5}, ttl=600)
    assert out["outcome"] == "buffered"
    worker(rt).run_once()  # prep runs; the instance then waits for the message and takes it from the buffer
    shown = rt.show(iid)
    assert shown["status"] == "completed" and shown["data"]["amount"] == 5
    assert store.count_messages() == {"consumed": 1}


def test_a_buffered_message_expires_after_its_time_to_live(store, tmp_path: Path) -> None:
    clock = MovableClock()
    rt = runtime(store, registry(prep=lambda c: {}), clock)
    iid = rt.start([_payment_process(tmp_path, service_first=True)], data={"orderId": 42})["instance_id"]
    rt.publish_message("payment-received", correlations={"orderId": "42"}, ttl=10)
    clock.advance(seconds=11)
    worker(rt).run_once()
    assert rt.show(iid)["status"] == "waiting"


def test_a_message_that_can_match_nothing_says_so(store, tmp_path: Path) -> None:
    rt = runtime(store, None, MovableClock())
    rt.start([_payment_process(tmp_path)], data={"orderId": 1})
    with pytest.raises(InvalidOperationError, match="no stored process"):
        rt.publish_message("no-such-message", correlations={"orderId": 1})


def test_a_message_start_event_starts_an_instance(store, tmp_path: Path) -> None:
    extra = '<bpmn:message id="Msg_order" name="order-placed"/>'
    body = ('<bpmn:startEvent id="placed"><bpmn:messageEventDefinition messageRef="Msg_order"/></bpmn:startEvent>'
            '<bpmn:userTask id="pack"/>' + END + chain("placed", "pack", "end"))
    rt = runtime(store, None, MovableClock())
    rt.deploy([write(tmp_path, "orders.bpmn", body, process_id="orders", extra=extra)])
    out = rt.publish_message("order-placed", payload={"sku": "BOOK-42"}, business_key="A-7")
    assert out["outcome"] == "started"
    shown = rt.show(out["instance_id"])
    assert shown["process_id"] == "orders" and shown["business_key"] == "A-7"
    assert shown["data"]["sku"] == "BOOK-42" and [t["element_id"] for t in rt.list_tasks()] == ["pack"]


def test_business_key_correlation_in_the_camunda_7_style(store, tmp_path: Path) -> None:
    extra = '<bpmn:message id="Msg" name="approved"/>'
    body = (START + '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Msg"/>'
            '</bpmn:intermediateCatchEvent>' + END + chain("start", "wait", "end"))
    path = write(tmp_path, "c7msg.bpmn", body, extra=extra)
    rt = runtime(store, None, MovableClock())
    a = rt.start([path], business_key="K-1")["instance_id"]
    b = rt.start([path], business_key="K-2")["instance_id"]
    assert rt.publish_message("approved", business_key="K-2")["instance_id"] == b
    assert rt.show(b)["status"] == "completed" and rt.show(a)["status"] == "waiting"


SPIFF_NS_NOTE = "SpiffArena files: payload expressions and correlation properties"


def _spiff_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Buyer throws `ping` (order_id) and waits for `pong`; seller starts on `ping` and answers `pong`. Two files,
    correlated by the SpiffArena correlation property order_id."""
    messages = ('<bpmn:message id="ping" name="ping"/><bpmn:message id="pong" name="pong"/>'
                '<bpmn:correlationProperty id="order_id" name="Order">'
                '<bpmn:correlationPropertyRetrievalExpression messageRef="ping">'
                '<bpmn:formalExpression>order_id</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>'
                '<bpmn:correlationPropertyRetrievalExpression messageRef="pong">'
                '<bpmn:formalExpression>order_id</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>'
                '</bpmn:correlationProperty>')

    def throw(eid: str, ref: str, payload: str, tag: str = "intermediateThrowEvent") -> str:
        return (f'<bpmn:{tag} id="{eid}"><bpmn:messageEventDefinition messageRef="{ref}"><bpmn:extensionElements>'
                f'<spiffworkflow:messagePayload>{payload}</spiffworkflow:messagePayload></bpmn:extensionElements>'
                f'</bpmn:messageEventDefinition></bpmn:{tag}>')

    def catch(eid: str, ref: str, var: str, tag: str = "intermediateCatchEvent") -> str:
        return (f'<bpmn:{tag} id="{eid}"><bpmn:messageEventDefinition messageRef="{ref}"><bpmn:extensionElements>'
                f'<spiffworkflow:messageVariable>{var}</spiffworkflow:messageVariable></bpmn:extensionElements>'
                f'</bpmn:messageEventDefinition></bpmn:{tag}>')

    buyer = (START + throw("ask", "ping", '{"order_id": order_id}') + catch("answer", "pong", "reply") + END
             + chain("start", "ask", "answer", "end"))
    seller = (catch("asked", "ping", "request", tag="startEvent")
              + throw("reply", "pong", '{"order_id": request["order_id"], "status": "shipped"}', tag="endEvent")
              + flow("f1", "asked", "reply"))
    return (write(tmp_path, "buyer.bpmn", buyer, process_id="buyer", extra=messages),
            write(tmp_path, "seller.bpmn", seller, process_id="seller", extra=messages))


def test_a_message_thrown_by_one_instance_reaches_another_across_files(store, tmp_path: Path) -> None:
    buyer, seller = _spiff_pair(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([seller])
    other = rt.start([buyer], data={"order_id": 7})["instance_id"]
    iid = rt.start([buyer], data={"order_id": 42}, business_key="B-42")["instance_id"]
    shown = rt.show(iid)
    assert shown["status"] == "completed", shown
    assert shown["data"]["reply"] == {"order_id": 42, "status": "shipped"}
    assert rt.show(other)["data"]["reply"]["order_id"] == 7
    sellers = rt.list_instances(process_id="seller")
    assert [s["status"] for s in sellers] == ["completed", "completed"]
    assert shown["messages_sent"][0]["name"] == "ping" and shown["messages_received"][0]["name"] == "pong"


def test_a_thrown_message_is_routed_by_a_worker_when_not_routed_at_once(store, tmp_path: Path) -> None:
    buyer, seller = _spiff_pair(tmp_path)
    rt = runtime(store, None, MovableClock())
    rt.deploy([seller])
    rt.process_job_now = lambda job_id: None  # as if the process that threw it died right after its commit
    iid = rt.start([buyer], data={"order_id": 42})["instance_id"]
    assert rt.show(iid)["status"] == "waiting"
    other = runtime(store, None, rt.clock)
    worker(other).run_once()
    assert rt.show(iid)["status"] == "completed"


# ----- signals, people, cancellation ------------------------------------------------------------------------

def test_a_signal_reaches_every_waiting_instance(store, tmp_path: Path) -> None:
    extra = '<bpmn:signal id="Sig" name="recall"/>'
    body = (START + '<bpmn:intermediateCatchEvent id="hear"><bpmn:signalEventDefinition signalRef="Sig"/>'
            '</bpmn:intermediateCatchEvent>' + END + chain("start", "hear", "end"))
    path = write(tmp_path, "signal.bpmn", body, extra=extra)
    rt = runtime(store, None, MovableClock())
    ids = [rt.start([path])["instance_id"] for _ in range(2)]
    out = rt.send_signal("recall", {"why": "batch 7"})
    assert sorted(out["delivered"]) == sorted(ids)
    assert all(rt.show(i)["status"] == "completed" for i in ids)
    with pytest.raises(InvalidOperationError):
        rt.send_signal("nobody-listens")


def test_a_user_task_is_listed_with_its_form_and_completed_with_data(store, tmp_path: Path) -> None:
    rt = runtime(store, registry(record=lambda c: {"recorded": c.data["approved"]}), MovableClock())
    iid = rt.start([user_task_process(tmp_path)])["instance_id"]
    tasks = rt.list_tasks()
    assert [(t["element_id"], t["instance_id"]) for t in tasks] == [("review", iid)]
    assert [f["id"] for f in tasks[0]["fields"]] == ["approved", "note"]
    out = rt.complete_task(tasks[0]["task_id"], {"approved": True, "note": "fine"})
    assert out["status"] == "running"
    worker(rt).run_once()
    assert rt.show(iid)["data"]["recorded"] is True
    with pytest.raises(Exception):
        rt.complete_task(tasks[0]["task_id"], {})


def test_an_open_task_keeps_its_place_when_its_instance_moves_and_a_done_one_leaves_the_list(
        store, tmp_path: Path) -> None:
    """Tasklist lists open tasks oldest first: a claim (a step that keeps the task open) does not make it new;
    completing it takes it off the list in the same commit (on PostgreSQL the waits change in the step's one
    statement)."""
    clock = MovableClock()
    rt = runtime(store, registry(record=lambda c: {}), clock)
    first = rt.start([user_task_process(tmp_path)])["instance_id"]
    clock.advance(seconds=10)
    second = rt.start([user_task_process(tmp_path)])["instance_id"]
    clock.advance(seconds=10)
    task = rt.list_tasks(first)[0]["task_id"]
    rt.claim_task(task, "mary")
    listed = rt.list_tasks()
    assert [t["instance_id"] for t in listed] == [first, second]
    assert listed[0]["assignment"]["assignee"] == "mary"
    assert listed[1]["since"] - listed[0]["since"] == 10  # the claim, 20 s in, did not make the first task new
    rt.complete_task(task, {"approved": True})
    assert [t["instance_id"] for t in rt.list_tasks()] == [second]
    assert store.find_waits("user", instance_id=first) == []


def test_an_instance_started_in_one_thread_goes_on_from_memory_in_a_worker_thread(db_url: str,
                                                                                   tmp_path: Path) -> None:
    """As `serve` runs: a request thread starts instances, worker threads carry them on, from the instances
    still in memory (no read of the store, no restore), and every step still commits."""
    rt = runtime(db_url, registry(step_a=lambda c: {"a": 1}, step_b=lambda c: {"b": 2}, step_c=lambda c: {"c": 3}))
    ids = [rt.start([three_services(tmp_path)])["instance_id"] for _ in range(6)]
    reads: list[str] = []
    load = rt.store.load_for_step
    rt.store.load_for_step = lambda instance_id: reads.append(instance_id) or load(instance_id)  # type: ignore
    done = threading.Thread(target=lambda: Worker(rt, worker_id="w", concurrency=2, poll=0.01).run(until_idle=True))
    done.start()
    done.join(60)
    assert reads == []
    assert [rt.show(i)["data"] for i in ids] == [{"a": 1, "b": 2, "c": 3}] * 6
    rt.store.close()


def test_cancel_removes_jobs_and_waits_and_keeps_history(store, tmp_path: Path) -> None:
    rt = runtime(store, registry(step_a=lambda c: {}), MovableClock())
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    assert rt.cancel(iid)["status"] == "cancelled"
    shown = rt.show(iid)
    assert shown["status"] == "cancelled" and shown["jobs"] == []
    assert any(h["event"] == "cancelled" and h["element_id"] == "a" for h in shown["history"])
    assert worker(rt).run_once() == 0
    with pytest.raises(InvalidOperationError):
        rt.cancel(iid)


def test_worker_runs_with_several_threads(db_url: str, tmp_path: Path) -> None:
    lock = threading.Lock()
    seen: list[str] = []

    def record(call):
        with lock:
            seen.append(call.idempotency_key)
        time.sleep(0.01)
        return {}

    rt = runtime(db_url, registry(step_a=record, step_b=record, step_c=record))
    path = three_services(tmp_path)
    ids = [rt.start([path])["instance_id"] for _ in range(8)]
    stats = worker(rt, concurrency=4, poll=0.05).run(until_idle=True)
    assert stats.service == 24 and len(set(seen)) == 24
    assert all(rt.show(i)["status"] == "completed" for i in ids)
    rt.store.close()


def test_definitions_load_from_the_store_on_a_worker_without_the_files(db_url: str, tmp_path: Path) -> None:
    path = three_services(tmp_path)
    starter = runtime(db_url)
    iid = starter.start([path])["instance_id"]
    path.unlink()
    remote = Runtime(open_store(db_url), registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}))
    worker(remote).run_once()
    assert remote.show(iid)["status"] == "completed"
    starter.store.close()
    remote.store.close()

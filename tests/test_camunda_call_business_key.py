"""`camunda:in businessKey` on call activities: the called instance's business key.

docs.camunda.org/manual/latest/reference/bpmn20/subprocesses/call-activity ("Passing Business Key": `<camunda:in
businessKey="#{execution.processBusinessKey}" />` gives the called instance the calling instance's business key;
without it the called instance has none)."""

from __future__ import annotations

from pathlib import Path

from bpmn_runner import Engine, load

from .durable import MovableClock, runtime, worker
from .durable import registry as durable_registry
from .scenario import registry, write
from .test_elements import END, START, chain

PASS_KEY = '<camunda:in businessKey="#{execution.processBusinessKey}"/>'


def diagrams(tmp_path: Path, passing: str = PASS_KEY) -> Path:
    child = ('<bpmn:serviceTask id="ship" camunda:type="external" camunda:topic="ship"><bpmn:extensionElements>'
             '<camunda:inputOutput><camunda:outputParameter name="shippedFor">${execution.processBusinessKey}'
             '</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    write(tmp_path, START + child + END + chain("start", "ship", "end"), name="shipping.bpmn", process_id="shipping")
    call = (f'<bpmn:callActivity id="call" calledElement="shipping"><bpmn:extensionElements>{passing}'
            '<camunda:out source="shippedFor" target="shippedFor"/></bpmn:extensionElements></bpmn:callActivity>')
    return write(tmp_path, START + call + END + chain("start", "call", "end"), name="order.bpmn", process_id="order")


def test_the_called_instance_gets_the_business_key_passed_in_memory(tmp_path: Path) -> None:
    """call-activity page: the called instance's business key is the calling instance's; its handler (as an
    external task's getBusinessKey()) and its expressions see it."""
    seen: list = []
    reg = registry(ship=lambda call: seen.append(call.business_key) or None)
    instance = Engine(reg).start(load([diagrams(tmp_path)], search_siblings=True), "order", {},
                                 business_key="ORDER-7")
    result = instance.run()
    assert result.status == "completed", result.error
    assert seen == ["ORDER-7"] and result.data["shippedFor"] == "ORDER-7"
    assert instance.business_key == "ORDER-7"


def test_without_business_key_passing_the_called_instance_has_none(tmp_path: Path) -> None:
    """call-activity page: only what camunda:in passes reaches the called instance, the business key too."""
    seen: list = []
    reg = registry(ship=lambda call: seen.append(call.business_key) or None)
    instance = Engine(reg).start(load([diagrams(tmp_path, passing="")], search_siblings=True), "order", {},
                                 business_key="ORDER-7")
    result = instance.run()
    assert result.status == "completed", result.error
    assert seen == [None] and result.data["shippedFor"] is None


def test_the_stored_called_instance_keeps_the_passed_business_key_for_the_worker(store, tmp_path: Path) -> None:
    """call-activity page, in the store: the external task in the called process is a job whose call carries the
    business key passed in, after the instance was saved and restored."""
    seen: list = []
    rt = runtime(store, durable_registry(ship=lambda call: seen.append(call.business_key) or {}), MovableClock())
    started = rt.start([diagrams(tmp_path)], "order", business_key="ORDER-9")
    assert started["business_key"] == "ORDER-9" and started["status"] == "running"
    rt.steps.live.clear()  # the worker restores the instance from the store
    worker(rt).run_once()
    shown = rt.show(started["instance_id"])
    assert seen == ["ORDER-9"] and shown["status"] == "completed" and shown["data"]["shippedFor"] == "ORDER-9"

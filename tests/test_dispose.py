"""A durable instance the runtime is done with is freed at once: an ended instance once its step is committed, and
a live one the runtime's live cache drops. Their task trees are cycles (a task points at its workflow and its
parent), which only Python's cyclic garbage collector would free otherwise, at a cost a worker notices
(bench/README.md)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bpmn_runner.durable.live import LiveInstances

from .durable import END, START, chain, registry, runtime, write, zeebe_service

_ENGINE_MODULES = ("SpiffWorkflow", "bpmn_runner")


@contextmanager
def engine_garbage() -> Iterator[list[str]]:
    """The engine objects (by type) that only the cyclic garbage collector could free, of what ran inside."""
    found: list[str] = []
    gc.collect()
    gc.disable()  # else a collection in between frees them before they are counted
    try:
        yield found
    finally:
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            found.extend(sorted({type(o).__qualname__ for o in gc.garbage
                                 if type(o).__module__.startswith(_ENGINE_MODULES)}))
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()


def _subprocess_diagram(folder: Path) -> Path:
    inner = (START.replace('"start"', '"in_start"') + zeebe_service("work", "work")
             + END.replace('"end"', '"in_end"') + chain("in_start", "work", "in_end"))
    body = (START + f'<bpmn:subProcess id="sub">{inner}</bpmn:subProcess>' + zeebe_service("after", "work") + END
            + chain("start", "sub", "after", "end"))
    return write(folder, "sub.bpmn", body, process_id="with_sub")


def _review(folder: Path) -> Path:
    body = START + '<bpmn:userTask id="review" name="Review"/>' + END + chain("start", "review", "end")
    return write(folder, "review.bpmn", body, process_id="approval")


def test_ended_instances_leave_nothing_for_the_garbage_collector(store, tmp_path: Path) -> None:
    """Given instances that end in their first step (one with an embedded subprocess) and one that ends when its
    user task is completed, When they have ended, Then none of their engine objects waits for the garbage
    collector, and the store has them all completed."""
    rt = runtime(store, registry(work=lambda call: {"done": True}), commit="wait-states")
    sub, review = _subprocess_diagram(tmp_path), _review(tmp_path)
    rt.start([sub])  # deploys, warms the caches
    with engine_garbage() as left:
        ended = [rt.start([sub])["instance_id"] for _ in range(3)]
        waiting = rt.start([review])["instance_id"]
        task = rt.list_tasks(waiting)[0]["task_id"]
        rt.complete_task(task, {"approved": True})
    assert left == []
    assert {rt.show(i)["status"] for i in [*ended, waiting]} == {"completed"}
    assert rt.show(ended[0])["data"]["done"] is True


def test_an_instance_the_live_cache_drops_is_freed_and_goes_on_from_the_store(store, tmp_path: Path) -> None:
    """Given a live cache that keeps one instance, When a second waiting instance pushes the first out, Then the
    first is freed at once and still completes: its next step restores it from the store; so does the second
    once the cache is cleared."""
    rt = runtime(store, registry(), commit="wait-states")
    review = _review(tmp_path)
    live = LiveInstances(size=1)
    with engine_garbage() as left:
        first = rt.start([review])["instance_id"]
        second = rt.start([review])["instance_id"]
        for instance_id in (first, second):
            cached = rt.steps.live.take(instance_id)  # this runtime's own cache hands them over
            assert cached is not None
            live.put(cached)
        del cached  # the cache alone holds them now
        assert live.take(first) is None
        kept = live.take(second)  # held: not garbage
    assert kept is not None and left == []
    task = rt.list_tasks(first)[0]["task_id"]
    assert rt.complete_task(task, {"approved": False})["status"] == "completed"
    live.put(kept)
    live.clear()  # disposes of the second
    kept.instance.dispose()  # again: nothing happens
    task = rt.list_tasks(second)[0]["task_id"]
    assert rt.complete_task(task, {"approved": True})["status"] == "completed"

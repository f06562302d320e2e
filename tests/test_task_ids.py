"""Task ids are what `complete TASK_ID` and the store's waits name: unique across the instances of a process, of its
threads and of the workers it forks, and the same ids after a save and restore."""

from __future__ import annotations

import multiprocessing
import threading
from uuid import UUID

from bpmn_runner._spiff.task_ids import new_task_id


def _ids_in_child(queue: "multiprocessing.Queue[list[str]]") -> None:
    queue.put([str(new_task_id()) for _ in range(1000)])


def test_task_ids_are_unique_across_threads_and_forked_workers_and_read_as_version_4_uuids() -> None:
    made: list[str] = []

    def make() -> None:
        made.extend(str(new_task_id()) for _ in range(5000))
    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_ids_in_child, args=(queue,))
    child.start()
    from_child = queue.get(timeout=30)
    child.join(timeout=30)
    from_parent = [str(new_task_id()) for _ in range(1000)]
    everything = made + from_child + from_parent
    assert len(set(everything)) == len(everything) == 22000
    assert all(UUID(text).version == 4 for text in everything[::997])


def test_a_task_id_and_the_uuid_read_back_from_its_text_are_the_same_key() -> None:
    task_id = new_task_id()
    restored = UUID(str(task_id))
    assert restored == task_id and hash(restored) == hash(task_id)
    assert {restored: "task"}[task_id] == "task" and {task_id: "task"}[restored] == "task"

"""Write the saved-state fixtures of this folder with whatever bpmn-runner is first on sys.path.

The fixtures were made with older versions, to prove that states they saved still load:

    git archive 616b499 | tar -x -C /tmp/old-616b499
    PYTHONPATH=/tmp/old-616b499 .venv/bin/python tests/data/states/make_states.py 616b499 "job mode, before the store"
    .venv/bin/python tests/data/states/make_states.py store-v1

Each fixture holds the state, the diagram files it belongs to (beside it), and how to finish the instance.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import bpmn_runner
from bpmn_runner import Engine, HandlerRegistry, load

HERE = Path(__file__).resolve().parent
CLOCK = datetime(2030, 1, 1, tzinfo=timezone.utc)
TOPICS = ["record", "after", "step.a", "step.b", "step.c", "erp.check-stock", "erp.reserve-stock",
          "payment.charge", "crm.update-order", "logistics.book-shipment", "mail.notify-shipped",
          "mail.notify-declined", "mail.notify-backorder", "erp.create-backorder"]


def engine() -> Engine:
    registry = HandlerRegistry()
    for topic in TOPICS:
        registry.register(topic, lambda call: {})
    return Engine(registry, jobs=True, timer_wait=0, clock=lambda: CLOCK)


def save(label: str, note: str, name: str, files: list[str], data: dict, resume: list[dict], expect: dict,
         before: list[dict] | None = None) -> None:
    definitions = load([HERE / f for f in files])
    eng = engine()
    instance = eng.start(definitions, None, data)
    instance.run()
    for step in before or []:  # move it to the wait we want to save at
        job = next(j for j in instance.take_new_jobs() if j.call.element_id == step["service"])
        instance.complete_service_task(job.task_id, step["result"])
        instance.run()
    fixture = {"saved_by": f"bpmn-runner {getattr(bpmn_runner, '__version__', '0.1.0')} at commit {label} ({note})",
               "files": files, "process_id": instance.process_id, "instance_id": instance.instance_id,
               "waiting": [w.element_id for w in instance.waiting()], "state": instance.state(),
               "resume": resume, "expect": expect}
    target = HERE / f"{name}@{label}.json"
    # never sort_keys: SpiffWorkflow rebuilds task data from deltas in the order the tasks are listed
    target.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target.name}: waits at {fixture['waiting']}")


def main(label: str, note: str) -> None:
    save(label, note, "user-task", ["approval.bpmn"], {"amount": 12},
         [{"complete_user_task": "review", "data": {"approved": True, "note": "ok"}},
          {"service": "record", "result": {"recorded": True}}],
         {"status": "completed", "data": {"approved": True, "recorded": True, "amount": 12}})
    save(label, note, "timer", ["timer.bpmn"], {"x": 1},
         [{"fire_timers_after_hours": 2}, {"service": "after", "result": {"done": True}}],
         {"status": "completed", "data": {"done": True, "x": 1}})
    save(label, note, "message", ["payment.bpmn"], {"orderId": 42},
         [{"message": "payment-received", "payload": {"amount": 10}}],
         {"status": "completed", "data": {"orderId": 42, "amount": 10}})
    save(label, note, "service-job", ["three.bpmn"], {},
         [{"service": "b", "result": {"b": 2}}, {"service": "c", "result": {"c": 3}}],
         {"status": "completed", "data": {"a": 1, "b": 2, "c": 3}}, before=[{"service": "a", "result": {"a": 1}}])




def store_v1(target: Path) -> None:
    """A store at schema version 1 (before `instances.ended_at`), as rows per table: one completed instance and
    one waiting at a user task. Made with the schema 2 store, then cut to the version 1 columns."""
    import tempfile

    from sqlalchemy import select

    from bpmn_runner.durable import Runtime
    from bpmn_runner.store import open_store
    from bpmn_runner.store import schema

    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/v1.db")
        ids = iter(f"{n:032x}" for n in range(1, 1000))
        rt = Runtime(store, clock=lambda: CLOCK, id_factory=lambda: next(ids))
        done = rt.start([HERE / "approval.bpmn"], data={"amount": 1}, business_key="B-1")
        rt.complete_task(rt.list_tasks()[0]["task_id"], {"approved": False})
        rt.complete_service_job(store.claim_jobs("w", ["record"], now=rt.now(), lease=60)[0][0], "w", {})
        rt.start([HERE / "approval.bpmn"], data={"amount": 2}, business_key="B-1")
        assert rt.show(done["instance_id"])["status"] == "completed"
        tables = {}
        with store.engine.connect() as conn:
            for table in (schema.definitions, schema.processes, schema.instances, schema.jobs, schema.history,
                          schema.waits, schema.messages):
                rows = [dict(r._mapping) for r in conn.execute(select(table))]
                for row in rows:
                    row.pop("ended_at", None)
                    row.pop("id", None) if table is schema.history else None
                tables[table.name] = rows
        store.close()
    target.write_text(json.dumps({"schema_version": 1, "tables": tables}, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
    print(f"wrote {target.name}")


if __name__ == "__main__":
    if sys.argv[1] == "store-v1":
        store_v1(HERE / "store-v1.json")
    else:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")

"""Build a large PostgreSQL store for bench/store_queries.py (issue 15, item 3), run by hand:

    .venv/bin/python bench/gen_store.py --schema big_store                      # 1,000,000 instances, 10,000,000
    .venv/bin/python bench/gen_store.py --schema big_store --instances 100000   #   history rows (10 per instance)
    .venv/bin/python bench/gen_store.py --schema big_store --drop               # remove it (it is large)

The schema is created in the database of `--pg` and migrated by bpmn-runner itself. Three real instances of an
approval process (start, a user task, a service task, end) are run first, as templates: one waiting at the user
task, one running (its service job due), one completed. The bulk rows are copies of them made by the server with
generate_series (no row crosses the network): 94% completed, 3% waiting at the user task, 2% running, 0.5% in an
incident, 0.5% cancelled; ids are md5 hex strings (random order, like uuid4().hex); business keys BK-<n>; created
a second apart. The secondary indexes are dropped for the load and built again after it, then ANALYZE.
Prints the URL to give store_queries.py and how long each part took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.store_bench import DEFAULT_PG  # noqa: E402
from bpmn_runner import HandlerRegistry  # noqa: E402
from bpmn_runner.durable import Runtime  # noqa: E402
from bpmn_runner.store import open_store, schema  # noqa: E402
from tests.durable import user_task_process  # noqa: E402

STATUS_OF = """CASE WHEN mod(g, 200) < 188 THEN 'completed' WHEN mod(g, 200) < 194 THEN 'waiting'
                    WHEN mod(g, 200) < 198 THEN 'running' WHEN mod(g, 200) = 198 THEN 'incident' ELSE 'cancelled' END"""
TEMPLATE_OF = """CASE WHEN mod(g, 200) < 188 OR mod(g, 200) = 199 THEN 'completed' WHEN mod(g, 200) < 194 THEN 'waiting'
                      ELSE 'running' END"""
HISTORY = [("start", "entered", "StartEvent"), ("start", "completed", "StartEvent"), ("f1", "taken", "sequenceFlow"),
           ("review", "entered", "UserTask"), ("review", "completed", "UserTask"), ("f2", "taken", "sequenceFlow"),
           ("record", "entered", "ServiceTask"), ("record", "completed", "ServiceTask"),
           ("end", "entered", "EndEvent"), ("end", "completed", "EndEvent")]


def schema_url(base: str, name: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={name}')}"


def templates(url: str) -> dict[str, str]:
    """Run the three template instances; returns their ids by kind."""
    handlers = HandlerRegistry()
    handlers.register("record", lambda call: {"recorded": True})
    store = open_store(url)
    runtime = Runtime(store, handlers, worker_id="gen")
    with tempfile.TemporaryDirectory() as folder:
        path = user_task_process(Path(folder))
        ids = {kind: runtime.start([path], data={"amount": 12, "customer": "ACME"})["instance_id"]
               for kind in ("waiting", "running", "completed")}
    for kind in ("running", "completed"):
        task = next(t for t in runtime.list_tasks() if t["instance_id"] == ids[kind])
        runtime.complete_task(task["task_id"], {"approved": True, "note": "ok"})
    job = store.claim_jobs("gen", ["record"], now=runtime.now(), lease=60, ids=[
        j.id for j in store.jobs_of(ids["completed"])])[0][0]
    runtime.complete_service_job(job, "gen", {"recorded": True})
    store.close()
    return ids


def generate(conn: psycopg.Connection, ids: dict[str, str], count: int) -> dict[str, float]:
    took: dict[str, float] = {}
    conn.execute("SET synchronous_commit TO OFF")
    conn.execute("SET maintenance_work_mem TO '256MB'")
    secondary = [i for t in (schema.instances, schema.history, schema.jobs, schema.waits) for i in t.indexes
                 if not i.unique]
    for index in secondary:
        conn.execute(f"DROP INDEX IF EXISTS {index.name}")
    conn.execute("CREATE TEMP TABLE template AS SELECT CASE id WHEN %s THEN 'waiting' WHEN %s THEN 'running' "
                 "ELSE 'completed' END AS kind, * FROM instances WHERE id IN (%s, %s, %s)",
                 (ids["waiting"], ids["running"], ids["waiting"], ids["running"], ids["completed"]))
    started = time.perf_counter()
    conn.execute(f"""
        INSERT INTO instances (id, definition_hash, process_id, business_key, status, state, version, data, waiting,
                               error, created_at, updated_at, ended_at)
        SELECT md5(g::text), t.definition_hash, t.process_id, 'BK-' || g, {STATUS_OF}, t.state, t.version, t.data,
               CASE WHEN mod(g, 200) >= 188 AND mod(g, 200) < 198 THEN t.waiting ELSE '[]' END,
               CASE WHEN mod(g, 200) = 198 THEN 'handler record failed: the ERP is down' END,
               extract(epoch from now()) - %(n)s + g, extract(epoch from now()) - %(n)s + g + 5,
               CASE WHEN mod(g, 200) < 188 OR mod(g, 200) = 199 THEN extract(epoch from now()) - %(n)s + g + 5 END
        FROM generate_series(1, %(n)s) g JOIN template t ON t.kind = {TEMPLATE_OF}""", {"n": count})
    took["instances"] = time.perf_counter() - started
    started = time.perf_counter()
    values = ", ".join(f"({k}, '{e}', '{ev}', '{tp}')" for k, (e, ev, tp) in enumerate(HISTORY))
    conn.execute(f"""
        INSERT INTO history (instance_id, process_id, element_id, event, at, element_type, name, data_changes, detail)
        SELECT md5(g::text), 'approval', h.element_id, h.event, extract(epoch from now()) - %(n)s + g + h.k * 0.5,
               h.element_type, '', CASE WHEN h.event = 'completed' THEN '{{"approved": true}}' ELSE '{{}}' END, ''
        FROM generate_series(1, %(n)s) g CROSS JOIN (VALUES {values}) AS h(k, element_id, event, element_type)""",
                 {"n": count})
    took["history"] = time.perf_counter() - started
    started = time.perf_counter()
    job = conn.execute("SELECT payload, task_id FROM jobs WHERE instance_id = %s", (ids["running"],)).fetchone()
    conn.execute("""
        INSERT INTO jobs (id, instance_id, kind, task_id, element_id, handler, payload, status, due_at, attempts,
                          max_attempts, created_at, last_error)
        SELECT md5('job' || g), md5(g::text), 'service', md5('task' || g), 'record', 'record', %(payload)s,
               CASE WHEN mod(g, 200) = 198 THEN 'incident' ELSE 'ready' END,
               extract(epoch from now()) - %(n)s + g + 5, CASE WHEN mod(g, 200) = 198 THEN 3 ELSE 0 END, 3,
               extract(epoch from now()) - %(n)s + g + 5,
               CASE WHEN mod(g, 200) = 198 THEN 'handler record failed: the ERP is down' END
        FROM generate_series(1, %(n)s) g WHERE mod(g, 200) >= 194 AND mod(g, 200) < 199""",
                 {"n": count, "payload": job[0]})
    wait = conn.execute("SELECT form FROM waits WHERE instance_id = %s", (ids["waiting"],)).fetchone()
    conn.execute("""
        INSERT INTO waits (instance_id, task_id, kind, event_name, element_id, name, correlation_key, form, created_at)
        SELECT md5(g::text), md5('task' || g), 'user', '', 'review', 'Review', NULL, %(form)s,
               extract(epoch from now()) - %(n)s + g + 1
        FROM generate_series(1, %(n)s) g WHERE mod(g, 200) >= 188 AND mod(g, 200) < 194""",
                 {"n": count, "form": wait[0]})
    took["jobs_waits"] = time.perf_counter() - started
    started = time.perf_counter()
    for index in secondary:
        columns = ", ".join(c.name for c in index.columns)
        conn.execute(f"CREATE INDEX {index.name} ON {index.table.name} ({columns})")
    took["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("ANALYZE")
    took["analyze"] = time.perf_counter() - started
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--schema", default="big_store")
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--drop", action="store_true", help="drop the schema and stop")
    args = parser.parse_args()
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')
        if args.drop:
            print(f"dropped schema {args.schema}")
            return
        conn.execute(f'CREATE SCHEMA "{args.schema}"')
    url = schema_url(args.pg, args.schema)
    started = time.perf_counter()
    ids = templates(url)
    with psycopg.connect(url, autocommit=True) as conn:
        took = generate(conn, ids, args.instances)
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("instances", "history", "jobs", "waits")}
        size = conn.execute("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                            (args.schema,)).fetchone()[0]
    print(f"schema {args.schema}: {rows} ({size}) in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()))
    print(f"url: {url}")


if __name__ == "__main__":
    main()

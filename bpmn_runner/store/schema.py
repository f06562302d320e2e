"""The store's tables as they are now (SQLAlchemy Core), and the schema version they belong to.

`migrations.py` builds these tables step by step from version 1; `tests/test_store.py` checks that the tables a
migrated database ends up with are exactly the ones declared here.

Times are seconds since the epoch (floats), JSON is stored as text: the same bytes on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Float, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table,
                        Text, UniqueConstraint)

SCHEMA_VERSION = 8

#: Instance statuses; the first three are "open". A business key need not be unique (as in Camunda 7).
OPEN_STATUSES = ("running", "waiting", "incident")
ENDED_STATUSES = ("completed", "failed", "cancelled")
STATUSES = OPEN_STATUSES + ENDED_STATUSES
metadata = MetaData()

#: One row per distinct set of diagram files (keyed by the sha256 of their contents); sources kept so a worker
#: on another host can load them without the files.
definitions = Table(
    "definitions", metadata,
    Column("hash", String(64), primary_key=True),
    Column("family", String(16), nullable=False),
    Column("process_ids", Text, nullable=False),          # JSON list of executable process ids
    Column("sources", Text, nullable=False),              # JSON list of {"name", "text"}
    Column("catalog", Text, nullable=False),              # JSON: messages, start events (see runtime)
    Column("created_at", Float, nullable=False),
)

#: Version numbers per process id: 1, 2, ... each time a changed file set defines the process.
processes = Table(
    "processes", metadata,
    Column("process_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("process_id", "version", name="pk_processes"),
    UniqueConstraint("process_id", "definition_hash", name="uq_processes_hash"),
)

instances = Table(
    "instances", metadata,
    Column("id", String(64), primary_key=True),
    Column("definition_hash", String(64), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("business_key", String(255)),
    Column("status", String(16), nullable=False),
    # the engine state without the spec: JSON as text, never JSONB, whose key order is its own (SpiffWorkflow
    # rebuilds task data from deltas in the order the tasks are listed)
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False),           # optimistic concurrency: + 1 on every step
    Column("data", Text, nullable=False),                 # the process variables after the last step (JSON)
    Column("waiting", Text, nullable=False),              # where it waits (JSON list)
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("ended_at", Float),                            # since schema version 2
    # every listing is oldest first, filtered by nothing, a status or a process, and paged on (created_at, id)
    Index("ix_instances_created", "created_at", "id"),                         # since schema version 3
    Index("ix_instances_status_created", "status", "created_at", "id"),        # since 3 (was status only)
    Index("ix_instances_process_created", "process_id", "created_at", "id"),   # since 3 (was process_id only)
    Index("ix_instances_business_key", "business_key"),                        # since 3: any status
    Index("ix_instances_ended", "ended_at"),                                   # since 3: cleanup
    # (until version 3 a unique index kept business keys unique among open instances; Camunda 7 does not)
)

#: Work a worker can claim: service calls, timers and message deliveries, each with a due time and a lease.
jobs = Table(
    "jobs", metadata,
    Column("id", String(64), primary_key=True),
    Column("instance_id", String(64)),                    # null for a message not routed to an instance yet
    Column("kind", String(16), nullable=False),           # service | timer | message | async (a continuation)
    Column("task_id", String(64), nullable=False),        # engine task id (a message job: the message id)
    Column("element_id", String(255), nullable=False),
    Column("handler", String(255)),                       # service jobs: the handler name (job type / topic)
    Column("payload", Text, nullable=False),              # JSON
    Column("status", String(16), nullable=False),         # ready | incident
    Column("due_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("backoff", Text),                              # JSON list of seconds, or null for the default
    Column("locked_by", String(128)),
    Column("locked_until", Float),
    Column("last_error", Text),
    Column("last_traceback", Text),                       # since 4: the failing handler's traceback
    Column("created_at", Float, nullable=False),
    Index("ix_jobs_due", "status", "due_at"),                                  # claims
    Index("ix_jobs_kind_due", "kind", "status", "due_at"),                     # since 3: due timers
    Index("ix_jobs_instance", "instance_id"),
)

#: Append-only element events (entered, completed, failed, cancelled; `taken` for sequence flows). A `completed` row
#: with `started_at` also stands for the element's `entered` event at that time (one row per activity instance, as
#: Camunda 7's ACT_HI_ACTINST); store/rows.history_dicts reads it back as the two events.
history = Table(
    "history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("instance_id", String(64), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("event", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("element_type", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("data_changes", Text, nullable=False),         # JSON
    Column("detail", Text, nullable=False),
    Column("started_at", Float),  # since 8: a `completed` row whose element was entered in the same step
    Index("ix_history_instance", "instance_id", "id"),
)

#: What open instances wait for that someone outside can give: user tasks, messages (with the correlation key
#: value as a string), signals. Replaced as a whole for an instance at every step.
waits = Table(
    "waits", metadata,
    Column("instance_id", String(64), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),           # user | manual | message | signal
    Column("event_name", String(255), nullable=False),    # message or signal name ('' for user tasks)
    Column("element_id", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("correlation_key", String(255)),               # null: any message of that name matches
    Column("form", Text, nullable=False),                 # JSON list of form fields
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("instance_id", "task_id", "kind", "event_name", name="pk_waits"),
    Index("ix_waits_event", "kind", "event_name", "correlation_key"),
    Index("ix_waits_task", "task_id"),
    Index("ix_waits_kind_created", "kind", "created_at", "instance_id"),      # since 3: `tasks`, oldest first
)

#: Messages: thrown by instances (pending until routed), published and buffered until their time to live,
#: or consumed (kept for `show` and for duplicate message ids).
messages = Table(
    "messages", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("correlation_key", String(255)),
    Column("business_key", String(255)),
    Column("payload", Text, nullable=False),              # JSON
    Column("message_id", String(255), unique=True),       # optional publisher id: a second publish is refused
    Column("status", String(16), nullable=False),         # pending | buffered | consumed | expired
    Column("source_instance_id", String(64)),
    Column("target_instance_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("consumed_at", Float),
    Index("ix_messages_name", "status", "name"),
    Index("ix_messages_target", "target_instance_id"),
    Index("ix_messages_source", "source_instance_id"),
)

#: The broker bridge's outbox (since 5): one row per message a step threw, written in the step's own transaction
#: (so a rolled-back step leaves none), published by `bpmn-runner bridge` after commit with `id` as the
#: CloudEvents id; a bridge leases the rows it publishes, so several bridges share the work. Rows of messages no
#: outbound route names stay unpublished.
outbox = Table(
    "outbox", metadata,
    Column("id", String(64), primary_key=True),           # the thrown message's id: stable across re-publishes
    Column("name", String(255), nullable=False),
    Column("instance_id", String(64), nullable=False),
    Column("business_key", String(255)),
    Column("correlation_key", String(255)),
    Column("payload", Text, nullable=False),              # JSON
    Column("created_at", Float, nullable=False),
    Column("published_at", Float),                        # null until a bridge's broker confirmed it
    Column("locked_by", String(128)),                     # the bridge publishing it now (one of several)
    Column("locked_until", Float),
    Index("ix_outbox_pending", "published_at", "name", "created_at"),
    Index("ix_outbox_instance", "instance_id"),
)

#: The broker bridge's inbox (since 5): one row per inbound event id, written in the transaction that stores the
#: event as a message, so the same event id delivered twice correlates once.
inbox = Table(
    "inbox", metadata,
    Column("event_id", String(255), primary_key=True),    # "<CloudEvents source> <id>"
    Column("message_id", String(64), nullable=False),     # the message the event became
    Column("received_at", Float, nullable=False),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, nullable=False),
)

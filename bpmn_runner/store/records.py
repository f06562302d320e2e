"""Plain records the store reads and writes: what crosses between the store and the runtime (never a live
workflow, never a SQLAlchemy row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection

from ..errors import LeaseLostError  # noqa: F401  re-exported from its old home


@dataclass
class DefinitionRecord:
    hash: str
    family: str
    process_ids: list[str]
    sources: list[dict[str, str]]           # {"name", "text", "encoding"}: the files as stored
    catalog: dict[str, Any]
    created_at: float = 0.0


@dataclass
class InstanceRecord:
    id: str
    definition_hash: str
    process_id: str
    business_key: str | None
    status: str
    state: dict[str, Any] | str | None     # None in listings; JSON text when a step hands it over encoded
    version: int
    data: dict[str, Any]
    waiting: list[dict[str, Any]]
    error: str | None
    created_at: float
    updated_at: float
    ended_at: float | None = None
    process_version: int | None = None


@dataclass
class JobRecord:
    id: str
    instance_id: str | None
    kind: str                              # service | timer | message | async (past asyncBefore/asyncAfter)
    task_id: str
    element_id: str
    handler: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    due_at: float = 0.0
    attempts: int = 0
    max_attempts: int = 3
    backoff: list[float] | None = None
    status: str = "ready"                  # ready | incident
    locked_by: str | None = None
    locked_until: float | None = None
    last_error: str | None = None
    created_at: float = 0.0
    last_traceback: str | None = None      # the failing handler's traceback (show --json), since schema 4


@dataclass
class WaitRecord:
    instance_id: str
    task_id: str
    kind: str                              # user | manual | message | signal
    event_name: str
    element_id: str
    name: str
    correlation_key: str | None = None
    form: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = 0.0
    business_key: str | None = None        # of the instance (filled by lookups)
    process_id: str = ""                   # of the instance (filled by lookups)
    details: dict[str, Any] = field(default_factory=dict)  # its entry in the instance's `waiting` (filled by lookups)


@dataclass
class MessageRecord:
    id: str
    name: str
    correlation_key: str | None
    payload: dict[str, Any]
    created_at: float
    expires_at: float
    status: str = "pending"                # pending | buffered | consumed | expired
    business_key: str | None = None
    message_id: str | None = None
    source_instance_id: str | None = None
    target_instance_id: str | None = None
    consumed_at: float | None = None


@dataclass
class StepRecord:
    """Everything one step commits in one transaction."""

    instance: InstanceRecord                      # the new row (state, data, status, ...)
    expected_version: int | None                  # None: a new instance (INSERT)
    now: float
    new_jobs: list[JobRecord] = field(default_factory=list)
    delete_job_ids: list[str] = field(default_factory=list)
    timer_updates: dict[str, float] = field(default_factory=dict)   # job id -> new due time
    history: list[Any] = field(default_factory=list)  # rows in HISTORY_COLUMNS order (or dicts of them)
    waits: list[WaitRecord] = field(default_factory=list)
    new_messages: list[MessageRecord] = field(default_factory=list)
    consumed_messages: list[str] = field(default_factory=list)       # must still be pending or buffered
    done_job: tuple[str, str] | None = None       # (job id, worker id): deleted only if that worker holds it
    release_done_job: bool = False                # keep the done job (a cycle timer that waits again), unlocked
    had_waits: bool = True                        # False: the instance had no waits rows before (skip replacing)
    # handlers that failed in-process (wait-state commits): (job, error, final, traceback); each job is written
    # leased and failed after the commit (a retry with backoff, or an incident). The store itself ignores this.
    inline_failures: list[tuple["JobRecord", str, bool, str | None]] = field(default_factory=list)

    def lease_new_jobs(self, worker: str, until: float, handlers: Collection[str]) -> list[JobRecord]:
        """Write this step's new service jobs for `handlers` already leased to `worker` (one attempt counted), so
        that the worker can run them next without a claim of its own; returns them."""
        leased = []
        for job in self.new_jobs:
            if job.kind == "service" and job.handler in handlers and job.locked_by is None:
                job.locked_by, job.locked_until, job.attempts = worker, until, job.attempts + 1
                leased.append(job)
        return leased


@dataclass
class OutboxRecord:
    """A message a step threw, as the broker bridge publishes it (its `id` is the CloudEvents id)."""

    id: str
    name: str
    instance_id: str
    payload: dict[str, Any]
    created_at: float
    business_key: str | None = None
    correlation_key: str | None = None
    published_at: float | None = None

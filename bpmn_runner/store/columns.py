"""The column orders of the rows the hot path writes and reads, and texts it shares with the repository."""

from __future__ import annotations

JOB_COLUMNS = ("id", "instance_id", "kind", "task_id", "element_id", "handler", "payload", "status", "due_at",
               "attempts", "max_attempts", "backoff", "locked_by", "locked_until", "last_error", "created_at")
HISTORY_COLUMNS = ("instance_id", "process_id", "element_id", "event", "at", "element_type", "name",
                   "data_changes", "detail", "started_at")
INSTANCE_COLUMNS = ("id", "business_key", "version", "created_at", "definition_hash", "process_id", "status", "state",
                    "data", "waiting", "error", "updated_at", "ended_at")
ENDED = ("completed", "failed", "cancelled")
#: What a claim writes into `last_error` when it takes a job whose earlier lease expired (`lease_expired`).
LEASE_EXPIRED = ("the lease of worker {} expired (the worker stopped, or its handler ran longer than the lease "
                 "without renewing it)")

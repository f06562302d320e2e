"""Durable instances: stored definitions and instances, steps that commit, jobs that workers run.

`Runtime` (made by `open_runtime(url, environment)`) is the facade and the Python API; the modules behind it
each do one job: `deployments`, `steps`, `correlation` (messages, signals), `jobs` (what workers call),
`queries` (read models and report views), `policy` (hashes, keys, retries); `worker` runs the jobs with threads
and leases.
"""

from .keys import StepFailed
from .policy import DEFAULT_TTL, backoff_after, content_hash, key_string, parse_duration, retry_policy
from .runtime import Runtime, open_runtime
from .worker import Worker, WorkerStats, default_worker_id

__all__ = ["DEFAULT_TTL", "Runtime", "StepFailed", "Worker", "WorkerStats", "backoff_after", "content_hash",
           "default_worker_id", "key_string", "open_runtime", "parse_duration", "retry_policy"]
